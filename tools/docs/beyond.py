"""docs/BEYOND.md's numbers: other nets and datasets with the same switches.

Each experiment is a committed CSV (experiments.EXPERIMENTS: docs/beyond_<name>.csv from
docs/logs/beyond/run.sh, docs/depth_<name>.csv from docs/logs/depth/run.sh); an experiment
without its CSV leaves no section. Published figures are the rows of docs/published.csv, each
with its source and table. The drop from removing ReLUs is relu minus linear within each
setting of the other switches, paired by seed (the seeds share data order and distortions), as
report.py compares. The drops of one section are one family, Holm-adjusted (stats.holm_adjust);
the answers' drops and leads are another, adjusted on copies so each section keeps its own
verdicts.
"""

import csv

import experiments
import findings

from cifar10_ablation import switches
from cifar10_ablation.reports import markdown, report, stats, verdicts

PUBLISHED_CSV = "published.csv"
PUBLISHED_COLUMNS = ("key", "source", "where", "arch", "dataset", "setting", "test_accuracy", "url")
# ReLUs per image where the source counts them (the ReLU-budget literature), else empty.
RELU_UNITS = "relu_units"
# The switches whose removal the drops measure: an activation relu against linear.
REMOVED = ("conv_activation", "fc_activation")
# A ResNet's published net, which a config with no ReLU is set against where no ReLU net shares
# its setting (drops()).
PUBLISHED_NET = {"conv_activation": "relu", "downsample": "stride", "stage_activations": ""}
PUBLISHED_NET_TEXT = "the published net (all ReLUs, downsample=stride)"
# A config with no non-linear layer left is one affine map: its runs check that floor, and
# docs/logs/depth/run.sh gives it one seed.
FLOOR_CHECK = "the affine floor, which one seed checks"
# The answers' two cases (pooling()): the finding turns on whether max pooling is kept.
POOLING_TEXT = {
    "max": "With max pooling kept",
    "none": "Without max pooling (average pooling or strided downsampling)",
}
# Without max pooling a net with no ReLU left is one affine map (BEYOND.md says why), so its drop
# and the lead of one such drop over another say how good the ReLU nets are, not what they lose.
AFFINE_READING = (
    "Without max pooling a VGG-style net or ResNet with no ReLU is one affine map (below), so "
    "its drop there is the ReLU net's accuracy minus an affine classifier's, and a lead between "
    "two such drops is the gap between the two ReLU nets' accuracies."
)


def _duration(low, high):
    """A range of run times in minutes: "12-13 minutes"; an end under a minute in seconds; in
    hours where both ends are two hours or more."""

    def one(minutes):
        if low >= 120:
            return ("hours", f"{minutes / 60:.1f}")
        return ("minutes", f"{minutes:.0f}") if minutes >= 1 else ("seconds", f"{minutes * 60:.0f}")

    (low_unit, low), (high_unit, high) = one(low), one(high)
    if low_unit != high_unit:
        return f"{low} {low_unit} to {high} {high_unit}"
    return f"{low} {high_unit}" if low == high else f"{low}-{high} {high_unit}"


def durations(by_cpu):
    """Run times per CPU: "12-13 minutes (AMD EPYC AVX-512, 2 cores), 37 minutes (...)"."""
    return ", ".join(f"{_duration(*pair)} ({cpu}, 2 cores)" for cpu, pair in by_cpu.items())


def _capital(text):
    return text[:1].upper() + text[1:]


