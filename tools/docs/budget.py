"""BEYOND.md's accuracy against the non-linearity a net keeps, across every CIFAR-10 net here.

Each config of the committed CIFAR-10 CSVs (the tutorial net at the fast preset, beyond_*.csv,
depth_*.csv) is one point: its mean test accuracy against activation_units, the elements per
image that pass through a non-identity activation (tools/docs/units.py fills rows that predate
the column), hollow where the net keeps no max pooling either. The published ReLU-budget points
(published.csv rows with relu_units on CIFAR-10) sit beside them.
"""

from pathlib import Path

import beyond
import experiments
import findings

from cifar10_ablation import plots
from cifar10_ablation.reports import markdown, report, stats, verdicts

PLOT = "units.png"
# The switches a config is named by, where they vary within its CSV.
SWITCH_COLUMNS = ("conv_activation", "fc_activation", "pool", "downsample", "stage_activations")


def _named_by(row, varied):
    """The (switch, value) pairs a row's config is named by. A ResNet's stage_activations, where
    set, overrides conv_activation (which keeps its default), so then it names the config alone."""
    staged = bool(row.get("stage_activations"))
    return tuple(
        (k, row[k])
        for k in varied
        if row.get(k) not in (None, "") and not (staged and k == "conv_activation")
    )


def points(src_dir):
    """([{net, config, units, windows, mean, n}] per config of each committed CSV that has the
    counts for every row, [the CSVs left out for a row without them])."""
    found, uncounted = [], []
    for experiment in experiments.with_activations():
        path = Path(src_dir) / experiment.csv
        if not path.exists():
            continue
        rows = report.read_csv(path)
        varied = [k for k in SWITCH_COLUMNS if len({r.get(k) for r in rows}) > 1]
        varied = varied or ["conv_activation"]  # one config so far: named by what the axis is
        if any(row.get("activation_units") is None for row in rows):
            uncounted.append(experiment.csv)
            continue
        groups = {}
        for row in rows:
            config = _named_by(row, varied)
            group = groups.setdefault(config, {"rows": [], "units": row["activation_units"]})
            group["rows"].append(row)
            group["windows"] = row["max_pool_windows"]
        for config, group in groups.items():
            accuracies = [r["test_accuracy"] for r in group["rows"]]
            by_seed = {r["seed"]: r["test_accuracy"] for r in group["rows"]}
            found.append(
                {
                    "net": experiment.net,
                    "config": ", ".join(f"{k}={v}" for k, v in config),
                    "units": int(group["units"]),
                    "windows": int(group["windows"]),
                    "mean": sum(accuracies) / len(accuracies),
                    "n": len(accuracies),
                    "by_seed": by_seed,
                    "costed": experiment in experiments.bigger(),
                }
            )
    return found, uncounted


def amount(point, most):
    """How much non-linearity a config keeps, in words: none, max pooling only, part of the
    activations (with its count), or all of the net's (`most`: the most any config of it has)."""
    if point["units"] == 0:
        return "no activation, no max pool" if point["windows"] == 0 else "max pooling only"
    if point["units"] == most:
        return "all its activations"
    return f"{point['units']:,} of {most:,} activation units"


def costs(found):
    """Per net: each config against the one with every activation (and the same pooling kind
    where it exists: its max-pool windows), as compare()'s dicts; one Holm family per net."""
    by_net = {}
    for point in found:
        if point["costed"]:
            by_net.setdefault(point["net"], []).append(point)
    families = {}
    for net, own in by_net.items():
        most = max(p["units"] for p in own)
        full = [p for p in own if p["units"] == most]
        family = []
        for p in sorted(own, key=lambda p: (-p["units"], -p["windows"])):
            if p in full:
                continue
            reference = next((f for f in full if f["windows"] == p["windows"]), full[0])
            compared = stats.compare(reference["by_seed"], p["by_seed"])
            family.append(
                compared
                | {
                    "config": p["config"],
                    "reference": reference["config"],
                    "amount": amount(p, most),
                    "units": p["units"],
                    "windows": p["windows"],
                }
            )
        families[net] = stats.holm_adjust(family)
    return families


