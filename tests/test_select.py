"""--select: a value per config chosen on validation data, never on the test set."""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cifar10_ablation import cli, files
from cifar10_ablation.reports import report
from cifar10_ablation.sweeps import grid, select

SMOKE_FLAGS = [
    "--batch_size=8",
    "--max_steps=4",
    "--summary_every=2",
    "--histogram_every=4",
    "--eval_every=4",
    "--checkpoint_every=4",
    "--steps_per_execution=2",
    "--nodiagnostics",
]


@pytest.fixture
def selection_of(parse_flags, cifar_dir, tmp_path):
    def selection(*args):
        base = [f"--data_dir={cifar_dir}", f"--log_dir={tmp_path}", *SMOKE_FLAGS]
        flag_values = parse_flags(cli.SWEEP, *base, *args)
        return flag_values, *cli.selection(flag_values)

    return selection


def test_trials_are_each_config_at_each_value_on_the_validation_split(selection_of, tmp_path):
    flag_values, plan, trials = selection_of(
        "--sweep=conv_relu=true,false",
        "--select=learning_rate=0.01,0.02",
        "--select_max_steps=6",
        "--select_validation_examples=20",
        "--select_seeds=2",
    )
    assert plan == select.Plan("learning_rate", (0.01, 0.02), 6, 20, 2)
    names = [name for name, _, _ in trials]
    assert names[:4] == [  # the hold-out leads the names (grid.py)
        "validation_examples-20_conv_relu-true_learning_rate-0.01_seed0",
        "validation_examples-20_conv_relu-true_learning_rate-0.01_seed1",
        "validation_examples-20_conv_relu-true_learning_rate-0.02_seed0",
        "validation_examples-20_conv_relu-true_learning_rate-0.02_seed1",
    ]
    assert len(trials) == 8
    for name, config, point in trials:
        assert config.log_dir == str(tmp_path / "selection" / name)
        assert (config.max_steps, config.validation_examples) == (6, 20)
        assert point == (("conv_relu", name.split("_")[3].split("-")[1]),)
    # the seeds themselves train with the base flags: every image, the sweep's steps
    runs = cli.grid_runs(flag_values)
    assert {(c.max_steps, c.validation_examples) for _, c in runs} == {(4, 0)}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--sweep=learning_rate=0.1,0.2", "--select=learning_rate=0.1"], "is swept or set"),
        (["--select=validation_examples=10"], "is swept or set by the selection"),
        (["--select=learnig_rate=0.1"], "'learnig_rate' is not a training flag"),
        (["--select=learning_rate=0.1,-1"], "--select='learning_rate=0.1,-1': -1.0 is not a non"),
    ],
)
def test_a_bad_selection_is_one_clear_error_before_anything_runs(
    selection_of, tmp_path, args, message
):
    with pytest.raises(ValueError, match=message):
        selection_of(*args)
    assert not (tmp_path / "selection").exists()


class _NoTestAccuracy(dict):
    """A results.json whose test accuracies cannot be read: selection must not need them."""

    def __getitem__(self, key):
        assert not key.startswith("test_accuracy"), f"selection read {key}"
        return super().__getitem__(key)

    def get(self, key, default=None):
        assert not key.startswith("test_accuracy"), f"selection read {key}"
        return super().get(key, default)


def _finish(trials, validation, test):
    """Writes each trial's results.json: validation and test accuracy by learning rate."""
    for _, config, _ in trials:
        rate = config.learning_rate
        folder = Path(config.log_dir)
        folder.mkdir(parents=True, exist_ok=True)
        results = {"global_step": config.max_steps, "validation_accuracy": validation[rate]}
        results |= {"test_accuracy": test[rate], "test_accuracy_raw": test[rate]}
        files.write_json_atomic(folder / "results.json", results)


def test_the_choice_is_the_best_validation_accuracy_and_never_reads_test(
    selection_of, monkeypatch, tmp_path
):
    _, plan, trials = selection_of(
        "--sweep=pool=max,avg", "--select=learning_rate=0.01,0.02,0.04", "--select_max_steps=6"
    )
    # test accuracy ranks the rates the other way round: reading it would pick 0.01
    _finish(trials, {0.01: 0.50, 0.02: 0.70, 0.04: 0.60}, {0.01: 0.90, 0.02: 0.10, 0.04: 0.20})
    load_json = files.load_json
    monkeypatch.setattr(files, "load_json", lambda path: _NoTestAccuracy(load_json(path)))
    choices = select.choose(plan, trials)
    assert {point: c["value"] for point, c in choices.items()} == {
        (("pool", "max"),): 0.02,
        (("pool", "avg"),): 0.02,
    }
    assert choices[(("pool", "max"),)]["by_value"] == {0.01: 0.5, 0.02: 0.7, 0.04: 0.6}
    text = select.write(tmp_path, plan, choices)
    assert "| pool=max | 50.00 | **70.00** | 60.00 | 0.02 |" in text
    saved = json.loads((tmp_path / "selection.json").read_text())
    assert saved["choices"][0]["value"] == 0.02 and "test" not in json.dumps(saved)


