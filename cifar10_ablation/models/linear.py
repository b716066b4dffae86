"""Softmax regression on the standardized crop: where a net without non-linearities ends up.

    flatten -> softmax_linear

No weight decay: 17,290 weights against 50,000 distorted images do not overfit.
"""

import keras

from cifar10_ablation.models import layers


def build(switches, channels=3, image_size=layers.IMAGE_SIZE):
    """The linear classifier: [batch, image_size, image_size, channels] -> [batch, 10] logits
    (it has no switches: `switches` is checked to be the defaults by models.build_model)."""
    inputs = keras.Input((image_size, image_size, channels), name="images")
    x = keras.layers.Flatten(name="flatten")(inputs)
    return keras.Model(inputs, layers.classifier(x), name="linear")