def cost_table(families):
    """The cost of each amount of non-linearity removed, per net, Holm-adjusted within it."""
    header = ["net", "non-linearity kept", "config", "cost (points)", "95% interval", "verdict"]
    rows = []
    for net, family in families.items():
        for c in family:
            n = verdicts.seeds_text(c["n_a"], c["n_b"])
            cost = f"{markdown.signed_points(c['difference'], 2)} ({n})"
            if c["low"] is None and c["units"] == 0 and c["windows"] == 0:
                interval, verdict = beyond.FLOOR_CHECK, ""  # no non-linear layer: one affine map
            elif c["low"] is None:
                interval, verdict = "no interval yet", ""
            else:
                interval = f"{markdown.percent(c['low'], 2)} to {markdown.percent(c['high'], 2)}"
                verdict = "separated" if c["separated"] else verdicts.unseparated(c)
            rows.append([net, c["amount"], c["config"], cost, interval, verdict])
    return markdown.table(header, rows)


def published_points(published):
    """The published rows on CIFAR-10 that count their ReLUs: (units, accuracy, label)."""
    return [
        (row["relu_units"], row["test_accuracy"], f"{row['arch']}: {row['key']}")
        for row in published.values()
        if row.get("relu_units") is not None and row["dataset"] == "cifar10"
    ]


def table(found):
    header = ["net", "config", "non-linear units per image", "max-pool windows", "mean %", "n"]
    rows = [
        [
            p["net"],
            p["config"],
            f"{p['units']:,}",
            f"{p['windows']:,}",
            markdown.percent(p["mean"]),
            p["n"],
        ]
        for p in sorted(found, key=lambda p: (p["net"], p["units"], p["windows"]))
    ]
    return markdown.table(header, rows)


def plot(path, found, published):
    """Mean test accuracy against activation units (symmetric log: 0 is drawn), a marker per
    net, hollow without max pooling; the published ReLU-budget points as crosses."""
    markers = "osD^v<>p"
    with plots.figure(path, (7, 4.5), dpi=110, metadata={"Software": None}) as axis:
        for i, net in enumerate(dict.fromkeys(p["net"] for p in found)):
            for pooled in (True, False):
                own = [p for p in found if p["net"] == net and (p["windows"] > 0) == pooled]
                if own:
                    axis.scatter(
                        [p["units"] for p in own],
                        [100 * p["mean"] for p in own],
                        marker=markers[i % len(markers)],
                        facecolors=f"C{i}" if pooled else "none",
                        edgecolors=f"C{i}",
                        label=f"{net}{'' if pooled else ', no max pool'}",
                    )
        if published:
            units, accuracy, _ = zip(*published, strict=True)
            axis.scatter(
                units,
                [100 * a for a in accuracy],
                marker="x",
                color="black",
                label="published ReLU budgets (published.csv)",
            )
        axis.set_xscale("symlog", linthresh=100)
        axis.set_xlabel("elements per image through a non-identity activation")
        axis.set_ylabel("test accuracy, CIFAR-10 (%)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=6)


def fragments(src_dir):
    """{"units_table", "units_plot", "units_left_out"} ("" each without points) and the points,
    for the plot."""
    found, uncounted = points(src_dir)
    left_out = (
        markdown.wrap(
            "Left out, for runs that do not record `activation_units`: "
            + ", ".join(f"`{n}`" for n in uncounted)
            + " (`python tools/docs/units.py` fills them)."
        )
        if uncounted
        else ""
    )
    if not found:
        empty = dict.fromkeys(("units_table", "units_plot", "cost_table", "cost_note"), "")
        return {**empty, "units_left_out": left_out}, []
    families = costs(found)
    tested = sum(1 for family in families.values() for c in family if c["p"] is not None)
    value = {
        "units_table": table(found),
        "units_plot": PLOT,
        "units_left_out": left_out,
        "cost_table": cost_table(families) if families else "",
        "cost_note": markdown.wrap(
            f"One Holm family per net, {tested} cost{'s' if tested != 1 else ''} with an "
            f"interval in all ([how]({findings.METHOD}))."
        ),
    }
    return value, found
