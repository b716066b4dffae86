"""The sweep's report: every finished run of a sweep folder summarized, compared and plotted.

    python -m cifar10_ablation.sweep --report_only --log_dir=tensorboard_logs/grid

Every */results.json under the folder becomes a flat row (the config's switches and varying
fields as text, the results as numbers) in results.csv; summary.json holds what the tables say:
per config n, mean, sd, min, max, the 95% t interval of the mean (none below stats.MIN_SEEDS
seeds, clipped to [0, 100]%) and the mean final pool-window fractions, and every one-switch
comparison (paired by seed where the seeds match, Welch's otherwise). The comparisons of one
report are one family: their verdicts are Holm-adjusted (stats.holm_adjust) and the report says
over how many. results.md is the table and the comparison sentences, results.png a bar per
config and a point per seed; a sweep of activations beyond linear and relu adds the activation
scale (scale.write). The repository's own docs are built from the same rows, read
back from committed CSVs (tools/docs/build_docs.py).
"""

import csv
import dataclasses
import statistics
from pathlib import Path

from cifar10_ablation import config as config_lib
from cifar10_ablation import files, host, switches
from cifar10_ablation.reports import figure, markdown, scale, stats, verdicts

# Config columns every results.csv has, whether they vary or not, in the switches' order;
# varying fields follow.
SWITCH_COLUMNS = ("conv_activation", "fc_activation", "pool", "lrn")
# Columns of results.csv after the config columns.
RUN_COLUMNS = (
    "run",
    "seed",
    "global_step",
    "test_accuracy",
    "test_accuracy_raw",
    "validation_accuracy",  # averaged weights, on the hold-out (none without one)
    "activation_units",  # elements per image through a non-identity activation
    "max_pool_windows",
    "train_seconds_total",
    "wall_seconds",
    "train_images_per_second",
    "cpu",  # host.cpu_label: the times above compare only between runs of one CPU
    "tensorflow",  # the version that trained it
    "data_sha256",  # what it trained on (data/cifar10.py; docs/DATA.md)
)
# The final pool-window diagnostics (diagnostics.py): column -> results.json key.
WINDOW_COLUMNS = {
    f"{pool} {kind}": f"diagnostics/{pool}_{tag}_windows"
    for pool in ("pool1", "pool2")
    for kind, tag in (("all-negative", "all_negative"), ("mixed-sign", "mixed_sign"))
}
_NOT_CONFIG = {*RUN_COLUMNS, *WINDOW_COLUMNS}
TEXT_COLUMNS = {"run", "cpu", "tensorflow", "data_sha256"}  # the run columns that are no numbers
UNRECORDED_CPU = "CPU not recorded"


def collect(sweep_dir, always=()):
    """Every finished run under sweep_dir as a flat row, sorted by run directory name. Config
    columns: the switches, those set anywhere, the fields the finished runs or the sweep's grid
    (its sweep.json) vary, and `always` (a flag chosen per config), whether they vary or not."""
    found = []
    for path in sorted(Path(sweep_dir).glob(f"*/{config_lib.RESULTS_FILENAME}")):
        results = files.load_json(path)
        evaluated = path.parent / config_lib.EVAL_FILENAME
        if "diagnostics" not in results and evaluated.exists():  # a run from before diagnostics
            at_end = files.load_json(evaluated)
            if at_end.get("global_step") == results["global_step"]:
                results["diagnostics"] = at_end.get("diagnostics")
        # Runs saved before a field existed take its default; before distribution, one replica.
        config = config_lib.RunConfig.from_dict(results["config"])
        config = dataclasses.replace(config, replicas=config.replicas or 1)
        found.append((path.parent.name, config, results))
    if not found:
        raise ValueError(
            f"no finished runs under {sweep_dir} (no */{config_lib.RESULTS_FILENAME}); "
            "run the sweep first"
        )
    varying = config_lib.varying_fields([config for _, config, _ in found])
    # and what the sweep's whole grid varies: a report of a sweep in progress, or of one rate
    # of a learning-rate grid, still names its axes (columns a later report would add)
    plan = Path(sweep_dir) / config_lib.SWEEP_FILENAME
    planned = files.load_json(plan).get("varying_fields", []) if plan.exists() else []
    # The other switches (the ResNets') where a run sets one: a CSV without them is of defaults.
    set_anywhere = [
        name
        for name, default in switches.SWITCH_DEFAULTS.items()
        if any(getattr(config.switches, name) != default for _, config, _ in found)
    ]
    columns = list(dict.fromkeys([*SWITCH_COLUMNS, *set_anywhere, *varying, *planned, *always]))
    rows = []
    for name, config, results in found:
        flat = config.to_dict()
        row = {c: switches.value_name(flat[c]) for c in columns}
        row.update(run=name, seed=config.seed)
        row.update({c: results.get(c) for c in RUN_COLUMNS[2:]})
        row["cpu"] = host.cpu_label(results.get("host"))
        row["tensorflow"] = (results.get("versions") or {}).get("tensorflow")
        measured = results.get("diagnostics") or {}
        row.update({c: measured.get(key) for c, key in WINDOW_COLUMNS.items()})
        rows.append(row)
    return rows


def write_csv(path, rows):
    """One row per run: the config columns, RUN_COLUMNS and WINDOW_COLUMNS."""
    columns = [*config_columns(rows), *RUN_COLUMNS, *WINDOW_COLUMNS]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows([row.get(c) for c in columns] for row in rows)


