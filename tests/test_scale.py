"""The activation scale: positions, their interval, the degenerate case, the preset, the plot."""

import json
import subprocess
import sys

import pytest

from cifar10_ablation import cli, switches
from cifar10_ablation.reports import report, scale, verdicts


def _row(activation, accuracy, pool="avg", seed=0):
    """A flat row as report.collect and report.read_csv make them."""
    return {"conv_activation": activation, "pool": pool, "seed": seed, "test_accuracy": accuracy}


def test_positions_on_hand_made_results():
    rows = [_row("linear", 0.40), _row("relu", 0.80), _row("tanh", 0.70), _row("abs", 0.30)]
    entries = scale.positions(rows, "conv_activation", ["conv_activation"])
    by_name = {e["activation"]: e for e in entries}
    assert by_name["linear"]["position"] == 0 and by_name["relu"]["position"] == 1
    assert by_name["tanh"]["position"] == pytest.approx(0.75)
    assert by_name["abs"]["position"] == pytest.approx(-0.25)
    assert all(e["low"] is None for e in entries)  # one seed each: no interval
    assert scale.interval_text(by_name["tanh"]) == "none: n < 3"
    assert scale.interval_text(by_name["relu"]) == "(end of the scale)"
    assert [e["activation"] for e in entries] == ["abs", "linear", "tanh", "relu"]


def test_seeds_give_an_interval_around_the_mean_position():
    rows = [_row("linear", a, seed=i) for i, a in enumerate([0.38, 0.40, 0.42])]
    rows += [_row("relu", a, seed=i) for i, a in enumerate([0.78, 0.81, 0.81])]
    rows += [_row("elu", a, seed=i) for i, a in enumerate([0.57, 0.61, 0.62])]
    by_name = {
        e["activation"]: e for e in scale.positions(rows, "conv_activation", ["conv_activation"])
    }
    elu = by_name["elu"]
    assert elu["position"] == pytest.approx(0.5) and elu["n"] == 3 and elu["method"] == "paired"
    assert elu["low"] < 0.5 < elu["high"] and elu["high"] - elu["low"] < 0.2
    assert by_name["linear"]["low"] is None and by_name["relu"]["position"] == 1


def test_an_activation_with_two_seeds_gets_no_interval():
    rows = [_row("linear", a, seed=i) for i, a in enumerate([0.38, 0.40, 0.42])]
    rows += [_row("relu", a, seed=i) for i, a in enumerate([0.78, 0.80, 0.82])]
    rows += [_row("elu", a, seed=i) for i, a in enumerate([0.55, 0.65])]
    elu = scale.positions(rows, "conv_activation", ["conv_activation"])[1]
    assert elu["activation"] == "elu" and elu["low"] is None and elu["high"] is None


def test_positions_are_per_context():
    rows = [
        _row("linear", 0.4),
        _row("relu", 0.8),
        _row("tanh", 0.6),
        _row("linear", 0.7, "max"),
        _row("relu", 0.8, "max"),
        _row("tanh", 0.75, "max"),
    ]
    entries = scale.positions(rows, "conv_activation", ["conv_activation", "pool"])
    tanh = {e["context"]["pool"]: e["position"] for e in entries if e["activation"] == "tanh"}
    assert tanh == {"avg": pytest.approx(0.5), "max": pytest.approx(0.5)}


def test_a_tie_between_relu_and_linear_is_a_clear_error():
    rows = [_row("linear", 0.5), _row("relu", 0.5), _row("tanh", 0.6)]
    with pytest.raises(scale.DegenerateScale, match="relu and linear tie .*no positions"):
        scale.positions(rows, "conv_activation", ["conv_activation"])


TIE = (
    "relu and linear tie (50.00% each): the scale from nothing to ReLU has no length here, so no "
    "positions"
)


def test_a_tie_writes_its_reason_and_no_table(tmp_path):
    rows = [
        {**_row(activation, accuracy, seed=seed), "run": f"{activation}_seed{seed}"}
        for seed in range(3)
        for activation, accuracy in (("linear", 0.5), ("relu", 0.5), ("tanh", 0.6))
    ]
    entries, text, positions = scale.write(tmp_path, rows, ["conv_activation"])
    assert (entries, positions) == ([], {})
    assert text == f"\nactivation scale: {TIE}\n"
    assert (tmp_path / "scale.md").read_text() == f"{TIE}\n"
    assert not (tmp_path / "scale.png").exists()


