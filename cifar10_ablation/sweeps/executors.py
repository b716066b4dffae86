"""Where a sweep's runs train: in this process in turn, or in a pool of worker processes placed
on this machine's GPUs (--parallel, --runs_per_gpu); ray_executor.py puts them on a Ray cluster.

    with LocalExecutor(parallel=4, runs_per_gpu=2) as executor:
        outcomes = executor.train_round(todo, fields, train_one, stop)  # per run: (outcome, detail)

Every executor calls the same `train_one` (runner._train_one) per run, so the run folders,
names, HParams files and report are the same whichever trained them.

With G GPUs and --parallel=N, each worker gets its own GPU set, round robin, through
CUDA_VISIBLE_DEVICES set before TensorFlow starts in it: with N <= G worker w sees GPUs w, w+N,
...; with N > G worker w sees GPU w mod G, and at most --runs_per_gpu workers share a GPU (N is
cut to G x runs_per_gpu, with a line saying so). Without GPUs each of the N workers gets its
share of the cores as TensorFlow's intra-op threads (cpu_threads, through TF_NUM_INTRAOP_THREADS
unless the environment sets it). A worker loads TensorFlow as quietly as a single run
(console.load_tensorflow) before anything imports it, which is why this module imports no
TensorFlow at its top.
"""

import multiprocessing
import os
import signal

from cifar10_ablation import console, host
from cifar10_ablation.training.stopping import StopRequest

_worker_stop = None  # a pool worker's stop request (start_worker)


def worker_stop():
    """The stop request of this pool worker, or None outside the pool."""
    return _worker_stop


def visible_gpus():
    """The ids CUDA_VISIBLE_DEVICES takes for the GPUs this process sees: its own list when it
    has one (so that a worker's set names the same GPUs), else 0..G-1."""
    import tensorflow as tf  # loaded quietly by now (the sweep's main)

    count = len(tf.config.list_physical_devices("GPU"))
    listed = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    ids = [x.strip() for x in listed.split(",") if x.strip()]
    return (ids or [str(i) for i in range(count)])[:count]


def gpu_sets(gpus, workers, runs_per_gpu=1):
    """CUDA_VISIBLE_DEVICES per worker (None: leave it as it is), one entry per worker to start:

    gpu_sets(["0", "1"], 4, 2) == ["0", "1", "0", "1"]
    gpu_sets(["0", "1", "2", "3"], 2) == ["0,2", "1,3"]
    gpu_sets(["0", "1"], 4, 1) == ["0", "1"]   # no more than runs_per_gpu workers on a GPU
    gpu_sets([], 3) == [None, None, None]
    """
    if not gpus:
        return [None] * workers
    if workers <= len(gpus):
        return [",".join(gpus[w::workers]) for w in range(workers)]
    return [gpus[w % len(gpus)] for w in range(min(workers, len(gpus) * runs_per_gpu))]


def cpu_threads(workers, cores=None):
    """Intra-op threads for each of `workers` CPU-only workers: the cores shared out, at least
    one each. Two 500-step tutorial-net trainings at once on 2 cores trained 1.14-1.20x the
    images/s of the two in turn with one thread each, 1.08-1.14x with every core each
    (bench/concurrent_runs.py; docs/PERFORMANCE.md); long runs may gain less."""
    cores = cores or host.usable_cores() or os.cpu_count()
    return max(1, cores // workers)


def start_worker(counter, sets, threads, verbose=False):
    """Pool initializer: takes the next GPU set (or, `threads` given, its share of the cores),
    loads TensorFlow quietly, and stops its run on SIGTERM/SIGINT as a lone trainer does. (A
    worker replacing a dead one takes a set again.)"""
    global _worker_stop
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    if sets[index % len(sets)] is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = sets[index % len(sets)]
    if threads is not None:
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(threads))
    console.load_tensorflow(verbose)
    _worker_stop = StopRequest()
    _worker_stop.install()


class LocalExecutor:
    """Trains runs in this process in turn (parallel=1) or in `parallel` spawned worker
    processes placed on the GPUs (module docstring)."""

    def __init__(self, parallel=1, runs_per_gpu=1, verbose=False):
        self.parallel, self.runs_per_gpu, self.verbose = parallel, runs_per_gpu, verbose
        self.pool = None

    def __enter__(self):
        if self.parallel > 1:
            sets = gpu_sets(visible_gpus(), self.parallel, self.runs_per_gpu)
            if len(sets) < self.parallel:
                print(
                    f"--parallel={self.parallel} on {len(set(sets))} GPU(s) at "
                    f"--runs_per_gpu={self.runs_per_gpu}: {len(sets)} workers",
                    flush=True,
                )
            threads = cpu_threads(len(sets)) if set(sets) == {None} else None
            context = multiprocessing.get_context("spawn")
            counter = context.Value("i", 0)
            self.pool = context.Pool(
                len(sets), initializer=start_worker, initargs=(counter, sets, threads, self.verbose)
            )
        return self

    def __exit__(self, *exc_info):
        if self.pool is not None:  # not terminate(): workers finish their step and save first
            self.pool.close()
            self.pool.join()
            self.pool = None

    def train_round(self, todo, fields, train_one, stop):
        """train_one's outcome for each (name, config) of todo: here in turn, or in the pool's
        workers, which get this process's stop request as SIGTERM."""
        if self.pool is None:
            return [train_one(config, fields, stop) for _, config in todo]
        pending = [self.pool.apply_async(train_one, (config, fields)) for _, config in todo]
        signalled = False
        for result in pending:
            while not result.ready():
                if stop.requested and not signalled:
                    self.stop_all()
                    signalled = True
                result.wait(0.5)
        return [result.get() for result in pending]

    def stop_all(self):
        """Asks every run in flight to stop with a checkpoint (e.g. DiskFull in one of them)."""
        if self.pool is not None:
            for child in multiprocessing.active_children():
                os.kill(child.pid, signal.SIGTERM)
