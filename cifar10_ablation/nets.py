"""The architectures behind --arch besides the tutorial net (model.py), with the same switches.

    build(arch, channels, conv_activation, fc_activation, pool, maxout_pieces) -> keras.Model

Every net maps [batch, 24, 24, channels] standardized crops to 10 logits (`softmax_linear`):

    vgg       conv1_1 conv1_2 pool1 | conv2_1 conv2_2 pool2 | conv3_1 conv3_2 pool3 | flatten
              fc1 fc2 softmax_linear. 3x3 convs without bias -> batch norm (`<conv>_bn`) ->
              activation (`<conv>_act`); 2x2/2 pools; 256-unit FC layers (`fc1_act`, `fc2_act`).
    resnet20  He et al. 2016 (arXiv:1512.03385, sec. 4.2, n=3): conv1, then 3 stages of 3 basic
              blocks (16, 32, 64 filters; 3x3 conv -> bn -> act -> 3x3 conv -> bn, + shortcut ->
              act), identity shortcuts with zero channels added where the width doubles ("option
              A": no parameters), global pool, softmax_linear. 269,722 trainable parameters.
    linear    softmax regression on the standardized crop: flatten -> softmax_linear.

Switches, as for the tutorial net: `conv_activation` is every activation after a conv (vgg: all
six; resnet20: conv1 and both of every block, the post-addition ones included), `fc_activation`
vgg's fc1/fc2, `pool` every stage's 2x2 pool (vgg) or the global pool (resnet20). A switch an
architecture lacks (`switches.LACKS`) must stay at its default, which then means nothing; any
other value is refused (switches.validate), so a run never claims an ablation it did not do.
Layers are Keras layers and keras.ops only, so the nets run on any Keras backend. Convs and
hidden FC layers are He-initialized (He et al. 2015, as ResNet); vgg's and resnet20's kernels
carry L2 weight decay, which the trainer adds to the loss.
"""

import keras

from cifar10_ablation import model

VGG_STAGES = ((32, 2), (64, 2), (128, 2))  # (filters, 3x3 convs) per stage, each then pooled
VGG_FC_UNITS = 256
# SGD weight decay 5e-4 (the usual for VGG on CIFAR), as keras L2's sum(w^2): 5e-4 / 2.
VGG_WEIGHT_DECAY = 5e-4 / 2
RESNET_STAGES = (16, 32, 64)
RESNET_BLOCKS = 3  # per stage: 6 * 3 + 2 = 20 layers with weights
# SGD weight decay 5e-4 rather than He et al.'s 1e-4: our schedules are ~40 epochs, not 164.
RESNET_WEIGHT_DECAY = 5e-4 / 2
BATCH_NORM_MOMENTUM = 0.9  # PyTorch's 0.1: moving statistics that follow a short schedule


def build(arch, channels, conv_activation, fc_activation, pool, maxout_pieces):
    """The named architecture (not the tutorial net: model.build_tutorial builds that); switches
    checked by archs.build_model."""
    builders = {"vgg": _vgg, "resnet20": _resnet20, "linear": _linear}
    if arch not in builders:
        raise ValueError(f"arch={arch!r} is not built here; allowed: {', '.join(builders)}")
    inputs = keras.Input((model.IMAGE_SIZE, model.IMAGE_SIZE, channels), name="images")
    settings = {
        "conv_activation": conv_activation,
        "fc_activation": fc_activation,
        "pool": pool,
        "maxout_pieces": maxout_pieces,
    }
    return keras.Model(inputs, builders[arch](inputs, **settings), name=arch)


@keras.saving.register_keras_serializable(package="cifar10_ablation")
class PadShortcut(keras.layers.Layer):
    """He et al.'s option-A shortcut: every other row and column, zero channels up to `width`.

    Rows/columns 1, 3, ... are the centres of a stride-2 SAME conv's windows (Keras pads after
    the end of an even-sized input), so the shortcut lines up with the block's conv path.
    """

    def __init__(self, width, **kwargs):
        super().__init__(**kwargs)
        self.width = width

    def call(self, inputs):
        subsampled = inputs[:, 1::2, 1::2, :]
        extra = self.width - inputs.shape[-1]
        return keras.ops.pad(subsampled, [[0, 0], [0, 0], [0, 0], [0, extra]])

    def get_config(self):
        return {**super().get_config(), "width": self.width}


