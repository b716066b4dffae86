"""Trains a sweep's runs: each under its directory's lock, resumed, by an executor (in turn,
in processes on this machine's GPUs, or on a Ray cluster: executors.py, ray_executor.py).

    trained, skipped, errors = run_sweep(grid.expand(...), sweep_dir)

Finished runs are skipped and unfinished ones resume from their checkpoints, so a sweep is
restarted by running it again; SIGTERM or SIGINT stops the runs in flight with a checkpoint
(stopping.Interrupted). Shards (`shard_index`/`num_shards`) split one grid between machines
sharing the folder; two sweeps on one folder share its runs (a lock per run directory, see
runlock.py) and both end when all are done. The folder's HParams config and each run's
hparams (hparams.py) make TensorBoard's HParams tab show the grid as one table.
"""

import sys
import time
from pathlib import Path

import keras
import tensorflow as tf

from cifar10_ablation import config as config_lib
from cifar10_ablation import files
from cifar10_ablation.sweeps import executors, hparams
from cifar10_ablation.training import distribute, loop, rundir, runlock
from cifar10_ablation.training import run as run_lib
from cifar10_ablation.training.stopping import EXIT_INTERRUPTED, Interrupted, StopRequest

LOCK_POLL_SECONDS = 2  # between looks at the runs another process is training


def _train_one(config, fields, stop=None):
    """Trains one grid point (resuming it) under its run directory's lock.

    The per-run function of every executor (executors.py, ray_executor.py). With
    --distribution=auto a run uses one device; mirrored and multi_worker say otherwise.
    Returns (outcome, detail): ("trained", results), ("finished", None) when another process
    finished it, ("locked", who holds it), ("stopped", message) on a stop request, or
    ("failed", error line). DiskFull propagates: every other run would meet it too.
    """
    stop = stop or executors.worker_stop() or StopRequest()
    if config.distribution == "auto":  # in a sweep a run takes one device (its worker's GPU)
        config = config.replace(distribution="none")
    run_dir = Path(config.log_dir)
    if stop.requested:
        return "stopped", None
    try:
        lock = runlock.acquire(run_dir)
    except runlock.RunLocked as locked:
        return "locked", str(locked)
    with lock:
        if is_finished(config):
            return "finished", None
        try:
            results = run_lib.train(config, stop=stop)
        except Interrupted as stopped:
            return "stopped", str(stopped)
        except (ValueError, loop.TrainingDiverged) as error:
            return "failed", f"{run_dir.name}: {error}"
        finally:
            keras.backend.clear_session()
        hparams.write_run_hparams(config, fields)
    return "trained", results


def is_finished(config):
    return rundir.finished_results(config) is not None


def run_sweep(runs, sweep_dir, shard_index=0, num_shards=1, parallel=1, recorded=(), executor=None):
    """Trains this shard's unfinished runs; returns (trained names, skipped names, errors).

    `executor` trains them (executors.py, ray_executor.py); by default a LocalExecutor of
    `parallel` processes.
    Skipped runs are those finished before, or meanwhile by another sweep process on the same
    directory, and those named in `recorded` (finished elsewhere: grid.recorded_rows); runs
    another process is training are waited for at the end. SIGTERM or SIGINT stop the runs in flight
    with a checkpoint and raise Interrupted.
    """
    configs = [c for _, c in runs]
    distribute.grow_gpu_memory()  # before the HParams writer initializes TensorFlow's devices
    try:
        Path(sweep_dir).mkdir(parents=True, exist_ok=True)
        fields = hparams.write_hparams_config(sweep_dir, configs)
        files.write_json_atomic(
            Path(sweep_dir) / config_lib.SWEEP_FILENAME,
            {"runs": [name for name, _ in runs], "varying_fields": fields},
        )
    except (OSError, tf.errors.OpError) as error:
        why = error.strerror if isinstance(error, OSError) else error.message
        raise rundir.RunDirError(config_lib.UNWRITABLE_LOG_DIR.format(sweep_dir, why)) from None
    mine = shard(runs, shard_index, num_shards)
    todo, skipped_as_recorded = [], [n for n, _ in mine if n in recorded]
    for name, config in mine:
        if name in recorded:
            continue
        if is_finished(config):  # trained without its row (e.g. by train): written now
            hparams.write_run_hparams(config, fields)
        else:
            todo.append((name, config))
    print(
        f"sweep {sweep_dir}: {len(runs)} runs, shard {shard_index}/{num_shards}: "
        f"{len(mine)}, finished {len(mine) - len(todo)}, to train {len(todo)}"
        + (f" ({len(skipped_as_recorded)} as recorded)" if skipped_as_recorded else ""),
        flush=True,
    )
    with StopRequest().installed() as stop:
        executor = executor or executors.LocalExecutor(parallel)
        outcomes = _train_all(todo, fields, executor, stop) if todo else {}
    stopped = [detail for outcome, detail in outcomes.values() if outcome == "stopped"]
    if stopped or stop.requested:
        for line in filter(None, stopped):
            print(line, file=sys.stderr)
        left = sum(o not in ("trained", "finished") for o, _ in outcomes.values())
        raise Interrupted(
            f"sweep {sweep_dir}: stopped by {stop.signal_name or 'a signal to a worker'} with "
            f"{left} of its runs unfinished; run the same command to continue (exit status "
            f"{EXIT_INTERRUPTED})"
        )
    return (
        [n for n, _ in todo if outcomes[n][0] == "trained"],
        [n for n, c in mine if n not in outcomes or outcomes[n][0] == "finished"],
        [detail for outcome, detail in outcomes.values() if outcome == "failed"],
    )


def shard(runs, shard_index, num_shards):
    """This shard's runs: run k belongs to shard k mod num_shards, so shards never overlap and
    together hold the grid."""
    return [(n, c) for i, (n, c) in enumerate(runs) if i % num_shards == shard_index]


def _train_all(todo, fields, executor, stop):
    """{name: (outcome, detail)} for every run of todo; runs locked by other processes are
    tried again every LOCK_POLL_SECONDS until they are free (then trained or found finished)."""
    outcomes, waiting_for = {}, None
    with executor:
        try:
            while todo:
                for (name, _), outcome in zip(
                    todo, executor.train_round(todo, fields, _train_one, stop), strict=True
                ):
                    outcomes[name] = outcome
                todo = [(n, c) for n, c in todo if outcomes[n][0] == "locked"]
                if stop.requested or not todo:
                    break
                if waiting_for != [n for n, _ in todo]:
                    waiting_for = [n for n, _ in todo]
                    print(
                        f"waiting for {len(todo)} run(s) other processes are training "
                        f"({outcomes[todo[0][0]][1]}, ...)",
                        flush=True,
                    )
                deadline = time.monotonic() + LOCK_POLL_SECONDS
                while time.monotonic() < deadline and not stop.requested:
                    time.sleep(0.1)
        except BaseException:
            executor.stop_all()  # e.g. DiskFull in one run: the others stop with a checkpoint
            raise
    return outcomes
