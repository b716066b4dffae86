"""The CIFAR-10 reader: the binary records, the archive, TFDS, bad data."""

import hashlib
import tarfile

import numpy as np
import pytest
import tensorflow_datasets as tfds
from conftest import write_cifar_binary

from cifar10_ablation.data import cifar10
from cifar10_ablation.data.splits import DataError


def _archive(folder, target):
    with tarfile.open(target, "w:gz") as tar:
        tar.add(folder, arcname=cifar10.BATCHES_DIRNAME)
    return target


def test_records_decode_to_pixels_labels_and_orientation(tmp_path):
    written = write_cifar_binary(tmp_path / cifar10.BATCHES_DIRNAME)
    loaded = cifar10.load(tmp_path)
    train_images = np.concatenate([written[n][0] for n in cifar10.TRAIN_FILES])
    train_labels = np.concatenate([written[n][1] for n in cifar10.TRAIN_FILES])
    np.testing.assert_array_equal(loaded.train_images, train_images)
    np.testing.assert_array_equal(loaded.train_labels, train_labels)
    np.testing.assert_array_equal(loaded.test_images, written["test_batch.bin"][0])
    assert loaded.train_images.dtype == np.uint8 and loaded.train_labels.dtype == np.int32
    assert loaded.train_images.shape == (200, 32, 32, 3)


def test_depth_major_record_layout(tmp_path):
    """A hand-made record: red channel first, rows then columns (the format's own layout)."""
    folder = tmp_path / cifar10.BATCHES_DIRNAME
    write_cifar_binary(folder, records_per_train_file=1, test_records=1)
    planes = np.zeros((3, 32, 32), np.uint8)
    planes[0, 0, 1] = 200  # red, row 0, column 1
    planes[2, 5, 0] = 50  # blue, row 5, column 0
    (folder / "test_batch.bin").write_bytes(bytes([7]) + planes.tobytes())
    loaded = cifar10.load(tmp_path)
    image = loaded.test_images[0]
    assert loaded.test_labels[0] == 7
    assert image[0, 1, 0] == 200 and image[5, 0, 2] == 50 and image.sum() == 250


def test_archive_and_folder_give_the_same_data_and_extract_once(tmp_path, monkeypatch):
    write_cifar_binary(tmp_path / "src")
    archive_dir = tmp_path / "archive"
    archive_dir.mkdir()
    _archive(tmp_path / "src", archive_dir / cifar10.ARCHIVE_NAME)
    from_folder = cifar10.load(tmp_path / "src")
    from_archive = cifar10.load(archive_dir)
    np.testing.assert_array_equal(from_archive.train_images, from_folder.train_images)
    np.testing.assert_array_equal(from_archive.test_labels, from_folder.test_labels)
    # The path to the archive itself works too, and nothing is extracted a second time.
    monkeypatch.setattr(cifar10, "_extract_batches", lambda *a: pytest.fail("extracted again"))
    again = cifar10.load(archive_dir / cifar10.ARCHIVE_NAME)
    np.testing.assert_array_equal(again.train_labels, from_folder.train_labels)
    assert list(archive_dir.iterdir()) == [archive_dir / cifar10.ARCHIVE_NAME]  # data dir untouched
    # What was read is recorded: the archive's sha256 (as a SHA256SUMS file gives it), else the
    # .bin files'.
    archive_sha = hashlib.sha256((archive_dir / cifar10.ARCHIVE_NAME).read_bytes()).hexdigest()
    assert from_archive.checksum == again.checksum == archive_sha
    assert from_folder.checksum.startswith("bin:") and len(from_folder.checksum) == 4 + 64


def test_tfds_source_with_mock_data(tmp_path):
    with tfds.testing.mock_data(num_examples=12):
        loaded = cifar10.load(tmp_path)
    assert loaded.source.startswith("tfds:")
    assert loaded.train_images.shape == (12, 32, 32, 3) and loaded.train_images.dtype == np.uint8
    assert loaded.test_labels.dtype == np.int32 and loaded.test_labels.max() < 10


def _truncate(folder):
    path = folder / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-100])


def _bad_label(folder):
    path = folder / "data_batch_2.bin"
    raw = bytearray(path.read_bytes())
    raw[cifar10.RECORD_BYTES * 3] = 12
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
    corrupt(cifar_dir / cifar10.BATCHES_DIRNAME)
    with pytest.raises(DataError, match=message):
        cifar10.load(cifar_dir)


def test_bad_archives_raise_clearly(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / cifar10.ARCHIVE_NAME).write_bytes(b"this is not gzip")
    with pytest.raises(DataError, match="is not a readable gzip tar archive"):
        cifar10.load(tmp_path / "plain")
    (tmp_path / "other" / "stuff").mkdir(parents=True)
    (tmp_path / "other" / "stuff" / "a.txt").write_text("hello")
    (tmp_path / "wrong").mkdir()
    with tarfile.open(tmp_path / "wrong" / cifar10.ARCHIVE_NAME, "w:gz") as tar:
        tar.add(tmp_path / "other" / "stuff", arcname="stuff")
    with pytest.raises(DataError, match="holds no cifar-10-batches-bin/ folder"):
        cifar10.load(tmp_path / "wrong")
    assert not list((tmp_path / "cache").glob("*/cifar-10-batches-bin"))  # nothing half-extracted


def test_missing_and_empty_data_dirs_raise_clearly(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="does not exist; pass --data_dir="):
        cifar10.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        DataError,
        match="no CIFAR-10 in .*empty: looked for cifar-10-binary"
        r".tar.gz, cifar-10-batches-bin/ .* unreachable",
    ):
        cifar10.load(tmp_path / "empty")
    assert not list((tmp_path / "empty").iterdir())  # nothing written into the user's folder
