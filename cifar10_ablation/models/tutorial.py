"""The TensorFlow CIFAR-10 tutorial net as a Keras 3 model, with its non-linearities as switches.

    build(Switches(), channels=3)  ->  keras.Model: 24x24x3 standardized images -> 10 logits

Layers, initialisers and weight decay are the tutorial's (`cifar10.py` `inference()`):

    conv1 -> conv1_act -> pool1 -> norm1 -> conv2 -> conv2_act -> norm2 -> pool2 -> flatten
          -> local3 -> local3_act -> local4 -> local4_act -> softmax_linear

`convN`/`localN` are the linear layers; their activation is a separate `*_act` layer so the
pre-activation stays observable. The defaults give the tutorial net exactly (1,068,298
trainable parameters).
"""

import keras

from cifar10_ablation.models import layers

CONV_FILTERS = 64
LOCAL3_UNITS = 384
LOCAL4_UNITS = 192
# TF's 0.004 * l2_loss(w) = 0.004 * sum(w^2) / 2 = keras L2(0.002).
FC_WEIGHT_DECAY = 0.004 / 2
# Convolutions built as SplitBiasGradConv2D: both, the fastest training step with oneDNN on AVX2
# and AVX-512 (bench/conv_grad.py; docs/bench/families/conv_grad_*.log).
SPLIT_BIAS_GRAD_CONVS = ("conv1", "conv2")


def build(switches, channels=3, image_size=layers.IMAGE_SIZE):
    """The tutorial net with `switches` (a maxout activation gets its layer `maxout_pieces` times
    the units, so the widths after the activation stay the tutorial's); `channels`: the input's
    (3: CIFAR-10, 1: MNIST). Maps [batch, image_size, image_size, channels] float32 to
    [batch, 10] logits."""
    pieces = switches.maxout_pieces

    def conv(name, bias, x):
        split = name in SPLIT_BIAS_GRAD_CONVS
        conv_class = layers.SplitBiasGradConv2D if split else keras.layers.Conv2D
        x = conv_class(
            switches.units("conv", CONV_FILTERS),
            5,
            padding="same",
            name=name,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.05),
            bias_initializer=keras.initializers.Constant(bias),
        )(x)
        return layers.activation_layer(switches.conv_activation, pieces, f"{name}_act")(x)

    def local(name, width, x):
        x = keras.layers.Dense(
            switches.units("fc", width),
            name=name,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.04),
            bias_initializer=keras.initializers.Constant(0.1),
            kernel_regularizer=keras.regularizers.L2(FC_WEIGHT_DECAY),
        )(x)
        return layers.activation_layer(switches.fc_activation, pieces, f"{name}_act")(x)

    def norm(name, x):
        return layers.LocalResponseNormalization(name=name)(x) if switches.lrn else x

    inputs = keras.Input((image_size, image_size, channels), name="images")
    x = conv("conv1", 0.0, inputs)
    x = layers.pool_layer(switches.pool, "pool1")(x)
    x = norm("norm1", x)
    x = conv("conv2", 0.1, x)
    x = norm("norm2", x)
    x = layers.pool_layer(switches.pool, "pool2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = local("local3", LOCAL3_UNITS, x)
    x = local("local4", LOCAL4_UNITS, x)
    initializer = keras.initializers.TruncatedNormal(stddev=1 / LOCAL4_UNITS)
    logits = layers.classifier(x, kernel_initializer=initializer)
    return keras.Model(inputs, logits, name="cifar10_tutorial")
