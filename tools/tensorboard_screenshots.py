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
from headless_chromium import Chromium, ChromiumError, stop

SCALARS_PNG = "tensorboard_scalars.png"
HPARAMS_PNG = "tensorboard_hparams.png"
HOST = "127.0.0.1"
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
        browser = None
        try:
            _wait_until_serving(tensorboard, port, start_timeout_s, log_path)
            browser = Chromium(executable, Path(scratch) / "profile", render_ms / 1000 + 60)
            pngs = {
                name: browser.screenshot(url, size, render_ms, LOCAL_STORAGE)
                for name, (url, size) in shots.items()
            }
        finally:
            if browser:
                browser.close()
            stop(tensorboard)
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
    except (ScreenshotError, ChromiumError, OSError) as error:
        sys.exit(f"error: {error}")
    for path in paths:
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    app.run(main)
