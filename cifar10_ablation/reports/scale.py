"""The activation scale: where an activation lies between "nothing" (linear) and ReLU.

    position(act) = (acc(act) - acc(linear)) / (acc(relu) - acc(linear))

0 is "no better than no activation", 1 is "as good as ReLU". Accuracies are means over seeds;
the 95% interval is Fieller's for a ratio, paired by seed when linear, relu and the activation
have the same seeds (stats.position), and there is none when any of them has fewer than
stats.MIN_SEEDS seeds. Positions are computed within each combination of the other swept
fields (e.g. per pooling). A sweep is on the scale only when it sweeps an activation besides
linear and relu (scale_field): relu against linear alone is the report's comparison, and gets no
scale table. Rows are the report's flat rows (report.collect, report.read_csv).
"""

import json

from cifar10_ablation import plots
from cifar10_ablation.reports import markdown, stats

SCALE_FIELDS = ("conv_activation", "fc_activation")
NOTHING, RELU = "linear", "relu"
SCALE_TAG = "scale/position"  # each run's position, an HParams metric
TIE_TOLERANCE = 1e-9


class DegenerateScale(ValueError):
    """ReLU and linear score the same: the scale has no length."""


def scale_field(fields, rows):
    """The swept activation field holding both ends of the scale and at least one activation
    to place on it, or None: a sweep of relu against linear alone is a comparison, not a scale."""
    for field in SCALE_FIELDS:
        values = {row[field] for row in rows} if field in fields else set()
        if {NOTHING, RELU} <= values and values - {NOTHING, RELU}:
            return field
    return None


def positions(rows, field, fields):
    """One entry per (context, activation): accuracies by seed, mean, position and interval.

    Raises DegenerateScale when relu and linear tie in a context.
    """
    context_fields = [f for f in fields if f != field]
    groups = {}
    for row in rows:
        context = tuple((f, row[f]) for f in context_fields)
        by_seed = groups.setdefault(context, {}).setdefault(row[field], {})
        by_seed[row["seed"]] = row["test_accuracy"]
    entries = []
    for context, by_activation in groups.items():
        if not {NOTHING, RELU} <= set(by_activation):
            continue
        nothing, relu = (by_activation[end] for end in (NOTHING, RELU))
        if abs(_mean(relu) - _mean(nothing)) < TIE_TOLERANCE:
            raise DegenerateScale(
                f"relu and linear tie ({100 * _mean(relu):.2f}% each{_label(context, ' in ')}): "
                "the scale from nothing to ReLU has no length here, so no positions"
            )
        for activation, by_seed in by_activation.items():
            end = activation in (NOTHING, RELU)
            entry = {
                "context": dict(context),
                "activation": activation,
                "n": len(by_seed),
                "accuracy": _mean(by_seed),
                "accuracies": by_seed,
                **stats.position(by_seed, nothing, relu),
            }
            if end:  # 0 and 1 by definition
                entry.update(position=float(activation == RELU), low=None, high=None)
            entry["end"] = end
            entries.append(entry)
    return sorted(entries, key=lambda e: (_label(tuple(e["context"].items())), e["position"]))


def _mean(by_seed):
    return sum(by_seed.values()) / len(by_seed)


def _label(context, prefix=""):
    return prefix + ", ".join(f"{k}={v}" for k, v in context) if context else ""


def interval_text(entry):
    """The interval cell: the bounds, or why there are none."""
    if entry["end"]:
        return "(end of the scale)"
    if entry["low"] is not None:
        return f"[{entry['low']:.2f}, {entry['high']:.2f}]"
    if entry["bounded"] is False:
        return "unbounded (relu and linear not separated)"
    return f"none: n < {stats.MIN_SEEDS}"


def table(entries, field):
    """The scale as a Markdown table: context, activation, n, accuracy, position, interval."""
    header = ["context", field, "n", "test accuracy %", "position", "95% interval"]
    rows = [
        [
            _label(tuple(e["context"].items())) or "all",
            e["activation"],
            e["n"],
            f"{100 * e['accuracy']:.1f}",
            f"{e['position']:.2f}",
            interval_text(e),
        ]
        for e in entries
    ]
    return markdown.table(header, rows) + "\n"


def plot(path, entries, title):
    """One horizontal axis from nothing (0) to ReLU (1): a point and interval per activation."""
    with plots.figure(path, (7, 0.9 + 0.38 * len(entries)), dpi=120) as axis:
        for row, e in enumerate(entries):
            if e["low"] is not None:
                axis.plot([e["low"], e["high"]], [row, row], color="#6baed6", linewidth=2)
            axis.scatter([e["position"]], [row], color="#08519c", zorder=3)
        labels = [
            f"{e['activation']} (n={e['n']})" + _label(tuple(e["context"].items()), ", ")
            for e in entries
        ]
        axis.set_yticks(range(len(entries)), labels, fontsize=8)
        axis.axvline(0, color="grey", linewidth=0.8)
        axis.axvline(1, color="grey", linewidth=0.8)
        axis.set_xlabel('position: 0 = "nothing" (linear), 1 = ReLU')
        axis.set_title(title, fontsize=9)
        axis.invert_yaxis()


def entries_of(rows, fields):
    """(field, entries) of the activation scale when the rows sweep one; (None, reason or [])."""
    field = scale_field(fields, rows)
    if field is None:
        return None, []
    try:
        return field, positions(rows, field, fields)
    except DegenerateScale as error:
        return None, str(error)


def write(sweep_dir, rows, fields):
    """scale.md and scale.png in sweep_dir.

    Returns the entries, the text for the terminal ("" when nothing is swept on a scale) and
    each run's {run name: (step, position)}, which the sweep writes as SCALE_TAG for HParams.
    """
    field, entries = entries_of(rows, fields)
    if field is None:
        if entries:  # the reason the scale is degenerate
            (sweep_dir / "scale.md").write_text(f"{entries}\n")
            return [], f"\nactivation scale: {entries}\n", {}
        return [], "", {}
    table_text = table(entries, field)
    (sweep_dir / "scale.md").write_text(table_text)
    plot(sweep_dir / "scale.png", entries, f"{sweep_dir.name}: {field} between linear and relu")
    ends = {}
    for e in entries:
        if e["end"]:
            ends.setdefault(json.dumps(e["context"], sort_keys=True), {})[e["activation"]] = e
    positions = {}
    for row in rows:
        end = ends.get(json.dumps({f: row[f] for f in fields if f != field}, sort_keys=True))
        if end is None:
            continue
        nothing, relu = end[NOTHING]["accuracy"], end[RELU]["accuracy"]
        position = (row["test_accuracy"] - nothing) / (relu - nothing)
        positions[row["run"]] = (row["global_step"], position)
    return entries, "\n" + table_text, positions
