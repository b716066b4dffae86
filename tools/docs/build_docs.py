"""The project's docs, regenerated from the committed CSVs: every number in them is computed here.

    python tools/docs/build_docs.py          # docs/ in place, from the repository root
    python tools/docs/build_docs.py SRC OUT  # SRC's CSVs and templates into OUT

docs/templates/<NAME>.md hold the prose; `{{name}}` marks a generated fragment and
`{{#name}} ... {{/name}}` a passage kept only when that fragment is non-empty. The fragments
come from docs/results_<preset>.csv (one per preset; a preset without a CSV leaves no column,
row or section; findings.py), docs/activation_scale_quick.csv (activation_scale.py),
docs/beyond_<name>.csv (beyond.py), the learning-rate selection (learning_rates.py) and the
long runs (long_runs.py), rows as report.py writes them; every number they print is also in
docs/summary.json. PERFORMANCE.md comes from the benchmark logs in docs/bench/ (performance.py),
where that folder exists.
tests/test_docs.py regenerates the docs into a temporary folder and fails if the committed ones
differ.
"""

import re
import sys
from pathlib import Path

import activation_scale
import beyond
import budget
import curves
import findings
import learning_rates
import long_runs
import performance
import projection
import readme

from cifar10_ablation import files
from cifar10_ablation.reports import figure, markdown, report, scale, stats, verdicts

PRESETS = ("tutorial", "fast", "quick")
PRESET_ROLES = {
    "tutorial": "the reference: the tutorial's own schedule, `flags/tutorial.flags`",
    "fast": "the default for sweeps, `flags/fast.flags`",
    "quick": "a smoke-scale look for a 2-core CPU, `flags/quick.flags`",
}
SCALE_CSV = activation_scale.CSV
FLAGS = Path(__file__).resolve().parents[2] / "flags"  # the presets PERFORMANCE.md prices
TEMPLATES = ("RESULTS.md", "ACTIVATION_SCALE.md", "BEYOND.md", "README_SUMMARY.md")
_BLOCK = re.compile(r"\{\{#(\w+)\}\}\n?(.*?)\{\{/\1\}\}\n?", re.S)
_FIELD = re.compile(r"\{\{(\w+)\}\}")


def thin(summaries):
    """The configs whose accuracy has no interval yet (fewer than MIN_SEEDS seeds)."""
    items = [
        f"{preset}: "
        + ", ".join(f"{k}={c['config'][k]}" for k in summary["fields"] or c["config"])
        + f" (n={c['n']})"
        for preset, summary in summaries.items()
        for c in summary["configs"]
        if c["n"] < stats.MIN_SEEDS
    ]
    return "\n".join(markdown.wrap(item, bullet=True) for item in items)


def preset_section(preset, summary):
    constant = ", ".join(f"{k}={v}" for k, v in summary["constant"].items())
    steps = " or ".join(f"{s:,}" for s in summary["steps"])
    lines = [
        markdown.wrap(f"{summary['runs']} runs of {steps} steps; in every run {constant}."),
        "",
        report.config_table(summary).rstrip("\n"),
        "",
    ]
    note = verdicts.family_note(
        summary["comparisons"], "comparisons of this section", findings.METHOD
    )
    lines += [markdown.wrap(note), ""] if note else []
    lines += [
        markdown.wrap(verdicts.comparison_sentence(c), bullet=True) for c in summary["comparisons"]
    ]
    if summary["raw_vs_averaged_max"] is not None:
        lines.append(
            markdown.wrap(
                "Raw-weight accuracies are within "
                f"{markdown.percent(summary['raw_vs_averaged_max'], 2)} points of the averaged "
                "ones in every run.",
                bullet=True,
            )
        )
    if summary["run_seconds_by_cpu"]:
        by_cpu = summary["run_seconds_by_cpu"].items()
        times = beyond.durations({cpu: [s / 60 for s in pair] for cpu, pair in by_cpu})
        lines.append(
            markdown.wrap(
                f"Time per run {times}, summed over its restarts (on shared CPU cores: "
                "not a speed measure, see `PERFORMANCE.md`).",
                bullet=True,
            )
        )
    lines += ["", f"![{preset} preset: accuracy per config](results_{preset}.png)"]
    return "\n".join(lines)


