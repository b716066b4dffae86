"""The tutorial's two convolutions, pass by pass, and the training step, Keras' Conv2D against ours.

    python bench/conv_grad.py --data_dir=../shared/cifar10
    ONEDNN_MAX_CPU_ISA=AVX2 python bench/conv_grad.py --data_dir=../shared/cifar10
    python bench/conv_grad.py --synthetic --batch_size=8 --repeats=1 --train_steps=0

Per layer (conv1: 24x24x3 -> 64, conv2: 12x12x64 -> 64; 5x5, SAME) it times the forward pass,
the input gradient, and the filter-and-bias gradient three ways: as Keras' Conv2D asks for it
(oneDNN fuses it into `_MklNativeConv2DBackpropFilterWithBias`), from model.SplitBiasGradConv2D
(filter gradient, then a separate sum), and as im2col (25 shifted slices, one matmul). Each runs
in its own compiled loop; the loops alternate over --repeats rounds and the medians are printed,
with the kernels each one ran (from the profiler). Then, unless --train_steps=0, the trainer's
real step (bench/train_throughput.py) with model.SPLIT_BIAS_GRAD_CONVS set to each of
TRAIN_VARIANTS: one trainer each, timed in turn over --train_repeats rounds; the median of the
per-round ratios to Keras' is what counts on a busy machine. Last line, machine-readable JSON.
"""

import cifar10_ablation  # noqa: F401 - first: sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads

# isort: split

import argparse
import contextlib
import json
import statistics
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf
from profile_step import op_milliseconds  # bench/, on the path when run as a script
from train_throughput import synthetic_cifar10, training_steps

from cifar10_ablation import host
from cifar10_ablation.data import cifar10
from cifar10_ablation.models import layers, tutorial

KERNEL = 5  # the tutorial's 5x5 convolutions (model.build_tutorial)
LAYERS = {"conv1": (24, 3), "conv2": (12, tutorial.CONV_FILTERS)}  # name: (size, in channels)
# model.SPLIT_BIAS_GRAD_CONVS per variant of the whole training step.
TRAIN_VARIANTS = {
    "keras_conv2d": (),
    "split_conv1": ("conv1",),
    "split_conv1_conv2": ("conv1", "conv2"),
}


def im2col_filter_grad(x, dy):
    """Filter and bias gradient of a 5x5 SAME conv: 25 shifted slices side by side, one matmul."""
    size, pad = x.shape[1], KERNEL // 2
    padded = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    columns = tf.concat(
        [padded[:, i : i + size, j : j + size, :] for i in range(KERNEL) for j in range(KERNEL)],
        axis=-1,
    )  # [batch, size, size, 25 * channels] in the kernel's (row, column, channel) order
    filters = dy.shape[-1]
    kernel = tf.matmul(
        tf.reshape(columns, [-1, columns.shape[-1]]),
        tf.reshape(dy, [-1, filters]),
        transpose_a=True,
    )
    return tf.reshape(kernel, [KERNEL, KERNEL, x.shape[-1], filters]), tf.reduce_sum(dy, [0, 1, 2])


def passes(layer_class, weights):
    """{pass: fn(x, dy) -> tensors} of one conv layer class holding `weights`."""
    layer = layer_class(tutorial.CONV_FILTERS, KERNEL, padding="same")
    layer.build([None, None, None, weights[0].shape[2]])
    layer.set_weights(weights)

    def filter_grad(x, dy):
        with tf.GradientTape() as tape:
            y = layer(x)
        return tape.gradient(y, [layer.kernel, layer.bias], output_gradients=dy)

    def input_grad(x, dy):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
        return [tape.gradient(y, x, output_gradients=dy)]

    return {
        "forward": lambda x, dy: [layer(x)],
        "filter_grad": filter_grad,
        "input_grad": input_grad,
    }


def compiled_loop(fn, x, dy):
    """tf.function(n): n calls of fn on a new input each time; one scalar out of each result."""

    @tf.function
    def loop(n):
        total = tf.zeros([])
        for i in tf.range(n):  # a new input each time: nothing to hoist out of the loop
            outputs = fn(x + tf.cast(i, tf.float32) * 1e-3, dy)
            total += sum(tf.reshape(t, [-1])[0] for t in outputs)
        return total

    loop(tf.constant(2)).numpy()  # traces and warms up
    return loop


def milliseconds(loop, calls):
    start = time.perf_counter()
    loop(tf.constant(calls)).numpy()
    return (time.perf_counter() - start) / calls * 1e3


def kernels(loop):
    """The convolution, bias and sum kernels one call of `loop` runs, as the profiler names them."""
    with tempfile.TemporaryDirectory() as trace_dir:
        tf.profiler.experimental.start(trace_dir)
        loop(tf.constant(1)).numpy()
        tf.profiler.experimental.stop()
        ops = op_milliseconds(trace_dir)
    keep = ("Conv2D", "BiasAdd", "Sum", "MatMul")
    return sorted({name.split(":", 1)[1] for name in ops if any(k in name for k in keep)})


def alternated(timers, repeats):
    """{name: [value per round]} of the timers called in turn, the order reversed every round."""
    values = {name: [] for name in timers}
    for round_index in range(repeats):
        names = list(timers) if round_index % 2 == 0 else list(reversed(timers))
        for name in names:
            values[name].append(timers[name]())
    return values


