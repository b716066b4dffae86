"""Shared fixtures: tiny CIFAR-10 and MNIST files written by the tests (never the real data)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import csv  # noqa: E402
import gzip  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import build_docs
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from absl import flags  # noqa: E402

from cifar10_ablation import console  # noqa: E402
from cifar10_ablation.data import cifar10, mnist, tfds
from cifar10_ablation.reports import report


@pytest.fixture
def parse_flags():
    """A command line's flags (cli.TRAIN, cli.SWEEP, cli.EVAL) parsed from args as its entry
    point parses them, into a FlagValues of their own: no global flag state is touched."""

    def parse(groups, *args):
        flag_values = flags.FlagValues()
        console.define(groups, flag_values)
        flag_values([sys.argv[0], *args])
        return flag_values

    return parse


def write_cifar_binary(folder, records_per_train_file=40, test_records=30, seed=0):
    """Writes data_batch_1..5.bin and test_batch.bin with random pixels; returns the arrays.

    Labels cycle 0..9 so every class is present; images are returned HWC uint8 as a reader
    should decode them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {}
    names = [*cifar10.TRAIN_FILES, *cifar10.TEST_FILES]
    for index, name in enumerate(names):
        count = test_records if name in cifar10.TEST_FILES else records_per_train_file
        images = rng.integers(0, 256, size=(count, 32, 32, 3), dtype=np.uint8)
        labels = ((np.arange(count) + index) % 10).astype(np.uint8)
        depth_major = images.transpose(0, 3, 1, 2).reshape(count, -1)
        (folder / name).write_bytes(
            np.concatenate([labels[:, None], depth_major], axis=1).tobytes()
        )
        arrays[name] = (images, labels.astype(np.int32))
    return arrays


@pytest.fixture
def cifar_dir(tmp_path):
    """A data dir holding cifar-10-batches-bin/ with 200 train and 30 test records."""
    write_cifar_binary(tmp_path / "data" / cifar10.BATCHES_DIRNAME)
    return tmp_path / "data"


def write_idx(path, values, magic):
    """An IDX file: magic, each dimension as a big-endian uint32, then the uint8 values."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in values.shape)
    raw = header + np.asarray(values, np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)


def write_mnist(folder, train=20, test=10, suffix=".gz", seed=0):
    """The four MNIST files with random digits; returns {name: array} as written."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {
        mnist.TRAIN_IMAGES: rng.integers(0, 256, (train, 28, 28), dtype=np.uint8),
        mnist.TRAIN_LABELS: (np.arange(train) % 10).astype(np.uint8),
        mnist.TEST_IMAGES: rng.integers(0, 256, (test, 28, 28), dtype=np.uint8),
        mnist.TEST_LABELS: ((np.arange(test) + 3) % 10).astype(np.uint8),
    }
    for name, values in arrays.items():
        magic = mnist.IMAGES_MAGIC if values.ndim == 3 else mnist.LABELS_MAGIC
        write_idx(folder / f"{name}{suffix}", values, magic)
    return arrays


@pytest.fixture
def mnist_dir(tmp_path):
    """A data dir holding the four gzipped MNIST IDX files: 40 train and 20 test digits."""
    write_mnist(tmp_path / "mnist", train=40, test=20)
    return tmp_path / "mnist"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Archive extraction goes to a per-test cache, never the user's, and no test downloads:
    in this process and in the command lines the tests start (they inherit the environment)."""
    monkeypatch.setattr(cifar10, "DEFAULT_CACHE_DIR", tmp_path / "cache")
    monkeypatch.setenv(cifar10.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(tfds.OFFLINE_ENV, "1")


def assert_matches_tf_lrn(lrn, x, upstream, beta):
    """`lrn(x)` equals tf.nn.local_response_normalization (radius 4, bias 1, alpha 0.01) in value
    and in gradient against `upstream`."""
    import tensorflow as tf

    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        ours = lrn(x)
        theirs = tf.nn.local_response_normalization(
            x, depth_radius=4, bias=1.0, alpha=0.01, beta=beta
        )
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5)
    np.testing.assert_allclose(
        tape.gradient(ours, x, output_gradients=upstream).numpy(),
        tape.gradient(theirs, x, output_gradients=upstream).numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


DOCS = Path(__file__).resolve().parent.parent / "docs"
# A sweep's runs at the smallest size that still trains, evaluates and checkpoints (2 steps).
SMOKE_FLAGS = [
    "--batch_size=8",
    "--max_steps=2",
    "--summary_every=2",
    "--histogram_every=2",
    "--eval_every=2",
    "--checkpoint_every=2",
    "--steps_per_execution=2",
    "--nodiagnostics",
]


@pytest.fixture
def docs_copy(tmp_path):
    """A docs folder with the committed templates and activation-scale CSV and no results: the
    tests add the results CSVs their case needs."""
    shutil.copytree(DOCS / "templates", tmp_path / "templates")
    shutil.copy(DOCS / build_docs.SCALE_CSV, tmp_path)
    return tmp_path


def write_results_csv(path, rows):
    """rows as report.py writes results.csv (its pool-window columns empty)."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*rows[0], *report.WINDOW_COLUMNS])
        writer.writeheader()
        writer.writerows(rows)