def screening_table(screening):
    """Every run of the fast preset's screening (`screening`: each tuning_*.csv's rows by file
    name), its varied flags in its name; per file best first, so the chosen candidate heads its
    file's rows."""
    runs = [
        {"file": name, "run": row["run"], "steps": row["global_step"]}
        | {"test_accuracy": row["test_accuracy"]}
        for name, rows in screening.items()
        for row in sorted(rows, key=lambda row: -row["test_accuracy"])
    ]
    rows = [
        [f"[`{r['file']}`]({r['file']})", f"`{r['run']}`", f"{r['steps']:,}"]
        + [markdown.percent(r["test_accuracy"], 2)]
        for r in runs
    ]
    header = ["file", "run", "steps", "test accuracy %"]
    return (markdown.table(header, rows) if rows else ""), runs


def windows_table(summary):
    """Per config: the windows where a ReLU before the pool would change the pooled value."""
    fields = summary["fields"]
    header = [*fields, "pool1: windows ReLU changes %", "pool2: windows ReLU changes %"]
    rows, changed = [], []
    for s in summary["configs"]:
        entry = {"config": s["config"]}
        for pool in ("pool1", "pool2"):
            value = s["windows"][f"{pool} all-negative"]
            if s["config"]["pool"] == "avg" and value is not None:
                value += s["windows"][f"{pool} mixed-sign"]
            entry[pool] = value
        changed.append(entry)
        rows.append(
            [s["config"][f] for f in fields]
            + [markdown.percent(entry["pool1"]), markdown.percent(entry["pool2"])]
        )
    return markdown.table(header, rows), changed


def _curve_runs(src_dir, presets):
    """{preset: the runs its committed curves CSV holds}."""
    paths = {p: src_dir / curves.csv_name(f"results_{p}.csv") for p in presets}
    return {
        p: {row["run"] for row in curves.read_csv(path)}
        for p, path in paths.items()
        if path.exists()
    }


def build(src_dir):
    """(fragments, summary) from the CSVs in src_dir."""
    src_dir = Path(src_dir)
    presets = {
        p: report.read_csv(src_dir / f"results_{p}.csv")
        for p in PRESETS
        if (src_dir / f"results_{p}.csv").exists()
    }
    if not presets:
        raise ValueError(f"{src_dir} holds no results_<preset>.csv ({', '.join(PRESETS)})")
    summaries = {p: report.summarize(rows) for p, rows in presets.items()}
    named = findings.describe_named(presets)
    claim_text, claim = findings.fast_claim(named, presets)
    # The pool windows of the preset with the grid: the sweep default, else the smoke scale.
    main = next(p for p in ("fast", "quick", "tutorial") if p in presets)
    windows, changed = windows_table(summaries[main])
    screening_rows = {p.name: report.read_csv(p) for p in sorted(src_dir.glob("tuning_*.csv"))}
    screening, screened = screening_table(screening_rows)
    fragments = {
        "lead_table": findings.lead_table(named, presets),
        "gap": findings.gap(named, presets),
        "preset_curves": findings.preset_curves(presets, _curve_runs(src_dir, presets)),
        "fast_claim": claim_text,
        "screening": screening,
        "windows_preset": main,
        "windows_table": windows,
        "headline": findings.headline(named, presets),
        "thin": thin(summaries),
        "min_seeds": str(stats.MIN_SEEDS),
    }
    for p in PRESETS:
        fragments[f"has_{p}"] = "yes" if p in presets else ""
        fragments[f"{p}_section"] = preset_section(p, summaries[p]) if p in presets else ""
        fragments[f"{p}_role"] = PRESET_ROLES[p]
    scale_text, scale_summary = activation_scale.fragments(report.read_csv(src_dir / SCALE_CSV))
    fragments.update(scale_text)
    reference = (f"the tutorial net on CIFAR-10 ({main} preset)", presets[main], summaries[main])
    beyond_text, beyond_summary = beyond.build(src_dir, reference)
    fragments.update(beyond_text)
    fragments.update(readme.fragments(named, summaries, beyond_summary))
    lr_text, lr_summary = learning_rates.fragments(src_dir)
    fragments.update(lr_text)
    reused = findings.screening_reused(
        named, presets.get("fast", []), [row for rows in screening_rows.values() for row in rows]
    )
    fragments["at_a_glance"] = findings.at_a_glance(
        named,
        presets,
        lr_text["lr_glance"],
        beyond_summary["reference"]["drops"],
        main,
        reused,
        bool(lr_text["lr_batch_checked"]),
    )
    fragments.update(long_runs.fragments(src_dir)[0])
    budget_text, budget_points = budget.fragments(src_dir)
    fragments.update(budget_text)
    fragments.update(projection.fragments(src_dir, FLAGS.parent))
    summary = {
        "presets": summaries,
        "named": named,
        "fast_claim": claim,
        "fast_screening": screened,
        "windows_relu_changes": {"preset": main, "values": changed},
        "scale": scale_summary,
        "beyond": beyond_summary,
        "learning_rates": lr_summary,
        "budget": budget_points,
    }
    return fragments, summary


