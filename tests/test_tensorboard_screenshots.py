"""tools/tensorboard_screenshots.py stops with one clear line, before starting anything, when it
has nothing to show or no browser (the screenshots themselves need Chromium: not run here)."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "tensorboard_screenshots.py"


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing", "is not a directory; pass a sweep's log dir"),
        ("empty", "holds no TensorBoard event files"),
        ("no_chromium", "Chromium not found (--chromium=no-such-chromium); install it"),
    ],
)
def test_bad_input_gives_one_line_and_writes_nothing(tmp_path, case, message):
    logdir = tmp_path / "sweep"
    if case != "missing":
        (logdir / "run").mkdir(parents=True)
    if case == "no_chromium":
        (logdir / "run" / "events.out.tfevents.1.host.0.v2").write_bytes(b"")
    out_dir = tmp_path / "img"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            f"--logdir={logdir}",
            f"--out_dir={out_dir}",
            "--chromium=no-such-chromium",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: ") and message in line, line
    assert not out_dir.exists()
