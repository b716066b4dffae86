"""A VGG-style net on the tutorial's input, with the same switches.

    conv1_1 conv1_2 pool1 | conv2_1 conv2_2 pool2 | conv3_1 conv3_2 pool3 | flatten fc1 fc2
    softmax_linear

3x3 convs without bias -> batch norm (`<conv>_bn`) -> activation (`<conv>_act`, the conv
switch); 2x2/2 pools (the pool switch); 256-unit FC layers (`fc1_act`, `fc2_act`, the FC
switch). He-initialized, with L2 weight decay on every kernel. No LRN.
"""

import keras

from cifar10_ablation.models import layers

STAGES = ((32, 2), (64, 2), (128, 2))  # (filters, 3x3 convs) per stage, each then pooled
FC_UNITS = 256
# SGD weight decay 5e-4 (the usual for VGG on CIFAR), as keras L2's sum(w^2): 5e-4 / 2.
WEIGHT_DECAY = 5e-4 / 2


def build(switches, channels=3, image_size=layers.IMAGE_SIZE):
    """The VGG-style net: [batch, image_size, image_size, channels] -> [batch, 10] logits."""
    inputs = keras.Input((image_size, image_size, channels), name="images")
    x = inputs
    for stage, (filters, convs) in enumerate(STAGES, start=1):
        for conv in range(1, convs + 1):
            x = layers.conv_bn_act(x, f"conv{stage}_{conv}", filters, switches, WEIGHT_DECAY)
        x = layers.pool_layer(switches.pool, f"pool{stage}", size=2, stride=2)(x)
    x = keras.layers.Flatten(name="flatten")(x)
    for index in (1, 2):
        x = keras.layers.Dense(
            switches.units("fc", FC_UNITS),
            kernel_initializer="he_normal",
            kernel_regularizer=keras.regularizers.L2(WEIGHT_DECAY),
            name=f"fc{index}",
        )(x)
        activation = switches.fc_activation
        x = layers.activation_layer(activation, switches.maxout_pieces, f"fc{index}_act")(x)
    return keras.Model(inputs, layers.classifier(x, WEIGHT_DECAY), name="vgg")
