"""CIFAR-10 in, batches out: the only module that knows where images come from.

    load_dataset(name, data_dir)            -> --dataset's images: CIFAR-10 here, MNIST (mnist.py)
    load(data_dir)                          -> Cifar10 (decoded uint8 images and labels, in memory)
    train_dataset(images, labels, ...)      -> endless distorted, shuffled batches
    eval_dataset(images, labels, ...)       -> every test image once, centrally cropped

Sources, chosen by what `data_dir` holds: the tutorial's binary format (`cifar-10-binary.tar.gz`,
extracted once into a cache, or an extracted `cifar-10-batches-bin/`), read as fixed-length
records; otherwise tensorflow-datasets' `cifar10` in that directory.

The train stream is a pure function of (seed, step): each epoch is a stateless permutation of the
50,000 images and each batch's distortions are drawn from stateless ops seeded with the step.
So a run resumed at step s sees exactly the batches it would have seen, with no iterator state.
Distortions are the tutorial's (`cifar10_input.distorted_inputs`), applied to a whole batch;
a dataset without flips and colour distortions (MNIST) gets the random 24x24 crop only.
"""

import hashlib
import os
import shutil
import socket
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

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
WHOLE_SPLIT = 100_000  # a batch size that holds any CIFAR-10 split
CROP_SIZE = 24
MAX_BRIGHTNESS_DELTA = 63.0
CONTRAST_RANGE = (0.2, 1.8)
TFDS_DOWNLOAD_HOST = "www.cs.toronto.edu"  # where tensorflow-datasets' cifar10 downloads from
CACHE_ENV = "CIFAR10_ABLATION_CACHE"  # moves the cache where archives are extracted
DEFAULT_CACHE_DIR = Path(os.environ.get(CACHE_ENV, "~/.cache/cifar10_ablation"))


class DataError(ValueError):
    """The data directory does not hold usable CIFAR-10; the message says what to provide."""