def _published(src_dir):
    path = Path(src_dir) / beyond.PUBLISHED_CSV
    return beyond.read_published(path) if path.exists() else {}


def render(template, fragments, name="template"):
    """The template with its blocks kept or dropped and its fields filled."""
    for used in set(_FIELD.findall(template)) | {m[0] for m in _BLOCK.findall(template)}:
        if used not in fragments:
            raise ValueError(
                f"{name} uses {{{{{used}}}}}, which the report does not write; known: "
                + ", ".join(sorted(fragments))
            )
    text, previous = template, None
    while text != previous:  # a block inside a block: the outer one first, then what it kept
        previous = text
        text = _BLOCK.sub(lambda m: m.group(2) if fragments[m.group(1)] else "", text)
    text = _FIELD.sub(lambda m: fragments[m.group(1)].rstrip("\n"), text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def write_docs(src_dir, out_dir=None):
    """Regenerates the docs of src_dir (into out_dir, default the same); returns what it wrote."""
    src_dir = Path(src_dir)
    out_dir = Path(out_dir or src_dir)
    fragments, summary = build(src_dir)
    texts = {
        name: render((src_dir / "templates" / name).read_text(), fragments, f"templates/{name}")
        for name in TEMPLATES
    }
    if (src_dir / "bench").is_dir():  # the speed page, from the benchmark logs beside the CSVs
        texts["PERFORMANCE.md"] = render(
            (src_dir / "templates" / "PERFORMANCE.md").read_text(),
            performance.fragments(src_dir, FLAGS),
            "templates/PERFORMANCE.md",
        )
    texts["headline.md"] = fragments["headline"] + "\n"
    texts["summary.json"] = files.json_text(_rounded(summary))
    for name, text in texts.items():
        files.write_text_atomic(out_dir / name, text)
    linear = (summary["beyond"]["experiments"] or {}).get("linear")
    floor = None
    if linear:  # the linear classifier's mean: the level a net without non-linearity ends at
        mean = linear["summary"]["configs"][0]["mean"]
        floor = (mean, f"linear classifier {markdown.percent(mean)}%")
    for preset, preset_summary in summary["presets"].items():
        figure.plot(out_dir / f"results_{preset}.png", preset_summary, f"{preset} preset", floor)
    entries = summary["scale"]["entries"]
    scale.plot(
        out_dir / "scale.png", entries, f"{summary['scale']['field']} between linear and relu"
    )
    written = [*texts, *(f"results_{p}.png" for p in summary["presets"]), "scale.png"]
    found = summary["budget"]  # the points the table was written from, drawn
    if found:
        budget.plot(out_dir / budget.PLOT, found, budget.published_points(_published(src_dir)))
        written.append(budget.PLOT)
    for path in sorted(src_dir.glob(f"{curves.PREFIX}*.csv")):  # each committed curve CSV, drawn
        results = curves.results_csv(path)
        title = f"{results.stem}: accuracy per evaluation"
        rows, settings = curves.read_csv(path), curves.run_settings(results)
        curves.plot(out_dir / curves.plot_name(path), rows, title, settings, findings.NAMED_ROWS)
        written.append(curves.plot_name(path))
    return f"regenerated in {out_dir}: {', '.join(written)}\n"


def _rounded(value):
    """Floats to 6 decimals, so summary.json does not change with the last bits of a platform."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {str(k): _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def main(argv):
    """The command: regenerate docs/ (or argv's SRC [OUT]) and say what was written."""
    if len(argv) > 3:
        sys.exit(f"usage: {argv[0]} [SRC [OUT]]")
    src = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[2] / "docs"
    try:
        print(write_docs(src, argv[2] if len(argv) > 2 else None), end="")
    except (ValueError, OSError) as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main(sys.argv)
