"""Models: every --arch by name, built from the same switches (the one model factory).

    build_model(Switches(pool="avg"), arch="tutorial", channels=3)  ->  keras.Model

- layers: the one place a switch becomes a Keras layer (activations, pools, LRN, maxout...)
- tutorial, vgg, resnet, linear: the tutorial net and the other architectures (resnet: ResNet-20,
  ResNet-56 and the CIFAR ResNet-18)

Every net maps [batch, size, size, channels] standardized images (the tutorial's 24x24 crops, or
whole 32x32 images with --augmentation=pad_crop) to 10 logits (`softmax_linear`), with Keras
layers and keras.ops only, so they run on any Keras backend.
"""

import math

import keras

from cifar10_ablation import switches as switches_lib
from cifar10_ablation.models import layers, linear, resnet, tutorial, vgg

BUILDERS = {
    "tutorial": tutorial.build,
    "vgg": vgg.build,
    **{name: resnet.builder(name) for name in resnet.VARIANTS},
    "linear": linear.build,
}
assert tuple(BUILDERS) == switches_lib.ARCHS, "switches.ARCHS names every builder"


def build_model(switches=None, arch="tutorial", channels=3, image_size=layers.IMAGE_SIZE):
    """The `arch` net with `switches` (default: all ReLUs, max pooling, LRN); the defaults give
    the tutorial net exactly (1,068,298 trainable parameters). `channels` and `image_size`: the
    input's (3: CIFAR-10, 1: MNIST; 24: the tutorial's crops, 32: whole CIFAR-10 images).
    ValueError naming the switch before anything is built when the arch lacks one of the
    switches set (switches.Switches.check)."""
    switches = (switches or switches_lib.Switches()).check(arch)
    return BUILDERS[arch](switches, channels, image_size)


def activation_units(model):
    """Elements per image that pass through a non-identity activation: the `<layer>_act` layers'
    outputs (the tutorial net with all ReLUs: 24x24x64 + 12x12x64 + 384 + 192 = 46,656)."""
    return sum(
        math.prod(layer.output.shape[1:])
        for layer in model.layers
        if layer.name.endswith(layers.ACTIVATION_SUFFIX)
        and not isinstance(layer, keras.layers.Identity)
    )


def max_pool_windows(model):
    """Max-pooling windows per image (each output of a max pool, global ones included): the other
    non-linearity a net without activations keeps."""
    pools = (keras.layers.MaxPooling2D, keras.layers.GlobalMaxPooling2D)
    return sum(
        math.prod(layer.output.shape[1:]) for layer in model.layers if isinstance(layer, pools)
    )
