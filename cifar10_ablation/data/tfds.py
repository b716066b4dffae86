"""tensorflow-datasets as a source: a dataset prepared in a data dir, or downloaded there online.

    splits = tfds.load(data_dir, "mnist", host, looked_for, how, class_names=...)

The readers (cifar10.py, mnist.py) fall back to it when a folder holds none of their files.
Offline, or with CIFAR10_ABLATION_OFFLINE set, it fails at once with one line
(tensorflow-datasets would retry the host for minutes).
"""

import os
import socket
from pathlib import Path

import numpy as np

from cifar10_ablation.data.splits import DataError, Splits

WHOLE_SPLIT = 100_000  # a batch size that holds any split of the datasets read here
OFFLINE_ENV = "CIFAR10_ABLATION_OFFLINE"  # set: never try a download (tests, air-gapped hosts)


def load(data_dir, name, download_host, looked_for, how, **fields):
    """tensorflow-datasets' `name` in data_dir; downloaded and prepared first when online.

    `looked_for` and `how` make the error when there is none; `fields` go to Splits
    (class_names, flips, colors).
    """
    import tensorflow_datasets  # slow import; only this source needs it

    def load(download):
        splits = tensorflow_datasets.load(
            name,
            split=["train", "test"],
            data_dir=str(data_dir),
            as_supervised=True,
            download=download,
        )
        # One batch per split (batch_size=-1 aborts on datasets of unknown size, e.g. mocks).
        (train_x, train_y), (test_x, test_y) = [
            tensorflow_datasets.as_numpy(split.batch(WHOLE_SPLIT).get_single_element())
            for split in splits
        ]
        return Splits(
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
    # tfds retries an unreachable host for minutes; fail at once when offline
    if why := _unreachable(data_dir, name, download_host, looked_for, how):
        raise DataError(why)
    try:
        return load(download=True)
    except Exception as error:  # noqa: BLE001 - any failure means: no data, say what to do
        raise DataError(
            f"{looked_for}, and its download failed ({type(error).__name__}: "
            f"{str(error)[:200]}); {how}"
        ) from None


def missing(data_dir, name, download_host, looked_for, how):
    """Why `load` would find no `name` in data_dir, judged cheaply (data.check), else None:
    nothing prepared there (no `name` folder) and no download possible (offline, or
    OFFLINE_ENV set); online, load downloads it."""
    if (Path(data_dir).expanduser() / name).is_dir():
        return None
    return _unreachable(data_dir, name, download_host, looked_for, how)


def _unreachable(data_dir, name, download_host, looked_for, how):
    """The error line when `name` cannot be downloaded (offline, or OFFLINE_ENV set), else None."""
    try:
        if os.environ.get(OFFLINE_ENV):
            raise OSError(f"{OFFLINE_ENV} is set")
        socket.getaddrinfo(download_host, 443)
    except OSError:
        return f"{looked_for}, and {download_host} is unreachable (offline); {how}"
    return None
