"""Measurements that explain the finding: where ReLU changes pooling, sparsity, dead units, errors.

ReLU-then-max-pool differs from max-pool alone only in windows whose inputs are all negative
(ReLU outputs 0 there and blocks the gradient); ReLU-then-average differs from average alone in
every window holding a negative input, and non-trivially where signs are mixed. So for each
conv -> pool block of the tutorial net (other architectures' pools are 2x2 or global, and are
not measured) we measure, on a fixed batch, the fraction of pooling windows (3x3, stride 2,
SAME, padded cells excluded) of the conv's pre-activation that are all negative, and that have
mixed signs. Plus, per activation layer (`<layer>_act` in every architecture), the fraction of
zeros (the tutorial's "sparsity") and of units (channels / neurons) that are zero on the whole
batch ("dead"), and, on the test set, the confusion matrix and per-class accuracy.
"""

import io

import numpy as np
import tensorflow as tf

from cifar10_ablation import plots
from cifar10_ablation.switches import POOL_SIZE, POOL_STRIDE

# Per arch: (pre-activation layer, the POOL_SIZE/POOL_STRIDE pooling layer its windows feed).
POOL_BLOCKS = {"tutorial": (("conv1", "pool1"), ("conv2", "pool2"))}
ACTIVATION_SUFFIX = "_act"


def pool_window_fractions(pre_activation):
    """(all-negative, mixed-sign) fractions of the 3x3/2 SAME windows of [B,H,W,C] inputs.

    TF's SAME max-pool ignores padded cells, so the window max/min are over real inputs only.
    """
    window_max = tf.nn.max_pool2d(pre_activation, POOL_SIZE, POOL_STRIDE, "SAME")
    # "holds a negative input" as a uint8 max: a quarter of the memory of negating the input.
    negative = tf.cast(pre_activation < 0, tf.uint8)
    has_negative = tf.nn.max_pool2d(negative, POOL_SIZE, POOL_STRIDE, "SAME") > 0
    all_negative = tf.reduce_mean(tf.cast(window_max < 0, tf.float32))
    mixed = tf.reduce_mean(tf.cast((window_max > 0) & has_negative, tf.float32))
    return float(all_negative), float(mixed)


def activation_stats(activations):
    """(fraction of zeros, fraction of units zero for every example and position)."""
    zeros = tf.equal(activations, 0)
    per_unit = tf.reduce_all(tf.reshape(zeros, [-1, activations.shape[-1]]), axis=0)
    return float(tf.math.zero_fraction(activations)), float(
        tf.reduce_mean(tf.cast(per_unit, tf.float32))
    )


def activation_layers(model):
    """Names of the model's activation layers (`<layer>_act`), in model order."""
    return [layer.name for layer in model.layers if layer.name.endswith(ACTIVATION_SUFFIX)]


class Probe:
    """The model's pre-activations and activations on a fixed batch, summarized by name."""

    def __init__(self, model, images, arch="tutorial"):
        import keras

        self.pool_blocks = POOL_BLOCKS.get(arch, ())
        self.activation_layers = activation_layers(model)
        names = [p for p, _ in self.pool_blocks] + self.activation_layers
        self.names = names
        self.images = images
        outputs = [model.get_layer(n).output for n in names]
        self.model = keras.Model(model.input, outputs) if outputs else None  # None: linear

    def outputs(self):
        if self.model is None:
            return {}
        return dict(zip(self.names, self.model(self.images, training=False), strict=True))

    def measure(self, outputs=None):
        """{tag: value} of every diagnostic scalar on the fixed batch."""
        outputs = outputs or self.outputs()
        values = {}
        for conv, pool in self.pool_blocks:
            all_negative, mixed = pool_window_fractions(outputs[conv])
            values[f"diagnostics/{pool}_all_negative_windows"] = all_negative
            values[f"diagnostics/{pool}_mixed_sign_windows"] = mixed
        for name in self.activation_layers:
            sparsity, dead = activation_stats(outputs[name])
            values[f"{name}/sparsity"] = sparsity
            values[f"{name}/dead_units"] = dead
        return values


def confusion_matrix(labels, predictions, num_classes):
    """Counts [true class, predicted class] as int64 numpy."""
    return tf.math.confusion_matrix(labels, predictions, num_classes, dtype=tf.int64).numpy()


def per_class_accuracy(matrix, class_names):
    """{class name: accuracy}, in class order, from a confusion matrix (rows: true classes)."""
    totals = matrix.sum(axis=1)
    return {
        name: float(matrix[i, i] / totals[i]) if totals[i] else None
        for i, name in enumerate(class_names)
    }


def confusion_image(matrix, title, class_names):
    """The matrix as a [1, H, W, 4] uint8 PNG-decoded image for tf.summary.image."""
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    buffer = io.BytesIO()
    with plots.figure(buffer, (6, 5.5), dpi=100, format="png") as axis:
        axis.imshow(rates, cmap="Blues", vmin=0, vmax=1)
        for (i, j), count in np.ndenumerate(matrix):
            color = "white" if rates[i, j] > 0.5 else "black"
            axis.text(j, i, str(count), ha="center", va="center", fontsize=6, color=color)
        axis.set_xticks(range(len(class_names)), class_names, rotation=60, fontsize=7)
        axis.set_yticks(range(len(class_names)), class_names, fontsize=7)
        axis.set_xlabel("predicted")
        axis.set_ylabel("true")
        axis.set_title(title, fontsize=9)
    return tf.image.decode_png(buffer.getvalue(), channels=4)[None]
