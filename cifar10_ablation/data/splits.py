"""The one container every reader returns: a dataset's splits, decoded, in memory.

    splits = cifar10.load(data_dir)            # or mnist.load(data_dir)
    splits = splits.with_validation(5000)      # 5,000 training images held out

Images are uint8 [N, H, W, C], labels int32 [N]. The validation hold-out is fixed and
class-balanced: the same images for every seed and config (VALIDATION_SEED, not --seed), so
validation accuracies compare across runs, and disjoint from the images trained on.
"""

import dataclasses

import numpy as np

# Seeds the validation hold-out, apart from --seed: every run of every config holds out the same
# images.
VALIDATION_SEED = 2015


class DataError(ValueError):
    """The data directory does not hold usable data; the message says what to provide."""


@dataclasses.dataclass(frozen=True)
class Splits:
    """A dataset's train, test and (held out of train) validation images and labels."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str  # where they were read, e.g. "binary:<folder>"
    class_names: tuple
    flips: bool = True  # pipeline.train_dataset's left-right flips (not for digits)
    colors: bool = True  # its brightness and contrast distortions (not on one channel)
    validation_images: np.ndarray | None = None  # None: nothing held out
    validation_labels: np.ndarray | None = None
    checksum: str | None = None  # sha256 of the files read (cifar10.py), for results.json

    @property
    def train(self):
        return self.train_images, self.train_labels

    @property
    def validation(self):
        return self.validation_images, self.validation_labels

    @property
    def distortions(self):
        """(flips, colors): the distortions this dataset's training images take."""
        return self.flips, self.colors

    def with_validation(self, num_examples):
        """These splits with `num_examples` training images moved to validation (0: as is)."""
        if num_examples == 0:
            return self
        held_out = validation_indices(self.train_labels, num_examples, len(self.class_names))
        kept = np.ones(len(self.train_labels), bool)
        kept[held_out] = False
        return dataclasses.replace(
            self,
            train_images=self.train_images[kept],
            train_labels=self.train_labels[kept],
            validation_images=self.train_images[held_out],
            validation_labels=self.train_labels[held_out],
        )


def validation_indices(labels, num_examples, classes):
    """Sorted indices of a fixed, class-balanced hold-out of `num_examples` of `labels`.

    Each of the `classes` classes gives num_examples // classes images (the first
    num_examples % classes one more), drawn by a generator seeded with (VALIDATION_SEED, class):
    the same labels give the same indices in every run. DataError when a class has too few.
    """
    labels = np.asarray(labels)
    if not 0 < num_examples < len(labels):
        raise DataError(
            f"validation_examples={num_examples} must be between 1 and the {len(labels)} "
            "training images less one"
        )
    chosen = []
    for label in range(classes):
        wanted = num_examples // classes + (label < num_examples % classes)
        members = np.flatnonzero(labels == label)
        if len(members) < wanted:
            raise DataError(
                f"validation_examples={num_examples} needs {wanted} images of class {label}; "
                f"the training images hold {len(members)}"
            )
        rng = np.random.default_rng([VALIDATION_SEED, label])
        chosen.append(rng.choice(members, wanted, replace=False))
    return np.sort(np.concatenate(chosen))
