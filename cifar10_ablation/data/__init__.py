"""Data in: the images and labels of --dataset, decoded into memory, and the input pipeline.

    data.check("mnist", "../shared/mnist")               # cheap: DataError if it is not there
    splits = data.load("cifar10", "../shared/cifar10")   # a Splits of uint8 arrays
    splits = data.load("cifar10", "../shared/cifar10", 5000)  # a fixed hold-out of train

- splits: the one container every reader returns (train, test and the validation hold-out)
- cifar10, mnist, tfds: the readers (the tutorial's binary format, LeCun's IDX files,
  tensorflow-datasets)
- pipeline: the tutorial's distorted training batches and the evaluation batches (TensorFlow)
"""

from cifar10_ablation.data import cifar10, mnist
from cifar10_ablation.data.splits import DataError

READERS = {"cifar10": cifar10.load, "mnist": mnist.load}
_MODULES = {"cifar10": cifar10, "mnist": mnist}


def load(name, data_dir, validation_examples=0):
    """The dataset `name` ("cifar10" or "mnist") from `data_dir`, all into memory (Splits),
    with `validation_examples` of its training images held out (Splits.with_validation)."""
    if name not in READERS:
        raise DataError(f"dataset={name!r} is not known; allowed: {', '.join(READERS)}")
    return READERS[name](data_dir).with_validation(validation_examples)


def check(name, data_dir):
    """The source `load(name, data_dir)` would read: "tfds" (tensorflow-datasets, which needs
    TensorFlow) or the dataset's own files ("binary", "idx"). DataError, with load's line, when
    it would find no data, judged from file names alone (in milliseconds, no TensorFlow):
    data_dir missing, some of the dataset's files missing, or none of them and no
    tensorflow-datasets `name` prepared there nor downloadable. A sweep checks every grid
    point's data so before its first run."""
    if name not in READERS:
        raise DataError(f"dataset={name!r} is not known; allowed: {', '.join(READERS)}")
    module = _MODULES[name]
    source = module.check(data_dir)
    if source == "tfds" and (why := module.tfds_missing(data_dir)):
        raise DataError(why)
    return source
