"""He et al.'s CIFAR ResNets (arXiv:1512.03385, sec. 4.2) on the tutorial's input.

    resnet20: conv1, then 3 stages of 3 basic blocks (16, 32, 64 filters; 3x3 conv -> bn -> act
    -> 3x3 conv -> bn, + shortcut -> act), identity shortcuts with zero channels added where the
    width doubles ("option A": no parameters), global pool, softmax_linear. 269,722 trainable
    parameters.

The conv switch is every activation after a conv, the post-addition ones included; the pool
switch the global pool. He-initialized, with L2 weight decay on every kernel.
"""

import keras

from cifar10_ablation.models import layers

STAGES = (16, 32, 64)
BLOCKS = 3  # per stage: 6 * 3 + 2 = 20 layers with weights
# SGD weight decay 5e-4 rather than He et al.'s 1e-4: our schedules are ~40 epochs, not 164.
WEIGHT_DECAY = 5e-4 / 2
GLOBAL_POOLS = {"avg": keras.layers.GlobalAveragePooling2D, "max": keras.layers.GlobalMaxPooling2D}


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


def build_resnet20(switches, channels=3):
    """ResNet-20: [batch, 24, 24, channels] -> [batch, 10] logits."""
    inputs = keras.Input((layers.IMAGE_SIZE, layers.IMAGE_SIZE, channels), name="images")
    x = layers.conv_bn_act(inputs, "conv1", STAGES[0], switches, WEIGHT_DECAY)
    for stage, filters in enumerate(STAGES, start=1):
        for block in range(1, BLOCKS + 1):
            name = f"stage{stage}_block{block}"
            strides = 2 if stage > 1 and block == 1 else 1
            shortcut = x
            x = layers.conv_bn_act(x, f"{name}_conv1", filters, switches, WEIGHT_DECAY, strides)
            x = layers.conv_bn(x, f"{name}_conv2", filters, 1, WEIGHT_DECAY)
            if strides > 1:
                shortcut = PadShortcut(filters, name=f"{name}_shortcut")(shortcut)
            x = keras.layers.Add(name=f"{name}_add")([x, shortcut])
            activation = switches.conv_activation
            x = layers.activation_layer(activation, switches.maxout_pieces, f"{name}_act")(x)
    x = GLOBAL_POOLS[switches.pool](name="global_pool")(x)
    return keras.Model(inputs, layers.classifier(x, WEIGHT_DECAY), name="resnet20")
