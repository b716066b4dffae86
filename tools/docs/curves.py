"""Each run's compact curve, read from its TensorBoard events, for the docs.

    rows = sweep_curves(RUNS / "fast")            # [{run, step, train_loss, ...}, ...]
    merge_csv(Path("docs/curves_fast.csv"), rows)  # a run's rows replace its committed ones
    plot(Path("docs/curves_fast.png"), read_csv(...), "fast preset")

A row per evaluation of a run: the step, the training loss logged at that step (train/loss, the
mean since the previous summary), and the validation and test accuracy (averaged weights) the
run evaluated there (empty where it did not). So a convergence claim ("the tutorial schedule is
worth +0.0 points over the fast preset") can be checked against the curves it rests on.
collect.py writes the CSVs from the long runs' folders; build_docs.py draws a plot per CSV. The
runs whose folders are gone (a machine since laid anew) are read from their trimmed queue logs
instead (`log_curve`).
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


def results_csv(curves_csv):
    """The results CSV a curves CSV was collected beside (`csv_name`'s inverse)."""
    path = Path(curves_csv)
    return path.with_name(f"{path.stem.removeprefix(PREFIX)}.csv")


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


# The lines of a trimmed queue log (collect.trim keeps them) that a curve is read from: a run's
# start (its folder under the queue's default RUNS, ~/runs), its step lines (every 5,000th and
# the last: the loss is the mean since the previous line, as train/loss) and its evaluations.
_LOG_RUN = re.compile(r"^~/runs/(\S+)/([^/\s]+): training \S+ from step (\d+) to \d+ ")
_LOG_STEP = re.compile(r"^step +(\d+)/\d+ +loss (\S+) ")
_LOG_EVAL = re.compile(r"^step (\d+): (validation|test) accuracy (\S+) \(averaged\)")
_LOG_DIGITS = 4  # the log's accuracies are rounded to 4 decimals


def log_segments(texts):
    """[(folder, run, first step, {step: row})] of trimmed queue logs (oldest first), in order:
    each stretch one process trained a run, from its "training ... from step N" line to the
    next run's or stage's line."""
    segments, current = [], None
    for text in texts:
        for line in text.splitlines():
            start = _LOG_RUN.match(line)
            if start or line.startswith("== "):
                current = None
            if start:
                current = (start[1], start[2], int(start[3]), {})
                segments.append(current)
                continue
            step, evaluation = _LOG_STEP.match(line), _LOG_EVAL.match(line)
            if current is None or not (step or evaluation):
                continue
            at = int((step or evaluation)[1])
            row = current[3].setdefault(at, dict.fromkeys(COLUMNS[2:]))
            if step:
                row["train_loss"] = float(step[2])
            else:
                row[f"{evaluation[2]}_accuracy"] = float(evaluation[3])
    return segments


def log_curve(segments, folder, run, final_step, test_accuracy):
    """The run's curve from `log_segments` ([{step, train_loss, ...}] at each evaluated step),
    or None when no stretch of folder/run ends at final_step with test_accuracy (to the log's
    4 decimals): a folder may have held an earlier run of that name (fast/ held the first fast
    preset's), whose stretches are not this run's. The last stretch that matches is the run's
    end; the stretches before it that each began earlier join it (a resumed run), back to step
    0, each cut at the step the next one resumed from."""
    own = [s for s in segments if s[:2] == (folder, run)]
    ends = [
        i
        for i, (*_, rows) in enumerate(own)
        if rows
        and max(rows) == final_step
        and rows[final_step]["test_accuracy"] is not None
        and round(test_accuracy, _LOG_DIGITS) == rows[final_step]["test_accuracy"]
    ]
    if not ends:
        return None
    chain = [own[ends[-1]]]
    for earlier in reversed(own[: ends[-1]]):
        if chain[0][2] == 0:
            break
        if earlier[2] < chain[0][2]:
            chain.insert(0, earlier)
    if chain[0][2] != 0:
        return None  # the run's first steps were logged nowhere committed
    curve = {}
    for (*_, first, rows), following in zip(chain, [*chain[1:], None], strict=True):
        until = following[2] if following else final_step + 1
        curve.update({at: row for at, row in rows.items() if first < at <= until})
    return [
        {"step": at, **row}
        for at, row in sorted(curve.items())
        if row["validation_accuracy"] is not None or row["test_accuracy"] is not None
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


def run_settings(results_csv):
    """{run: {setting: value}} of a results CSV: its config columns (reports/report.py writes
    them ahead of "run") and the seed."""
    with open(results_csv, newline="") as f:
        reader = csv.DictReader(f)
        names = [*reader.fieldnames[: reader.fieldnames.index("run")], "seed"]
        return {row["run"]: {name: row[name] for name in names} for row in reader}


def differing(runs, settings):
    """The settings (`run_settings`) whose value differs between the `runs` it knows, in order."""
    known = [settings[run] for run in runs if run in settings]
    return [name for name in (known[0] if known else {}) if len({s[name] for s in known}) > 1]


def labels(runs, settings, named=None):
    """{run: "setting=value ..." for each setting whose value differs between `runs`}: the
    legend names what differs. Read from the results CSV (`run_settings`), not parsed from the
    folder names: their parts may hold "_", and two sweeps that trained alike may name their
    folders with different prefixes. A run whose settings hold one of `named`'s ({name:
    {setting: value}}: the docs' named configs) is called by that name instead of those
    settings; a run `settings` lacks keeps its folder name."""
    differ = differing(runs, settings)
    found = {}
    for run in runs:
        own = settings.get(run, {})
        name = next(
            (n for n, held in (named or {}).items() if own and held.items() <= own.items()), None
        )
        shown = [f"{k}={own[k]}" for k in differ if own and not (name and k in named[name])]
        found[run] = " ".join(([name] if name else []) + shown) or run
    return found


# A hue per group of runs that share all but the last differing setting (a config of a selection
# sweep), shaded by that last one (its rates): 20 runs stay told apart.
_HUES = ("Blues", "Oranges", "Greens", "Reds", "Purples", "Greys")


def colours(runs, settings):
    """{run: RGBA}: runs in legend order, a hue per group, a shade per run within it."""
    import matplotlib

    differ = differing(runs, settings)
    groups = {}
    for run in runs:
        own = settings.get(run)
        groups.setdefault(tuple(own[n] for n in differ[:-1]) if own else run, []).append(run)
    found = {}
    for index, group in enumerate(groups.values()):
        hue = matplotlib.colormaps[_HUES[index % len(_HUES)]]
        for position, run in enumerate(group):
            found[run] = hue(0.45 + 0.5 * position / max(1, len(group) - 1))
    return found


def plot(path, rows, title, settings, named_configs=None):
    """Accuracy against step, a line per run: validation dots joined, test crosses in the same
    colour (averaged weights); the legend names each run once, by what differs (`labels`), in
    that order, coloured by `colours`."""
    from cifar10_ablation import plots

    named = labels({row["run"] for row in rows}, settings, named_configs)
    runs = sorted(named, key=named.get)
    with plots.figure(path, (9, 4.5), dpi=110, metadata={"Software": None}) as axis:
        for run, colour in colours(runs, settings).items():
            own = [row for row in rows if row["run"] == run]
            label = named[run]  # once, on the run's first line
            for column, style in (("validation_accuracy", ".-"), ("test_accuracy", "--x")):
                points = [(r["step"], 100 * r[column]) for r in own if r[column] is not None]
                if points:
                    steps, values = zip(*points, strict=True)
                    axis.plot(steps, values, style, linewidth=1, color=colour, label=label)
                    label = None
        axis.set_xlabel("step")
        axis.set_ylabel("accuracy, averaged weights (%)")
        axis.set_title(f"{title} (dots: validation; crosses: test)", fontsize=9)
        axis.grid(alpha=0.3)
        # beside the axes, not over the curves: a selection sweep has 20 runs
        axis.legend(fontsize=5, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