@dataclass(frozen=True)
class Cifar10:
    """Decoded CIFAR-10: images uint8 [N, 32, 32, 3], labels int32 [N]; MNIST's too (mnist.py:
    [N, 28, 28, 1], its class names, no flips or colour distortions)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str
    class_names: tuple = CLASS_NAMES
    flips: bool = True  # train_dataset's left-right flips
    colors: bool = True  # train_dataset's brightness and contrast distortions


def load_dataset(name, data_dir, cache_dir=DEFAULT_CACHE_DIR):
    """The dataset `name` ("cifar10" or "mnist") from `data_dir`, all into memory."""
    from cifar10_ablation import mnist  # imported here: mnist.py builds on this module

    loaders = {"cifar10": lambda: load(data_dir, cache_dir), "mnist": lambda: mnist.load(data_dir)}
    if name not in loaders:
        raise DataError(f"dataset={name!r} is not known; allowed: {', '.join(loaders)}")
    return loaders[name]()


def load(data_dir, cache_dir=DEFAULT_CACHE_DIR):
    """Reads CIFAR-10 from `data_dir` (binary folder, binary archive or TFDS), all into memory."""
    data_dir = Path(data_dir).expanduser()
    if not data_dir.exists():
        raise DataError(
            f"data_dir {data_dir} does not exist; pass --data_dir=<folder holding {ARCHIVE_NAME}>"
        )
    folder = _find_batches_folder(data_dir, Path(cache_dir).expanduser())
    if folder is not None:
        return Cifar10(
            *_read_split(folder, TRAIN_FILES),
            *_read_split(folder, TEST_FILES),
            source=f"binary:{folder}",
        )
    return _load_tfds(data_dir)


def _find_batches_folder(data_dir, cache_dir):
    """The folder of .bin files under data_dir, extracting an archive once; None if neither."""
    if data_dir.is_file():
        return _extract_once(data_dir, cache_dir)
    for candidate in (data_dir / BATCHES_DIRNAME, data_dir):
        if any((candidate / name).exists() for name in TRAIN_FILES + TEST_FILES):
            return candidate
    if (data_dir / ARCHIVE_NAME).exists():
        return _extract_once(data_dir / ARCHIVE_NAME, cache_dir)
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
        return entry / BATCHES_DIRNAME
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=cache_dir, prefix=".extracting-"))
        try:
            _extract_batches(archive, tmp)
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
    return load_tfds(
        data_dir,
        "cifar10",
        TFDS_DOWNLOAD_HOST,
        f"no CIFAR-10 in {data_dir}: looked for {ARCHIVE_NAME}, {BATCHES_DIRNAME}/ and "
        "a prepared tensorflow-datasets cifar10",
        f"pass --data_dir=<folder holding {ARCHIVE_NAME}>",
    )


def load_tfds(data_dir, name, download_host, looked_for, how, **fields):
    """tensorflow-datasets' `name` in data_dir; downloaded and prepared first when online.

    `looked_for` and `how` make the error when there is none; `fields` go to Cifar10.
    """
    import tensorflow_datasets as tfds  # slow import; only this source needs it

    def load(download):
        splits = tfds.load(
            name,
            split=["train", "test"],
            data_dir=str(data_dir),
            as_supervised=True,
            download=download,
        )
        # One batch per split (batch_size=-1 aborts on datasets of unknown size, e.g. mocks).
        (train_x, train_y), (test_x, test_y) = [
            tfds.as_numpy(split.batch(WHOLE_SPLIT).get_single_element()) for split in splits
        ]
        return Cifar10(
            train_x,
            train_y.astype(np.int32),
            test_x,
            test_y.astype(np.int32),
            source=f"tfds:{data_dir}",
            **fields,
        )

    try:
        return load(download=False)
    except Exception:  # noqa: BLE001 - not prepared here: try the download below
        pass
    try:  # tfds retries an unreachable host for minutes; fail at once when offline
        socket.getaddrinfo(download_host, 443)
    except OSError:
        raise DataError(
            f"{looked_for}, and {download_host} is unreachable (offline); {how}"
        ) from None
    try:
        return load(download=True)
    except Exception as error:  # noqa: BLE001 - any failure means: no data, say what to do
        raise DataError(
            f"{looked_for}, and its download failed ({type(error).__name__}: "
            f"{str(error)[:200]}); {how}"
        ) from None


def train_dataset(images, labels, batch_size, seed, start_step=0, flips=True, colors=True):
    """Endless (float32 [B,24,24,C], int32 [B]) batches; batch k depends only on (seed, k).

    Epochs are consecutive stateless permutations (a perfect shuffle: the whole set is the
    buffer), concatenated so no image is dropped at epoch ends. Starting at `start_step` yields
    the same batches as a stream started at 0 and advanced `start_step` batches. `flips` and
    `colors` keep the tutorial's flips and brightness/contrast distortions (a dataset's own).
    """
    # Batches are gathered from the numpy arrays: a TF copy of the images captured by the
    # pipeline cost 150 MB, and its conversion 300 MB at peak (of 1.6 GB, measured).
    images, labels = np.asarray(images), np.asarray(labels)
    num_images, image_size = images.shape[0], images.shape[1]
    first_image = start_step * batch_size
    first_epoch, offset = divmod(first_image, num_images)

    def permutation(epoch):
        noise = tf.random.stateless_uniform([num_images], seed=tf.stack([seed, epoch]))
        return tf.data.Dataset.from_tensor_slices(tf.argsort(noise))

    indices = (
        tf.data.Dataset.range(first_epoch, np.iinfo(np.int64).max)
        .flat_map(permutation)
        .skip(offset)
        .batch(batch_size, drop_remainder=True)
    )
    steps = tf.data.Dataset.range(start_step, np.iinfo(np.int64).max)

    def gather(batch_indices):
        batch = tf.numpy_function(
            lambda i: (images[i], labels[i]),
            [batch_indices],
            (tf.as_dtype(images.dtype), tf.as_dtype(labels.dtype)),
            stateful=False,
        )
        batch[0].set_shape([batch_size, *images.shape[1:]])
        batch[1].set_shape([batch_size])
        return batch

    def make_batch(step, batch_indices):
        batch_seed = tf.stack([tf.constant(seed, tf.int64), step])
        draws = random_distortions(batch_size, batch_seed, image_size, flips, colors)
        batch_images, batch_labels = gather(batch_indices)
        return distort(batch_images, draws), batch_labels

    return (
        tf.data.Dataset.zip(steps, indices)
        .map(make_batch, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def eval_dataset(images, labels, batch_size):
    """Every image once, in order: central 24x24 crop, standardized; the last batch may be short."""

    images, labels = np.asarray(images), np.asarray(labels)  # sliced in numpy, as in training

    def prepare(start):
        batch_images, batch_labels = tf.numpy_function(
            lambda i: (images[i : i + batch_size], labels[i : i + batch_size]),
            [start],
            (tf.as_dtype(images.dtype), tf.as_dtype(labels.dtype)),
            stateful=False,
        )
        batch_images.set_shape([None, *images.shape[1:]])
        batch_labels.set_shape([None])
        return center_crop_standardize(batch_images), batch_labels

    return (
        tf.data.Dataset.range(0, len(images), batch_size)
        .map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def random_distortions(batch_size, seed, image_size=32, flips=True, colors=True):
    """Per-image draws of the tutorial's distortions of image_size^2 images from a stateless
    [2] seed; without `flips` or `colors`, none of those (CIFAR-10's draws stay the same)."""
    crop_seed, flip_seed, brightness_seed, contrast_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, num=4)
    )
    max_offset = image_size - CROP_SIZE
    draws = {
        "offsets": tf.random.stateless_uniform(
            [batch_size, 2], crop_seed, minval=0, maxval=max_offset + 1, dtype=tf.int32
        )
    }
    if flips:
        draws["flips"] = tf.random.stateless_uniform([batch_size], flip_seed) < 0.5
    if colors:
        draws["brightness"] = tf.random.stateless_uniform(
            [batch_size], brightness_seed, -MAX_BRIGHTNESS_DELTA, MAX_BRIGHTNESS_DELTA
        )
        draws["contrast"] = tf.random.stateless_uniform(
            [batch_size], contrast_seed, *CONTRAST_RANGE
        )
    return draws


