"""Every --arch by name, built from the same switches: how the trainer, eval and bench get a model.

    build_model(..., arch="tutorial", channels=3)  ->  keras.Model: 24x24 crops -> 10 logits

The switches are checked against switches.py's tables (switches.validate) before any layer is
built; then "tutorial" is model.py's net and every other arch one of nets.py's. Its own module so
that the imports run one way: nets.py builds on model.py's layers, and this module on both.
"""

from cifar10_ablation import model, nets, switches


def build_model(
    conv_activation="relu",
    fc_activation="relu",
    pool="max",
    lrn=True,
    maxout_pieces=switches.DEFAULT_MAXOUT_PIECES,
    arch="tutorial",
    channels=3,
):
    """The model of these switches; defaults give the tutorial net exactly (1,068,298 trainable
    parameters).

    Args:
      conv_activation: activation after the convolutions, a name from `switches.ACTIVATIONS`.
      fc_activation: activation after the hidden fully connected layers, likewise.
      pool: "max" or "avg" for the pooling layers.
      lrn: keep the tutorial net's norm1 and norm2 (True) or drop them (False).
      maxout_pieces: linear pieces per unit when an activation is "maxout".
      arch: a name from switches.ARCHS; switches it lacks must keep their defaults.
      channels: image channels of the input (3: CIFAR-10, 1: MNIST).

    Returns:
      A functional keras.Model mapping [batch, 24, 24, channels] float32 to [batch, 10] logits.
    Raises ValueError naming the switch and the allowed values before building anything.
    """
    switches.validate(arch, conv_activation, fc_activation, pool, lrn, maxout_pieces)
    if arch == "tutorial":
        return model.build_tutorial(
            conv_activation, fc_activation, pool, lrn, maxout_pieces, channels
        )
    return nets.build(arch, channels, conv_activation, fc_activation, pool, maxout_pieces)