def layer_benchmark(name, batch_size, repeats, calls):
    size, channels = LAYERS[name]
    x = tf.random.stateless_normal([batch_size, size, size, channels], seed=[0, 1])
    dy = tf.random.stateless_normal([batch_size, size, size, tutorial.CONV_FILTERS], seed=[2, 3])
    weights = [
        tf.random.stateless_normal([KERNEL, KERNEL, channels, tutorial.CONV_FILTERS], seed=[4, 5])
        * 0.05,
        tf.random.stateless_normal([tutorial.CONV_FILTERS], seed=[6, 7]),
    ]
    theirs = passes(keras.layers.Conv2D, weights)
    ours = passes(layers.SplitBiasGradConv2D, weights)
    fns = {
        "forward": theirs["forward"],
        "input_grad": theirs["input_grad"],
        "filter_grad keras_conv2d": theirs["filter_grad"],
        "filter_grad split_bias": ours["filter_grad"],
        "filter_grad im2col": im2col_filter_grad,
    }
    reference = [t.numpy() for t in theirs["filter_grad"](x, dy)]
    max_difference = {
        variant: max(
            float(np.abs(t.numpy() - r).max() / np.abs(r).max())
            for t, r in zip(fns[f"filter_grad {variant}"](x, dy), reference, strict=True)
        )
        for variant in ("split_bias", "im2col")
    }
    loops = {pass_name: compiled_loop(fn, x, dy) for pass_name, fn in fns.items()}
    timers = {k: (lambda loop=loop: milliseconds(loop, calls)) for k, loop in loops.items()}
    ms = {k: statistics.median(v) for k, v in alternated(timers, repeats).items()}
    ran = {pass_name: kernels(loop) for pass_name, loop in loops.items()}
    for pass_name in fns:
        print(f"{name} {pass_name}: {ms[pass_name]:.2f} ms  [{', '.join(ran[pass_name])}]")
    print(f"{name} filter_grad max |difference| / max |keras|: {max_difference}", flush=True)
    return {
        "ms": {k: round(v, 3) for k, v in ms.items()},
        "kernels": ran,
        "max_relative_difference": max_difference,
    }


def train_benchmark(dataset, batch_size, warmup, steps, repeats):
    """Images/s of the trainer's real step per TRAIN_VARIANTS entry: all traced and warmed up
    first, then timed in turn; returns ({variant: median}, {variant: median ratio to Keras'})."""
    configured = tutorial.SPLIT_BIAS_GRAD_CONVS
    runs = {}
    with contextlib.ExitStack() as trainers:
        for variant, convs in TRAIN_VARIANTS.items():
            tutorial.SPLIT_BIAS_GRAD_CONVS = convs  # read by build_tutorial as the trainer builds
            try:
                run, config = trainers.enter_context(
                    training_steps(dataset, {"batch_size": batch_size})
                )
            finally:
                tutorial.SPLIT_BIAS_GRAD_CONVS = configured
            run(warmup)
            runs[variant] = run

        def timer(run):
            timed_steps, seconds = run(steps)
            return timed_steps * config.batch_size / seconds

        rates = alternated(
            {variant: (lambda run=run: timer(run)) for variant, run in runs.items()}, repeats
        )
    for round_index in range(repeats):
        print(
            f"round {round_index}: "
            + ", ".join(f"{v} {r[round_index]:.0f}" for v, r in rates.items())
        )
    ratios = {
        variant: statistics.median(a / b for a, b in zip(r, rates["keras_conv2d"], strict=True))
        for variant, r in rates.items()
    }
    medians = {variant: statistics.median(r) for variant, r in rates.items()}
    for variant, rate in medians.items():
        print(
            f"train step, {variant} {TRAIN_VARIANTS[variant]}: {rate:.0f} images/s; "
            f"median ratio to keras_conv2d within a round {ratios[variant]:.3f}",
            flush=True,
        )
    return medians, ratios


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", default="../shared/cifar10")
    parser.add_argument("--synthetic", action="store_true", help="random images, no data dir")
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5, help="alternated rounds; medians")
    parser.add_argument("--calls", type=int, default=20, help="calls of a pass per timing")
    parser.add_argument("--train_steps", type=int, default=100, help="per timing; 0: no step")
    parser.add_argument("--train_repeats", type=int, default=10, help="alternated rounds")
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()

    machine = host.describe()
    print(
        f"cpu: {machine['cpu']['model']}, {machine['cpu']['usable_cores']} cores; "
        f"oneDNN {machine['tensorflow']['onednn']}, "
        f"ONEDNN_MAX_CPU_ISA={machine['tensorflow']['onednn_max_cpu_isa']}; "
        f"batch {args.batch_size}, medians of {args.repeats} alternated rounds"
    )
    layers = {
        name: layer_benchmark(name, args.batch_size, args.repeats, args.calls) for name in LAYERS
    }
    rates, ratios = {}, {}
    if args.train_steps:
        dataset = synthetic_cifar10() if args.synthetic else cifar10.load(args.data_dir)
        rates, ratios = train_benchmark(
            dataset, args.batch_size, args.warmup, args.train_steps, args.train_repeats
        )
    print(
        json.dumps(
            {
                "layers": layers,
                "train_images_per_second": {k: round(v, 1) for k, v in rates.items()},
                "train_speedup": {k: round(v / rates["keras_conv2d"], 3) for k, v in rates.items()},
                "batch_size": args.batch_size,
                "repeats": args.repeats,
                "train_steps": args.train_steps,
                "train_repeats": args.train_repeats,
                "host": machine,
            }
        )
    )


if __name__ == "__main__":
    main()
