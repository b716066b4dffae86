"""MNIST: the IDX reader on tiny files written here, bad files, TFDS, and its input treatment."""

import gzip

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from conftest import write_idx, write_mnist

from cifar10_ablation import data
from cifar10_ablation.data import mnist, pipeline
from cifar10_ablation.data import tfds as tfds_source
from cifar10_ablation.data.splits import DataError


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_reads_pixels_and_labels_gzipped_or_not(tmp_path, suffix):
    written = write_mnist(tmp_path, suffix=suffix)
    loaded = data.load("mnist", tmp_path)
    np.testing.assert_array_equal(loaded.train_images[..., 0], written[mnist.TRAIN_IMAGES])
    np.testing.assert_array_equal(loaded.train_labels, written[mnist.TRAIN_LABELS])
    np.testing.assert_array_equal(loaded.test_images[..., 0], written[mnist.TEST_IMAGES])
    np.testing.assert_array_equal(loaded.test_labels, written[mnist.TEST_LABELS])
    assert loaded.train_images.shape == (20, 28, 28, 1) and loaded.train_images.dtype == np.uint8
    assert loaded.train_labels.dtype == np.int32
    assert loaded.class_names == tuple("0123456789")
    assert not loaded.flips and not loaded.colors and loaded.source.startswith("idx:")


def test_pixels_are_row_major(tmp_path):
    """A hand-made image: the values are rows of columns, as IDX stores them."""
    header = b"".join(n.to_bytes(4, "big") for n in (mnist.IMAGES_MAGIC, 1, 28, 28))
    pixels = bytearray(28 * 28)
    pixels[1] = 200  # row 0, column 1
    pixels[5 * 28] = 50  # row 5, column 0
    (tmp_path / "images").write_bytes(header + bytes(pixels))
    image = mnist.read_idx(tmp_path / "images", mnist.IMAGES_MAGIC)[0]
    assert image[0, 1] == 200 and image[5, 0] == 50 and image.sum() == 250


def _truncate_gzip(folder):
    path = folder / f"{mnist.TRAIN_IMAGES}.gz"
    path.write_bytes(path.read_bytes()[:-40])


def _truncate_values(folder):
    path = folder / f"{mnist.TEST_LABELS}.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-1]))


def _swap_magic(folder):
    write_idx(folder / f"{mnist.TRAIN_LABELS}.gz", np.zeros((20, 28, 28)), mnist.IMAGES_MAGIC)


def _bad_label(folder):
    labels = np.zeros(10, np.uint8)
    labels[4] = 12
    write_idx(folder / f"{mnist.TEST_LABELS}.gz", labels, mnist.LABELS_MAGIC)


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (
            lambda f: (f / f"{mnist.TEST_IMAGES}.gz").unlink(),
            "lacks t10k-images-idx3-ubyte.gz; an MNIST folder holds",
        ),
        (_truncate_gzip, "train-images-idx3-ubyte.gz is not a readable gzip file"),
        (
            lambda f: (f / f"{mnist.TRAIN_IMAGES}.gz").write_bytes(b"not gzip at all"),
            "is not a readable gzip file",
        ),
        (
            _truncate_values,
            r"t10k-labels-idx1-ubyte.gz holds 9 bytes of values, not the 10 = 10 its header",
        ),
        (
            _swap_magic,
            "train-labels-idx1-ubyte.gz starts with 0x00000803, not the IDX magic 0x00000801",
        ),
        (
            lambda f: (f / f"{mnist.TRAIN_IMAGES}.gz").write_bytes(gzip.compress(b"\0\0")),
            "starts with no magic, not the IDX magic 0x00000803",
        ),
        (_bad_label, "t10k-labels-idx1-ubyte.gz has a label 12; MNIST labels are 0..9"),
        (
            lambda f: write_idx(f / f"{mnist.TEST_LABELS}.gz", np.zeros(9), mnist.LABELS_MAGIC),
            "holds 10 images but .*t10k-labels-idx1-ubyte.gz 9 labels",
        ),
        (
            lambda f: write_idx(
                f / f"{mnist.TEST_IMAGES}.gz", np.zeros((10, 32, 32)), mnist.IMAGES_MAGIC
            ),
            "holds 32x32 images; MNIST's are 28x28",
        ),
    ],
)
def test_bad_files_raise_one_clear_error(tmp_path, corrupt, message):
    write_mnist(tmp_path)
    corrupt(tmp_path)
    with pytest.raises(DataError, match=message):
        data.load("mnist", tmp_path)


