"""BEYOND.md's accuracy against the non-linearity a net keeps, across every CIFAR-10 net here.

Each config of the committed CIFAR-10 CSVs (the tutorial net at the fast preset, beyond_*.csv,
depth_*.csv) is one point: its mean test accuracy against activation_units, the elements per
image that pass through a non-identity activation (tools/docs/units.py fills rows that predate
the column), hollow where the net keeps no max pooling either. The published ReLU-budget points
(published.csv rows with relu_units on CIFAR-10) sit beside them.
"""

from pathlib import Path

from cifar10_ablation import plots
from cifar10_ablation.reports import markdown, report

PLOT = "units.png"
# CSV -> the net's name in the table and legend; MNIST and the linear classifier are not here:
# another dataset, and a net with no activation to remove.
SOURCES = {
    "results_fast.csv": "tutorial net (fast preset)",
    "beyond_vgg.csv": "VGG-style net",
    "beyond_resnet20.csv": "ResNet-20 (24x24 crops)",
    "depth_resnet18.csv": "ResNet-18",
    "depth_resnet20_pad_crop.csv": "ResNet-20",
    "depth_resnet56.csv": "ResNet-56",
}
# The switches a config is named by, where they vary within its CSV.
SWITCH_COLUMNS = ("conv_activation", "fc_activation", "pool", "downsample", "stage_activations")


def points(src_dir):
    """([{net, config, units, windows, mean, n}] per config of each committed CSV that has the
    counts for every row, [the CSVs left out for a row without them])."""
    found, uncounted = [], []
    for name, net in SOURCES.items():
        path = Path(src_dir) / name
        if not path.exists():
            continue
        rows = report.read_csv(path)
        varied = [k for k in SWITCH_COLUMNS if len({r.get(k) for r in rows}) > 1]
        if any(row.get("activation_units") is None for row in rows):
            uncounted.append(name)
            continue
        groups = {}
        for row in rows:
            config = tuple((k, row[k]) for k in varied)
            group = groups.setdefault(config, {"rows": [], "units": row["activation_units"]})
            group["rows"].append(row)
            group["windows"] = row["max_pool_windows"]
        for config, group in groups.items():
            accuracies = [r["test_accuracy"] for r in group["rows"]]
            found.append(
                {
                    "net": net,
                    "config": ", ".join(f"{k}={v}" for k, v in config),
                    "units": int(group["units"]),
                    "windows": int(group["windows"]),
                    "mean": sum(accuracies) / len(accuracies),
                    "n": len(accuracies),
                }
            )
    return found, uncounted


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
        return {"units_table": "", "units_plot": "", "units_left_out": left_out}, []
    return {"units_table": table(found), "units_plot": PLOT, "units_left_out": left_out}, found