def read_csv(path):
    """Flat rows from a results.csv (this module's or a committed one); numbers parsed."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    missing = [c for c in ("seed", "test_accuracy") if rows and c not in rows[0]]
    if not rows or missing:
        raise ValueError(f"{path} has no runs or lacks the columns {', '.join(missing)}")
    for row in rows:
        for column in row.keys() & _NOT_CONFIG - TEXT_COLUMNS:
            text = row[column]
            number = None if text in ("", None) else float(text)
            row[column] = int(number) if column in ("seed", "global_step") else number
    return rows


def config_columns(rows):
    return [c for c in rows[0] if c not in _NOT_CONFIG]


def summarize(rows):
    """What the tables and sentences say about these runs (JSON-ready)."""
    columns = config_columns(rows)
    fields = [c for c in columns if len({row[c] for row in rows}) > 1]
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row[c] for c in columns), []).append(row)
    configs = []
    for key, group in groups.items():
        by_seed = {row["seed"]: row["test_accuracy"] for row in group}
        windows = {}
        for column in WINDOW_COLUMNS:  # mean over the runs that measured it
            values = [row[column] for row in group if row.get(column) is not None]
            windows[column] = statistics.fmean(values) if values else None
        configs.append(
            {
                "config": dict(zip(columns, key, strict=True)),
                **stats.describe(by_seed.values()),
                "min": min(by_seed.values()),
                "max": max(by_seed.values()),
                "accuracies": by_seed,
                "windows": windows,
            }
        )
    raw = [abs(r["test_accuracy_raw"] - r["test_accuracy"]) for r in rows if _has(r, "raw")]
    return {
        "fields": fields,
        "constant": {c: rows[0][c] for c in columns if c not in fields},
        "configs": configs,
        "comparisons": comparisons(fields, configs),
        "steps": sorted({r["global_step"] for r in rows if r.get("global_step") is not None}),
        "runs": len(rows),
        "raw_vs_averaged_max": max(raw) if raw else None,
        "run_seconds_by_cpu": seconds_by_cpu(rows),
    }


def seconds_by_cpu(rows):
    """{CPU label: [shortest, longest] run_seconds} of the timed rows, fastest CPU first: times
    from two CPUs do not mix."""
    found = {}
    for row in rows:
        if row.get("wall_seconds") is not None:
            found.setdefault(row.get("cpu") or UNRECORDED_CPU, []).append(run_seconds(row))
    return {cpu: [min(s), max(s)] for cpu, s in sorted(found.items(), key=lambda i: min(i[1]))}


def run_seconds(row):
    """A run's time: its wall time, or its training time summed over restarts where that is
    longer (the wall time of a resumed run counts only its last invocation)."""
    return max(row.get("wall_seconds") or 0, row.get("train_seconds_total") or 0)


def _has(row, kind):
    return row.get(f"test_accuracy_{kind}") is not None


def comparisons(fields, configs):
    """Configs differing in one field, within each setting of the others: a field with two
    values is one comparison; with more, neighbours in accuracy order (higher first). All of
    them are one family, Holm-adjusted (stats.holm_adjust)."""
    found = []
    for field in fields:
        contexts = {}
        for c in configs:
            context = tuple((f, c["config"][f]) for f in fields if f != field)
            contexts.setdefault(context, []).append(c)
        for context, members in contexts.items():
            ordered = sorted(members, key=lambda c: -c["mean"])
            for high, low in zip(ordered, ordered[1:], strict=False):
                found.append(
                    {
                        "field": field,
                        "context": dict(context),
                        "a": high["config"][field],
                        "b": low["config"][field],
                        **stats.compare(high["accuracies"], low["accuracies"]),
                    }
                )
    return stats.holm_adjust(found)


def config_table(summary):
    """Per config: mean, sd, n, 95% interval, min, max and the measured pool-window fractions."""
    fields, configs = summary["fields"], summary["configs"]
    windows = [c for c in WINDOW_COLUMNS if any(s["windows"][c] is not None for s in configs)]
    header = [*fields, "mean %", "sd", "n", "95% interval", "min %", "max %"]
    header += [f"{c} %" for c in windows]
    rows = []
    for s in configs:
        cells = [s["config"][f] for f in fields]
        cells += [
            markdown.percent(s["mean"]),
            markdown.percent(s["sd"]),
            str(s["n"]),
            markdown.interval(s["low"], s["high"]),
        ]
        cells += [
            markdown.percent(s["min"]),
            markdown.percent(s["max"]),
            *(markdown.percent(s["windows"][c]) for c in windows),
        ]
        rows.append(cells)
    return markdown.table(header, rows) + "\n"


def report(sweep_dir, always=()):
    """Writes results.csv, summary.json, results.md, results.png (and the activation scale,
    when swept) under sweep_dir; returns the text for the terminal and each run's scale
    position (scale.write). `always`: config columns written even when constant."""
    sweep_dir = Path(sweep_dir)
    rows = collect(sweep_dir, always)
    write_csv(sweep_dir / "results.csv", rows)
    summary = summarize(rows)
    text = (
        config_table(summary)
        + "\n"
        + verdicts.MEAN_INTERVAL_NOTE
        + "\n\n"
        + verdicts.comparison_lines(summary)
    )
    (sweep_dir / "results.md").write_text(text)
    figure.plot(sweep_dir / "results.png", summary, f"{sweep_dir.name}: {len(rows)} runs")
    entries, scale_text, positions = scale.write(sweep_dir, rows, summary["fields"])
    files.write_json_atomic(sweep_dir / "summary.json", {**summary, "scale": entries})
    return text + scale_text, positions
