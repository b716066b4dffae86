"""Where a run trains: one device, several GPUs (mirrored) or several machines (multi_worker).

    python -m cifar10_ablation.train --distribution=mirrored            # all GPUs of this machine
    TF_CONFIG='{"cluster": {"worker": ["host0:2222", "host1:2222"]},
                "task": {"type": "worker", "index": 0}}' \\
        python -m cifar10_ablation.train --distribution=multi_worker --log_dir=/shared/run

Conventions, as the tutorial's multi-GPU trainer (cifar10_multi_gpu_train.py): --batch_size is
the batch of one replica (one "tower", 128), so the global batch is batch_size x replicas; the
replicas' gradients are averaged (each replica's loss is divided by the global batch) and the
learning rate is not rescaled; the tutorial schedule counts its decay in global steps of the
global batch. A run remembers its number of replicas: continuing it with another count would
train a different run, so it is refused. Every run lets TensorFlow take GPU memory as it needs
it (memory growth) instead of nearly all of it at the start, so that several runs share a GPU.
"""

import functools
import json
import os

import tensorflow as tf

# A worker that stops answering fails the others after this long, rather than hanging them.
WORKER_TIMEOUT_SECONDS = 60


class DistributionError(ValueError):
    """The requested distribution cannot run here (no TF_CONFIG, replica count changed...)."""


def grow_gpu_memory():
    """Turns on memory growth for every GPU this process sees; must run before TensorFlow
    initializes its devices (strategy_for calls it; a sweep, before it writes any summary). A
    GPU initialized before without it is named in a warning."""
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialized: a no-op if growth was on, else too late
            print(f"warning: no memory growth on {gpu.name}: its memory was mapped before")


def strategy_for(distribution):
    """The tf.distribute strategy for a --distribution value, created once per process, after
    turning on GPU memory growth.

    Must run before anything else initializes TensorFlow's devices (MultiWorkerMirroredStrategy
    requires it), hence train() calls it first.
    """
    grow_gpu_memory()
    return _strategy(distribution)


@functools.cache
def _strategy(distribution):
    if distribution == "auto":
        gpus = tf.config.list_physical_devices("GPU")
        distribution = "mirrored" if len(gpus) > 1 else "none"
    if distribution == "none":
        return tf.distribute.get_strategy()  # the default strategy: one device, no wrapping
    if distribution == "mirrored":  # every GPU here; without GPUs, every logical CPU device
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    # multi_worker (config.validate allows nothing else)
    cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
    if not cluster.get("worker"):
        raise DistributionError(
            "--distribution=multi_worker needs TF_CONFIG with a cluster of workers, e.g. "
            '{"cluster": {"worker": ["host0:2222", "host1:2222"]}, '
            '"task": {"type": "worker", "index": 0}}'
        )
    return tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=tf.distribute.experimental.CommunicationOptions(
            timeout_seconds=WORKER_TIMEOUT_SECONDS
        )
    )


def is_multi_worker(strategy):
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy):
    """Whether this process writes the run's files: TF's own answer (False only on multi-worker
    non-chiefs)."""
    return strategy.extended.should_checkpoint


def distribute_batches(strategy, dataset):
    """Splits each global batch of `dataset` among the replicas, on every worker alike.

    Every worker builds the same stream (a function of seed and step) and keeps its share of
    each batch, so the global batches are those a single device would see.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))
