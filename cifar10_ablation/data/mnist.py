"""MNIST in: LeCun's original IDX files (gzipped or not), or tensorflow-datasets' `mnist`.

    load(data_dir)        -> Splits of uint8 [N, 28, 28, 1] digits, int32 labels 0..9
    read_idx(path, magic) -> the values of one IDX file as a numpy array

An IDX file is a big-endian header, a magic number (0x00000803: uint8 values in 3 dimensions,
images; 0x00000801: uint8 in 1 dimension, labels) and each dimension's size as a uint32, then the
values row-major. The files are read in place, the .gz ones through gzip (under a second; the
data folder may be read-only). A folder holding none of the four files is used as
tensorflow-datasets' data dir, as for CIFAR-10.

Input treatment (pipeline.py's, with this dataset's `flips` and `colors` off): training takes the
tutorial's random 24x24 crop of the 28x28 frame, i.e. shifts of up to 2 pixels each way, then
per-image standardization; evaluation the central 24x24 crop, standardized. MNIST digits are
size-normalized into a 20x20 box centred (by mass) in the frame, so a 24x24 crop keeps nearly
all of every digit, and every architecture keeps its CIFAR-10 shape (only the input depth
differs). No flips: a mirrored digit is another glyph or none. No brightness or contrast: on
one channel, per-image standardization undoes both exactly.
"""

import gzip
import zlib
from pathlib import Path

import numpy as np

from cifar10_ablation.data import tfds
from cifar10_ablation.data.splits import DataError, Splits

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
IMAGE_SIZE = 28
NUM_CLASSES = 10
CLASS_NAMES = tuple(str(digit) for digit in range(NUM_CLASSES))
TFDS_DOWNLOAD_HOST = "storage.googleapis.com"  # where tensorflow-datasets' mnist downloads from
HOW = f"pass --data_dir=<folder holding {TRAIN_IMAGES}.gz and the other MNIST IDX files>"


def load(data_dir):
    """MNIST's train and test splits from the IDX files in `data_dir`, or from TFDS there."""
    paths = _idx_paths(data_dir)
    if paths is None:
        return tfds.load(
            *_tfds_source(data_dir), class_names=CLASS_NAMES, flips=False, colors=False
        )
    train = _split(paths[TRAIN_IMAGES], paths[TRAIN_LABELS])
    test = _split(paths[TEST_IMAGES], paths[TEST_LABELS])
    return Splits(
        *train,
        *test,
        source=f"idx:{Path(data_dir).expanduser()}",
        class_names=CLASS_NAMES,
        flips=False,
        colors=False,
    )


def check(data_dir):
    """What `load` would read in data_dir, found by file names alone (nothing decompressed):
    "idx" (all four files), or "tfds" when it holds none of them (tfds_missing then says
    whether that is there). DataError when data_dir is no folder or lacks some of the files."""
    return "tfds" if _idx_paths(data_dir) is None else "idx"


def tfds_missing(data_dir):
    """The reason load's tensorflow-datasets fallback would fail in data_dir, else None."""
    return tfds.missing(*_tfds_source(data_dir))


def _idx_paths(data_dir):
    """{file: path} of the four IDX files in data_dir; None when it holds none of them (then
    tensorflow-datasets'); DataError when data_dir is no folder or holds only some."""
    data_dir = Path(data_dir).expanduser()
    if not data_dir.is_dir():
        what = "does not exist" if not data_dir.exists() else "is not a folder"
        raise DataError(f"data_dir {data_dir} {what}; {HOW}")
    paths = {name: _find(data_dir, name) for name in FILES}
    if not any(paths.values()):
        return None
    missing = [f"{name}.gz" for name, path in paths.items() if path is None]
    if missing:
        raise DataError(
            f"{data_dir} lacks {', '.join(missing)}; an MNIST folder holds "
            f"{', '.join(f'{n}.gz' for n in FILES)} (or them decompressed)"
        )
    return paths


def _tfds_source(data_dir):
    """tfds.load's and tfds.missing's (data_dir, name, host, looked_for, how) for MNIST."""
    looked_for = (
        f"no MNIST in {Path(data_dir).expanduser()}: looked for "
        f"{', '.join(f'{n}.gz' for n in FILES)} and a prepared tensorflow-datasets mnist"
    )
    return Path(data_dir).expanduser(), "mnist", TFDS_DOWNLOAD_HOST, looked_for, HOW


def _find(folder, name):
    """The gzipped or the plain file `name` in folder; None when neither is there."""
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def _split(images_path, labels_path):
    """uint8 [N, 28, 28, 1] images and int32 [N] labels from one split's two files."""
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataError(
            f"{images_path} holds {images.shape[1]}x{images.shape[2]} images; MNIST's are "
            f"{IMAGE_SIZE}x{IMAGE_SIZE}"
        )
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images)} images but {labels_path} {len(labels)} labels"
        )
    if labels.size and labels.max() >= NUM_CLASSES:
        raise DataError(
            f"{labels_path} has a label {labels.max()}; MNIST labels are 0..{NUM_CLASSES - 1}: "
            "corrupt file or not MNIST"
        )
    return images[..., None], labels.astype(np.int32)


def read_idx(path, magic):
    """The uint8 values of the IDX file at `path` (gzipped when it ends in .gz), shaped by its
    header; DataError when it is unreadable, has another magic number, or is truncated."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(
            f"{path} is not a readable gzip file ({error}): truncated or corrupt"
        ) from None
    dims = magic & 0xFF
    header_bytes = 4 * (1 + dims)
    if len(raw) < 4 or int.from_bytes(raw[:4], "big") != magic:
        found = f"0x{int.from_bytes(raw[:4], 'big'):08x}" if len(raw) >= 4 else "no magic"
        raise DataError(
            f"{path} starts with {found}, not the IDX magic 0x{magic:08x} (uint8, {dims} "
            "dimensions): not this MNIST file"
        )
    if len(raw) < header_bytes:
        raise DataError(f"{path} has {len(raw)} bytes, less than its IDX header: truncated")
    shape = tuple(np.frombuffer(raw, ">u4", count=dims, offset=4).astype(int))
    expected = int(np.prod(shape))
    if len(raw) - header_bytes != expected:
        raise DataError(
            f"{path} holds {len(raw) - header_bytes} bytes of values, not the "
            f"{' x '.join(map(str, shape))} = {expected} its header announces: truncated or "
            "corrupt"
        )
    return np.frombuffer(raw, np.uint8, offset=header_bytes).reshape(shape)
