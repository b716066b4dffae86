"""The README's first screen, generated from the committed CSVs as the docs are: the measured
results, what the quick start prints, and how long each reproduction takes and what it gives.

build_docs.py renders docs/templates/README_SUMMARY.md with these fragments into
docs/README_SUMMARY.md; the README holds that text between its GENERATED markers
(tests/test_docs.py checks it, collect.py replaces it).
"""

import beyond

from cifar10_ablation.reports import markdown, verdicts

START, END = "<!-- GENERATED from docs/README_SUMMARY.md -->", "<!-- END GENERATED -->"
# Per preset: the script that made its runs (stage by stage) and the flagfile a user starts from.
SCRIPTS = {
    "tutorial": ("docs/logs/tutorial/run.sh", "flags/tutorial.flags"),
    "fast": ("docs/logs/fast/run.sh", "flags/fast.flags"),
    "quick": ("docs/logs/quick/run.sh", "flags/quick.flags"),
}
PAIR = ("finding_conv_relu", "finding_no_conv_relu")


def _minutes(summary):
    by_cpu = summary["run_seconds_by_cpu"]
    if not by_cpu:
        return "not timed"
    return beyond.durations({cpu: [s / 60 for s in pair] for cpu, pair in by_cpu.items()})


def _spread(described):
    """ "79.0% (78.8-79.3, n=3)": mean and the range over seeds."""
    values = [100 * v for v in described["accuracies"].values()]
    span = f"{min(values):.1f}-{max(values):.1f}, " if len(values) > 1 else ""
    return f"{markdown.percent(described['mean'])}% ({span}n={described['n']})"


def quick_expect(named, summaries):
    """What the quick start's two runs print, from the quick preset's committed runs."""
    if "quick" not in summaries or not all("quick" in named[n] for n in PAIR):
        return ""
    on, off = (named[n]["quick"] for n in PAIR)
    return markdown.wrap(
        f"Expect test accuracy {_spread(on)} with the conv ReLUs and {_spread(off)} without "
        f"(the committed quick-preset runs); each run takes {_minutes(summaries['quick'])}."
    )


def reproduce_table(named, summaries):
    """Per preset: its script, its runs, the time per run and the four configs' means."""
    rows = []
    for preset, (script, flagfile) in SCRIPTS.items():
        if preset not in summaries:
            continue
        means = [
            f"{name} {markdown.percent(named[name][preset]['mean'])}"
            for name in named
            if preset in named[name]
        ]
        rows.append(
            [
                f"`{preset}` (`{flagfile}`)",
                f"[`{script}`]({script})",
                str(summaries[preset]["runs"]),
                _minutes(summaries[preset]),
                ", ".join(means),
            ]
        )
    header = ["preset", "script (its stages are the sweeps)", "runs", "time per run", "means %"]
    return markdown.table(header, rows)


def conv_relu_costs(beyond_summary):
    """Per net and pooling: the conv-ReLU drop (relu minus linear), its interval and verdict,
    and the size of the family its verdict is adjusted over (every tested drop of that net, the
    FC ReLUs' too)."""
    entries = [beyond_summary.get("reference"), *beyond_summary["experiments"].values()]
    rows = []
    for entry in filter(None, entries):
        family = sum(1 for d in entry["drops"] if d["low"] is not None)
        for d in entry["drops"]:
            if d["field"] != "conv_activation":
                continue
            where = beyond.drop_where(d)
            seeds = verdicts.seeds_text(d["n_a"], d["n_b"])
            interval = (
                f"{markdown.percent(d['low'], 2)} to {markdown.percent(d['high'], 2)}"
                if d["low"] is not None
                else f"none ({seeds})"
            )
            if d["low"] is None:
                verdict = "no interval yet"
            else:
                verdict = "separated" if d["separated"] else verdicts.unseparated(d)
            drop = markdown.signed_points(d["difference"], 2)
            rows.append([entry["title"], where, drop, interval, verdict, str(family)])
    # the interval is each drop's own; the verdict is Holm-adjusted, so the two can disagree
    header = [
        "net",
        "setting",
        "drop (points)",
        "95% interval (unadjusted)",
        "Holm-adjusted verdict",
        "family (drops)",
    ]
    return markdown.table(header, rows) if rows else ""


def fragments(named, summaries, beyond_summary):
    return {
        "quick_expect": quick_expect(named, summaries),
        "reproduce_table": reproduce_table(named, summaries),
        "conv_relu_costs": conv_relu_costs(beyond_summary),
    }


def replace_block(readme, block):
    """README with the text between its GENERATED markers replaced by block."""
    start = readme.index(START) + len(START)
    end = readme.index(END, start)
    return readme[:start] + "\n" + block.rstrip("\n") + "\n" + readme[end:]
