"""Models: every --arch by name, built from the same switches (the one model factory).

    build_model(Switches(pool="avg"), arch="tutorial", channels=3)  ->  keras.Model

- layers: the one place a switch becomes a Keras layer (activations, pools, LRN, maxout...)
- tutorial, vgg, resnet, linear: the tutorial net and the other architectures

Every net maps [batch, 24, 24, channels] standardized crops to 10 logits (`softmax_linear`),
with Keras layers and keras.ops only, so they run on any Keras backend.
"""

from cifar10_ablation import switches as switches_lib
from cifar10_ablation.models import linear, resnet, tutorial, vgg

BUILDERS = {
    "tutorial": tutorial.build,
    "vgg": vgg.build,
    "resnet20": resnet.build_resnet20,
    "linear": linear.build,
}
assert tuple(BUILDERS) == switches_lib.ARCHS, "switches.ARCHS names every builder"


def build_model(switches=None, arch="tutorial", channels=3):
    """The `arch` net with `switches` (default: all ReLUs, max pooling, LRN); the defaults give
    the tutorial net exactly (1,068,298 trainable parameters). `channels`: the input's (3:
    CIFAR-10, 1: MNIST). ValueError naming the switch before anything is built when the arch
    lacks one of the switches set (switches.Switches.check)."""
    switches = (switches or switches_lib.Switches()).check(arch)
    return BUILDERS[arch](switches, channels)