def test_relu_against_linear_alone_is_no_scale(tmp_path):
    """A plain two-config conv-ReLU sweep is a comparison: no scale table, file or positions,
    even where the two tie."""
    for tie in (False, True):
        rows = [
            {**_row(activation, accuracy, seed=seed), "run": f"{activation}_seed{seed}"}
            for seed in range(3)
            for activation, accuracy in (("linear", 0.4), ("relu", 0.4 if tie else 0.8))
        ]
        assert scale.scale_field(["conv_activation"], rows) is None
        assert scale.write(tmp_path, rows, ["conv_activation"]) == ([], "", {})
        assert not (tmp_path / "scale.md").exists()


def test_a_two_config_sweeps_report_prints_no_scale_table(tmp_path):
    for activation, accuracies in (("relu", [0.98, 0.99, 0.6]), ("linear", [0.02, 0.01, 0.4])):
        for seed, accuracy in enumerate(accuracies):
            config = {"conv_activation": activation, "fc_activation": "linear", "pool": "avg"}
            config["seed"] = seed
            (tmp_path / f"{activation}{seed}").mkdir()
            (tmp_path / f"{activation}{seed}" / "results.json").write_text(
                json.dumps({"config": config, "global_step": 4, "test_accuracy": accuracy})
            )
    text, positions = report.report(tmp_path)
    assert "position" not in text and "activation scale" not in text and positions == {}
    assert not (tmp_path / "scale.md").exists()
    assert json.loads((tmp_path / "summary.json").read_text())["scale"] == []
    # the means' t intervals, [30.4, 140.9]% and [-40.9, 69.6]% unclipped, stay within [0, 100]
    assert "| linear | 14.3 | 22.2 | 3 | [0.0, 69.6] |" in text
    assert "| relu | 85.7 | 22.2 | 3 | [30.4, 100.0] |" in text
    assert verdicts.MEAN_INTERVAL_NOTE in text and "clipped to [0, 100]%" in text


def test_the_plot_is_written(tmp_path):
    rows = [_row("linear", 0.4), _row("relu", 0.8), _row("gelu", 0.79)]
    entries = scale.positions(rows, "conv_activation", ["conv_activation"])
    scale.plot(tmp_path / "scale.png", entries, "test")
    assert (tmp_path / "scale.png").read_bytes()[:4] == b"\x89PNG"
    table = scale.table(entries, "conv_activation")
    assert "| all | gelu | 1 | 79.0 | 0.97 | none: n < 3 |" in table


def test_the_preset_expands_to_the_activation_grid(parse_flags, cifar_dir, tmp_path):
    args = ["--flagfile=flags/activation_scale.flags", "--seeds=2", f"--data_dir={cifar_dir}"]
    runs = cli.grid_runs(parse_flags(cli.SWEEP, *args, f"--log_dir={tmp_path}"))
    assert (
        len(runs) == 2 * len(switches.SCALE_ACTIVATIONS) and len(switches.SCALE_ACTIVATIONS) >= 10
    )
    assert {c.switches.conv_activation for _, c in runs} == set(switches.SCALE_ACTIVATIONS)
    assert {(c.switches.fc_activation, c.switches.pool) for _, c in runs} == {("linear", "avg")}
    assert runs[0][0] == "conv_activation-linear_seed0"


def test_scale_sweep_reports_positions(cifar_dir, tmp_path):
    sweep_dir = tmp_path / "scale"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cifar10_ablation.sweep",
            "--flagfile=flags/activation_scale.flags",
            "--activations=linear,relu,tanh",
            f"--data_dir={cifar_dir}",
            f"--log_dir={sweep_dir}",
            "--batch_size=8",
            "--max_steps=3",
            "--summary_every=3",
            "--eval_every=3",
            "--histogram_every=3",
            "--steps_per_execution=3",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    written = (sweep_dir / "scale.md").read_text()
    if "relu and linear tie" not in done.stdout:  # 3 steps on noise may tie: then said so
        header = "| context | conv_activation | n | test accuracy % | position | 95% interval |"
        assert written.startswith(header) and header in done.stdout
        assert {"| all | linear |", "| all | relu |", "| all | tanh |"} <= {
            line[: line.index(" |", 8) + 2] for line in written.splitlines()[2:]
        }
        assert (sweep_dir / "scale.png").exists()
    else:
        assert written.startswith("relu and linear tie (") and written.endswith("no positions\n")
        assert f"activation scale: {written}" in done.stdout
        assert not (sweep_dir / "scale.png").exists()
