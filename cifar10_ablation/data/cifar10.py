"""CIFAR-10 in: the decoded images and labels, read from whatever `data_dir` holds.

    load(data_dir)  -> Splits of decoded uint8 [N, 32, 32, 3] images and int32 labels, in memory

Sources, chosen by what `data_dir` holds: the tutorial's binary format (`cifar-10-binary.tar.gz`,
extracted once into a cache, or an extracted `cifar-10-batches-bin/`), read as fixed-length
records; otherwise tensorflow-datasets' `cifar10` in that directory. The batches the model sees
are made from these arrays by pipeline.py.
"""

import contextlib
import hashlib
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from cifar10_ablation import files
from cifar10_ablation.data import tfds
from cifar10_ablation.data.splits import DataError, Splits

ARCHIVE_NAME = "cifar-10-binary.tar.gz"
BATCHES_DIRNAME = "cifar-10-batches-bin"
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILES = ("test_batch.bin",)
LABEL_BYTES = 1
IMAGE_SHAPE_ON_DISK = (3, 32, 32)  # depth-major
RECORD_BYTES = LABEL_BYTES + int(np.prod(IMAGE_SHAPE_ON_DISK))  # 3073
NUM_CLASSES = 10
CLASS_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
TFDS_DOWNLOAD_HOST = "www.cs.toronto.edu"  # where tensorflow-datasets' cifar10 downloads from
ARCHIVE_CHECKSUM = "archive.sha256"  # beside an extraction: the archive's sha256
CACHE_ENV = "CIFAR10_ABLATION_CACHE"  # moves the cache where archives are extracted
DEFAULT_CACHE_DIR = Path(os.environ.get(CACHE_ENV, "~/.cache/cifar10_ablation"))


def load(data_dir, cache_dir=None):
    """Reads CIFAR-10 from `data_dir` (binary folder, binary archive or TFDS), all into memory.

    An archive is extracted into `cache_dir`, DEFAULT_CACHE_DIR when None (read at the call, so
    the tests can move it).
    """
    data_dir = Path(data_dir).expanduser()
    if not data_dir.exists():
        raise DataError(
            f"data_dir {data_dir} does not exist; pass --data_dir=<folder holding {ARCHIVE_NAME}>"
        )
    folder = _find_batches_folder(data_dir, Path(cache_dir or DEFAULT_CACHE_DIR).expanduser())
    if folder is not None:
        return Splits(
            *_read_split(folder, TRAIN_FILES),
            *_read_split(folder, TEST_FILES),
            source=f"binary:{folder}",
            class_names=CLASS_NAMES,
            checksum=_checksum(folder),
        )
    return _load_tfds(data_dir)


def check(data_dir):
    """What `load` would read in data_dir, found by file names alone (nothing decoded or
    extracted): "binary" (the archive, or .bin files), or "tfds" when it holds none of them
    (tfds_missing then says whether that is there). DataError when data_dir does not exist."""
    data_dir = Path(data_dir).expanduser()
    if not data_dir.exists():
        raise DataError(
            f"data_dir {data_dir} does not exist; pass --data_dir=<folder holding {ARCHIVE_NAME}>"
        )
    binary = data_dir.is_file() or (data_dir / ARCHIVE_NAME).exists()
    return "binary" if binary or _bin_folder(data_dir) else "tfds"


def tfds_missing(data_dir):
    """The reason load's tensorflow-datasets fallback would fail in data_dir, else None."""
    return tfds.missing(*_tfds_source(data_dir))


def _find_batches_folder(data_dir, cache_dir):
    """The folder of .bin files under data_dir, extracting an archive once; None if neither."""
    if data_dir.is_file():
        return _extract_once(data_dir, cache_dir)
    if folder := _bin_folder(data_dir):
        return folder
    if (data_dir / ARCHIVE_NAME).exists():
        return _extract_once(data_dir / ARCHIVE_NAME, cache_dir)
    return None


def _checksum(folder):
    """The sha256 of what was read: the archive's, as its SHA256SUMS gives it, when the folder
    was extracted from one (noted beside the extraction); else "bin:" and that of the .bin files
    in order."""
    noted = folder.parent / ARCHIVE_CHECKSUM
    if noted.exists():
        return noted.read_text().strip()
    return f"bin:{_file_sha256(*(folder / name for name in TRAIN_FILES + TEST_FILES))}"


