"""The long-run scripts (docs/logs/<name>/run.sh): on a machine laid anew (no $RUNS) each sweep
skips the runs its committed CSV records, and a sweep with no CSV yet still starts."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

LOGS = Path(__file__).resolve().parent.parent / "docs" / "logs"
# Stands in for python: prints the command line the script would run, trains nothing.
FAKE_PYTHON = '#!/bin/bash\necho "python $*"\n'


def _commands(tmp_path, script, *committed):
    """The python command lines `script` runs from a repo root holding only the scripts and
    the `committed` CSVs under docs/."""
    (tmp_path / "docs" / "logs" / script).mkdir(parents=True)
    shutil.copy(LOGS / "stages.sh", tmp_path / "docs" / "logs")
    shutil.copy(LOGS / script / "run.sh", tmp_path / "docs" / "logs" / script)
    for name in committed:
        (tmp_path / "docs" / name).write_text("run,seed\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text(FAKE_PYTHON)
    (bin_dir / "python").chmod(0o755)
    (bin_dir / "git").write_text("#!/bin/bash\necho abc1234\n")  # the start line's commit
    (bin_dir / "git").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "RUNS": str(tmp_path / "r")}
    done = subprocess.run(
        ["bash", f"docs/logs/{script}/run.sh"], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line.startswith("python ")]


@pytest.mark.parametrize("script", sorted(p.parent.name for p in LOGS.glob("*/run.sh")))
def test_every_run_script_parses(script):
    done = subprocess.run(["bash", "-n", LOGS / script / "run.sh"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_long_runs_skip_what_results_long_csv_records_once_it_exists(tmp_path):
    before = _commands(tmp_path / "fresh", "long")
    assert len(before) == 4 and not any("--recorded" in c for c in before)
    after = _commands(tmp_path / "committed", "long", "results_long.csv")
    assert all("--recorded=docs/results_long.csv" in c for c in after)


def test_each_bigger_net_skips_what_its_own_csv_records(tmp_path):
    commands = _commands(tmp_path, "depth", "depth_resnet18.csv")
    resnet18 = [c for c in commands if "--flagfile=flags/resnet18.flags" in c]
    others = [c for c in commands if c not in resnet18]
    assert resnet18 and all("--recorded=docs/depth_resnet18.csv" in c for c in resnet18)
    assert others and not any("--recorded" in c for c in others)


def test_the_learning_rate_seeds_skip_those_committed_at_a_chosen_rate(tmp_path):
    commands = _commands(
        tmp_path, "lr", "results_fast.csv", "results_fast_lr.csv", "selection_fast.csv"
    )
    seeds = [c for c in commands if "--select=" in c]
    assert len(seeds) == 2
    assert all("--recorded=docs/results_fast_lr.csv" in c for c in seeds)
    # and their choice reads the committed trials, as stage 1 skips them
    trials = [c for c in commands if "lr/selection" in c]
    assert len(trials) == 2
    assert all("--recorded=docs/selection_fast.csv" in c for c in [*seeds, *trials])
    full_length = [c for c in commands if "full_length" in c]
    assert full_length and not any("--recorded" in c for c in full_length)


@pytest.mark.parametrize("script", sorted(p.parent.name for p in LOGS.glob("*/run.sh")))
def test_on_a_machine_laid_anew_every_sweep_skips_what_the_repo_records(script, tmp_path):
    """With every committed CSV beside it, no sweep of a run script trains without one: the
    first stage on a machine laid anew that had no --recorded trained again for hours."""
    text = (LOGS / script / "run.sh").read_text()
    # and the CSVs the script names that are not committed yet (docs/depth_$net.csv: a net's)
    named = re.findall(r"docs/(\w+\.csv)", text)
    flagfiles = (LOGS.parent.parent / "flags").glob("*.flags")
    named += [
        f"{p}_{f.stem}.csv" for p in re.findall(r"docs/(\w+)_\$net\.csv", text) for f in flagfiles
    ]
    committed = {*(p.name for p in LOGS.parent.glob("*.csv")), *named}
    commands = _commands(tmp_path, script, *committed)
    assert commands and all("--recorded=docs/" in c for c in commands)
