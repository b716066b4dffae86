"""The other architectures: pinned sizes, every switch applied as stated, refusals, round trips."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from cifar10_ablation import switches
from cifar10_ablation.models import build_model, resnet, vgg
from cifar10_ablation.switches import Switches

# (trainable, non-trainable: batch norm's moving statistics) parameters on 3 and 1 channels.
PARAMS = {
    ("vgg", 3): (650_986, 896),
    ("vgg", 1): (650_410, 896),
    ("resnet20", 3): (269_722, 1_376),
    ("resnet20", 1): (269_434, 1_376),
    ("linear", 3): (17_290, 0),
    ("linear", 1): (5_770, 0),
    ("tutorial", 1): (1_065_098, 0),
}
VGG_CONVS = ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2"]
RESNET_ACTIVATIONS = ["conv1_act"] + [
    f"stage{s}_block{b}_{a}" for s in (1, 2, 3) for b in (1, 2, 3) for a in ("conv1_act", "act")
]


def _images(channels=3, batch=2):
    return tf.random.stateless_normal([batch, 24, 24, channels], seed=[0, 1])


def _layer_output(model, name, images):
    return keras.Model(model.input, model.get_layer(name).output)(images).numpy()


def _trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.parametrize("arch, channels", list(PARAMS))
def test_parameter_counts_are_pinned(arch, channels):
    model = build_model(arch=arch, channels=channels)
    trainable, moving = PARAMS[(arch, channels)]
    assert _trainable(model) == trainable
    assert model.count_params() == trainable + moving
    assert model.input_shape == (None, 24, 24, channels) and model.output_shape == (None, 10)
    assert model.layers[-1].name == "softmax_linear"
    assert model(_images(channels)).shape == (2, 10)


def test_resnet20_is_he_et_als_cifar_net():
    """16/32/64 filters in 3 stages of 3 basic blocks, 3x3 convs without bias, option-A
    shortcuts (no parameters), global pool, one dense layer: 19 convs + 1 dense = 20 layers."""
    model = build_model(arch="resnet20")
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 19
    assert all(c.kernel_size == (3, 3) and not c.use_bias for c in convs)
    assert [c.filters for c in convs] == [16] * 7 + [32] * 6 + [64] * 6
    assert [c.strides for c in convs if c.strides != (1, 1)] == [(2, 2), (2, 2)]
    assert sum(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers) == 19
    assert sum(isinstance(layer, keras.layers.Add) for layer in model.layers) == 9
    shortcuts = [layer for layer in model.layers if isinstance(layer, resnet.PadShortcut)]
    assert [s.name for s in shortcuts] == ["stage2_block1_shortcut", "stage3_block1_shortcut"]
    assert all(s.count_params() == 0 for s in shortcuts)
    assert model.get_layer("stage3_block3_act").output.shape == (None, 6, 6, 64)
    assert diagnostics_layers(model) == RESNET_ACTIVATIONS


def diagnostics_layers(model):
    return [layer.name for layer in model.layers if layer.name.endswith("_act")]


def test_vgg_layers_by_position():
    model = build_model(arch="vgg")
    names = [layer.name for layer in model.layers]
    expected = []
    for stage in (1, 2, 3):
        for conv in (1, 2):
            expected += [f"conv{stage}_{conv}", f"conv{stage}_{conv}_bn", f"conv{stage}_{conv}_act"]
        expected.append(f"pool{stage}")
    expected += ["flatten", "fc1", "fc1_act", "fc2", "fc2_act", "softmax_linear"]
    assert names == ["images", *expected]
    assert [model.get_layer(n).filters for n in VGG_CONVS] == [32, 32, 64, 64, 128, 128]
    assert all(not model.get_layer(n).use_bias for n in VGG_CONVS)
    assert model.get_layer("pool3").output.shape == (None, 3, 3, 128)


def test_pad_shortcut_subsamples_and_appends_zero_channels():
    x = tf.random.stateless_normal([2, 6, 6, 4], seed=[3, 4])
    y = resnet.PadShortcut(8)(x).numpy()
    assert y.shape == (2, 3, 3, 8)
    np.testing.assert_array_equal(y[..., :4], x.numpy()[:, 1::2, 1::2, :])
    np.testing.assert_array_equal(y[..., 4:], 0)


@pytest.mark.parametrize("arch, layers", [("vgg", VGG_CONVS), ("resnet20", None)])
@pytest.mark.parametrize("activation", ["relu", "linear", "tanh"])
def test_conv_activation_is_every_activation_after_a_conv(arch, layers, activation):
    model = build_model(Switches(conv_activation=activation), arch=arch)
    images = _images()
    names = [f"{n}_act" for n in layers] if layers else RESNET_ACTIVATIONS
    for name in names:
        pre = model.get_layer(name).input
        pre = keras.Model(model.input, pre)(images).numpy()
        post = _layer_output(model, name, images)
        expected = pre if activation == "linear" else keras.activations.get(activation)(pre)
        np.testing.assert_allclose(post, expected, rtol=1e-5, atol=1e-6)
    if arch == "vgg":  # the FC activations are the other switch's
        assert isinstance(model.get_layer("fc1_act"), keras.layers.Activation)


def test_vgg_fc_activation_and_maxout():
    model = build_model(Switches(fc_activation="linear"), arch="vgg")
    assert all(
        isinstance(model.get_layer(n), keras.layers.Identity) for n in ("fc1_act", "fc2_act")
    )
    assert isinstance(model.get_layer("conv1_1_act"), keras.layers.Activation)
    model = build_model(Switches(conv_activation="maxout", fc_activation="maxout"), arch="vgg")
    assert model.get_layer("conv1_1").filters == 64 and model.get_layer("fc1").units == 512
    widths = [model.get_layer(f"{n}_act").output.shape[-1] for n in [*VGG_CONVS, "fc1", "fc2"]]
    assert widths == [32, 32, 64, 64, 128, 128, 256, 256]


@pytest.mark.parametrize("pool", ["max", "avg"])
def test_pool_switch(pool):
    layer_class = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}[pool]
    model = build_model(Switches(pool=pool), arch="vgg")
    for name in ("pool1", "pool2", "pool3"):
        layer = model.get_layer(name)
        assert isinstance(layer, layer_class)
        assert layer.pool_size == (2, 2) and layer.strides == (2, 2)
    model = build_model(Switches(pool=pool), arch="resnet20")
    global_class = {
        "max": keras.layers.GlobalMaxPooling2D,
        "avg": keras.layers.GlobalAveragePooling2D,
    }
    assert type(model.get_layer("global_pool")) is global_class[pool]


def test_linear_resnet20_with_average_pooling_is_affine_at_inference():
    """No activation and an average pool leave only convs, inference batch norm and adds."""
    model = build_model(Switches(conv_activation="linear", pool="avg"), arch="resnet20")
    a, b = _images(batch=1), tf.random.stateless_normal([1, 24, 24, 3], seed=[5, 6])
    f = lambda x: model(x, training=False).numpy()  # noqa: E731
    np.testing.assert_allclose(f(a + b) - f(b), f(a) - f(tf.zeros_like(a)), rtol=1e-3, atol=1e-2)


def test_linear_is_softmax_regression():
    model = build_model(arch="linear")
    assert [layer.name for layer in model.layers] == ["images", "flatten", "softmax_linear"]
    assert model.losses == []
    x = _images()
    layer = model.get_layer("softmax_linear")
    expected = x.numpy().reshape(2, -1) @ layer.kernel.numpy() + layer.bias.numpy()
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("arch, kernels", [("vgg", 9), ("resnet20", 20)])
def test_weight_decay_on_every_kernel(arch, kernels):
    model = build_model(arch=arch)
    decay = {"vgg": vgg.WEIGHT_DECAY, "resnet20": resnet.WEIGHT_DECAY}[arch]
    weighted = [layer for layer in model.layers if hasattr(layer, "kernel")]
    assert len(model.losses) == len(weighted) == kernels
    expected = sum(decay * float(tf.reduce_sum(layer.kernel.value**2)) for layer in weighted)
    np.testing.assert_allclose(float(tf.add_n(model.losses)), expected, rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"arch": "resnet20", "fc_activation": "linear"}, "arch=resnet20 has no hidden fully"),
        ({"arch": "resnet20", "lrn": False}, "arch=resnet20 has no LRN layers"),
        ({"arch": "vgg", "lrn": False}, r"lrn=False does not apply \(leave it at its default"),
        ({"arch": "linear", "conv_activation": "linear"}, "arch=linear has no conv layers"),
        ({"arch": "linear", "pool": "avg"}, "arch=linear has no pooling"),
        (
            {"arch": "resnet20", "conv_activation": "maxout"},
            "cannot take a 'maxout' conv activation",
        ),
        ({"arch": "alexnet"}, "arch='alexnet' is not known; allowed: tutorial, vgg, resnet20"),
    ],
)
def test_switches_an_arch_lacks_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        arch = kwargs.pop("arch")
        build_model(Switches(**kwargs), arch=arch)


def test_switch_table():
    assert switches.present("tutorial") == ["conv_activation", "fc_activation", "pool", "lrn"]
    assert switches.present("vgg") == ["conv_activation", "fc_activation", "pool"]
    assert switches.present("resnet20") == [
        "conv_activation",
        "pool",
        "downsample",
        "stage_activations",
    ]
    assert switches.present("linear") == []


@pytest.mark.parametrize("arch", ["vgg", "resnet20"])
def test_save_load_and_clone_round_trip(arch, tmp_path):
    model = build_model(Switches(conv_activation="tanh", pool="avg"), arch=arch)
    images = _images(batch=4)
    model(images, training=True)  # moves batch norm's statistics away from their start
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded(images).numpy(), model(images).numpy(), rtol=1e-5)
    clone = keras.models.clone_model(model)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]


def _forward_mflop(model):
    """2 x the multiply-adds of the conv and dense layers, per image (what the README states)."""
    macs = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, filters = layer.output.shape
            macs += height * width * filters * int(np.prod(layer.kernel.shape[:3]))
        elif isinstance(layer, keras.layers.Dense):
            macs += int(np.prod(layer.kernel.shape))
    return 2 * macs / 1e6


@pytest.mark.parametrize(
    "arch, mflop, tolerance",
    [("tutorial", 37, 0.5), ("vgg", 44, 0.5), ("resnet20", 46, 0.5), ("linear", 0.03, 0.005)],
)
def test_forward_flops_are_the_readmes(arch, mflop, tolerance):
    assert _forward_mflop(build_model(arch=arch)) == pytest.approx(mflop, abs=tolerance)