def read_published(path):
    """{key: row} of published.csv; ValueError naming a row without its source."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or tuple(rows[0]) not in (PUBLISHED_COLUMNS, (*PUBLISHED_COLUMNS, RELU_UNITS)):
        raise ValueError(
            f"{path} must have the columns {', '.join(PUBLISHED_COLUMNS)} (and {RELU_UNITS})"
        )
    for row in rows:
        if not all(row[c] for c in PUBLISHED_COLUMNS):
            raise ValueError(f"{path}: row {row['key'] or '?'} lacks a field; each needs all")
        row["test_accuracy"] = float(row["test_accuracy"])
        units = row.get(RELU_UNITS) or ""
        if units and not units.isdigit():
            raise ValueError(f"{path}: row {row['key']} has {RELU_UNITS}={units!r}; give a count")
        row[RELU_UNITS] = int(units) if units else None
    return {row["key"]: row for row in rows}


def published_table(published):
    """The published rows as a Markdown table (a "|" in a source's text escaped)."""
    header = ["source", "where", "net", "dataset", "setting", "ReLUs per image", "accuracy %"]
    rows = [
        [
            f"[{row['source']}]({row['url']})",
            row["where"],
            row["arch"],
            row["dataset"],
            row["setting"],
            "" if row[RELU_UNITS] is None else f"{row[RELU_UNITS]:,}",
            markdown.percent(row["test_accuracy"], 2),
        ]
        for row in published.values()
    ]
    return markdown.table(header, [[str(c).replace("|", "\\|") for c in r] for r in rows])


def drops(summary, rows=(), arch=None):
    """Per removable switch and setting of the others: relu minus linear, with its interval.
    A ResNet's config with no ReLU that has no ReLU partner in its own setting (ResNet-18's
    run.sh trains no ReLU net with max-pool downsampling) is set against the published net
    instead, all ReLUs with stride downsampling (`against`). A drop whose linear side keeps no
    non-linear layer at all is marked `floor` (`rows` give its counts; `arch` whether LRN is
    left): its linear side is an affine map, and one seed may be all it needs."""
    found = _same_setting_drops(summary)
    found += _against_published_net(summary, found)
    if arch is not None and "lrn" not in switches.present(arch):
        affine = {
            tuple(sorted((f, r.get(f)) for f in summary["fields"]))
            for r in rows
            if r.get("activation_units") == 0 and r.get("max_pool_windows") == 0
        }
        for d in found:
            linear = {**d["context"], d["field"]: "linear"}
            d["floor"] = tuple(sorted((f, linear.get(f)) for f in summary["fields"])) in affine
    return found


def _against_published_net(summary, found):
    """The drops of a ResNet's configs without any ReLU that no same-setting drop covers, each
    against the published net (all ReLUs, downsample=stride), paired by seed."""
    if "downsample" not in summary["fields"]:
        return []
    configs = summary["configs"]
    published = next(
        (c for c in configs if all(c["config"].get(k, v) == v for k, v in PUBLISHED_NET.items())),
        None,
    )
    covered = [d["context"] for d in found if d["field"] == "conv_activation"]
    extra = []
    for c in configs:
        config = c["config"]
        if config.get("conv_activation") != "linear" or config.get("stage_activations"):
            continue
        context = {f: config[f] for f in summary["fields"] if f != "conv_activation"}
        if published is None or context in covered:
            continue
        on, off = published["accuracies"], c["accuracies"]
        by_seed = {seed: on[seed] - off[seed] for seed in sorted(set(on) & set(off))}
        extra.append(
            {"field": "conv_activation", "context": context, "by_seed": by_seed}
            | {"against": PUBLISHED_NET_TEXT}
            | stats.compare(on, off)
        )
    return extra


def _same_setting_drops(summary):
    found = []
    for field in REMOVED:
        if field not in summary["fields"]:
            continue
        contexts = {}
        for c in summary["configs"]:
            others = tuple((f, c["config"][f]) for f in summary["fields"] if f != field)
            contexts.setdefault(others, {})[c["config"][field]] = c
        for context, by_value in contexts.items():
            if {"relu", "linear"} <= set(by_value):
                on, off = by_value["relu"]["accuracies"], by_value["linear"]["accuracies"]
                by_seed = {seed: on[seed] - off[seed] for seed in sorted(set(on) & set(off))}
                found.append(
                    {"field": field, "context": dict(context), "by_seed": by_seed}
                    | stats.compare(on, off)
                )
    return found


def setting_text(context):
    """A drop's setting of the other switches, as text; a switch left unset (a ResNet's
    stage_activations) is not named."""
    return ", ".join(f"{k}={v}" for k, v in context.items() if v not in ("", None))


def drop_where(d):
    """Where a drop was measured: its setting of the other switches, and what it is set against
    when that is not the ReLU net in the same setting."""
    where = setting_text(d["context"]) or "every setting"
    return f"{where}, against {d['against']}" if d.get("against") else where


def pooling(context):
    """Whether a drop's setting keeps max pooling (the finding turns on it): "max" for the
    tutorial net's pool=max and a ResNet's downsample=max, else "none" (average pooling or
    strided downsampling)."""
    return "max" if "max" in (context.get("pool"), context.get("downsample")) else "none"


def drop_text(d, where=None):
    """'WHERE: 37.50 points (95% interval ...)' or 'WHERE: not separated ...', the text every
    drop gets, the verdict Holm-adjusted over its family (d["separated"]); WHERE is the drop's
    setting of the other switches unless given."""
    if where is None:
        where = drop_where(d)
    n = verdicts.seeds_text(d["n_a"], d["n_b"])
    points = f"{100 * d['difference']:.2f} points"
    if d["low"] is None and d.get("floor"):
        return f"{where}: {points} ({n}: {FLOOR_CHECK})"
    if d["low"] is None:
        return f"{where}: {points} ({n}: an interval needs {stats.MIN_SEEDS} seeds each)"
    how = "paired by seed" if d["method"] == stats.PAIRED else "Welch"
    low, high = markdown.percent(d["low"], 2), markdown.percent(d["high"], 2)
    interval = f"95% interval {low} to {high}; {how}, {n}; {verdicts.test_text(d)}"
    if d["separated"]:
        return f"{where}: {points} ({interval})"
    return f"{where}: {verdicts.unseparated(d)} ({points}, {interval})"


def describe(title, rows, summary=None, arch=None):
    """What the answers need of one experiment (JSON-ready); `summary` if already made; `arch`
    (whose switches it has) to find the drops whose linear side is an affine map."""
    summary = summary or report.summarize(rows)
    by_cpu = {cpu: [s / 60 for s in pair] for cpu, pair in summary["run_seconds_by_cpu"].items()}
    if not by_cpu:  # question 2 weighs every experiment by its time per run
        raise ValueError(f"{title}: no row records its run time (wall_seconds), which BEYOND needs")
    slowest = max(high for _, high in by_cpu.values())
    return {
        "title": title,
        "summary": summary,
        "drops": stats.holm_adjust(drops(summary, rows, arch)),
        "minutes": by_cpu,
        "hours_all_runs": slowest * summary["runs"] / 60,  # every run at the slowest one's time
        # max-pool windows per image of its max-pool configs (None where no row counts them)
        "max_pool_windows": max((r.get("max_pool_windows") or 0 for r in rows), default=0) or None,
    }


def section(name, entry, published):
    """One experiment's section: the table, the drops, the time per run, the published figure."""
    experiment = experiments.EXPERIMENTS[name]
    title, flagfile, key = experiment.title, experiment.flagfile, experiment.published
    summary = entry["summary"]
    # The CSV has every switch column; one the arch lacks holds its default and means nothing,
    # and an empty one (stage_activations unset: each stage takes conv_activation) says nothing.
    lacks = set(switches.SWITCH_DEFAULTS) - set(switches.present(experiment.arch))
    constant = ", ".join(
        f"{k}={v}" for k, v in summary["constant"].items() if k not in lacks and v != ""
    )
    steps = " or ".join(f"{s:,}" for s in summary["steps"])
    lines = [
        f"### {_capital(title)}",
        "",
        markdown.wrap(
            f"{summary['runs']} run{'s' if summary['runs'] != 1 else ''} of {steps} steps "
            f"(`{flagfile}`){f'; in every run {constant}' if constant else ''}. "
            f"Time per run: {durations(entry['minutes'])}."
        ),
        "",
        report.config_table(summary).rstrip("\n"),
        "",
    ]
    note = verdicts.family_note(entry["drops"], "drops of this section", findings.METHOD)
    lines += [markdown.wrap(note), ""] if note else []
    for d in entry["drops"]:
        lines.append(markdown.wrap(f"{d['field']} relu minus linear, {drop_text(d)}.", bullet=True))
    if key not in published:
        raise ValueError(f"{PUBLISHED_CSV} has no row {key!r}, the published figure for {name}")
    against = _against_published(summary, published[key], experiment)
    lines.append(markdown.wrap(against, bullet=True))
    return "\n".join(lines)


def _against_published(summary, row, experiment):
    """The best config here against the published figure, and what besides the net differs."""
    best = max(summary["configs"], key=lambda c: c["mean"])
    setting = setting_text({k: best["config"][k] for k in summary["fields"]})
    picked = f", picked after the runs from {len(summary['configs'])}" if setting else ""
    which = f"the best config here ({setting}{picked})" if setting else "here"
    gap = markdown.signed_points(best["mean"] - row["test_accuracy"])
    inside = best["low"] is not None and best["low"] <= row["test_accuracy"] <= best["high"]
    within = f" (within its 95% interval {markdown.interval(best['low'], best['high'])})"
    differs = [experiment.other_net] if experiment.other_net else []
    differs.append("the short schedule")
    if experiment.image_size != experiments.WHOLE:
        differs.append("the 24x24 crops")
    return (
        f"Published for {row['arch']}: {markdown.percent(row['test_accuracy'], 2)}% "
        f"({row['source']} {row['where']}, {row['setting']}); {which} "
        f"{markdown.percent(best['mean'])}%, {gap} points{within if inside else ''}. Besides the "
        f"data (a JPEG copy, [`DATA.md`](DATA.md); what it costs the tutorial net against its "
        f"published figures: [`RESULTS.md`](RESULTS.md)), the two differ in "
        f"{', '.join(differs[:-1])}{' and ' if len(differs) > 1 else ''}{differs[-1]}."
    )


def answers(entries):
    """Questions 2 and 3 from the conv-ReLU drops: per pooling (the finding turns on it), which
    drop separated from 0 is largest, how large, and how long its runs took. The listed drops
    and each pool's lead (the largest drop with an interval against the next net's largest, by
    their estimates) are one family, Holm-adjusted here on copies of the drops."""
    q3, pools, weighed = [], [], {}  # weighed: pool -> [(entry, drop)] with an interval
    untested = []  # titles with a drop that has no interval yet (fewer than MIN_SEEDS seeds)
    floors = []  # (entry, drop) of an affine linear side too few seeds to weigh: the floor check
    listed = []  # (entry, drop copy) in the order of q3
    for entry in entries:
        for d in entry["drops"]:
            if d["field"] != "conv_activation":
                continue
            d = dict(d)
            listed.append((entry, d))
            pool = pooling(d["context"])
            pools += [pool] if pool not in pools else []
            if d["low"] is not None:
                weighed.setdefault(pool, []).append((entry, d))
            if d["low"] is None and d.get("floor"):
                floors.append((entry, d))
            elif d["low"] is None and entry["title"] not in untested:
                untested.append(entry["title"])
    leads = {pool: lead(found) for pool, found in weighed.items()}
    family = [d for _, d in listed] + [o for o in leads.values() if o is not None]
    stats.holm_adjust(family)
    q3 = [f"{entry['title']}, {drop_text(d)}." for entry, d in listed]
    separated = {  # the drops the adjusted test separates from 0, above it
        pool: [pair for pair in found if pair[1]["separated"] and pair[1]["difference"] > 0]
        for pool, found in weighed.items()
    }
    largest = {
        pool: max(found, key=lambda pair: pair[1]["difference"])
        for pool, found in separated.items()
        if found
    }
    note = verdicts.family_note(family, "drops and leads of this answer", findings.METHOD)
    q3_text = "\n".join(markdown.wrap(line, bullet=True) for line in q3)
    if not q3:
        q3_text = markdown.wrap(
            "None yet: no net has runs both with and without its conv ReLUs.", bullet=True
        )
    if not largest:
        return markdown.wrap(
            "No net and dataset here has a conv-ReLU drop separated from 0 yet."
            + (f" {note}" if note else "")
        ), q3_text
    sentences, timed = [], set()
    for pool in pools:
        if pool not in largest:
            sentences.append(f"{POOLING_TEXT[pool]}, no net's drop is separated from 0.")
            continue
        entry, d = largest[pool]
        where = drop_where(d)
        sentence = (
            f"{POOLING_TEXT[pool]}, the largest conv-ReLU drop separated from 0 is in "
            f"{entry['title']}, with {where}: {100 * d['difference']:.1f} points"
        )
        if entry["title"] not in timed:  # its time once
            timed.add(entry["title"])
            sentence += (
                f"; one run took {durations(entry['minutes'])} and all "
                f"{entry['summary']['runs']} runs of its grid at most "
                f"{entry['hours_all_runs']:.1f} hours, "
                + ("within a day" if entry["hours_all_runs"] <= 24 else "more than a day")
                + " without a GPU"
            )
        sentences.append(sentence + ".")
        ahead = leads[pool]
        if ahead is not None and ahead["leader"] is d:
            sentences.append(drop_text(ahead, where=ahead["where"]) + ".")
        if pool == "none":
            sentences.append(AFFINE_READING)
    counted = [(e["title"], e["max_pool_windows"]) for e in entries if e.get("max_pool_windows")]
    if "max" in largest and len({w for _, w in counted}) > 1:
        sentences.append(
            "Max pooling is not one amount of non-linearity across these nets; max-pool windows "
            "per image: " + ", ".join(f"{t} {int(w):,}" for t, w in counted) + "."
        )
    for entry, d in floors:
        n = verdicts.seeds_text(d["n_a"], d["n_b"])
        sentences.append(
            f"{_capital(entry['title'])} with no ReLU and {setting_text(d['context'])} keeps no "
            f"non-linear layer, so it is one affine map: the ReLU net lies "
            f"{100 * d['difference']:.1f} points above that floor ({n}; the floor's runs check "
            "it, they are not weighed)."
        )
    if untested:
        want = f"for want of {stats.MIN_SEEDS} seeds"
        sentences.append(f"Not weighed yet, {want}: {', '.join(untested)}.")
    sentences += [note] if note else []
    return markdown.wrap(" ".join(sentences)), q3_text


def lead(weighed):
    """The comparison of the largest weighed drop (by its estimate) with the next net's largest,
    or None when no other net has a weighed drop there: Welch over the two nets' per-seed drops
    (their seed numbers are unrelated runs). It carries `leader`, the leading drop, and `where`,
    its sentence's subject."""
    entry, d = max(weighed, key=lambda pair: pair[1]["difference"])
    others = [pair for pair in weighed if pair[0]["title"] != entry["title"]]
    if not others:
        return None
    other, o = max(others, key=lambda pair: pair[1]["difference"])
    ahead = stats.compare(d["by_seed"], o["by_seed"], pair_seeds=False)
    where = f"Its lead over the {100 * o['difference']:.1f} points of {other['title']}"
    return ahead | {"leader": d, "where": where}


def linear_vs_net(linear, reference):
    """The tutorial net with no ReLU at all against softmax regression on the same crops."""
    net = next(
        (
            c
            for c in reference["summary"]["configs"]
            if all(c["config"].get(f) == "linear" for f in REMOVED)
            and c["config"].get("pool") == "avg"
        ),
        None,
    )
    if net is None:
        return ""
    softmax = linear["summary"]["configs"][0]
    # Two nets on two schedules: their seed numbers are no shared runs, so never paired; and
    # the difference mixes what LRN adds with what the schedule adds, so it gets no verdict.
    d = stats.compare(net["accuracies"], softmax["accuracies"], pair_seeds=False)
    steps = {
        name: " or ".join(f"{s:,}" for s in entry["summary"]["steps"])
        for name, entry in (("net", reference), ("linear", linear))
    }
    seeds = verdicts.seeds_text(net["n"], softmax["n"], each=True)
    if d["low"] is None:
        interval = f"{seeds}: no interval"
    else:
        low, high = markdown.percent(d["low"], 2), markdown.percent(d["high"], 2)
        interval = f"95% interval {low} to {high}; Welch, {seeds}"
    bound = (
        f" Together they add at most {high} points (the interval's upper end), at 95% confidence."
        if d["low"] is not None
        else ""
    )
    return markdown.wrap(
        f"{_capital(reference['title'])} with no ReLU (conv and FC linear, average pooling) "
        f"reaches {markdown.percent(net['mean'])}% (n={net['n']}) and the linear classifier "
        f"{markdown.percent(softmax['mean'])}% (n={softmax['n']}): the net minus the classifier "
        f"is {markdown.signed_points(d['difference'], 2)} points ({interval}). Each trained "
        f"on its own flagfile's schedule ({steps['net']} steps against {steps['linear']}), so "
        f"this difference gets no verdict: it cannot tell LRN's part from the schedule's.{bound}"
    )


def not_run(missing):
    """The line that names the experiments with no committed CSV (their grids not run yet), so a
    reader does not take the answers for theirs; "" when every one is in."""
    if not missing:
        return ""
    titles = [e.title for e in missing]
    named = ", ".join(titles[:-1]) + (" and " if len(titles) > 1 else "") + titles[-1]
    scripts = sorted({e.script for e in missing})
    grids = ", ".join(f"[`logs/{s}/run.sh`](logs/{s}/run.sh)" for s in scripts)
    return markdown.wrap(
        f"Not run yet, so in neither answer: {named} (their grids: {grids}; no results "
        "committed). What one run of each takes on the CPUs timed: "
        "[`PERFORMANCE.md`](PERFORMANCE.md#time-per-run)."
    )


def build(src_dir, reference=None):
    """(fragments, summary) for templates/BEYOND.md from the CSVs in src_dir; reference is
    (title, rows, summary) of the tutorial net on CIFAR-10, the baseline the bigger nets face."""
    published_path = src_dir / PUBLISHED_CSV
    published = read_published(published_path) if published_path.exists() else {}
    entries, fragments = {}, {"published_table": published_table(published) if published else ""}
    for name, experiment in experiments.EXPERIMENTS.items():
        path = src_dir / experiment.csv
        found = report.read_csv(path) if path.exists() else None
        entries[name] = describe(experiment.title, found, arch=experiment.arch) if found else None
        fragments[f"{name}_section"] = (
            section(name, entries[name], published) if entries[name] else ""
        )
    for part, wanted in (("bigger_sections", True), ("smaller_sections", False)):
        fragments[part] = "".join(
            fragments[f"{name}_section"]
            for name, experiment in experiments.EXPERIMENTS.items()
            if (experiment in experiments.bigger()) is wanted
        )  # "" without a committed section: the part's heading is left out
    fragments["not_run"] = not_run(
        [experiments.EXPERIMENTS[name] for name, entry in entries.items() if entry is None]
    )
    found = [e for e in entries.values() if e is not None]
    if reference is not None:
        found.insert(0, describe(*reference))
    fragments["q2"], fragments["q3"] = answers(found) if found else ("", "")
    fragments["linear_vs_net"] = (
        linear_vs_net(entries["linear"], found[0]) if reference and entries["linear"] else ""
    )
    return fragments, {"experiments": entries, "reference": found[0] if reference else None}
