"""--executor=ray: each (config, seed) run of a sweep is one Ray task, on a cluster or on a Ray
instance started (and stopped) with the sweep.

    check_installed()  # before TensorFlow loads: one line saying what to install
    with RayExecutor(address="auto", cpus_per_run=1, gpus_per_run=0.25) as executor:
        outcomes = executor.train_round(todo, fields, train_one, stop)

A task asks Ray for --cpus_per_run CPUs and --gpus_per_run GPUs (fractional: 0.25 packs four
runs on a GPU; Ray sets each task's CUDA_VISIBLE_DEVICES) and calls the local executor's
per-run function (runner._train_one), so run folders, names, HParams files and the report are
the local executor's, under --log_dir, which every node must see. A task whose worker process
or node dies is run again (--ray_retries times) and continues from its last checkpoint, as a
restarted sweep does; a run that still fails is named at the end. A stop request of the driver
(SIGTERM, SIGINT) cancels the tasks with ray.cancel(force=False), which reaches a task as SIGINT:
its StopRequest stops the run after the step in flight, with a checkpoint.
"""

import importlib
import importlib.util
import logging
import signal
from pathlib import Path

from cifar10_ablation import console
from cifar10_ablation.training.stopping import StopRequest

STOP_SECONDS = 300  # for the runs in flight to save their checkpoints once cancelled
MISSING = "--executor=ray needs Ray: pip install -e '.[ray]' (or pip install 'ray>=2.9')"


def check_installed():
    """Raises ValueError (one line: what to install) when Ray cannot be imported."""
    if importlib.util.find_spec("ray") is None:
        raise ValueError(MISSING)


def _train_task(train_one, config, fields, verbose):
    """One run in a Ray worker: TensorFlow loaded quietly first (so `train_one` comes as its
    module and name, imported after), the run stopped with a checkpoint when the task is
    cancelled (SIGINT) or the worker gets SIGTERM."""
    console.load_tensorflow(verbose)
    module, name = train_one
    train_one = getattr(importlib.import_module(module), name)
    with StopRequest().installed() as stop:
        return train_one(config, fields, stop)


class RayExecutor:
    """Runs each run as a Ray task (module docstring). `address`: None starts a local Ray
    instance (with `local_cpus` CPUs, default all) for the sweep; "auto" or host:port joins a
    running cluster."""

    def __init__(
        self,
        address=None,
        cpus_per_run=1.0,
        gpus_per_run=0.0,
        retries=2,
        verbose=False,
        local_cpus=None,
    ):
        self.address, self.retries, self.verbose = address, retries, verbose
        self.resources = {"num_cpus": cpus_per_run, "num_gpus": gpus_per_run}
        self.local_cpus = local_cpus
        self._ray = self._task = None
        self._pending = []

    def __enter__(self):
        import ray

        # Ray's driver takes SIGTERM for itself; the sweep's stop request keeps it.
        handlers = {signum: signal.getsignal(signum) for signum in StopRequest.SIGNALS}
        ray.init(
            address=self.address,
            num_cpus=None if self.address else self.local_cpus,
            include_dashboard=False,
            logging_level=logging.DEBUG if self.verbose else logging.WARNING,
            log_to_driver=True,
        )
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        self._ray = ray
        self._task = ray.remote(max_retries=self.retries, **self.resources)(_train_task)
        return self

    def __exit__(self, *exc_info):
        if self._ray is not None:  # a local instance stops; a cluster is only left
            self._ray.shutdown()
            self._ray = None

    def train_round(self, todo, fields, train_one, stop):
        """train_one's outcome for each (name, config) of todo, each run a task; a stop request
        cancels them, and each stops with a checkpoint."""
        ray, function = self._ray, (train_one.__module__, train_one.__name__)
        refs = [self._task.remote(function, config, fields, self.verbose) for _, config in todo]
        self._pending, cancelled = list(refs), False
        while self._pending:
            if stop.requested and not cancelled:
                self.stop_all()
                cancelled = True
            _, self._pending = ray.wait(self._pending, num_returns=len(self._pending), timeout=0.5)
        return [self._outcome(ref, config) for ref, (_, config) in zip(refs, todo, strict=True)]

    def _outcome(self, ref, config):
        ray = self._ray
        name = Path(config.log_dir).name
        try:
            return ray.get(ref)
        except ray.exceptions.TaskCancelledError:  # cancelled before it started
            return "stopped", None
        except ray.exceptions.RayTaskError as error:  # the run raised (e.g. DiskFull)
            cause = getattr(error, "cause", None) or error
            return "failed", f"{name}: {type(cause).__name__}: {cause}"
        except ray.exceptions.RayError as error:  # its worker or node died every time
            return "failed", (
                f"{name}: its Ray worker died {self.retries + 1} time(s) "
                f"({type(error).__name__}); run the same command to continue from its checkpoint"
            )

    def stop_all(self):
        """Cancels the tasks in flight and waits (up to STOP_SECONDS) for each to stop its run
        with a checkpoint."""
        for ref in self._pending:
            self._ray.cancel(ref, force=False)
        if self._pending:
            self._ray.wait(self._pending, num_returns=len(self._pending), timeout=STOP_SECONDS)
