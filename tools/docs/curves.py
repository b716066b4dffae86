"""Each run's compact curve, read from its TensorBoard events, for the docs.

    rows = sweep_curves(RUNS / "fast")            # [{run, step, train_loss, ...}, ...]
    merge_csv(Path("docs/curves_fast.csv"), rows)  # a run's rows replace its committed ones
    plot(Path("docs/curves_fast.png"), read_csv(...), "fast preset")

A row per evaluation of a run: the step, the training loss logged at that step (train/loss, the
mean since the previous summary), and the validation and test accuracy (averaged weights) the
run evaluated there (empty where it did not). So a convergence claim ("schedule length is worth
+0.0 points") can be checked against the curve it rests on. collect.py writes the CSVs from the
long runs' folders; build_docs.py draws a plot per CSV.
"""

import csv
import re
from pathlib import Path

from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util

COLUMNS = ("run", "step", "train_loss", "validation_accuracy", "test_accuracy")
PREFIX = "curves_"  # docs/curves_<results CSV's stem>.csv, and its plot beside it
TAGS = {
    "train_loss": "train/loss",
    "validation_accuracy": "validation/accuracy",
    "test_accuracy": "test/accuracy",
}


def csv_name(results_csv):
    """The curves CSV committed beside a results CSV (collect.py writes it)."""
    return f"{PREFIX}{Path(results_csv).stem}.csv"


def plot_name(curves_csv):
    """The plot build_docs.py draws of a curves CSV."""
    return f"{Path(curves_csv).stem}.png"


def run_curve(run_dir):
    """[{step, train_loss, validation_accuracy, test_accuracy}] at each evaluated step."""
    accumulator = event_accumulator.EventAccumulator(
        str(run_dir),
        size_guidance={event_accumulator.TENSORS: 0},
        purge_orphaned_data=False,
    )
    accumulator.Reload()
    tags = set(accumulator.Tags()["tensors"])
    series = {
        column: {
            event.step: float(tensor_util.make_ndarray(event.tensor_proto))
            for event in accumulator.Tensors(tag)
        }
        for column, tag in TAGS.items()
        if tag in tags
    }
    evaluated = sorted(
        set(series.get("validation_accuracy", {})) | set(series.get("test_accuracy", {}))
    )
    losses = series.get("train_loss", {})
    rows = []
    for step in evaluated:
        loss_steps = [s for s in losses if s <= step]
        row = {"step": step, "train_loss": losses[max(loss_steps)] if loss_steps else None}
        for column in ("validation_accuracy", "test_accuracy"):
            row[column] = series.get(column, {}).get(step)
        rows.append(row)
    return rows


def sweep_curves(folder):
    """The curves of every finished run (one with results.json) in a sweep folder."""
    return [
        {"run": results.parent.name, **row}
        for results in sorted(Path(folder).glob("*/results.json"))
        for row in run_curve(results.parent)
    ]


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["step"] = int(row["step"])
        for column in COLUMNS[2:]:
            row[column] = float(row[column]) if row[column] else None
    return rows


def merge_csv(path, rows):
    """path's rows with the given runs' rows replacing theirs (other runs' rows kept)."""
    runs = {row["run"] for row in rows}
    kept = [
        row for row in (read_csv(path) if Path(path).exists() else []) if row["run"] not in runs
    ]
    merged = sorted(kept + rows, key=lambda row: (row["run"], row["step"]))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in merged:
            writer.writerow({k: ("" if row[k] is None else row[k]) for k in COLUMNS})
    return merged


_NAME_PART = re.compile(r"[a-z][a-z0-9_]*?-[^_]+|seed\d+")  # "conv_relu-true", "seed0"


def labels(runs):
    """{run: its name without the key-value parts every run shares}: the legend names what
    differs (a name it cannot split into parts stays whole)."""
    parts = {run: _NAME_PART.findall(run) for run in runs}
    split = {run: p for run, p in parts.items() if "_".join(p) == run}
    shared = set.intersection(*map(set, split.values())) if split else set()
    named = {run: "_".join(p for p in own if p not in shared) for run, own in split.items()}
    return {run: named.get(run) or run for run in runs}


def plot(path, rows, title):
    """Accuracy against step, a line per run: validation dots joined, test crosses in the same
    colour (averaged weights); the legend names each run once."""
    from cifar10_ablation import plots

    runs = sorted({row["run"] for row in rows})
    named = labels(runs)
    with plots.figure(path, (9, 4.5), dpi=110, metadata={"Software": None}) as axis:
        for run in runs:
            own = [row for row in rows if row["run"] == run]
            colour = None  # the run's validation line's, for its test points
            for column, style in (("validation_accuracy", ".-"), ("test_accuracy", "--x")):
                points = [(r["step"], 100 * r[column]) for r in own if r[column] is not None]
                if points:
                    steps, values = zip(*points, strict=True)
                    [line] = axis.plot(
                        steps,
                        values,
                        style,
                        linewidth=1,
                        color=colour,
                        label=named[run] if colour is None else None,
                    )
                    colour = line.get_color()
        axis.set_xlabel("step")
        axis.set_ylabel("accuracy, averaged weights (%)")
        axis.set_title(f"{title} (dots: validation; crosses: test)", fontsize=9)
        axis.grid(alpha=0.3)
        # beside the axes, not over the curves: a selection sweep has 20 runs
        axis.legend(fontsize=5, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
