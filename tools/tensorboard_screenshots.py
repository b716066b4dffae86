"""Screenshots of TensorBoard's Scalars and HParams tabs for a sweep, as a user sees them.

    python tools/tensorboard_screenshots.py --logdir=tensorboard_logs/finding_quick

Starts TensorBoard (this Python's `tensorboard` package) on a free localhost port, waits until it
lists the sweep's runs, has headless Chromium (Debian's `chromium`: `apt-get install chromium`)
load each tab and writes to `--out_dir` (default docs/img/) `tensorboard_scalars.png` (the tags
of `--tag_filter`, by default test accuracy and training cross-entropy, unsmoothed, outliers not
clipped) and `tensorboard_hparams.png` (the table view: one row per run, its swept values and
test accuracy). TensorBoard and Chromium are stopped at the end, also on error; nothing is
written unless both shots are taken. About 20 s for a small sweep; if a large one's charts are
still empty, raise `--render_ms`."""

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from absl import app, flags

SCALARS_PNG = "tensorboard_scalars.png"
HPARAMS_PNG = "tensorboard_hparams.png"
HOST = "127.0.0.1"
# Without these, Chromium as root refuses to start (sandbox) or reaches for the network.
CHROMIUM_OPTIONS = (
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
# The front end's settings kept in localStorage, not the URL: curves of a few evaluations are
# mostly hidden when outliers are clipped.
LOCAL_STORAGE = {"_ignoreYOutliers": "false"}

flags.DEFINE_string("logdir", None, "A sweep directory (or any TensorBoard log directory).")
flags.DEFINE_string("out_dir", "docs/img", "Where the two PNG files go.")
flags.DEFINE_string("chromium", "chromium", "Chromium's executable (a name on PATH or a path).")
flags.DEFINE_string(
    "tag_filter",
    "^(test/accuracy|train/cross_entropy)$",
    "Regular expression of the scalar tags in the Scalars shot.",
)
flags.DEFINE_string("run_filter", "", "Regular expression of the runs shown (default: all).")
flags.DEFINE_float(
    "smoothing",
    0.0,
    "The Scalars tab's smoothing, 0 (none; a sweep evaluates a few times) to 0.999.",
)
flags.DEFINE_list("scalars_size", ["1280", "620"], "Window width,height of the Scalars shot.")
flags.DEFINE_list("hparams_size", ["1440", "480"], "Window width,height of the HParams shot.")
flags.DEFINE_integer("render_ms", 20_000, "Virtual time Chromium gives a tab to load and draw.")
flags.DEFINE_integer("start_timeout_s", 120, "How long to wait for TensorBoard to serve the runs.")
flags.mark_flag_as_required("logdir")
flags.register_validator(
    "smoothing", lambda s: 0 <= s < 1, "--smoothing must be in [0, 1) as TensorBoard's slider"
)
flags.register_validator("render_ms", lambda ms: ms > 0, "--render_ms must be positive")
for _name in ("scalars_size", "hparams_size"):
    flags.register_validator(
        _name,
        lambda size: len(size) == 2 and all(s.isdigit() and int(s) > 0 for s in size),
        f"--{_name} must be WIDTH,HEIGHT in pixels, e.g. 1280,640",
    )

FLAGS = flags.FLAGS


class ScreenshotError(Exception):
    """One line for the user: what went wrong and what to do."""


def tab_url(port, tab, **state):
    """TensorBoard's URL of `tab` with the dashboard state its front end reads from the fragment
    (e.g. tagFilter, regexInput, _smoothingWeight); empty values are left out."""
    fragment = "&".join(
        [tab, *(f"{k}={urllib.parse.quote(str(v), safe='')}" for k, v in state.items() if v != "")]
    )
    return f"http://{HOST}:{port}/#{fragment}"


def _free_port():
    """A port nobody listens on now; TensorBoard has no "any free port" option of its own."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _last_line(path):
    lines = Path(path).read_text(errors="replace").strip().splitlines()
    return lines[-1] if lines else "(nothing)"


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def _wait_until_serving(process, port, timeout_s, log_path):
    """Returns once TensorBoard lists runs and the list has stopped growing (it loads them in the
    background after it starts answering)."""
    deadline = time.monotonic() + timeout_s
    runs, stable_since = None, None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ScreenshotError(
                f"TensorBoard exited with status {process.returncode}: {_last_line(log_path)}"
            )
        try:
            now = _get(f"http://{HOST}:{port}/data/runs")
        except OSError:
            now = None
        if now and now != "[]":
            if now != runs:
                runs, stable_since = now, time.monotonic()
            elif time.monotonic() - stable_since >= 3:
                return
        time.sleep(1)
    raise ScreenshotError(
        f"TensorBoard listed no runs within {timeout_s} s (--start_timeout_s); its last line: "
        f"{_last_line(log_path)}"
    )


class _Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe):
    the standard library suffices (no WebSocket client, no browser download), and it can set the
    stored settings no URL carries (the Scalars tab's outlier clipping hides most of a curve of
    a few evaluations)."""

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
                *CHROMIUM_OPTIONS,
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
                raise ScreenshotError(f"Chromium did not answer within {self.timeout_s} s")
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                raise ScreenshotError("Chromium closed its DevTools pipe (did it crash?)")
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
                    raise ScreenshotError(f"Chromium: {method}: {answer['error'].get('message')}")
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
        _stop(self.process)


def _stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def take_screenshots(
    logdir,
    out_dir,
    *,
    chromium,
    tag_filter,
    run_filter,
    smoothing,
    scalars_size,
    hparams_size,
    render_ms,
    start_timeout_s,
):
    """Writes SCALARS_PNG and HPARAMS_PNG of `logdir` into `out_dir`; returns their paths."""
    logdir, out_dir = Path(logdir), Path(out_dir)
    if not logdir.is_dir():
        raise ScreenshotError(f"--logdir={logdir} is not a directory; pass a sweep's log dir")
    if not next(logdir.rglob("events.out.tfevents.*"), None):
        raise ScreenshotError(f"--logdir={logdir} holds no TensorBoard event files")
    executable = shutil.which(chromium)
    if not executable:
        raise ScreenshotError(
            f"Chromium not found (--chromium={chromium}); install it (Debian: apt-get install "
            "chromium) or pass its path"
        )
    port = _free_port()
    shots = {
        SCALARS_PNG: (
            tab_url(
                port,
                "scalars",
                tagFilter=tag_filter,
                regexInput=run_filter,
                _smoothingWeight=smoothing,
            ),
            scalars_size,
        ),
        HPARAMS_PNG: (tab_url(port, "hparams"), hparams_size),
    }
    with tempfile.TemporaryDirectory(prefix="tensorboard-screenshots-") as scratch:
        log_path = Path(scratch) / "tensorboard.log"
        with open(log_path, "w") as log:
            tensorboard = subprocess.Popen(
                [sys.executable, "-m", "tensorboard.main", f"--logdir={logdir}"]
                + [f"--host={HOST}", f"--port={port}"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        chromium_process = None
        try:
            _wait_until_serving(tensorboard, port, start_timeout_s, log_path)
            chromium_process = _Chromium(
                executable, Path(scratch) / "profile", render_ms / 1000 + 60
            )
            pngs = {
                name: chromium_process.screenshot(url, size, render_ms, LOCAL_STORAGE)
                for name, (url, size) in shots.items()
            }
        finally:
            if chromium_process:
                chromium_process.close()
            _stop(tensorboard)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, png in pngs.items():
        (out_dir / name).write_bytes(png)
    return [out_dir / name for name in pngs]


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    # On SIGTERM too, take_screenshots' `finally` stops TensorBoard and Chromium.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("error: stopped by SIGTERM"))
    try:
        paths = take_screenshots(
            FLAGS.logdir,
            FLAGS.out_dir,
            chromium=FLAGS.chromium,
            tag_filter=FLAGS.tag_filter,
            run_filter=FLAGS.run_filter,
            smoothing=FLAGS.smoothing,
            scalars_size=[int(s) for s in FLAGS.scalars_size],
            hparams_size=[int(s) for s in FLAGS.hparams_size],
            render_ms=FLAGS.render_ms,
            start_timeout_s=FLAGS.start_timeout_s,
        )
    except (ScreenshotError, OSError) as error:
        sys.exit(f"error: {error}")
    for path in paths:
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    app.run(main)