def _conv_bn_act(x, name, filters, activation, maxout_pieces, weight_decay, strides=1):
    """3x3 SAME conv (no bias: batch norm's beta is the bias) -> `name`_bn -> `name`_act."""
    width = filters * (maxout_pieces if activation == "maxout" else 1)
    x = _conv_bn(x, name, width, strides, weight_decay)
    return model._activation_layer(activation, maxout_pieces, f"{name}_act")(x)


def _conv_bn(x, name, filters, strides, weight_decay):
    x = keras.layers.Conv2D(
        filters,
        3,
        strides=strides,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer=keras.regularizers.L2(weight_decay),
        name=name,
    )(x)
    return keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"{name}_bn")(x)


def _classifier(x, weight_decay):
    return keras.layers.Dense(
        model.NUM_CLASSES,
        dtype="float32",  # logits and loss in float32 under a mixed-precision policy
        kernel_regularizer=keras.regularizers.L2(weight_decay) if weight_decay else None,
        name="softmax_linear",
    )(x)


def _vgg(x, conv_activation, fc_activation, pool, maxout_pieces):
    pool_class = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}[pool]
    for stage, (filters, convs) in enumerate(VGG_STAGES, start=1):
        for conv in range(1, convs + 1):
            x = _conv_bn_act(
                x,
                f"conv{stage}_{conv}",
                filters,
                conv_activation,
                maxout_pieces,
                VGG_WEIGHT_DECAY,
            )
        x = pool_class(pool_size=2, strides=2, name=f"pool{stage}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    for index in (1, 2):
        x = keras.layers.Dense(
            VGG_FC_UNITS * (maxout_pieces if fc_activation == "maxout" else 1),
            kernel_initializer="he_normal",
            kernel_regularizer=keras.regularizers.L2(VGG_WEIGHT_DECAY),
            name=f"fc{index}",
        )(x)
        x = model._activation_layer(fc_activation, maxout_pieces, f"fc{index}_act")(x)
    return _classifier(x, VGG_WEIGHT_DECAY)


def _resnet20(x, conv_activation, fc_activation, pool, maxout_pieces):
    def activation(name):
        return model._activation_layer(conv_activation, maxout_pieces, name)

    x = _conv_bn_act(
        x, "conv1", RESNET_STAGES[0], conv_activation, maxout_pieces, RESNET_WEIGHT_DECAY
    )
    for stage, filters in enumerate(RESNET_STAGES, start=1):
        for block in range(1, RESNET_BLOCKS + 1):
            name = f"stage{stage}_block{block}"
            strides = 2 if stage > 1 and block == 1 else 1
            shortcut = x
            x = _conv_bn_act(
                x,
                f"{name}_conv1",
                filters,
                conv_activation,
                maxout_pieces,
                RESNET_WEIGHT_DECAY,
                strides,
            )
            x = _conv_bn(x, f"{name}_conv2", filters, 1, RESNET_WEIGHT_DECAY)
            if strides > 1:
                shortcut = PadShortcut(filters, name=f"{name}_shortcut")(shortcut)
            x = keras.layers.Add(name=f"{name}_add")([x, shortcut])
            x = activation(f"{name}_act")(x)
    global_pool = {
        "avg": keras.layers.GlobalAveragePooling2D,
        "max": keras.layers.GlobalMaxPooling2D,
    }[pool]
    return _classifier(global_pool(name="global_pool")(x), RESNET_WEIGHT_DECAY)


def _linear(x, conv_activation, fc_activation, pool, maxout_pieces):
    """No weight decay: 17,290 weights against 50,000 distorted images do not overfit."""
    return _classifier(keras.layers.Flatten(name="flatten")(x), None)
