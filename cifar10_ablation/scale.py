"""The activation scale: where an activation lies between "nothing" (linear) and ReLU.

    position(act) = (acc(act) - acc(linear)) / (acc(relu) - acc(linear))

0 is "no better than no activation", 1 is "as good as ReLU". Accuracies are means over seeds;
the interval is a bootstrap over seeds (each activation's runs resampled with replacement,
2.5-97.5 percentiles), so it exists only where some activation has two or more seeds.
Positions are computed within each combination of the other swept fields (e.g. per pooling).
"""

import numpy as np

SCALE_FIELDS = ("conv_activation", "fc_activation")
NOTHING, RELU = "linear", "relu"
# The preset's activations: both ends, then alternatives.
ACTIVATIONS = (
    "linear",
    "relu",
    "leaky_relu",
    "elu",
    "tanh",
    "gelu",
    "silu",
    "softplus",
    "abs",
    "maxout",
)
BOOTSTRAP_SAMPLES = 2000
TIE_TOLERANCE = 1e-9


class DegenerateScale(ValueError):
    """ReLU and linear score the same: the scale has no length."""


def scale_field(fields, rows):
    """The swept activation field holding both ends of the scale, or None."""
    for field in SCALE_FIELDS:
        values = {row["config"][field] for row in rows}
        if field in fields and {NOTHING, RELU} <= values:
            return field
    return None


def positions(rows, field, fields, seed=0):
    """One entry per (context, activation): mean accuracy, n, position and its interval.

    Raises DegenerateScale when relu and linear tie in a context.
    """
    rng = np.random.default_rng(seed)
    context_fields = [f for f in fields if f != field]
    groups = {}
    for row in rows:
        context = tuple((f, row["config"][f]) for f in context_fields)
        groups.setdefault(context, {}).setdefault(row["config"][field], []).append(
            row["test_accuracy"]
        )
    entries = []
    for context, by_activation in groups.items():
        if not {NOTHING, RELU} <= set(by_activation):
            continue
        nothing, relu = np.mean(by_activation[NOTHING]), np.mean(by_activation[RELU])
        if abs(relu - nothing) < TIE_TOLERANCE:
            raise DegenerateScale(
                f"relu and linear tie ({100 * relu:.2f}% each{_label(context, ' in ')}): the "
                "scale from nothing to ReLU has no length here, so no positions"
            )
        resampled = {
            a: rng.choice(np.array(v), size=(BOOTSTRAP_SAMPLES, len(v))).mean(axis=1)
            for a, v in by_activation.items()
        }
        spread = any(len(v) > 1 for v in by_activation.values())
        for activation, accuracies in by_activation.items():
            mean = float(np.mean(accuracies))
            entry = {
                "context": dict(context),
                "activation": activation,
                "n": len(accuracies),
                "accuracy": mean,
                "position": (mean - nothing) / (relu - nothing),
                "low": None,
                "high": None,
            }
            if spread:
                denominator = resampled[RELU] - resampled[NOTHING]
                ok = np.abs(denominator) > TIE_TOLERANCE
                samples = (resampled[activation] - resampled[NOTHING])[ok] / denominator[ok]
                entry["low"], entry["high"] = (
                    float(q) for q in np.percentile(samples, [2.5, 97.5])
                )
            entries.append(entry)
    return sorted(entries, key=lambda e: (_label(tuple(e["context"].items())), e["position"]))


def _label(context, prefix=""):
    return prefix + ", ".join(f"{k}={v}" for k, v in context) if context else ""


def markdown(entries, field):
    lines = [
        f"| context | {field} | n | test accuracy % | position | 95% interval |",
        "|---|---|---|---|---|---|",
    ]
    for e in entries:
        interval = "" if e["low"] is None else f"[{e['low']:.2f}, {e['high']:.2f}]"
        lines.append(
            f"| {_label(tuple(e['context'].items())) or 'all'} | {e['activation']} | "
            f"{e['n']} | {100 * e['accuracy']:.1f} | {e['position']:.2f} | {interval} |"
        )
    return "\n".join(lines) + "\n"


def plot(path, entries, title):
    """One horizontal axis from nothing (0) to ReLU (1): a point and interval per activation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 0.9 + 0.38 * len(entries)))
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
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
