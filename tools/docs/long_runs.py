"""RESULTS.md's test of the 83.4%: does training far past 100K steps close the gap between the
tutorial net and the finding's ReLU end? From docs/logs/long/run.sh's committed rows
(results_long.csv) and curves (curves_results_long.csv, validation accuracy every evaluation).
"""

from pathlib import Path

import curves
import findings

from cifar10_ablation.reports import markdown, report, verdicts

RESULTS_CSV = "results_long.csv"
FAST_CSV = "results_fast.csv"  # the other reading: the all-ReLU net with average pooling there
ALL_RELU_AVG = {"conv_activation": "relu", "fc_activation": "relu", "pool": "avg", "lrn": "true"}
CURVES_CSV = curves.csv_name(RESULTS_CSV)
PLOT = curves.plot_name(CURVES_CSV)  # build_docs draws every curves CSV
PAIR = ("tutorial", "finding_conv_relu")  # the control and the finding's ReLU end
REFERENCE_STEP = 100_000  # the tutorial schedule's length: the gap the committed runs measure
TAIL_STEPS = 50_000  # "still rising?": the gain over the curve's last TAIL_STEPS steps


def _name_of(row):
    for name in PAIR:
        switches, _ = findings.NAMED_CONFIGS[name]
        if all(row.get(k) == v for k, v in switches.items()):
            return name
    return None


def mean_curves(results, curve_rows):
    """{name: {step: mean validation accuracy over the seeds evaluated there}} of the pair."""
    run_names = {r["run"]: _name_of(r) for r in results}
    by_step = {}
    for row in curve_rows:
        name = run_names.get(row["run"])
        if name and row["validation_accuracy"] is not None:
            by_step.setdefault(name, {}).setdefault(row["step"], []).append(
                row["validation_accuracy"]
            )
    return {n: {s: sum(v) / len(v) for s, v in sorted(d.items())} for n, d in by_step.items()}


def _at(curve, step):
    """The curve's value at the last evaluation at or before step."""
    steps = [s for s in curve if s <= step]
    return curve[max(steps)] if steps else None


def _points(value):
    return markdown.signed_points(value, 2)


def describe(results, curve_rows):
    """The result sentences, or why there is none yet."""
    means = mean_curves(results, curve_rows)
    if set(means) != set(PAIR):
        return None
    last = min(max(c) for c in means.values())  # the last step both configs reached
    seeds = {n: sorted({r["seed"] for r in results if _name_of(r) == n}) for n in PAIR}
    lines = []
    for name in PAIR:
        curve = means[name]
        gain = curve[max(curve)] - _at(curve, max(curve) - TAIL_STEPS)
        lines.append(
            f"`{name}` (n={len(seeds[name])}): {markdown.percent(_at(curve, REFERENCE_STEP), 2)}% "
            f"at {REFERENCE_STEP:,} steps, {markdown.percent(_at(curve, last), 2)}% at "
            f"{last:,}; over its last {TAIL_STEPS:,} steps {_points(gain)} points"
        )
    gap = {s: _at(means[PAIR[0]], s) - _at(means[PAIR[1]], s) for s in (REFERENCE_STEP, last)}
    tests = {
        n: " / ".join(
            markdown.percent(r["test_accuracy"], 2)
            for r in sorted(results, key=lambda r: r["seed"])
            if _name_of(r) == n
        )
        for n in PAIR
    }
    change = gap[last] - gap[REFERENCE_STEP]
    n = verdicts.seeds_text(*(len(seeds[name]) for name in PAIR), each=True)
    closes = "narrows" if change < 0 else "does not narrow"
    return (
        "**Longer training, as measured.** Validation accuracy of the averaged weights, mean "
        "over the seeds: "
        + "; ".join(lines)
        + f". The gap between them is {_points(gap[REFERENCE_STEP])} points at "
        f"{REFERENCE_STEP:,} steps and {_points(gap[last])} at {last:,}: it {closes} "
        f"({_points(change)} points; with {n} there is no interval, so this describes the runs, "
        "it does not test a difference). Test "
        f"accuracy at the end, each seed: `{PAIR[0]}` {tests[PAIR[0]]}%, `{PAIR[1]}` "
        f"{tests[PAIR[1]]}% ([`{RESULTS_CSV}`]({RESULTS_CSV}), curves "
        f"[`{CURVES_CSV}`]({CURVES_CSV}))."
    )


def fragments(src_dir):
    """{"long_result": text, "long_plot": PLOT or ""} and the curve rows to plot (or None)."""
    src_dir = Path(src_dir)
    pending = {
        "long_result": markdown.wrap(
            "**Longer training** is not measured yet: whether the gap closes is read from the "
            f"validation curves of those runs once they are committed (`{CURVES_CSV}`)."
        ),
        "long_plot": "",
        "another_reading": markdown.wrap(another_reading(src_dir)),
    }
    if not (src_dir / RESULTS_CSV).exists() or not (src_dir / CURVES_CSV).exists():
        return pending, None
    results = report.read_csv(src_dir / RESULTS_CSV)
    curve_rows = curves.read_csv(src_dir / CURVES_CSV)
    text = describe(results, curve_rows)
    if text is None:
        return pending, None
    return {**pending, "long_result": markdown.wrap(text), "long_plot": PLOT}, curve_rows


def another_reading(src_dir):
    """The all-ReLU net with average pooling at the fast preset against the published 83.4%."""
    path = Path(src_dir) / FAST_CSV
    rows = report.read_csv(path) if path.exists() else []
    found = [
        r["test_accuracy"] for r in rows if all(r.get(k) == v for k, v in ALL_RELU_AVG.items())
    ]
    if not found:
        return (
            "**The other reading** is not measured: the fast preset has no all-ReLU run with "
            "average pooling."
        )
    published = findings.NAMED_CONFIGS["finding_conv_relu"][1]
    mean = sum(found) / len(found)
    return (
        f"**The other reading, as measured.** The all-ReLU net with average pooling reaches "
        f"{markdown.percent(mean)}% at the fast preset (n={len(found)}; the fast preset lands "
        f"within a point of the tutorial schedule for the four named configs, above), "
        f"{markdown.signed_points(mean - published)} points from the published "
        f"{markdown.percent(published)}%. The data can say that the numbers are close; it "
        "cannot say which config the finding's author ran."
    )