def test_unfinished_trials_are_named_and_failed_values_are_out(selection_of):
    _, plan, trials = selection_of(
        "--sweep=pool=max", "--select=learning_rate=0.01,0.02", "--select_max_steps=6"
    )
    with pytest.raises(ValueError, match="selection runs not finished: .*learning_rate-0.01"):
        select.choose(plan, trials)
    _finish(trials[1:], {0.02: 0.3}, {0.02: 0.3})
    choices = select.choose(plan, trials[1:])  # the 0.01 trial failed: left out by the sweep
    assert [c["value"] for c in choices.values()] == [0.02]
    assert list(choices.values())[0]["by_value"] == {0.02: 0.3}
    # the 0.01 trial as a results CSV records it (--recorded): read from its row
    name = trials[0][0]
    choices = select.choose(plan, trials, {name: {"run": name, "validation_accuracy": "0.4"}})
    assert list(choices.values())[0]["by_value"] == {0.01: 0.4, 0.02: 0.3}
    with pytest.raises(ValueError, match=f"recorded run {name} has no validation_accuracy"):
        select.choose(plan, trials, {name: {"run": name, "validation_accuracy": ""}})


def test_apply_sets_each_config_s_choice_and_recorded_rows_must_match_it(
    selection_of, parse_flags, tmp_path
):
    flag_values, plan, trials = selection_of(
        "--sweep=pool=max,avg", "--select=learning_rate=0.01,0.02"
    )
    choices = {(("pool", "max"),): {"value": 0.01}, (("pool", "avg"),): {"value": 0.02}}
    runs = select.apply(plan, cli.grid_runs(flag_values), choices, cli.grid_axes(flag_values))
    assert [(name, c.learning_rate) for name, c in runs] == [
        ("pool-max_seed0", 0.01),
        ("pool-avg_seed0", 0.02),
    ]
    recorded = tmp_path / "recorded.csv"
    head = "conv_activation,fc_activation,pool,lrn,learning_rate,run,seed,global_step\n"
    recorded.write_text(head + "relu,relu,max,true,0.04,pool-max_seed0,0,4\n")
    assert set(grid.recorded_rows(runs, recorded, ("learning_rate",))) == set()
    recorded.write_text(head + "relu,relu,max,true,0.01,pool-max_seed0,0,4\n")
    assert set(grid.recorded_rows(runs, recorded, ("learning_rate",))) == {"pool-max_seed0"}
    no_rate = head.replace("learning_rate,", "") + "relu,relu,max,true,pool-max_seed0,0,4\n"
    recorded.write_text(no_rate)
    # no rate: cannot tell
    assert set(grid.recorded_rows(runs, recorded, ("learning_rate",))) == set()


def test_a_selection_sweep_chooses_then_trains_the_seeds_at_the_choice(cifar_dir, tmp_path):
    command = [
        sys.executable,
        "-m",
        "cifar10_ablation.sweep",
        f"--data_dir={cifar_dir}",
        *SMOKE_FLAGS,
        "--sweep=pool=max,avg",
        "--select=learning_rate=0.001,0.05",
        "--select_validation_examples=20",
    ]
    done = subprocess.run(
        [*command, f"--log_dir={tmp_path}"], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    chosen = json.loads((tmp_path / "selection.json").read_text())["choices"]
    assert len(chosen) == 2 and (tmp_path / "selection.md").exists()
    for choice in chosen:
        run = tmp_path / f"pool-{choice['config']['pool']}_seed0"
        config = json.loads((run / "config.json").read_text())
        assert config["learning_rate"] == choice["value"] and config["validation_examples"] == 0
        pool = choice["config"]["pool"]
        trial = (
            tmp_path / "selection" / f"validation_examples-20_pool-{pool}_learning_rate-0.05_seed0"
        )
        assert json.loads((trial / "config.json").read_text())["validation_examples"] == 20
    assert "| pool=max |" in done.stdout and "trained 2" in done.stdout
    # results.csv records the chosen rate, even once it is the same in every row
    shutil.rmtree(tmp_path / f"pool-{chosen[1]['config']['pool']}_seed0")
    report_only = [sys.executable, "-m", "cifar10_ablation.sweep", "--report_only",
                   f"--log_dir={tmp_path}"]  # fmt: skip
    subprocess.run(report_only, check=True, capture_output=True, timeout=600)
    with open(tmp_path / "results.csv") as rows:
        [row] = list(csv.DictReader(rows))
    assert float(row["learning_rate"]) == chosen[0]["value"]
    # On a machine laid anew, with the trials and seeds the repo records: nothing trains, and
    # the choice is read from the trials' rows
    trials = tmp_path / "trials.csv"
    report.write_csv(trials, report.collect(tmp_path / "selection"))
    anew = tmp_path / "anew"
    done = subprocess.run(
        [*command, f"--log_dir={anew}", f"--recorded={trials}",
         f"--recorded={tmp_path / 'results.csv'}"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "selection: trained 0, already finished 4, failed 0" in done.stdout
    assert json.loads((anew / "selection.json").read_text())["choices"] == chosen
