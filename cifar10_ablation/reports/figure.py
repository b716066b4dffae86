"""results.png: a sweep's configs drawn as the experiment reads them.

    figure.plot("results.png", summary, "fast preset", floor=(0.37, "linear classifier 37.0%"))

Configs sorted by their switches, each conv-ReLU pair side by side; per config the mean as a
bar with its 95% interval, a point per seed, and optionally a floor line (the level a net
without non-linearity ends at).
"""

from cifar10_ablation import plots


def plot_order(summary):
    """The configs as the experiment reads: sorted by their other switches, and within those by
    the conv activation, so each conv-ReLU pair stands side by side."""
    fields = summary["fields"]
    inner = [f for f in ("conv_activation",) if f in fields]
    outer = [f for f in fields if f not in inner]

    def key(s):
        return [str(s["config"][f]) for f in (*outer, *inner)]

    return sorted(summary["configs"], key=key)


def plot(path, summary, title, floor=None):
    """Test accuracy per config: the mean as a bar with its 95% interval, a point per seed, and
    `floor` ((accuracy, label), e.g. the linear classifier's) as a dashed line."""
    configs, fields = plot_order(summary), summary["fields"]
    labels = ["\n".join(f"{f}={s['config'][f]}" for f in fields) or "all" for s in configs]
    size = (max(4, 1.6 * len(configs)), 4.5)
    with plots.figure(path, size, dpi=120, metadata={"Software": None}) as axis:
        positions = range(len(configs))
        axis.bar(positions, [100 * s["mean"] for s in configs], color="#c6dbef", label="mean")
        for position, s in zip(positions, configs, strict=True):
            points = [100 * a for a in s["accuracies"].values()]
            axis.scatter([position] * len(points), points, color="#08519c", zorder=3, s=18)
            if s["low"] is not None:
                low, high = 100 * s["low"], 100 * s["high"]
                axis.plot([position] * 2, [low, high], color="black", linewidth=1.2, zorder=4)
        if floor is not None:
            axis.axhline(100 * floor[0], color="grey", linestyle="--", linewidth=1)
            axis.text(len(configs) - 0.5, 100 * floor[0] + 1, floor[1], ha="right", fontsize=7)
        axis.set_xticks(list(positions), labels, fontsize=7)
        axis.set_ylabel("test accuracy, averaged weights (%)")
        axis.set_ylim(0, 100)
        axis.set_title(f"{title}: mean (bar), 95% interval (line), seeds (points)", fontsize=9)
        axis.grid(axis="y", alpha=0.3)
