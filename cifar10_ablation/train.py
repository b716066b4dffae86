"""Trains the tutorial net with its non-linearities switched: python -m cifar10_ablation.train

    python -m cifar10_ablation.train --conv_relu=false --pool=avg --data_dir=../shared/cifar10
    python -m cifar10_ablation.train --flagfile=flags/quick.flags --data_dir=../shared/cifar10
    python -m cifar10_ablation.train --flagfile=flags/resnet20.flags --conv_relu=false \\
        --data_dir=../shared/cifar10
    python -m cifar10_ablation.train --flagfile=flags/mnist.flags --data_dir=../shared/mnist

The tutorial schedule (default, 100K steps) is the published run: ~83-86% test accuracy with
averaged weights. Everything goes to --log_dir: TensorBoard events, checkpoints, config.json and,
at the end, results.json. Started again with the same --log_dir, a run continues from its newest
checkpoint that loads (the data stream resumes exactly: it is a function of seed and step).
SIGTERM or SIGINT stops it after the step in flight with a checkpoint saved and exit status 75.
"""

import contextlib
import sys
from pathlib import Path

from cifar10_ablation import cli, console, data, schedules
from cifar10_ablation import config as config_lib
from cifar10_ablation.training import runlock
from cifar10_ablation.training.stopping import EXIT_INTERRUPTED


def main(argv):
    if len(argv) > 1:
        sys.exit(f"error: unexpected arguments: {' '.join(argv[1:])}")
    try:
        config = cli.train_config()  # checked before TensorFlow loads
    except ValueError as error:
        sys.exit(f"error: {error}")
    if note := schedules.warmup_note(config):
        print(note, flush=True)
    # A run directory is trained by one process at a time, as in a sweep; multi-worker workers
    # all name the one their chief writes, so they do not lock it.
    if config.distribution == "multi_worker":
        return _train(config)
    run_dir = Path(config.log_dir)
    created = not run_dir.exists()
    try:
        with _lock(run_dir):
            return _train(config)
    finally:
        if created:  # a run refused before it wrote anything leaves no empty folder behind
            with contextlib.suppress(OSError):
                run_dir.rmdir()


def _lock(run_dir):
    """The run directory's lock (runlock.py), or exit with one line saying why not."""
    try:
        lock = runlock.acquire(run_dir)
    except runlock.RunLocked as locked:
        sys.exit(f"error: {locked}; wait for it to end, or stop it (SIGTERM saves a checkpoint)")
    except OSError as error:
        sys.exit(f"error: {config_lib.UNWRITABLE_LOG_DIR.format(run_dir, error.strerror)}")
    return lock


def _train(config):
    dataset = _data_before_tensorflow(config)
    console.load_tensorflow()
    # The library imports TensorFlow, so it is imported once TensorFlow has loaded quietly.
    from cifar10_ablation.training import disk, loop, stopping
    from cifar10_ablation.training import run as run_lib

    try:
        run_lib.train(config, overwrite=cli.FLAGS.overwrite, dataset=dataset)
    except (ValueError, loop.TrainingDiverged, disk.DiskFull) as error:
        sys.exit(f"error: {error}")
    except stopping.Interrupted as stopped:
        print(stopped, file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)


def _data_before_tensorflow(config):
    """The run's data, read (numpy) before TensorFlow loads, which takes ~5-10 s: missing or
    damaged files, or a hold-out the data cannot give, are one line at once. None for
    tensorflow-datasets' copy, which needs TensorFlow: run.train reads it."""
    try:
        if data.check(config.dataset, config.data_dir) == "tfds":
            return None
        return data.load(config.dataset, config.data_dir, config.validation_examples)
    except ValueError as error:  # DataError too
        sys.exit(f"error: {error}")


def run_main():
    console.run(main, cli.TRAIN, __doc__)


if __name__ == "__main__":
    run_main()
