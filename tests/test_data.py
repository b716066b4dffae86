"""The data module: the binary reader, the archive, TFDS, the tutorial's distortions, bad data."""

import tarfile

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from conftest import write_cifar_binary

from cifar10_ablation import data


def _archive(folder, target):
    with tarfile.open(target, "w:gz") as tar:
        tar.add(folder, arcname=data.BATCHES_DIRNAME)
    return target


def test_records_decode_to_pixels_labels_and_orientation(tmp_path):
    written = write_cifar_binary(tmp_path / data.BATCHES_DIRNAME)
    loaded = data.load(tmp_path)
    train_images = np.concatenate([written[n][0] for n in data.TRAIN_FILES])
    train_labels = np.concatenate([written[n][1] for n in data.TRAIN_FILES])
    np.testing.assert_array_equal(loaded.train_images, train_images)
    np.testing.assert_array_equal(loaded.train_labels, train_labels)
    np.testing.assert_array_equal(loaded.test_images, written["test_batch.bin"][0])
    assert loaded.train_images.dtype == np.uint8 and loaded.train_labels.dtype == np.int32
    assert loaded.train_images.shape == (200, 32, 32, 3)


def test_depth_major_record_layout(tmp_path):
    """A hand-made record: red channel first, rows then columns (the format's own layout)."""
    folder = tmp_path / data.BATCHES_DIRNAME
    write_cifar_binary(folder, records_per_train_file=1, test_records=1)
    planes = np.zeros((3, 32, 32), np.uint8)
    planes[0, 0, 1] = 200  # red, row 0, column 1
    planes[2, 5, 0] = 50  # blue, row 5, column 0
    (folder / "test_batch.bin").write_bytes(bytes([7]) + planes.tobytes())
    loaded = data.load(tmp_path)
    image = loaded.test_images[0]
    assert loaded.test_labels[0] == 7
    assert image[0, 1, 0] == 200 and image[5, 0, 2] == 50 and image.sum() == 250


def test_archive_and_folder_give_the_same_data_and_extract_once(tmp_path, monkeypatch):
    write_cifar_binary(tmp_path / "src")
    archive_dir = tmp_path / "archive"
    archive_dir.mkdir()
    _archive(tmp_path / "src", archive_dir / data.ARCHIVE_NAME)
    from_folder = data.load(tmp_path / "src")
    from_archive = data.load(archive_dir)
    np.testing.assert_array_equal(from_archive.train_images, from_folder.train_images)
    np.testing.assert_array_equal(from_archive.test_labels, from_folder.test_labels)
    # The path to the archive itself works too, and nothing is extracted a second time.
    monkeypatch.setattr(data, "_extract_batches", lambda *a: pytest.fail("extracted again"))
    again = data.load(archive_dir / data.ARCHIVE_NAME)
    np.testing.assert_array_equal(again.train_labels, from_folder.train_labels)
    assert list(archive_dir.iterdir()) == [archive_dir / data.ARCHIVE_NAME]  # data dir untouched


def test_train_batches_are_standardized_24x24(cifar_dir):
    loaded = data.load(cifar_dir)
    images, labels = next(iter(data.train_dataset(loaded.train_images, loaded.train_labels, 32, 0)))
    assert images.shape == (32, 24, 24, 3) and images.dtype == tf.float32
    assert labels.shape == (32,) and labels.dtype == tf.int32
    np.testing.assert_allclose(tf.reduce_mean(images, [1, 2, 3]), 0, atol=1e-4)
    np.testing.assert_allclose(tf.math.reduce_std(images, [1, 2, 3]), 1, atol=1e-3)


def test_epochs_are_permutations_and_the_stream_is_seeded_and_resumable():
    images = np.zeros((60, 32, 32, 3), np.uint8)
    index = np.arange(60, dtype=np.int32)  # labels carry each image's index

    def stream(seed, start_step=0, steps=9):
        dataset = data.train_dataset(images, index, 20, seed, start_step)
        return [(x.numpy(), y.numpy()) for x, y in dataset.take(steps)]

    first = stream(seed=1)
    for epoch in range(3):  # 3 batches per epoch; each epoch holds every image once
        epoch_labels = np.concatenate([y for _, y in first[3 * epoch : 3 * epoch + 3]])
        np.testing.assert_array_equal(np.sort(epoch_labels), index)
    assert not np.array_equal(first[0][1], first[3][1])  # reshuffled each epoch
    again = stream(seed=1)
    for (x1, y1), (x2, y2) in zip(first, again, strict=False):
        np.testing.assert_array_equal(y1, y2)
        np.testing.assert_array_equal(x1, x2)
    other = stream(seed=2)
    assert not np.array_equal(first[0][1], other[0][1])
    resumed = stream(seed=1, start_step=4, steps=5)
    for (x1, y1), (x2, y2) in zip(first[4:], resumed, strict=False):
        np.testing.assert_array_equal(y1, y2)
        np.testing.assert_array_equal(x1, x2)


