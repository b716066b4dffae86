"""Training images/second of the model factory's net through `model.fit` on one Keras 3 backend.

    KERAS_BACKEND=jax python bench/backend_throughput.py
    KERAS_BACKEND=torch python bench/backend_throughput.py --conv_relu=false --pool=avg
    KERAS_BACKEND=tensorflow python bench/backend_throughput.py --steps=200 --steps_per_execution=25

The backend is Keras's, named by KERAS_BACKEND (default tensorflow); with another one nothing here
imports TensorFlow. One synthetic batch of standardized images (24x24x3, the tutorial's crops,
or 32x32x3 with --augmentation=pad_crop, the published ResNets' whole images) and random labels
lives on the device and is fed again every step, so the figure is the model's training step through
`fit` (SGD with momentum, sparse cross-entropy on logits, the factory's weight decay), not an
input pipeline's. --warmup steps (compilation) run in a first `fit`, then --steps are timed in a
second, both in whole calls of --steps_per_execution. Last line, machine-readable JSON.
"""

import dataclasses

import cifar10_ablation  # noqa: F401 - first: sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads

# isort: split

import argparse
import json
import time

import keras
import numpy as np

from cifar10_ablation import config as config_lib
from cifar10_ablation import host, models, switches
from cifar10_ablation.models import layers


def _jax_info():
    import jax

    precision = jax.config.jax_default_matmul_precision or "default (may be TF32 on a GPU)"
    return jax.__version__, jax.devices()[0].device_kind, precision


def _torch_info():
    import torch

    gpu = torch.cuda.is_available()
    precision = (
        f"matmul {torch.get_float32_matmul_precision()}, "
        f"cudnn allow_tf32={torch.backends.cudnn.allow_tf32}"
    )
    return torch.__version__, torch.cuda.get_device_name() if gpu else "cpu", precision


def _tensorflow_info():
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    name = tf.config.experimental.get_device_details(gpus[0]).get("device_name") if gpus else None
    tf32 = tf.config.experimental.tensor_float_32_execution_enabled()
    return tf.__version__, name or ("GPU" if gpus else "cpu"), f"tensor_float_32={tf32}"


# Backend -> (its version, device kind, float32 matmul precision setting), importing only that
# backend's framework. Backends differ in whether float32 convs and matmuls use TF32 on a GPU.
BACKEND_INFO = {"jax": _jax_info, "torch": _torch_info, "tensorflow": _tensorflow_info}


def _bool(text):
    values = {"true": True, "false": False}
    if text.lower() not in values:
        raise argparse.ArgumentTypeError(f"{text!r} is not true or false")
    return values[text.lower()]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=2000, help="timed steps")
    parser.add_argument("--warmup", type=int, default=100, help="untimed steps first (compile)")
    parser.add_argument(
        "--steps_per_execution",
        type=int,
        default=None,
        help="steps per compiled call; default 50, 1 on torch (its trainer allows no other)",
    )
    parser.add_argument(
        "--dtype_policy",
        choices=("float32", "mixed_bfloat16", "mixed_float16"),
        default="float32",
        help="Keras's: the layers compute in it, weights stay float32 (the trainer's "
        "--mixed_precision is mixed_bfloat16 on CPU, mixed_float16 on GPU)",
    )
    parser.add_argument("--learning_rate", type=float, default=0.01)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument(
        "--jit_compile",
        choices=("auto", "true", "false"),
        default="auto",
        help="Keras's compile(jit_compile=...); auto: XLA on jax, on tensorflow with a GPU only",
    )
    parser.add_argument("--conv_relu", type=_bool, default=None, help="true/false (linear)")
    parser.add_argument("--fc_relu", type=_bool, default=None, help="true/false (linear)")
    parser.add_argument("--conv_activation", choices=switches.ACTIVATIONS, default=None)
    parser.add_argument("--fc_activation", choices=switches.ACTIVATIONS, default=None)
    parser.add_argument("--arch", choices=switches.ARCHS, default="tutorial")
    parser.add_argument("--pool", choices=switches.POOLS, default="max")
    parser.add_argument("--lrn", type=_bool, default=True)
    parser.add_argument("--maxout_pieces", type=int, default=switches.DEFAULT_MAXOUT_PIECES)
    parser.add_argument("--downsample", choices=switches.DOWNSAMPLES, default="stride")
    parser.add_argument("--stage_activations", default="", help="a ResNet's, e.g. linear+relu")
    parser.add_argument(
        "--augmentation",
        choices=config_lib.AUGMENTATIONS,
        default="tutorial",
        help="the input size it implies: tutorial 24x24 crops, pad_crop whole 32x32 images",
    )
    args = parser.parse_args()
    try:
        for group in switches.GROUPS:
            relu, name = getattr(args, f"{group}_relu"), getattr(args, f"{group}_activation")
            setattr(args, f"{group}_activation", switches.activation(group, relu, name))
    except ValueError as error:
        parser.error(str(error))
    torch = keras.backend.backend() == "torch"
    if args.steps_per_execution is None:
        args.steps_per_execution = 1 if torch else 50
    if torch and args.steps_per_execution != 1:
        parser.error("--steps_per_execution must be 1 with KERAS_BACKEND=torch (Keras's limit)")
    for name in ("batch_size", "steps", "steps_per_execution"):
        if getattr(args, name) < 1:
            parser.error(f"--{name}={getattr(args, name)} must be >= 1")
    if args.warmup < 0:
        parser.error(f"--warmup={args.warmup} must be >= 0")
    try:
        args.switches = switches.Switches(
            args.conv_activation,
            args.fc_activation,
            args.pool,
            args.lrn,
            args.maxout_pieces,
            args.downsample,
            args.stage_activations,
        ).check(args.arch)
    except ValueError as error:
        parser.error(str(error))
    args.image_size = config_lib.RunConfig(augmentation=args.augmentation).image_size
    return args


