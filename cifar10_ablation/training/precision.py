"""How a run computes: float32, or with --mixed_precision float16 (GPU) or bfloat16 (CPU), its
model built in that precision (weights, logits and loss stay float32); XLA or not.

    model = precision.build_model(config)
    jit_compile = precision.use_xla(config)
"""

import keras
import tensorflow as tf

from cifar10_ablation import models


def policy(config):
    """Keras dtype policy: float32, or with --mixed_precision mixed_float16 on a GPU and
    mixed_bfloat16 on CPU (float16 math is slow on CPUs; bfloat16 has its range)."""
    if not config.mixed_precision:
        return "float32"
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


def build_model(config):
    """The config's model (models.build_model), its layers in the config's policy."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy(config))
    try:
        return models.build_model(config.switches, config.arch, config.channels, config.image_size)
    finally:
        keras.config.set_dtype_policy(previous)


def use_xla(config):
    """config.jit_compile, or when unset: XLA on a GPU, not on CPU (where it measured slower),
    and never with --deterministic (XLA has no deterministic max-pool gradient)."""
    if config.jit_compile is not None:
        return config.jit_compile
    if config.deterministic:
        return False
    return bool(tf.config.list_physical_devices("GPU"))
