"""ResNets for CIFAR: He et al.'s ResNet-20 and ResNet-56, and the ResNet-18 of the ReLU-budget
literature, with the same switches.

    resnet20, resnet56  He et al. 2016 (arXiv:1512.03385, sec. 4.2): conv1 (16 filters), then 3
                        stages of n basic blocks (16, 32, 64 filters; n = 3, 9), option-A
                        shortcuts (every other row and column, zero channels added where the width
                        doubles: no parameters), global pool, softmax_linear. 269,722 and 853,018
                        trainable parameters.
    resnet18            the CIFAR ResNet-18 (kuangliu/pytorch-cifar, as DeepReDuce, SNL and SENet
                        use it): a 3x3 stem of 64 filters, 4 stages of 2 basic blocks (64, 128,
                        256, 512), option-B shortcuts (1x1 conv + batch norm) where the shape
                        changes, global pool, softmax_linear. 11,173,962 trainable parameters.

A basic block is 3x3 conv -> bn -> act -> 3x3 conv -> bn, + shortcut -> act. Switches: the conv
activation is every activation (the post-addition ones included), per stage with
`stage_activations` (the stem takes the first stage's); `pool` the global pool; `downsample`
how each later stage halves the resolution: `stride` (the published nets: its first conv and
the shortcut at stride 2), `max` or `avg` (a 3x3/2 SAME pooling window at the stage's start, the
tutorial net's pool, which both the convs, at stride 1, and the shortcut take). He-initialized,
with L2 weight decay on every kernel.
"""

import keras

from cifar10_ablation.models import layers

# name -> (filters per stage, blocks per stage, stem filters, shortcut kind)
VARIANTS = {
    "resnet20": ((16, 32, 64), 3, 16, "pad"),
    "resnet56": ((16, 32, 64), 9, 16, "pad"),
    "resnet18": ((64, 128, 256, 512), 2, 64, "conv"),
}
# SGD weight decay 5e-4 (kuangliu's for ResNet-18; for ResNet-20/56 rather than He et al.'s 1e-4:
# our schedules are a fraction of their 164 epochs).
WEIGHT_DECAY = 5e-4 / 2
GLOBAL_POOLS = {"avg": keras.layers.GlobalAveragePooling2D, "max": keras.layers.GlobalMaxPooling2D}


@keras.saving.register_keras_serializable(package="cifar10_ablation")
class PadShortcut(keras.layers.Layer):
    """He et al.'s option-A shortcut: zero channels up to `width`, and with `subsample` every other
    row and column.

    Rows/columns 1, 3, ... are the centres of a stride-2 SAME conv's windows (Keras pads after
    the end of an even-sized input), so the shortcut lines up with the block's conv path.
    """

    def __init__(self, width, subsample=True, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.subsample = subsample

    def call(self, inputs):
        x = inputs[:, 1::2, 1::2, :] if self.subsample else inputs
        extra = self.width - inputs.shape[-1]
        return keras.ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]])

    def get_config(self):
        return {**super().get_config(), "width": self.width, "subsample": self.subsample}


def builder(name):
    """build(switches, channels, image_size) of the ResNet `name` (a key of VARIANTS)."""

    def build(switches, channels=3, image_size=layers.IMAGE_SIZE):
        return _resnet(name, switches, channels, image_size)

    return build


def _resnet(name, switches, channels, image_size):
    stage_filters, blocks, stem, shortcut_kind = VARIANTS[name]
    pieces = switches.maxout_pieces
    inputs = keras.Input((image_size, image_size, channels), name="images")
    x = layers.conv_bn_act(
        inputs, "conv1", stem, switches, WEIGHT_DECAY, activation=switches.stage_activation(1)
    )
    for stage, filters in enumerate(stage_filters, start=1):
        activation = switches.stage_activation(stage)
        pooled = stage > 1 and switches.downsample != "stride"
        if pooled:
            x = layers.pool_layer(switches.downsample, f"stage{stage}_pool")(x)
        for block in range(1, blocks + 1):
            block_name = f"stage{stage}_block{block}"
            strides = 2 if stage > 1 and block == 1 and not pooled else 1
            shortcut = _shortcut(x, block_name, filters, strides, shortcut_kind)
            x = layers.conv_bn_act(
                x, f"{block_name}_conv1", filters, switches, WEIGHT_DECAY, strides, activation
            )
            x = layers.conv_bn(x, f"{block_name}_conv2", filters, 1, WEIGHT_DECAY)
            x = keras.layers.Add(name=f"{block_name}_add")([x, shortcut])
            x = layers.activation_layer(activation, pieces, f"{block_name}_act")(x)
    x = GLOBAL_POOLS[switches.pool](name="global_pool")(x)
    return keras.Model(inputs, layers.classifier(x, WEIGHT_DECAY), name=name)


def _shortcut(x, name, filters, strides, kind):
    """The block's identity, or where its shape changes the option-A or option-B projection."""
    if strides == 1 and x.shape[-1] == filters:
        return x
    if kind == "pad":
        return PadShortcut(filters, subsample=strides > 1, name=f"{name}_shortcut")(x)
    return layers.conv_bn(x, f"{name}_shortcut", filters, strides, WEIGHT_DECAY, kernel_size=1)