def test_missing_and_empty_data_dirs(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="does not exist; pass --data_dir=<folder holding"):
        data.load("mnist", tmp_path / "nowhere")
    # The tests' environment is offline (conftest): no lookup of the download host either.
    monkeypatch.setattr(
        tfds_source.socket, "getaddrinfo", lambda *a: pytest.fail("network looked up")
    )
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        DataError,
        match="no MNIST in .*empty: looked for train-images-idx3-ubyte.gz, .* unreachable",
    ):
        data.load("mnist", tmp_path / "empty")
    assert not list((tmp_path / "empty").iterdir())


def test_tfds_source_with_mock_data(tmp_path):
    with tfds.testing.mock_data(num_examples=12):
        loaded = data.load("mnist", tmp_path)
    assert loaded.source.startswith("tfds:")
    assert loaded.train_images.shape == (12, 28, 28, 1) and loaded.train_images.dtype == np.uint8
    assert loaded.test_labels.dtype == np.int32 and not loaded.flips


def test_train_batches_are_shifted_crops_without_flips_or_colours(tmp_path):
    write_mnist(tmp_path, train=64)
    loaded = data.load("mnist", tmp_path)
    draws = pipeline.random_distortions(20000, tf.constant([0, 0], tf.int64), 28, False, False)
    assert set(draws) == {"offsets"}
    assert set(np.unique(draws["offsets"].numpy())) == set(range(5))  # shifts of up to 2 pixels
    index = np.arange(64, dtype=np.int32)  # labels carry each image's index
    stream = pipeline.train_dataset(loaded.train_images, index, 16, 0, flips=False, colors=False)
    images, labels = next(iter(stream))
    assert images.shape == (16, 24, 24, 1) and images.dtype == tf.float32
    batch_draws = pipeline.random_distortions(
        16, tf.constant([0, 0], tf.int64), 28, flips=False, colors=False
    )
    for i, (dy, dx) in enumerate(batch_draws["offsets"].numpy()):
        crop = loaded.train_images[int(labels[i]), dy : dy + 24, dx : dx + 24].astype(np.float32)
        expected = tf.image.per_image_standardization(crop).numpy()
        np.testing.assert_allclose(images[i].numpy(), expected, rtol=1e-4, atol=1e-4)


def test_eval_is_the_central_24x24_crop(tmp_path):
    write_mnist(tmp_path)
    loaded = data.load("mnist", tmp_path)
    images = np.concatenate(
        [x.numpy() for x, _ in pipeline.eval_dataset(loaded.test_images, loaded.test_labels, 4)]
    )
    expected = tf.image.per_image_standardization(
        tf.cast(loaded.test_images[:, 2:26, 2:26], tf.float32)
    )
    np.testing.assert_allclose(images, expected.numpy(), rtol=1e-5, atol=1e-5)


def test_cifar10_draws_are_those_of_before_mnist():
    """The options leave CIFAR-10's stream as it was (values from the code before them), so runs
    begun before resume on the same batches."""
    draws = pipeline.random_distortions(4, tf.constant([3, 4], tf.int64))
    assert draws["offsets"].numpy().tolist() == [[4, 6], [8, 1], [5, 2], [7, 4]]
    assert draws["flips"].numpy().tolist() == [True] * 4
    np.testing.assert_allclose(draws["brightness"].numpy(), [47.9852, -17.9313, -31.7095, -28.3924],
                               rtol=1e-5)  # fmt: skip
    np.testing.assert_allclose(draws["contrast"].numpy(), [0.66797, 0.52507, 0.21686, 1.73],
                               rtol=1e-4)  # fmt: skip
