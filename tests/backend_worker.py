"""Runs the model factory under the Keras backend of this process, for test_backends.py.

    KERAS_BACKEND=jax python tests/backend_worker.py IN.npz OUT.npz

The backend is fixed per process, so the test computes TensorFlow's results in its own process
with `run` and each other backend's in a process running this file, exchanging arrays as .npz.
IN holds `images`, `labels`, `configs` (JSON: model switches and whether to train) with each
config's weights `i/j`, and LRN inputs `lrn_x`, `lrn_upstream`. OUT gets per config `i/logits`,
and for trained configs `i/losses` and `i/trained/j` (the weights after two `fit` steps of SGD
with momentum), and per LRN beta the layer's output and input gradient. Under any backend other
than TensorFlow it exits non-zero if TensorFlow was imported.
"""

import json
import sys

import keras
import numpy as np

from cifar10_ablation import models
from cifar10_ablation.models import layers
from cifar10_ablation.switches import Switches

LRN_BETAS = (0.75, 0.5)
LRN_ALPHA = 0.01  # large enough that the normalization changes the values a lot


def _jax_vjp(function, x, upstream):
    import jax

    y, vjp = jax.vjp(function, x)
    return y, vjp(upstream)[0]


def _torch_vjp(function, x, upstream):
    import torch

    x = torch.tensor(x, requires_grad=True)
    y = function(x)
    y.backward(torch.tensor(upstream))
    return y.detach(), x.grad


def _tensorflow_vjp(function, x, upstream):
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = function(x)
    return y, tape.gradient(y, x, output_gradients=upstream)


# Backend -> (function, x, upstream) -> (function(x), upstream . d function / dx).
VJP = {"jax": _jax_vjp, "torch": _torch_vjp, "tensorflow": _tensorflow_vjp}


def run(inputs):
    """The arrays OUT holds (module docstring), computed with this process's backend."""
    images, labels = inputs["images"], inputs["labels"]
    outputs = {}
    for i, config in enumerate(json.loads(str(inputs["configs"]))):
        model = models.build_model(Switches(**config["switches"]))
        model.set_weights([inputs[f"{i}/{j}"] for j in range(len(model.weights))])
        outputs[f"{i}/logits"] = keras.ops.convert_to_numpy(model(images))
        if config["train"]:
            model.compile(
                optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            )
            history = model.fit(
                images, labels, batch_size=len(images), epochs=2, shuffle=False, verbose=0
            )
            outputs[f"{i}/losses"] = np.array(history.history["loss"])
            for j, weight in enumerate(model.get_weights()):
                outputs[f"{i}/trained/{j}"] = weight
    for beta in LRN_BETAS:
        layer = layers.LocalResponseNormalization(alpha=LRN_ALPHA, beta=beta)
        y, dx = VJP[keras.backend.backend()](layer, inputs["lrn_x"], inputs["lrn_upstream"])
        outputs[f"lrn{beta}/y"] = keras.ops.convert_to_numpy(y)
        outputs[f"lrn{beta}/dx"] = keras.ops.convert_to_numpy(dx)
    return outputs


def main(in_path, out_path):
    # The backend that ran, so that an ignored KERAS_BACKEND cannot pass as a comparison.
    np.savez(out_path, backend=np.array(keras.backend.backend()), **run(np.load(in_path)))
    if keras.backend.backend() != "tensorflow" and "tensorflow" in sys.modules:
        sys.exit(f"TensorFlow was imported under KERAS_BACKEND={keras.backend.backend()}")


if __name__ == "__main__":
    main(*sys.argv[1:])
