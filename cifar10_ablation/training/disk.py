"""A write that finds no space: DiskFull naming what was written, the space free there and
needed, and the checkpoint a restart continues from.

Checkpoints (state.py), event files (loop.py) and results.json (rundir.py) all stop this way;
older checkpoints stay intact, so freeing space and running the same command continues.
"""

import errno
import os
import shutil
from pathlib import Path

import tensorflow as tf

DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


class DiskFull(RuntimeError):
    """A checkpoint, event file or results.json found no space; older checkpoints are intact."""


def is_disk_full(error):
    """Whether `error` is a write that found no space (Python's OSError, or TF's file errors,
    which carry the system's message)."""
    if isinstance(error, OSError):
        return error.errno in DISK_FULL_ERRNOS
    return isinstance(error, tf.errors.OpError) and any(
        os.strerror(code) in str(error) for code in DISK_FULL_ERRNOS
    )


def size_text(num_bytes):
    return f"{num_bytes / 1e6:.1f} MB" if num_bytes >= 1e5 else f"{num_bytes / 1e3:.0f} kB"


def disk_full_error(path, needed, checkpoint_dir):
    """DiskFull naming `path`, the space `needed` (a phrase) and where a restart continues."""
    free_on = Path(path)
    while not free_on.exists():
        free_on = free_on.parent
    state = tf.train.get_checkpoint_state(str(checkpoint_dir))
    latest = Path(state.model_checkpoint_path).name if state else None
    return DiskFull(
        f"no space left on device writing {path} ({size_text(shutil.disk_usage(free_on).free)} "
        f"free there; {needed}); free space and run the same command to continue from "
        f"{latest or 'the start'}"
    )
