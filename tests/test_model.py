"""The model factory: the tutorial net exactly, and every switch really applied."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import assert_matches_tf_lrn

from cifar10_ablation import switches
from cifar10_ablation.models import build_model, layers, tutorial
from cifar10_ablation.switches import Switches

TUTORIAL_PARAMS = 1_068_298
TUTORIAL_LAYERS = [
    "conv1",
    "pool1",
    "norm1",
    "conv2",
    "norm2",
    "pool2",
    "local3",
    "local4",
    "softmax_linear",
]


def _layer_output(model, name, images):
    return keras.Model(model.input, model.get_layer(name).output)(images).numpy()


def _images(batch=2, seed=0):
    return tf.random.stateless_normal([batch, 24, 24, 3], seed=[seed, 1])


def test_default_is_the_tutorial_net():
    model = build_model()
    assert model.count_params() == TUTORIAL_PARAMS
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == TUTORIAL_PARAMS
    names = [layer.name for layer in model.layers]
    assert [n for n in names if n in TUTORIAL_LAYERS] == TUTORIAL_LAYERS
    assert model.input_shape == (None, 24, 24, 3)
    assert model.output_shape == (None, 10)
    per_layer = {
        n: model.get_layer(n).count_params()
        for n in ("conv1", "conv2", "local3", "local4", "softmax_linear")
    }
    assert per_layer == {
        "conv1": 4864,
        "conv2": 102464,
        "local3": 885120,
        "local4": 73920,
        "softmax_linear": 1930,
    }


@pytest.mark.parametrize("conv_activation", ["relu", "linear", "tanh"])
@pytest.mark.parametrize("fc_activation", ["relu", "none"])
@pytest.mark.parametrize("pool", ["max", "avg"])
@pytest.mark.parametrize("lrn", [True, False])
def test_grid_keeps_shapes_and_parameter_count(conv_activation, fc_activation, pool, lrn):
    model = build_model(Switches(conv_activation, fc_activation, pool, lrn))
    assert model.count_params() == TUTORIAL_PARAMS
    names = [layer.name for layer in model.layers]
    expected = [n for n in TUTORIAL_LAYERS if lrn or not n.startswith("norm")]
    assert [n for n in names if n in TUTORIAL_LAYERS] == expected
    assert model(_images()).shape == (2, 10)


def test_initializers_and_biases_are_the_tutorials():
    model = build_model()
    stddevs = {
        "conv1": 0.05,
        "conv2": 0.05,
        "local3": 0.04,
        "local4": 0.04,
        "softmax_linear": 1 / 192,
    }
    biases = {"conv1": 0.0, "conv2": 0.1, "local3": 0.1, "local4": 0.1, "softmax_linear": 0.0}
    for name, stddev in stddevs.items():
        layer = model.get_layer(name)
        assert isinstance(layer.kernel_initializer, keras.initializers.TruncatedNormal)
        assert layer.kernel_initializer.stddev == pytest.approx(stddev)
        kernel = layer.kernel.numpy()
        assert np.abs(kernel).max() <= 2 * stddev + 1e-7  # truncated at 2 sigma
        np.testing.assert_array_equal(layer.bias.numpy(), np.float32(biases[name]))
    # local3 has 884,736 weights: their std is the truncated normal's, 0.88 sigma.
    assert model.get_layer("local3").kernel.numpy().std() == pytest.approx(0.04 * 0.8796, rel=0.01)


def test_weight_decay_is_tutorials_0_004_l2_loss_on_local3_local4_only():
    model = build_model()
    expected = sum(
        0.004 * tf.nn.l2_loss(model.get_layer(n).kernel.value) for n in ("local3", "local4")
    )
    assert len(model.losses) == 2
    np.testing.assert_allclose(float(tf.add_n(model.losses)), float(expected), rtol=1e-5)


def test_softmax_linear_has_no_activation():
    model = build_model(Switches(fc_activation="tanh"))
    assert model.get_layer("softmax_linear").activation is keras.activations.linear
    assert model.layers[-1].name == "softmax_linear"


@pytest.mark.parametrize("name", switches.KERAS_ACTIVATIONS)
def test_named_activation_is_applied_to_both_groups(name):
    model = build_model(Switches(conv_activation=name, fc_activation=name))
    images = _images()
    for layer in ("conv1", "conv2", "local3", "local4"):
        pre = _layer_output(model, layer, images)
        post = _layer_output(model, f"{layer}_act", images)
        np.testing.assert_allclose(post, keras.activations.get(name)(pre), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["linear", "none"])
def test_linear_means_no_activation(name):
    model = build_model(Switches(conv_activation=name, fc_activation=name))
    images = _images()
    for layer in ("conv1", "conv2", "local3", "local4"):
        np.testing.assert_array_equal(
            _layer_output(model, f"{layer}_act", images), _layer_output(model, layer, images)
        )
    relu = build_model()
    conv = _layer_output(relu, "conv1", images)
    np.testing.assert_array_equal(_layer_output(relu, "conv1_act", images), np.maximum(conv, 0))


def test_abs_and_maxout():
    images = _images()
    model = build_model(Switches(conv_activation="abs"))
    np.testing.assert_array_equal(
        _layer_output(model, "conv1_act", images), np.abs(_layer_output(model, "conv1", images))
    )
    model = build_model(Switches(conv_activation="maxout", fc_activation="maxout", maxout_pieces=3))
    pre = _layer_output(model, "conv1", images)
    assert pre.shape[-1] == 64 * 3
    post = _layer_output(model, "conv1_act", images)
    np.testing.assert_array_equal(post, pre.reshape(*pre.shape[:-1], 64, 3).max(-1))
    widths = [
        model.get_layer(n).output.shape[-1]
        for n in ("conv1_act", "conv2_act", "local3_act", "local4_act")
    ]
    assert widths == [64, 64, 384, 192]  # the tutorial's widths after the activation
    # Each linear layer in front of a maxout has 3x the units.
    assert (
        model.count_params()
        == (5 * 5 * 3 * 192 + 192)
        + (5 * 5 * 64 * 192 + 192)
        + (2304 * 1152 + 1152)
        + (384 * 576 + 576)
        + 1930
    )


@pytest.mark.parametrize("pool, tf_pool", [("max", tf.nn.max_pool2d), ("avg", tf.nn.avg_pool2d)])
def test_pool_is_3x3_stride_2_same_as_tf(pool, tf_pool):
    model = build_model(Switches(pool=pool))
    layer = model.get_layer("pool1")
    assert isinstance(
        layer, {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}[pool]
    )
    x = tf.random.stateless_normal([2, 24, 24, 64], seed=[3, 4])
    expected = tf_pool(x, ksize=3, strides=2, padding="SAME")
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)
    if pool == "avg":  # SAME pads after the end: the last window has 2x2 valid cells, mean of 4
        np.testing.assert_allclose(
            layer(x).numpy()[:, -1, -1], x.numpy()[:, 22:, 22:].mean((1, 2)), rtol=1e-5
        )


def test_lrn_matches_tensorflow_and_the_formula():
    layer = layers.LocalResponseNormalization()
    x = tf.random.stateless_normal([2, 6, 6, 64], seed=[5, 6]) * 3.0
    expected = tf.nn.local_response_normalization(
        x, depth_radius=4, bias=1.0, alpha=0.001 / 9.0, beta=0.75
    )
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), rtol=1e-6)
    # alpha is NOT divided by the window of 9 channels.
    v = x.numpy()
    squares = np.pad(v**2, [(0, 0), (0, 0), (0, 0), (4, 4)])
    window_sum = sum(squares[..., i : i + 64] for i in range(9))
    np.testing.assert_allclose(
        layer(x).numpy(), v / (1.0 + 0.001 / 9 * window_sum) ** 0.75, rtol=1e-5
    )


@pytest.mark.parametrize("beta", [0.75, 0.5])
def test_lrn_gradient_matches_tensorflows_lrn_grad(beta):
    layer = layers.LocalResponseNormalization(beta=beta, alpha=0.01)
    x = tf.random.stateless_normal([2, 5, 5, 64], seed=[7, 8]) * 3.0
    upstream = tf.random.stateless_normal(x.shape, seed=[9, 10])
    assert_matches_tf_lrn(layer, x, upstream, beta)
    theirs = tf.nn.local_response_normalization(x, depth_radius=4, bias=1.0, alpha=0.01, beta=beta)
    # Under mixed precision it normalizes in float32 and returns float16.
    half = layers.LocalResponseNormalization(beta=beta, alpha=0.01, dtype="mixed_float16")(x)
    assert half.dtype == tf.float16
    np.testing.assert_allclose(half.numpy(), theirs.numpy(), rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("channels", [3, 16])
def test_split_bias_grad_conv_matches_tf_conv2d_and_its_gradients(compiled, channels):
    layer = layers.SplitBiasGradConv2D(8, 5, padding="same")
    layer.build([None, 7, 7, channels])
    kernel = tf.random.stateless_normal([5, 5, channels, 8], seed=[11, 12]) * 0.1
    bias = tf.random.stateless_normal([8], seed=[13, 14])
    layer.set_weights([kernel, bias])
    x = tf.random.stateless_normal([2, 7, 7, channels], seed=[15, 16])
    upstream = tf.random.stateless_normal([2, 7, 7, 8], seed=[17, 18])

    def ours_and_theirs(x, kernel, bias):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([x, kernel, bias])
            ours = layer(x)
            theirs = tf.nn.bias_add(tf.nn.conv2d(x, kernel, 1, "SAME"), bias)
        ours_grads = tape.gradient(ours, [x, layer.kernel, layer.bias], output_gradients=upstream)
        theirs_grads = tape.gradient(theirs, [x, kernel, bias], output_gradients=upstream)
        return [ours, *ours_grads], [theirs, *theirs_grads]

    run = tf.function(ours_and_theirs) if compiled else ours_and_theirs
    for a, b in zip(*run(x, kernel, bias), strict=True):  # output, d/dx, d/dkernel, d/dbias
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("convs", [(), ("conv1",), ("conv1", "conv2")])
def test_split_bias_grad_convs_are_the_configured_ones(convs, monkeypatch):
    monkeypatch.setattr(tutorial, "SPLIT_BIAS_GRAD_CONVS", convs)
    model = build_model()
    for name in ("conv1", "conv2"):
        split = isinstance(model.get_layer(name), layers.SplitBiasGradConv2D)
        assert split == (name in convs)
    assert model.count_params() == TUTORIAL_PARAMS


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"conv_activation": "sigmoidal"}, "conv_activation='sigmoidal' is not a known activation"),
        ({"fc_activation": "softmax"}, "allowed: relu"),
        ({"pool": "median"}, "pool='median' is not a known pooling; allowed: max, avg"),
        ({"lrn": "yes"}, "lrn='yes' must be True or False"),
        ({"maxout_pieces": 1}, "maxout_pieces=1 must be an integer >= 2"),
    ],
)
def test_invalid_arguments_raise_with_the_allowed_values(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        build_model(Switches(**kwargs))


def test_save_and_load_round_trip(tmp_path):
    model = build_model(Switches(conv_activation="maxout", fc_activation="abs", pool="avg"))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    images = _images(4)
    np.testing.assert_allclose(loaded(images).numpy(), model(images).numpy(), rtol=1e-6)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


@pytest.mark.parametrize(
    "size, window, stride", [(24, 3, 2), (12, 3, 2), (7, 3, 2), (6, 2, 2), (5, 3, 1)]
)
def test_the_torch_average_pool_branch_averages_valid_cells_as_tf(size, window, stride):
    """SameAveragePooling2D's torch branch (padding and divisor arithmetic, keras.ops only) run
    here under TensorFlow: the same windows and means as tf.nn.avg_pool2d with SAME padding."""
    x = tf.random.stateless_normal([2, size, size, 3], seed=[5, 6])
    layer = layers.SameAveragePooling2D(pool_size=window, strides=stride, padding="same")
    expected = tf.nn.avg_pool2d(x, window, stride, "SAME")
    np.testing.assert_allclose(layer.valid_cell_average(x), expected, rtol=1e-5, atol=1e-6)
