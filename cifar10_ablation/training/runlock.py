"""One process at a time per run directory, across processes and machines sharing the folder.

    lock = runlock.acquire(run_dir)   # RunLocked if a live process holds it
    ...                               # train
    lock.release()                    # or: with runlock.acquire(run_dir): ...

The lock is the file `run_dir/.lock`, created with O_EXCL (atomic, also on NFS), holding the
owner's host, pid namespace, pid and start time; the owner touches it every HEARTBEAT_SECONDS.
A killed owner cannot leave it stuck: a lock is stale, and taken over, when its process is gone
(same host and pid namespace: a stopped process, e.g. Ctrl-Z, keeps it) or it has not been
touched for STALE_SECONDS (elsewhere, where pids cannot be checked). fcntl locks would vanish
with their process, but network filesystems do not all honour them.
"""

import contextlib
import json
import os
import socket
import threading
import time
from pathlib import Path

LOCK_FILENAME = ".lock"
HEARTBEAT_SECONDS = 30
STALE_SECONDS = 300  # ten missed heartbeats: the owner is dead or frozen


class RunLocked(Exception):
    """Another live process holds the run directory's lock."""


def _pid_namespace():
    """Containers on one host may share its name but not its pids."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def _owner():
    return {
        "host": socket.gethostname(),
        "pid_namespace": _pid_namespace(),
        "pid": os.getpid(),
        "started": round(time.time(), 3),
    }


def describe(owner):
    return f"pid {owner.get('pid')} on {owner.get('host')}" if owner else "a process starting up"


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def stale_reason(owner, age_seconds):
    """Why a lock with this owner (None: unreadable) untouched for age_seconds is stale, or None."""
    here = owner and (owner.get("host"), owner.get("pid_namespace")) == (
        socket.gethostname(),
        _pid_namespace(),
    )
    if here and isinstance(owner.get("pid"), int):
        return None if _process_alive(owner["pid"]) else f"pid {owner['pid']} is gone"
    if age_seconds > STALE_SECONDS:
        return f"untouched for {age_seconds:.0f} s"
    return None


def _read(path):
    """(owner or None, age in seconds) of the lock file; FileNotFoundError if there is none."""
    age = time.time() - path.stat().st_mtime
    try:
        owner = json.loads(path.read_text())
    except ValueError:  # being written (it is created empty), or damaged: its age decides
        owner = None
    return (owner if isinstance(owner, dict) else None), age


class RunLock:
    """A held lock: its heartbeat keeps it fresh until release()."""

    def __init__(self, path, owner):
        self.path = path
        self.owner = owner
        self._stopped = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat, daemon=True)
        self._heartbeat.start()

    def _beat(self):
        while not self._stopped.wait(HEARTBEAT_SECONDS):
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def release(self):
        """Stops the heartbeat and deletes the lock file, unless another process took it over."""
        self._stopped.set()
        self._heartbeat.join()
        with contextlib.suppress(OSError, ValueError):
            if json.loads(self.path.read_text()) == self.owner:
                self.path.unlink()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.release()


def acquire(run_dir):
    """Locks run_dir (created if missing) for this process; RunLocked if a live one holds it."""
    path = Path(run_dir) / LOCK_FILENAME
    path.parent.mkdir(parents=True, exist_ok=True)
    took_over = None
    for _ in range(3):  # a stale lock replaced, or one vanishing while read, costs one more try
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                owner, age = _read(path)
            except FileNotFoundError:
                continue
            reason = stale_reason(owner, age)
            if reason is None:
                raise RunLocked(f"{path.parent} is being trained by {describe(owner)}") from None
            if _remove_stale(path, owner):
                took_over = f"took over the stale lock of {describe(owner)} ({reason})"
            continue
        owner = _owner()
        with os.fdopen(fd, "w") as f:
            json.dump(owner, f)
        if took_over:  # said here once for train and sweep: a run's log shows whose place it took
            print(f"{path.parent}: {took_over}", flush=True)
        return RunLock(path, owner)
    raise RunLocked(f"{path.parent} is being locked and unlocked by other processes")


def _remove_stale(path, owner):
    """Removes the stale lock of `owner`, unless another process replaced it meanwhile.

    Renaming is atomic, so of several processes removing one stale lock only one gets it; the
    one that finds it has renamed a fresh lock instead puts it back.
    """
    aside = path.with_name(f"{path.name}.stale-{socket.gethostname()}-{os.getpid()}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return False
    try:
        renamed = json.loads(aside.read_text())
    except ValueError:
        renamed = None
    if renamed != owner:  # a fresh lock taken since we read it: put it back if still free
        with contextlib.suppress(FileExistsError):
            os.link(aside, path)
        aside.unlink()
        return False
    aside.unlink()
    return True
