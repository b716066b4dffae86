"""The validation split: a fixed, class-balanced hold-out evaluated during training, the test set
only at the end."""

import dataclasses
import json

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator

from cifar10_ablation import config as config_lib
from cifar10_ablation.data import cifar10, splits
from cifar10_ablation.data.splits import DataError, Splits
from cifar10_ablation.training import run as run_lib


def _dataset(num_train=300, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (num_train, 32, 32, 3), dtype=np.uint8)
    images[:, 0, 0, 0] = np.arange(num_train) % 256  # every image unique through its index too
    images[:, 0, 0, 1] = np.arange(num_train) // 256
    labels = rng.permutation(np.arange(num_train) % 10).astype(np.int32)
    test = rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
    test_labels = np.arange(20, dtype=np.int32) % 10
    return Splits(images, labels, test, test_labels, "test", cifar10.CLASS_NAMES)


def test_the_split_is_class_balanced_and_disjoint_from_training():
    dataset = _dataset()
    split = dataset.with_validation(53)
    counts = np.bincount(split.validation_labels, minlength=10)
    assert counts.tolist() == [6, 6, 6] + [5] * 7  # 53 = 10 x 5 + 3
    assert len(split.train_labels) == 300 - 53
    held_out = {image.tobytes() for image in split.validation_images}
    trained = {image.tobytes() for image in split.train_images}
    assert len(held_out) == 53 and not held_out & trained
    assert held_out | trained == {image.tobytes() for image in dataset.train_images}
    # the labels travel with their images
    images = map(np.ndarray.tobytes, dataset.train_images)
    label_of = dict(zip(images, dataset.train_labels, strict=True))
    for image, label in zip(split.validation_images, split.validation_labels, strict=True):
        assert label_of[image.tobytes()] == label


def test_the_split_is_the_same_in_every_run_and_independent_of_the_seed():
    labels = _dataset().train_labels
    first = splits.validation_indices(labels, 40, 10)
    np.random.seed(123)  # no global generator is involved
    np.testing.assert_array_equal(first, splits.validation_indices(labels, 40, 10))
    assert not np.array_equal(first, splits.validation_indices(np.roll(labels, 1), 40, 10))
    assert _dataset().with_validation(0).validation_labels is None


@pytest.mark.parametrize(
    "num_examples, message",
    [(300, "must be between 1 and the 300"), (50, "needs 5 images of class 9; the training")],
)
def test_a_split_the_data_cannot_give_is_a_data_error(num_examples, message):
    dataset = _dataset()
    no_trucks = np.where(dataset.train_labels == 9, 0, dataset.train_labels)
    with pytest.raises(DataError, match=message):
        dataclasses.replace(dataset, train_labels=no_trucks).with_validation(num_examples)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"validation_examples": -1}, "validation_examples=-1 must be an integer >= 0"),
        ({"validation_examples": 50_000}, "must be below the 50,000 training images of cifar10"),
        ({"validation_examples": 60_000, "dataset": "mnist"}, "60,000 training images of mnist"),
    ],
)
def test_a_bad_validation_size_is_one_clear_error(overrides, message):
    with pytest.raises(ValueError, match=message):
        config_lib.validate(config_lib.RunConfig.flat(**overrides))


def _scalar_steps(run_dir):
    accumulator = event_accumulator.EventAccumulator(
        str(run_dir), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    return {
        tag: [event.step for event in accumulator.Tensors(tag)]
        for tag in accumulator.Tags()["tensors"]
        if tag.startswith(("validation/accuracy", "test/accuracy"))
    }


def test_training_evaluates_validation_and_the_test_set_only_at_the_end(cifar_dir, tmp_path):
    config = config_lib.RunConfig.flat(
        data_dir=str(cifar_dir),
        log_dir=str(tmp_path / "run"),
        validation_examples=20,
        batch_size=16,
        max_steps=12,
        eval_every=4,
        summary_every=4,
        histogram_every=4,
        checkpoint_every=4,
        steps_per_execution=2,
        diagnostics=False,
    )
    results = run_lib.train(config)
    steps = _scalar_steps(tmp_path / "run")
    assert steps["validation/accuracy"] == [4, 8, 12]
    assert steps["test/accuracy"] == [12]
    assert results["num_test_examples"] == 30
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["config"]["validation_examples"] == 20
    assert 0 <= saved["validation_accuracy"] <= 1 and 0 <= saved["test_accuracy"] <= 1