def repeated_batch(batch_size, image_size, seed=0):
    """Yields one device-resident batch (standardized images, labels) for ever."""
    rng = np.random.default_rng(seed)
    images = rng.standard_normal((batch_size, image_size, image_size, 3))
    labels = rng.integers(0, layers.NUM_CLASSES, batch_size)
    batch = (keras.ops.convert_to_tensor(images, "float32"), keras.ops.convert_to_tensor(labels))
    while True:
        yield batch


def main():
    args = parse_args()
    backend = keras.backend.backend()
    backend_version, device_kind, precision = BACKEND_INFO[backend]()
    keras.config.set_dtype_policy(args.dtype_policy)
    model = models.build_model(args.switches, arch=args.arch, image_size=args.image_size)
    model.compile(
        optimizer=keras.optimizers.SGD(args.learning_rate, momentum=args.momentum),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        steps_per_execution=args.steps_per_execution,
        jit_compile={"auto": "auto", "true": True, "false": False}[args.jit_compile],
    )
    batches = repeated_batch(args.batch_size, args.image_size)
    per_call = args.steps_per_execution
    warmup = -(-args.warmup // per_call) * per_call  # whole calls
    steps = -(-args.steps // per_call) * per_call
    if warmup:
        model.fit(batches, steps_per_epoch=warmup, shuffle=False, verbose=0)
        keras.ops.convert_to_numpy(model.trainable_weights[0])  # waits for the warm-up
    start = time.perf_counter()
    history = model.fit(batches, steps_per_epoch=steps, shuffle=False, verbose=0)
    keras.ops.convert_to_numpy(model.trainable_weights[0])  # waits for the last step
    seconds = time.perf_counter() - start
    rate = steps * args.batch_size / seconds
    print(f"{backend} {backend_version} on {device_kind}: {rate:.0f} images/s ({steps} steps)")
    print(
        json.dumps(
            {
                "backend": backend,
                "backend_version": backend_version,
                "keras_version": keras.__version__,
                "device_kind": device_kind,
                "float32_precision": precision,
                "dtype_policy": model.dtype_policy.name,
                "jit_compile": model.jit_compile,
                "batch_size": args.batch_size,
                "warmup_steps": warmup,
                "steps": steps,
                "steps_per_execution": args.steps_per_execution,
                "seconds": round(seconds, 3),
                "images_per_second": round(rate, 1),
                "final_loss": round(float(history.history["loss"][-1]), 4),
                "parameters": model.count_params(),
                "cpu": host.cpu(),  # not host.describe(): that imports TensorFlow
                "arch": args.arch,
                "image_size": args.image_size,
                **dataclasses.asdict(args.switches),
            }
        )
    )


if __name__ == "__main__":
    main()
