"""Short runs just work: a preset with a shorter --max_steps runs (schedules.py clips the
warm-up), and its intervals are scaled down so that it logs a curve (config.short_run_intervals)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tensorboard.backend.event_processing import event_accumulator

from cifar10_ablation import cli, schedules
from cifar10_ablation import config as config_lib

REPO = Path(__file__).resolve().parents[1]


def _config(parse_flags, *args):
    return cli.train_config(parse_flags(cli.SWEEP, *args))


def test_a_short_run_of_a_preset_logs_enough_points(parse_flags, capsys):
    config = _config(parse_flags, f"--flagfile={REPO / 'flags/quick.flags'}", "--max_steps=100")
    assert (config.summary_every, config.eval_every) == (10, 34)  # 10 points, 3 evaluations
    assert capsys.readouterr().out.splitlines() == [
        "note: 100 steps at summary_every=100, eval_every=2000 would log 1 summary point(s) and "
        "1 evaluation(s): summary_every=10, eval_every=34 for this run (at least 10 and 3; "
        "config.json records it)"
    ]
    assert schedules.short_run_note(config) is None  # scaled once
    # 150 steps at the default --summary_every=100: 2 points; 15 once scaled
    assert _config(parse_flags, "--max_steps=150").summary_every == 15


@pytest.mark.parametrize(
    "args",
    [
        ["--max_steps=100", "--summary_every=50", "--eval_every=100"],  # chosen for this run
        ["--max_steps=49", "--eval_every=1000"],  # a smoke run: no curve to draw
        ["--max_steps=10000", "--eval_every=5000"],  # resnet20.flags': chosen, the default value
    ],
)
def test_intervals_chosen_for_the_run_or_of_a_smoke_run_are_kept(parse_flags, args, capsys):
    config = _config(parse_flags, *args)
    given = dict(arg[2:].split("=") for arg in args)
    assert str(config.eval_every) == given["eval_every"]
    assert capsys.readouterr().out == ""


def test_a_sweep_scales_its_short_runs_and_says_so_once(parse_flags, cifar_dir, tmp_path, capsys):
    flag_values = parse_flags(
        cli.SWEEP,
        f"--data_dir={cifar_dir}",
        f"--log_dir={tmp_path}",
        "--max_steps=60",
        "--sweep=pool=max,avg",
        "--seeds=2",
    )
    runs = cli.grid_runs(flag_values)
    assert {(c.summary_every, c.eval_every) for _, c in runs} == {(6, 20)}
    assert len(capsys.readouterr().out.splitlines()) == 1


@pytest.mark.parametrize("flagfile", sorted(p.name for p in (REPO / "flags").glob("*.flags")))
def test_every_preset_as_written_keeps_its_intervals(parse_flags, flagfile, capsys):
    _config(parse_flags, f"--flagfile={REPO / 'flags' / flagfile}")
    assert capsys.readouterr().out == ""


def test_a_100_step_quick_run_draws_curves(cifar_dir, tmp_path):
    run_dir = tmp_path / "run"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cifar10_ablation.train",
            "--flagfile=flags/quick.flags",
            "--max_steps=100",
            "--batch_size=8",
            "--nodiagnostics",
            f"--data_dir={cifar_dir}",
            f"--log_dir={run_dir}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    notes = [line for line in done.stdout.splitlines() if line.startswith("note: ")]
    assert len(notes) == 2 and "summary_every=10, eval_every=34 for this run" in notes[0]
    assert "warming up for 10" in notes[1]
    saved = json.loads((run_dir / config_lib.CONFIG_FILENAME).read_text())
    assert (saved["summary_every"], saved["eval_every"]) == (10, 34)
    events = event_accumulator.EventAccumulator(
        str(run_dir), size_guidance={event_accumulator.TENSORS: 0}
    )
    events.Reload()
    assert [e.step for e in events.Tensors("test/accuracy")] == [34, 68, 100]
    assert [e.step for e in events.Tensors("train/loss")] == list(range(10, 101, 10))