def test_batched_distortions_equal_tf_image_ops_per_image():
    images = tf.constant(np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3)), tf.uint8)
    draws = data.random_distortions(8, tf.constant([3, 4], tf.int64))
    distorted = data.distort(images, draws)
    for i in range(8):
        dy, dx = draws["offsets"][i].numpy()
        x = tf.image.crop_to_bounding_box(images[i], int(dy), int(dx), 24, 24)
        x = tf.cast(x, tf.float32)
        if draws["flips"][i]:
            x = tf.image.flip_left_right(x)
        x = tf.image.adjust_brightness(x, draws["brightness"][i])
        x = tf.image.adjust_contrast(x, draws["contrast"][i])
        x = tf.image.per_image_standardization(x)
        np.testing.assert_allclose(distorted[i].numpy(), x.numpy(), rtol=1e-4, atol=1e-4)


def test_distortion_draws_cover_the_tutorials_ranges():
    draws = data.random_distortions(20000, tf.constant([0, 0], tf.int64))
    offsets = draws["offsets"].numpy()
    assert offsets.min() == 0 and offsets.max() == 8
    assert set(np.unique(offsets)) == set(range(9))
    assert 0.48 < draws["flips"].numpy().mean() < 0.52
    brightness, contrast = draws["brightness"].numpy(), draws["contrast"].numpy()
    assert -63 <= brightness.min() < -62 and 62 < brightness.max() <= 63
    assert 0.2 <= contrast.min() < 0.21 and 1.79 < contrast.max() <= 1.8


def test_eval_is_the_central_crop_and_every_image_once(cifar_dir):
    loaded = data.load(cifar_dir)
    batches = list(data.eval_dataset(loaded.test_images, loaded.test_labels, 8))
    assert [len(y) for _, y in batches] == [8, 8, 8, 6]  # 30 images, no padding
    images = np.concatenate([x.numpy() for x, _ in batches])
    labels = np.concatenate([y.numpy() for _, y in batches])
    np.testing.assert_array_equal(labels, loaded.test_labels)
    expected = tf.image.per_image_standardization(
        tf.cast(loaded.test_images[:, 4:28, 4:28], tf.float32)
    )
    np.testing.assert_allclose(images, expected.numpy(), rtol=1e-5, atol=1e-5)


def test_tfds_source_with_mock_data(tmp_path):
    with tfds.testing.mock_data(num_examples=12):
        loaded = data.load(tmp_path)
    assert loaded.source.startswith("tfds:")
    assert loaded.train_images.shape == (12, 32, 32, 3) and loaded.train_images.dtype == np.uint8
    assert loaded.test_labels.dtype == np.int32 and loaded.test_labels.max() < 10


def _truncate(folder):
    path = folder / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-100])


def _bad_label(folder):
    path = folder / "data_batch_2.bin"
    raw = bytearray(path.read_bytes())
    raw[data.RECORD_BYTES * 3] = 12
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda f: (f / "data_batch_4.bin").unlink(), "lacks data_batch_4.bin"),
        (lambda f: (f / "test_batch.bin").unlink(), "lacks test_batch.bin"),
        (_truncate, "data_batch_3.bin has 122820 bytes, not a positive multiple of the 3073-byte"),
        (lambda f: (f / "test_batch.bin").write_bytes(b""), "test_batch.bin has 0 bytes"),
        (_bad_label, "data_batch_2.bin has a record with label 12; CIFAR-10 labels are 0..9"),
    ],
)
def test_bad_binary_data_raises_clearly(cifar_dir, corrupt, message):
    corrupt(cifar_dir / data.BATCHES_DIRNAME)
    with pytest.raises(data.DataError, match=message):
        data.load(cifar_dir)


def test_bad_archives_raise_clearly(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / data.ARCHIVE_NAME).write_bytes(b"this is not gzip")
    with pytest.raises(data.DataError, match="is not a readable gzip tar archive"):
        data.load(tmp_path / "plain")
    (tmp_path / "other" / "stuff").mkdir(parents=True)
    (tmp_path / "other" / "stuff" / "a.txt").write_text("hello")
    (tmp_path / "wrong").mkdir()
    with tarfile.open(tmp_path / "wrong" / data.ARCHIVE_NAME, "w:gz") as tar:
        tar.add(tmp_path / "other" / "stuff", arcname="stuff")
    with pytest.raises(data.DataError, match="holds no cifar-10-batches-bin/ folder"):
        data.load(tmp_path / "wrong")
    assert not list((tmp_path / "cache").glob("*/cifar-10-batches-bin"))  # nothing half-extracted


def test_missing_and_empty_data_dirs_raise_clearly(tmp_path, monkeypatch):
    with pytest.raises(data.DataError, match="does not exist; pass --data_dir="):
        data.load(tmp_path / "nowhere")
    monkeypatch.setattr(data, "TFDS_DOWNLOAD_HOST", "host.invalid")  # offline, whatever the CI has
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        data.DataError,
        match="no CIFAR-10 in .*empty: looked for cifar-10-binary"
        r".tar.gz, cifar-10-batches-bin/ .* unreachable",
    ):
        data.load(tmp_path / "empty")
    assert not list((tmp_path / "empty").iterdir())  # nothing written into the user's folder
