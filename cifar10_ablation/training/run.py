"""One run, from its config to its results: python -m cifar10_ablation.train calls train().

    results = train(config)   # trains (or continues) config.log_dir to config.max_steps

Sets the run up (rundir.py's rules for its directory, the tf.distribute strategy, seeds and
determinism, the state restored from its newest checkpoint that loads), runs the training loop
(loop.py) and writes results.json. A run's data stream resumes exactly (a function of seed and
step), so a continued run trains as one that was never stopped.
"""

import platform
import shutil
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from cifar10_ablation import config as config_lib
from cifar10_ablation import data, host, models
from cifar10_ablation.training import distribute, precision, rundir
from cifar10_ablation.training import state as state_lib
from cifar10_ablation.training.loop import Trainer
from cifar10_ablation.training.stopping import StopRequest


def set_op_determinism(enabled):
    """TF op determinism on or off for this process (a sweep may mix both kinds of run)."""
    if enabled:
        tf.config.experimental.enable_op_determinism()
    else:  # TF has no public switch-off
        from tensorflow.python.framework import config as tf_framework_config

        tf_framework_config.disable_op_determinism()


def library_versions():
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def train(config, overwrite=False, stop=None, dataset=None):
    """Trains (or continues) the run `config` describes to config.max_steps; returns results.

    `dataset`: its data with the validation hold-out taken, when the caller read it already
    (train.py does, before TensorFlow loads); else read here.

    Raises DataError, RunDirError, CheckpointMismatch or ValueError before writing anything
    when the data, the run directory or the config is unusable; TrainingDiverged on NaN loss;
    DiskFull when a write finds no space. SIGTERM and SIGINT (or `stop`, a StopRequest the
    caller installed) stop it after the step in flight, with a checkpoint: Interrupted.
    """
    started = time.time()
    host.reset_peak_memory()  # each run of a sweep gets its own peak
    config = config_lib.validate(config)
    strategy = distribute.strategy_for(config.distribution)  # before TF sets up its devices
    if stop is None and not distribute.is_multi_worker(strategy):
        with StopRequest().installed() as stop:
            return _train(config, overwrite, strategy, stop, started, dataset)
    # Multi-worker workers save together, so none can stop alone: killed, they resume as before.
    return _train(config, overwrite, strategy, stop or StopRequest(), started, dataset)


def _train(config, overwrite, strategy, stop, started, dataset):
    chief = distribute.is_chief(strategy)
    if dataset is None:
        dataset = data.load(config.dataset, config.data_dir, config.validation_examples)
    config = rundir.resolve_run_config(config, overwrite and chief)
    run_dir = Path(config.log_dir)
    config = rundir.with_replicas(config, strategy.num_replicas_in_sync)
    set_op_determinism(config.deterministic)
    keras.utils.set_random_seed(config.seed)
    # Other workers save where they collide with nothing (all workers must take part in a save).
    save_dir = state_lib.checkpoint_dir(run_dir) if chief else Path(tempfile.mkdtemp())
    try:
        with strategy.scope():
            state = state_lib.TrainState(config, precision.build_model(config), save_dir)
        # Raises CheckpointMismatch before anything is written.
        state.restore(rundir.newest_whole_checkpoint(state_lib.checkpoint_dir(run_dir)))
        return _train_restored(config, state, dataset, strategy, chief, started, stop)
    finally:
        if not chief:
            shutil.rmtree(save_dir, ignore_errors=True)


def _train_restored(config, state, dataset, strategy, chief, started, stop):
    """Trains the restored `state` on to max_steps and writes results.json (the chief); a run
    finished before returns its results."""
    run_dir = Path(config.log_dir)
    rundir.check_step(config, state.step)
    finished = rundir.finished_results(config, state.step)
    if finished is not None:
        print(
            f"{run_dir} is finished at step {state.step}: test accuracy "
            f"{finished['test_accuracy']:.4f} (averaged), "
            f"{finished['test_accuracy_raw']:.4f} (raw)"
        )
        return finished
    if chief:
        rundir.write_run_config(config)
    replicas = "" if config.replicas == 1 else f" on {config.replicas} replicas"
    print(
        f"{run_dir}: training {config.run_name()} from step {state.step} to {config.max_steps} "
        f"on {dataset.source}{replicas}",
        flush=True,
    )
    try:
        outcome = Trainer(config, state, dataset, run_dir, strategy, chief, stop).run()
    except tf.errors.OpError as error:
        if not distribute.is_multi_worker(strategy):
            raise
        reason = str(error).strip().splitlines()[0][:300]
        raise distribute.DistributionError(
            f"a worker failed or stopped answering near step {state.step} ({reason}); start "
            "all workers again to continue from the last checkpoint"
        ) from None
    if not chief:
        return {"global_step": state.step, **outcome}
    results = {
        "config": config.to_dict(),
        "global_step": state.step,
        **outcome,
        "num_test_examples": int(len(dataset.test_labels)),
        # How much non-linearity the net keeps, per image (models.activation_units).
        "activation_units": models.activation_units(state.model),
        "max_pool_windows": models.max_pool_windows(state.model),
        "wall_seconds": round(time.time() - started, 2),
        "train_seconds_total": round(float(state.train_seconds.numpy()), 2),
        "data_source": dataset.source,
        "data_sha256": dataset.checksum,
        "versions": library_versions(),
        "host": host.describe(),
        "peak_resident_mb": host.peak_memory_mb(),
    }
    rundir.write_results(config, results, state.manager.directory)
    return results