def _file_sha256(*paths):
    """The sha256 of the files' bytes, one after the other, read a MiB at a time."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _bin_folder(data_dir):
    """data_dir/cifar-10-batches-bin or data_dir itself when it holds a .bin file, else None."""
    for candidate in (data_dir / BATCHES_DIRNAME, data_dir):
        if any((candidate / name).exists() for name in TRAIN_FILES + TEST_FILES):
            return candidate
    return None


def _extract_once(archive, cache_dir):
    """Extracts `archive` into `cache_dir` (the data folder may be read-only) once, then reuses it.

    The cache entry is keyed by the archive's path, size and mtime. Extraction goes to a temporary
    folder renamed into place, so a killed extraction leaves nothing that looks finished, and of
    processes extracting at once the first rename wins, the others use it: none ever reads a
    half-written file.
    """
    stat = archive.stat()
    key = hashlib.sha1(f"{archive.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    entry = cache_dir / key.hexdigest()[:16]
    if (entry / BATCHES_DIRNAME).is_dir():
        if not (entry / ARCHIVE_CHECKSUM).exists():  # an entry extracted before checksums
            with contextlib.suppress(OSError):
                files.write_text_atomic(entry / ARCHIVE_CHECKSUM, _file_sha256(archive) + "\n")
        return entry / BATCHES_DIRNAME
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=cache_dir, prefix=".extracting-"))
        try:
            _extract_batches(archive, tmp)
            (tmp / ARCHIVE_CHECKSUM).write_text(_file_sha256(archive) + "\n")
            os.replace(tmp, entry)
        except OSError:
            if not (entry / BATCHES_DIRNAME).is_dir():  # else another process won the race
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as error:
        raise DataError(
            f"cannot extract {archive} into the cache {cache_dir} ({error.strerror}); set "
            f"{CACHE_ENV} to a writable folder with room, or pass --data_dir=<a folder holding "
            f"{BATCHES_DIRNAME}/>"
        ) from error
    return entry / BATCHES_DIRNAME


class _WriteError(OSError):
    """Extracting failed on the writing side (read-only, full): not the archive's fault."""


def _extract_batches(archive, target):
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            members = [
                m
                for m in tar.getmembers()
                if m.name.startswith(f"{BATCHES_DIRNAME}/") and m.isfile()
            ]
            if not members:
                raise DataError(
                    f"{archive} holds no {BATCHES_DIRNAME}/ folder; "
                    f"expected the CIFAR-10 binary archive {ARCHIVE_NAME}"
                )
            try:
                tar.extractall(target, members=members, filter="data")
            except OSError as error:
                if error.errno is not None:  # writing failed: the cache's fault (_extract_once)
                    raise _WriteError(error.errno, error.strerror, error.filename) from error
                raise
    except (tarfile.ReadError, EOFError, OSError) as error:
        if isinstance(error, DataError | _WriteError):
            raise
        raise DataError(
            f"{archive} is not a readable gzip tar archive ({error}); "
            f"expected the CIFAR-10 binary archive {ARCHIVE_NAME}"
        ) from error


def _read_split(folder, names):
    """Decodes the records of `names` in `folder`: uint8 [N,32,32,3], int32 [N]."""
    paths = [folder / name for name in names]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise DataError(
            f"{folder} lacks {', '.join(missing)}; a CIFAR-10 binary folder holds "
            f"{', '.join(TRAIN_FILES + TEST_FILES)}"
        )
    for path in paths:
        size = path.stat().st_size
        if size == 0 or size % RECORD_BYTES:
            raise DataError(
                f"{path} has {size} bytes, not a positive multiple of the "
                f"{RECORD_BYTES}-byte CIFAR-10 record: truncated or corrupt"
            )
    # numpy, not tf.data's FixedLengthRecordDataset: the same bytes, but TF's decode kept ~600 MB
    # of freed buffers resident for the rest of the run (measured: 1.6 GB vs 1.0 GB after load).
    raw = np.concatenate([np.fromfile(p, np.uint8).reshape(-1, RECORD_BYTES) for p in paths])
    labels = raw[:, 0].astype(np.int32)
    images = np.ascontiguousarray(
        raw[:, LABEL_BYTES:].reshape(-1, *IMAGE_SHAPE_ON_DISK).transpose(0, 2, 3, 1)
    )
    del raw
    bad = np.flatnonzero(labels >= NUM_CLASSES)
    if bad.size:
        counts = np.cumsum([p.stat().st_size // RECORD_BYTES for p in paths])
        path = paths[int(np.searchsorted(counts, bad[0], side="right"))]
        raise DataError(
            f"{path} has a record with label {labels[bad[0]]}; CIFAR-10 labels are "
            f"0..{NUM_CLASSES - 1}: corrupt file or not CIFAR-10"
        )
    return images, labels


def _load_tfds(data_dir):
    return tfds.load(*_tfds_source(data_dir), class_names=CLASS_NAMES)


def _tfds_source(data_dir):
    """tfds.load's and tfds.missing's (data_dir, name, host, looked_for, how) for CIFAR-10."""
    looked_for = (
        f"no CIFAR-10 in {data_dir}: looked for {ARCHIVE_NAME}, {BATCHES_DIRNAME}/ and "
        "a prepared tensorflow-datasets cifar10"
    )
    how = f"pass --data_dir=<folder holding {ARCHIVE_NAME}>"
    return data_dir, "cifar10", TFDS_DOWNLOAD_HOST, looked_for, how