def distort(images, draws):
    """The tutorial's train distortions on a uint8 [B,H,W,C] batch -> float32 [B,24,24,C].

    Per image: crop 24x24 at `offsets` (no padding), flip left-right where `flips`, add the
    `brightness` delta (0..255 scale, no clipping), scale each channel's deviation from its mean
    by `contrast` (tf.image.adjust_contrast), then tf.image.per_image_standardization. Draws
    without flips or brightness/contrast skip those.
    """
    rows = draws["offsets"][:, :1] + tf.range(CROP_SIZE)
    cols = draws["offsets"][:, 1:] + tf.range(CROP_SIZE)
    x = tf.gather(tf.gather(images, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
    x = tf.cast(x, tf.float32)
    if "flips" in draws:
        x = tf.where(draws["flips"][:, None, None, None], tf.reverse(x, axis=[2]), x)
    if "brightness" in draws:
        x = x + draws["brightness"][:, None, None, None]
        mean = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
        x = (x - mean) * draws["contrast"][:, None, None, None] + mean
    return tf.image.per_image_standardization(x)


def center_crop_standardize(images):
    """The tutorial's eval input: central 24x24 crop of uint8 [B,H,W,C], standardized."""
    offset = (images.shape[1] - CROP_SIZE) // 2
    crop = tf.image.crop_to_bounding_box(images, offset, offset, CROP_SIZE, CROP_SIZE)
    return tf.image.per_image_standardization(tf.cast(crop, tf.float32))
