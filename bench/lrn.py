"""Forward + backward time of the model's LRN layer against TF's LRN/LRNGrad ops.

    python bench/lrn.py

On the tutorial's LRN input (batch 128, 12x12x64) it times both inside one compiled loop and
checks that they agree. Last line, machine-readable JSON: milliseconds per forward + backward.
"""

import cifar10_ablation  # noqa: F401 - first: sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads

# isort: split

import argparse
import json
import time

import numpy as np
import tensorflow as tf

from cifar10_ablation import host
from cifar10_ablation.models import layers, tutorial


def tf_lrn(x):
    return tf.nn.local_response_normalization(
        x,
        depth_radius=layers.LRN_DEPTH_RADIUS,
        bias=layers.LRN_BIAS,
        alpha=layers.LRN_ALPHA,
        beta=layers.LRN_BETA,
    )


def forward_backward(lrn, x, upstream):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = lrn(x)
    return y, tape.gradient(y, x, output_gradients=upstream)


def milliseconds(lrn, x, upstream, repeats):
    @tf.function
    def loop(n):
        total = tf.zeros([])
        for i in tf.range(n):  # a new input each time: nothing to hoist out of the loop
            _, dx = forward_backward(lrn, x + tf.cast(i, tf.float32) * 1e-3, upstream)
            total += dx[0, 0, 0, 0]
        return total

    loop(tf.constant(5)).numpy()
    start = time.perf_counter()
    loop(tf.constant(repeats)).numpy()
    return (time.perf_counter() - start) / repeats * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()

    shape = [args.batch_size, 12, 12, tutorial.CONV_FILTERS]
    x = tf.random.stateless_normal(shape, seed=[0, 1]) * 3.0
    upstream = tf.random.stateless_normal(shape, seed=[2, 3])
    ours = layers.LocalResponseNormalization()
    y_ours, dx_ours = forward_backward(ours, x, upstream)
    y_tf, dx_tf = forward_backward(tf_lrn, x, upstream)
    max_difference = {
        "output": float(np.abs(y_ours - y_tf).max()),
        "gradient": float(np.abs(dx_ours - dx_tf).max()),
    }
    times = {
        "tf.nn.local_response_normalization": milliseconds(tf_lrn, x, upstream, args.repeats),
        "model.LocalResponseNormalization": milliseconds(ours, x, upstream, args.repeats),
    }
    for name, ms in times.items():
        print(f"{name}: {ms:.2f} ms forward + backward")
    print(
        f"max |difference|: output {max_difference['output']:.1e}, "
        f"gradient {max_difference['gradient']:.1e}"
    )
    print(
        json.dumps(
            {
                "ms_forward_backward": {k: round(v, 3) for k, v in times.items()},
                "speedup": round(
                    times["tf.nn.local_response_normalization"]
                    / times["model.LocalResponseNormalization"],
                    2,
                ),
                "max_abs_difference": max_difference,
                "shape": shape,
                "host": host.describe(),
            }
        )
    )


if __name__ == "__main__":
    main()
