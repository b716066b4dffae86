"""Stopping a run between steps: SIGTERM (schedulers, spot machines) and SIGINT (Ctrl-C).

While a StopRequest is installed the signals only note the request; the trainer checks it
between compiled calls, saves a checkpoint and raises Interrupted, and the command lines exit
with EXIT_INTERRUPTED, so a batch script can requeue the same command.
"""

import contextlib
import signal
import threading

# sysexits' EX_TEMPFAIL ("try again later"): stopped with a checkpoint saved.
EXIT_INTERRUPTED = 75


class Interrupted(Exception):
    """Training stopped on SIGTERM or SIGINT after the step in flight, its checkpoint saved."""


class StopRequest:
    """Notes SIGTERM and SIGINT while installed, so that the trainer stops between steps with a
    checkpoint instead of dying mid-step."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self):
        self.signal_name = None

    @property
    def requested(self):
        return self.signal_name is not None

    def _note(self, signum, frame):
        self.signal_name = signal.Signals(signum).name

    def install(self):
        """From now on the signals only set the request (Python handles them in the main thread
        only; elsewhere this does nothing)."""
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                signal.signal(signum, self._note)

    @contextlib.contextmanager
    def installed(self):
        previous = {signum: signal.getsignal(signum) for signum in self.SIGNALS}
        self.install()
        try:
            yield self
        finally:
            if threading.current_thread() is threading.main_thread():
                for signum, handler in previous.items():
                    signal.signal(signum, handler)
