"""Diagnostics: pool-window sign fractions, sparsity and dead units, the confusion matrix."""

import numpy as np
import pytest
import tensorflow as tf

from cifar10_ablation.data import cifar10
from cifar10_ablation.models import build_model
from cifar10_ablation.switches import Switches
from cifar10_ablation.training import diagnostics

TUTORIAL_ACTIVATIONS = ["conv1_act", "conv2_act", "local3_act", "local4_act"]


def _windows_numpy(x):
    """Brute force: 3x3 stride-2 SAME windows of [H, W] (TF pads after the end), real cells only."""
    height, width = x.shape
    out = -(-height // 2), -(-width // 2)
    pad_h = max((out[0] - 1) * 2 + 3 - height, 0) // 2
    pad_w = max((out[1] - 1) * 2 + 3 - width, 0) // 2
    windows = []
    for i in range(out[0]):
        for j in range(out[1]):
            r, c = i * 2 - pad_h, j * 2 - pad_w
            windows.append(x[max(r, 0) : r + 3, max(c, 0) : c + 3])
    return windows


def test_window_fractions_on_a_hand_built_map():
    x = -np.ones((4, 4), np.float32)  # 2x2 windows: rows/cols {0,1,2} and {2,3} (+ padding)
    x[0, 3] = x[3, 0] = x[3, 3] = 1.0  # windows (0,1), (1,0), (1,1) get one positive each
    all_negative, mixed = diagnostics.pool_window_fractions(tf.constant(x[None, :, :, None]))
    assert (all_negative, mixed) == (0.25, 0.75)


def test_padded_cells_do_not_count_as_inputs():
    x = -np.ones((1, 4, 4, 2), np.float32)  # every window, edge ones included, all negative
    assert diagnostics.pool_window_fractions(tf.constant(x)) == (1.0, 0.0)
    assert diagnostics.pool_window_fractions(tf.constant(-x)) == (0.0, 0.0)
    x[0, 3, 3, :] = 0.0  # a zero is neither sign: that edge window stops being all-negative
    assert diagnostics.pool_window_fractions(tf.constant(x)) == (0.75, 0.0)


def test_window_fractions_match_brute_force_on_random_maps():
    x = np.random.default_rng(0).normal(size=(2, 12, 12, 3)).astype(np.float32) - 0.8
    all_negative, mixed = diagnostics.pool_window_fractions(tf.constant(x))
    windows = [w for b in range(2) for c in range(3) for w in _windows_numpy(x[b, :, :, c])]
    assert all_negative == pytest.approx(np.mean([(w < 0).all() for w in windows]), abs=1e-6)
    expected_mixed = np.mean([(w < 0).any() and (w > 0).any() for w in windows])
    assert mixed == pytest.approx(expected_mixed, abs=1e-6)


def test_sparsity_and_dead_units():
    activations = np.zeros((4, 2, 2, 3), np.float32)
    activations[:, :, :, 0] = 1.0  # unit 0 always active
    activations[0, 0, 0, 1] = 2.0  # unit 1 active once; unit 2 dead
    sparsity, dead = diagnostics.activation_stats(tf.constant(activations))
    assert sparsity == pytest.approx(1 - 17 / 48)
    assert dead == pytest.approx(1 / 3)


def test_probe_measures_every_block_and_layer():
    images = tf.random.stateless_normal([8, 24, 24, 3], seed=[1, 2])
    model = build_model(Switches(conv_activation="linear"))
    assert diagnostics.activation_layers(model) == TUTORIAL_ACTIVATIONS
    values = diagnostics.Probe(model, images).measure()
    assert set(values) == {
        "diagnostics/pool1_all_negative_windows",
        "diagnostics/pool1_mixed_sign_windows",
        "diagnostics/pool2_all_negative_windows",
        "diagnostics/pool2_mixed_sign_windows",
        *(f"{n}/{s}" for n in TUTORIAL_ACTIVATIONS for s in ("sparsity", "dead_units")),
    }
    assert values["conv1_act/sparsity"] == 0.0 and values["conv1_act/dead_units"] == 0.0
    assert 0 < values["diagnostics/pool1_all_negative_windows"] < 1
    assert values["local3_act/sparsity"] > 0.2  # ReLU


@pytest.mark.parametrize("arch, activations", [("vgg", 8), ("resnet20", 19), ("linear", 0)])
def test_other_archs_get_activation_stats_but_no_pool_windows(arch, activations):
    """Their pools are 2x2 or global: the tutorial's 3x3/2 window fractions are not measured."""
    images = tf.random.stateless_normal([4, 24, 24, 3], seed=[1, 2])
    model = build_model(arch=arch)
    probe = diagnostics.Probe(model, images, arch)
    assert probe.pool_blocks == () and len(probe.activation_layers) == activations
    values = probe.measure()
    assert not any(tag.startswith("diagnostics/") for tag in values)
    assert set(values) == {
        f"{n}/{s}" for n in probe.activation_layers for s in ("sparsity", "dead_units")
    }


def test_confusion_matrix_and_per_class_accuracy():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predictions = np.array([0, 1, 1, 0, 2, 2])
    matrix = diagnostics.confusion_matrix(labels, predictions, 10)
    assert matrix.shape == (10, 10) and matrix.sum() == 6
    assert matrix[0, 0] == 1 and matrix[0, 1] == 1 and matrix[2, 0] == 1 and matrix[2, 2] == 2
    accuracy = diagnostics.per_class_accuracy(matrix, cifar10.CLASS_NAMES)
    assert accuracy["airplane"] == 0.5 and accuracy["automobile"] == 1.0
    assert accuracy["bird"] == pytest.approx(2 / 3) and accuracy["truck"] is None
    image = diagnostics.confusion_image(matrix, "test", cifar10.CLASS_NAMES)
    assert image.shape[0] == 1 and image.shape[-1] == 4 and image.dtype == tf.uint8
