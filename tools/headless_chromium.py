"""Headless Chromium driven over the DevTools protocol on a pipe, for tools that screenshot a
local page (tools/tensorboard_screenshots.py): the standard library suffices (no WebSocket
client, no browser download)."""

import base64
import fcntl
import json
import os
import select
import signal
import subprocess
import time

# Without these, Chromium as root refuses to start (sandbox) or reaches for the network.
OPTIONS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


class ChromiumError(Exception):
    """One line for the user: what Chromium did wrong."""


class Chromium:
    """One headless Chromium on --remote-debugging-pipe: `screenshot` pages, then `close` it.
    DevTools, not a command-line --screenshot, because it can set the stored settings no URL
    carries (TensorBoard's outlier clipping hides most of a curve of a few evaluations)."""

    def __init__(self, executable, profile, timeout_s):
        self.timeout_s = timeout_s
        # Our ends and Chromium's, away from fds 3 and 4, where Chromium expects its ends.
        command_r, command_w = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in os.pipe())
        answer_r, answer_w = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in os.pipe())

        def on_fds_3_and_4():
            os.dup2(command_r, 3)
            os.dup2(answer_w, 4)

        self.process = subprocess.Popen(
            [
                executable,
                *OPTIONS,
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=on_fds_3_and_4,
            close_fds=False,  # fds 3 and 4 are inheritable; every fd of ours is close-on-exec
            start_new_session=True,  # so that stopping it ends its helper processes too
        )
        os.close(command_r)
        os.close(answer_w)
        self._commands = os.fdopen(command_w, "wb")
        self._answers = answer_r
        self._buffer = b""
        self._events = []
        self._last_id = 0

    def _receive(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._answers], [], [], left)[0]:
                raise ChromiumError(f"Chromium did not answer within {self.timeout_s} s")
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                raise ChromiumError("Chromium closed its DevTools pipe (did it crash?)")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, session=None, **params):
        """The result of one DevTools command; events read meanwhile are kept for `wait_for`."""
        self._last_id += 1
        message = {"id": self._last_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self._commands.write(json.dumps(message).encode() + b"\0")
        self._commands.flush()
        deadline = time.monotonic() + self.timeout_s
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == self._last_id:
                if "error" in answer:
                    raise ChromiumError(f"Chromium: {method}: {answer['error'].get('message')}")
                return answer.get("result", {})
            self._events.append(answer)

    def wait_for(self, event, session):
        deadline = time.monotonic() + self.timeout_s
        while True:
            for index, message in enumerate(self._events):
                if message.get("method") == event and message.get("sessionId") == session:
                    return self._events.pop(index)
            self._events.append(self._receive(deadline))

    def screenshot(self, url, size, render_ms, local_storage):
        """PNG bytes of `url` in a `size` window, `render_ms` of virtual time after it loaded (the
        clock stands still while the page's requests are pending), with `local_storage` set on
        its origin."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.send("Page.enable", session)
        width, height = size
        self.send(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        for key, value in local_storage.items():  # before any script of the page runs
            self.send(
                "Page.addScriptToEvaluateOnNewDocument",
                session,
                source=f"localStorage.setItem({json.dumps(key)}, {json.dumps(value)})",
            )
        self.send("Page.navigate", session, url=url)
        self.wait_for("Page.loadEventFired", session)
        self.send(
            "Emulation.setVirtualTimePolicy",
            session,
            policy="pauseIfNetworkFetchesPending",
            budget=render_ms,
        )
        self.wait_for("Emulation.virtualTimeBudgetExpired", session)
        png = self.send("Page.captureScreenshot", session, format="png")["data"]
        self.send("Target.closeTarget", targetId=target)
        return base64.b64decode(png)

    def close(self):
        self._commands.close()
        os.close(self._answers)
        stop(self.process)


def stop(process):
    """Ends `process` and its process group (started with start_new_session): TERM, then KILL."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
