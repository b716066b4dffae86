"""The committed experiments beyond the tutorial net's presets, named once for every doc module.

Each is a CSV in docs/ as tools/docs/collect.py brings it in (rows as report.py writes them),
the flagfile its runs were made with, the published.csv row of the nearest published figure
(the same net where one exists, else the kind of net it stands for) and the net's input, so
that beyond.py (sections and answers), budget.py (accuracy against non-linear units) and
projection.py (the grid on a GPU) read one list.
"""

from typing import NamedTuple

from cifar10_ablation.config import CROP_SIZE, DATASETS

WHOLE = DATASETS["cifar10"]["image_size"]  # --augmentation=pad_crop's input


class Experiment(NamedTuple):
    script: str  # docs/logs/<script>/run.sh made its runs, under $RUNS/<script>/<key>
    csv: str  # in docs/
    title: str  # as in a sentence
    net: str  # in a table or a legend
    flagfile: str
    published: str  # key of its published.csv row
    arch: str  # whose switches the text names
    dataset: str
    image_size: int  # the net's input: the tutorial's crops or the whole image
    # how the published net differs from this one, beyond schedule and input ("": the same net)
    other_net: str = ""


# The tutorial net at the fast preset: the baseline the other nets face (not a section here).
REFERENCE = Experiment(
    "fast",
    "results_fast.csv",
    "the tutorial net on CIFAR-10 (fast preset)",
    "tutorial net (fast preset)",
    "flags/fast.flags",
    "",
    "tutorial",
    "cifar10",
    CROP_SIZE,
)
# docs/logs/beyond/run.sh's short schedules (beyond_<name>.csv), then docs/logs/depth/run.sh's
# bigger nets on their published input (depth_<name>.csv); the key is the sweep folder's name.
EXPERIMENTS = {
    "mnist": Experiment(
        "beyond",
        "beyond_mnist.csv",
        "the tutorial net on MNIST",
        "tutorial net on MNIST",
        "flags/mnist.flags",
        "goodfellow2013_maxout_mnist_conv",
        "tutorial",
        "mnist",
        CROP_SIZE,
        "the net (a maxout net with dropout there)",
    ),
    "vgg": Experiment(
        "beyond",
        "beyond_vgg.csv",
        "a VGG-style net on CIFAR-10",
        "VGG-style net",
        "flags/vgg.flags",
        "kuangliu_vgg16bn_c10",
        "vgg",
        "cifar10",
        CROP_SIZE,
        "the net (VGG16 there: 13 conv layers against 6 here)",
    ),
    "resnet20": Experiment(
        "beyond",
        "beyond_resnet20.csv",
        "ResNet-20 on CIFAR-10 (24x24 crops)",
        "ResNet-20 (24x24 crops)",
        "flags/resnet20.flags",
        "he2016_resnet20_c10",
        "resnet20",
        "cifar10",
        CROP_SIZE,
    ),
    "linear": Experiment(
        "beyond",
        "beyond_linear.csv",
        "a linear classifier (softmax regression) on CIFAR-10",
        "linear classifier",
        "flags/linear.flags",
        "coates2011_rawpixels_c10",
        "linear",
        "cifar10",
        CROP_SIZE,
        "the classifier (the source does not state its type)",
    ),
    "resnet18": Experiment(
        "depth",
        "depth_resnet18.csv",
        "ResNet-18 on CIFAR-10",
        "ResNet-18",
        "flags/resnet18.flags",
        "kuangliu_resnet18_c10",
        "resnet18",
        "cifar10",
        WHOLE,
    ),
    "resnet20_pad_crop": Experiment(
        "depth",
        "depth_resnet20_pad_crop.csv",
        "ResNet-20 on CIFAR-10 (whole images)",
        "ResNet-20",
        "flags/resnet20_pad_crop.flags",
        "he2016_resnet20_c10",
        "resnet20",
        "cifar10",
        WHOLE,
    ),
    "resnet56": Experiment(
        "depth",
        "depth_resnet56.csv",
        "ResNet-56 on CIFAR-10",
        "ResNet-56",
        "flags/resnet56.flags",
        "he2016_resnet56_c10",
        "resnet56",
        "cifar10",
        WHOLE,
    ),
}
# The bigger nets (docs/logs/depth/run.sh), whose costs are read per amount of non-linearity.
DEPTH = ("resnet18", "resnet20_pad_crop", "resnet56")


def bigger():
    return [EXPERIMENTS[name] for name in DEPTH]


def with_activations():
    """The CIFAR-10 experiments whose nets have activations to remove, the reference first:
    MNIST is another dataset and the linear classifier has none."""
    return [REFERENCE] + [
        e for e in EXPERIMENTS.values() if e.dataset == "cifar10" and e.arch != "linear"
    ]
