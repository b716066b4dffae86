"""ResNet-56 and ResNet-18, downsampling by stride or pool, the per-stage activations, the count
of non-linear units, the pad-and-crop input, and the linear floor: a net with no non-linear layer
left is one affine map."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from cifar10_ablation import config as config_lib
from cifar10_ablation import switches as switches_lib
from cifar10_ablation.data import pipeline
from cifar10_ablation.models import activation_units, build_model, layers, max_pool_windows
from cifar10_ablation.switches import Switches


def _trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.parametrize(
    "arch, size, params",
    [("resnet20", 24, 269_722), ("resnet56", 32, 853_018), ("resnet18", 32, 11_173_962)],
)
def test_parameter_counts_are_the_published_nets(arch, size, params):
    assert _trainable(build_model(Switches(pool="avg"), arch, image_size=size)) == params


def _stage_inputs(model, stage):
    """The block-1 conv1 of a stage, and whatever pools its input."""
    conv = model.get_layer(f"stage{stage}_block1_conv1")
    pools = [layer for layer in model.layers if layer.name == f"stage{stage}_pool"]
    return conv, pools


@pytest.mark.parametrize("arch", ["resnet20", "resnet18"])
def test_each_downsample_mode_builds_the_graph_it_names(arch):
    shapes = {}
    for mode, pool_class in [
        ("stride", None),
        ("max", keras.layers.MaxPooling2D),
        ("avg", layers.SameAveragePooling2D),
    ]:
        model = build_model(Switches(pool="avg", downsample=mode), arch, image_size=32)
        for stage in (2, 3):
            conv, pools = _stage_inputs(model, stage)
            if pool_class is None:
                assert conv.strides == (2, 2) and pools == []
            else:
                assert conv.strides == (1, 1) and [type(p) for p in pools] == [pool_class]
                assert pools[0].pool_size == (3, 3) and pools[0].strides == (2, 2)
        shortcut = model.get_layer("stage2_block1_shortcut")
        # the shortcut takes the pooled input too: it subsamples only when the convs stride
        if arch == "resnet20":
            assert shortcut.subsample == (mode == "stride")
        else:
            assert shortcut.strides == ((2, 2) if mode == "stride" else (1, 1))
        shapes[mode] = model.get_layer("global_pool").input.shape
    assert len(set(shapes.values())) == 1  # every mode halves the resolution alike


def test_stage_activations_set_each_stage_and_the_stem_takes_the_first():
    model = build_model(
        Switches(pool="avg", stage_activations="linear+linear+linear+relu"), "resnet18"
    )
    kinds = {
        layer.name: type(layer).__name__
        for layer in model.layers
        if layer.name.endswith(layers.ACTIVATION_SUFFIX)
    }
    assert kinds["conv1_act"] == "Identity"
    for name, kind in kinds.items():
        last_stage = name.startswith("stage4_")
        assert kind == ("Activation" if last_stage else "Identity"), name
    assert sum(kind == "Activation" for kind in kinds.values()) == 4  # 2 blocks x 2


@pytest.mark.parametrize(
    "switches, arch, units, windows",
    [
        (Switches(), "tutorial", 24 * 24 * 64 + 12 * 12 * 64 + 384 + 192,
         12 * 12 * 64 + 6 * 6 * 64),
        (Switches(conv_activation="linear", fc_activation="linear", pool="avg"), "tutorial", 0, 0),
        (Switches(pool="avg", stage_activations="linear+linear+linear+relu"), "resnet18",
         4 * 4 * 512 * 4, 0),
        (Switches(conv_activation="linear", downsample="max"), "resnet18", 0,
         16 * 16 * 64 + 8 * 8 * 128 + 4 * 4 * 256 + 512),
    ],
)  # fmt: skip
def test_activation_units_and_max_pool_windows_count_per_image(switches, arch, units, windows):
    size = 24 if arch == "tutorial" else 32
    model = build_model(switches, arch, image_size=size)
    assert activation_units(model) == units
    assert max_pool_windows(model) == windows


@pytest.mark.parametrize(
    "kwargs, arch, message",
    [
        ({"downsample": "max"}, "tutorial", "arch=tutorial has no strided stages"),
        ({"stage_activations": "relu+relu"}, "vgg", "arch=vgg has no stages of residual"),
        ({"stage_activations": "relu+relu+relu"}, "resnet18", "names 3 stages; arch=resnet18"),
        ({"stage_activations": "relu+relu+maxout"}, "resnet20", "cannot take a 'maxout'"),
        ({"stage_activations": "relu+relu+reul"}, "resnet20", "'reul' is not a known activation"),
        ({"downsample": "median"}, "resnet20", "downsample='median' is not known"),
        (
            {"conv_activation": "linear", "stage_activations": "relu+relu+relu"},
            "resnet20",
            "give conv_activation or stage_activations, not both",
        ),
    ],
)
def test_switches_the_net_lacks_or_cannot_take_are_one_clear_error(kwargs, arch, message):
    with pytest.raises(ValueError, match=message):
        Switches(**kwargs).check(arch)


def test_run_names_and_config_json_carry_the_new_switches():
    config = config_lib.RunConfig.flat(
        arch="resnet18",
        augmentation="pad_crop",
        pool="avg",
        downsample="max",
        stage_activations="linear+linear+linear+relu",
    )
    assert config.run_name() == (
        "arch-resnet18_augmentation-pad_crop_pool-avg_downsample-max_"
        "stage_activations-linear+linear+linear+relu_schedule-tutorial_seed0"
    )  # no conv_relu: stage_activations sets every stage's conv activation
    assert config.to_dict()["stage_activations"] == ["linear", "linear", "linear", "relu"]
    assert config_lib.RunConfig.from_dict(config.to_dict()) == config
    assert config.image_size == 32 and config_lib.RunConfig().image_size == 24


def _affine_defect(model, rng, scale=1.0):
    """How far the model is from affine: |f(a x + (1-a) y) - a f(x) - (1-a) f(y)|, relative."""
    shape = (4, *model.input.shape[1:])
    x, y = scale * rng.standard_normal(shape), scale * rng.standard_normal(shape)
    a = rng.uniform(-2, 3, (4, 1, 1, 1))
    mixed = model(a * x + (1 - a) * y, training=False).numpy()
    combined = a[:, :, 0, 0] * model(x, training=False) + (1 - a[:, :, 0, 0]) * model(
        y, training=False
    )
    return np.abs(mixed - combined).max() / np.abs(combined).max()


LINEAR = {"conv_activation": "linear", "fc_activation": "linear", "pool": "avg"}


@pytest.mark.parametrize(
    "arch, switches",
    [
        ("tutorial", Switches(**LINEAR, lrn=False)),
        ("vgg", Switches(**LINEAR)),
        ("resnet20", Switches(conv_activation="linear", pool="avg")),
        ("resnet20", Switches(conv_activation="linear", pool="avg", downsample="avg")),
        ("resnet56", Switches(conv_activation="linear", pool="avg")),
        ("resnet18", Switches(conv_activation="linear", pool="avg")),
        ("resnet18", Switches(conv_activation="linear", pool="avg", downsample="avg")),
        ("linear", Switches()),
    ],
)
def test_a_net_with_no_non_linear_layer_left_is_one_affine_map(arch, switches):
    """So every "drop" measured without ReLUs and max pools is the accuracy of an affine
    classifier: batch norm at inference, average pools and strides are all affine."""
    keras.utils.set_random_seed(0)
    model = build_model(switches, arch)
    assert _affine_defect(model, np.random.default_rng(1)) < 1e-4
    assert activation_units(model) == 0 and max_pool_windows(model) == 0


@pytest.mark.parametrize(
    "arch, switches, scale",
    [
        ("tutorial", Switches(**LINEAR), 10.0),  # LRN is left: nearly linear at small inputs
        ("resnet18", Switches(conv_activation="linear", pool="avg", downsample="max"), 1.0),
        ("resnet20", Switches(pool="avg"), 1.0),
    ],
)
def test_the_affine_check_finds_what_non_linearity_is_left(arch, switches, scale):
    keras.utils.set_random_seed(0)
    model = build_model(switches, arch)
    assert _affine_defect(model, np.random.default_rng(1), scale) > 1e-2


def test_pad_crop_pads_with_the_standardized_mean_crops_and_flips():
    images = np.random.default_rng(0).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    standardized = tf.image.per_image_standardization(images.astype(np.float32)).numpy()
    offsets = tf.constant([[0, 0], [8, 8], [4, 4], [0, 8], [4, 4], [2, 5]])
    flips = tf.constant([False, False, False, False, True, False])
    out = pipeline.pad_crop(images, {"offsets": offsets, "flips": flips}).numpy()
    assert out.shape == (6, 32, 32, 3)
    np.testing.assert_allclose(out[2], standardized[2], atol=1e-6)  # centred: the image itself
    np.testing.assert_allclose(out[4], standardized[4][:, ::-1], atol=1e-6)
    np.testing.assert_allclose(out[0][4:, 4:], standardized[0][:-4, :-4], atol=1e-6)
    assert not out[0][:4].any() and not out[1][-4:].any()  # zero padding: the mean
    padded = np.pad(standardized[5], [(4, 4), (4, 4), (0, 0)])
    np.testing.assert_allclose(out[5], padded[2:34, 5:37], atol=1e-6)
    draws = pipeline.random_pad_crops(1000, tf.constant([1, 2], tf.int64))
    offsets = draws["offsets"].numpy()
    assert offsets.min() == 0 and offsets.max() == 2 * pipeline.PAD
    assert 0.45 < draws["flips"].numpy().mean() < 0.55


def test_pad_crop_batches_and_evaluation_use_the_whole_image():
    images = np.random.default_rng(0).integers(0, 256, (40, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(40, dtype=np.int32) % 10
    batch, _ = next(iter(pipeline.train_dataset(images, labels, 8, 0, augmentation="pad_crop")))
    assert batch.shape == (8, 32, 32, 3)
    (test, _), *_ = pipeline.eval_dataset(images, labels, 16, "pad_crop")
    expected = tf.image.per_image_standardization(images[:16].astype(np.float32))
    np.testing.assert_allclose(test.numpy(), expected.numpy(), atol=1e-6)
    assert config_lib.RunConfig.flat(augmentation="pad_crop", dataset="mnist").image_size == 28


def test_the_stage_count_is_the_built_nets():
    for arch, stages in switches_lib.STAGES.items():
        model = build_model(Switches(pool="avg"), arch)
        names = {
            layer.name.split("_")[0] for layer in model.layers if layer.name.startswith("stage")
        }
        assert names == {f"stage{s}" for s in range(1, stages + 1)}
