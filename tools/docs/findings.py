"""What RESULTS.md says about the four named configs, computed from the preset CSVs.

The lead table (published figure, then each committed preset), the distance to the published
figures split into what the tutorial schedule adds over a shorter preset and the rest (the
tutorial net on the tutorial schedule is the control), where each preset's curves are, the claim
that the fast preset is within FAST_WITHIN_POINTS of the tutorial schedule at no more than
FAST_MAX_STEPS steps, and the README's headline sentence. Presets are the {preset: flat rows} of
docs.py, longest schedule first.
"""

from cifar10_ablation.reports import markdown, stats, verdicts

# Where the docs' statistics are described, once; each section links there (relative to docs/).
METHOD = "../README.md#how-the-comparisons-are-judged"

# The four named configs (flags/<name>.flags; `tutorial` is the defaults) and their
# published test accuracy (../shared/docs/tutorial-reference.md). tests/test_docs.py checks
# the switches against the flagfiles.
NAMED_CONFIGS = {
    "tutorial": ({"conv_activation": "relu", "fc_activation": "relu", "pool": "max"}, 0.86),
    "conv_linear_max": (
        {"conv_activation": "linear", "fc_activation": "relu", "pool": "max"},
        None,
    ),
    "finding_conv_relu": (
        {"conv_activation": "relu", "fc_activation": "linear", "pool": "avg"},
        0.834,
    ),
    "finding_no_conv_relu": (
        {"conv_activation": "linear", "fc_activation": "linear", "pool": "avg"},
        0.372,
    ),
}
# The named configs' conv-ReLU pairs: (with the conv ReLUs, without).
CONV_RELU_PAIRS = (("tutorial", "conv_linear_max"), ("finding_conv_relu", "finding_no_conv_relu"))
# Each named config as its rows in a results CSV hold it (the four are the LRN net's).
NAMED_ROWS = {name: {**held, "lrn": "true"} for name, (held, _) in NAMED_CONFIGS.items()}
PUBLISHED_TEXT = {
    "tutorial": "~86 (83.0 per cifar10_eval.py)",
    "conv_linear_max": '"barely changed" (no figure)',
    "finding_conv_relu": "83.4",
    "finding_no_conv_relu": "37.2",
}
# The control's two published figures: cifar10_eval.py's docstring and the tutorial's text.
CONTROL_PUBLISHED = {"83.0% (cifar10_eval.py)": 0.830, "~86% (the tutorial's text)": 0.86}
# Said once, where the first difference between presets is given.
PRESETS_DIFFER = (
    " (a shorter preset differs in batch size, rate and momentum as well as length:"
    " `flags/<preset>.flags`)."
)
# The fast preset's claim, checked against the tutorial schedule.
FAST_WITHIN_POINTS, FAST_MAX_STEPS = 1.0, 20_000


def _named_runs(rows, switches, preset):
    """({seed: test accuracy}, last step) of the rows with these switches (a NAMED_ROWS entry)."""
    runs, steps = {}, 0
    for row in rows:
        if all(row.get(k) == v for k, v in switches.items()):
            if row["seed"] in runs:
                raise ValueError(
                    f"results_{preset}.csv has two runs with seed {row['seed']} matching "
                    f"{switches}: one run per seed and config, please"
                )
            runs[row["seed"]] = row["test_accuracy"]
            steps = max(steps, row["global_step"])
    return runs, steps


def describe_named(presets):
    """Per named config and preset: described runs (JSON-ready), for the lead table."""
    named = {}
    for name, switches in NAMED_ROWS.items():
        named[name] = {"published": NAMED_CONFIGS[name][1]}
        for preset, rows in presets.items():
            runs, steps = _named_runs(rows, switches, preset)
            if runs:
                described = stats.describe(runs.values())
                named[name][preset] = {**described, "accuracies": runs, "steps": steps}
    return named


def _cell(described, each_seed=False):
    if described is None:
        return "not run"
    if each_seed:
        seeds = " / ".join(markdown.percent(a) for _, a in sorted(described["accuracies"].items()))
        return f"{seeds} (n={described['n']})"
    sd = "" if described["sd"] is None else f" ± {markdown.percent(described['sd'])}"
    return f"{markdown.percent(described['mean'])}{sd} (n={described['n']})"


def lead_table(named, presets):
    header = ["config", "published %"]
    header += [f"{_label(p)} %" + (" (each seed)" if p == "tutorial" else "") for p in presets]
    rows = []
    for name, entry in named.items():
        cells = [f"`{name}`", PUBLISHED_TEXT[name]]
        cells += [_cell(entry.get(p), each_seed=p == "tutorial") for p in presets]
        rows.append(cells)
    return markdown.table(header, rows)


def _label(preset):
    return "tutorial schedule" if preset == "tutorial" else f"{preset} preset"


def gap(named, presets):
    """How far from the published figures, and how much of it the schedule explains: the
    tutorial schedule minus a shorter preset (which is shorter, and differs in batch, rate and
    momentum too: not length alone); what the tutorial schedule leaves is data and every other
    difference, the tutorial net itself being the control."""
    sentences = []
    if "tutorial" not in presets:
        sentences.append(
            "No tutorial-schedule runs are committed yet (`results_tutorial.csv`), so the "
            "distance to the published figures cannot yet be split into schedule and data."
        )
    said_presets = False
    for name, entry in named.items():
        published = entry["published"]
        at = {p: entry[p]["mean"] for p in presets if p in entry}
        if published is None or not at:
            continue
        parts = [
            f"{_label(p)} {markdown.percent(at[p])}% ({distance(published, at[p])} it)" for p in at
        ]
        short = PUBLISHED_TEXT[name].split(" (")[0]  # "~86", not its note
        text = f"`{name}`, published {short}%: " + ", ".join(parts) + "."
        shorter = [p for p in at if p != "tutorial"]
        if "tutorial" in at and shorter:
            text += " The tutorial schedule minus the shorter preset: " + ", ".join(
                f"{p} {markdown.signed_points(at['tutorial'] - at[p])} points" for p in shorter
            )
            text += "." if said_presets else PRESETS_DIFFER
            said_presets = True
        if name == "tutorial" and "tutorial" in at:
            text += (
                " With the schedule held equal, this distance is what the data (a JPEG copy) and"
                " every other difference to the original run cost: the control for the rows below."
            )
        sentences.append(text)
    split = _split(named, presets)
    if split:
        sentences.append(split)
    return "\n\n".join(markdown.wrap(s) for s in sentences)


def _split(named, presets):
    """The finding's distance at the tutorial schedule set against the control's, or None."""
    finding, control = named["finding_conv_relu"], named["tutorial"].get("tutorial")
    if control is None or "tutorial" not in finding:
        return None
    at = finding["tutorial"]["mean"]
    gains = [
        f"{markdown.signed_points(at - finding[p]['mean'])} points over the {_label(p)}"
        for p in presets
        if p != "tutorial" and p in finding
    ]
    against = " and ".join(
        f"{distance(value, control['mean'])} {text}" for text, value in CONTROL_PUBLISHED.items()
    )
    return (
        "Schedule and data, in short, for `finding_conv_relu`: "
        + (f"the tutorial schedule is worth {', '.join(gains)}; " if gains else "")
        + f"at the tutorial schedule it remains {distance(finding['published'], at)} its "
        f"published {PUBLISHED_TEXT['finding_conv_relu']}%, where the tutorial net, the control, "
        f"lies {against}: the share of the distance that is the data and setup, not the config."
    )


def preset_curves(presets, curve_runs):
    """Where each preset's per-run curves are committed (curve_runs: {preset: the runs its
    curves CSV holds}), with how many of its runs they cover: a schedule claim is checked
    against them. The runs a preset's CSV lists and no curve holds had no log committed."""
    parts = []
    for preset, rows in presets.items():
        held = curve_runs.get(preset, set())
        covered = sum(row["run"] in held for row in rows)
        name = f"curves_results_{preset}"
        where = f"[`{name}.png`]({name}.png) ([`{name}.csv`]({name}.csv))" if held else "none"
        parts.append(f"{_label(preset)} {where}, {covered} of its {len(rows)} runs")
    return markdown.wrap(
        "Each run's curve (at each evaluation: the step, the training loss, and the accuracy of "
        "the averaged weights on validation or, without a validation split, on test), per preset: "
        + "; ".join(parts)
        + ". The curves of the runs trained on machines since laid anew are read from their "
        "committed logs; a run no committed log holds from its first step has none."
    )


def distance(published, measured):
    """'N points below' or 'above'; 'level with' where N rounds to 0.0, which has no side."""
    gap = markdown.percent(abs(published - measured))
    if gap == markdown.percent(0):
        return "level with"
    return f"{gap} points {'below' if measured < published else 'above'}"


def fast_claim(named, presets):
    """The fast preset's claim, true or false as the CSVs say; "" until both are committed."""
    if not {"fast", "tutorial"} <= set(presets):
        return "", None
    checks, lines = {}, []
    for name, entry in named.items():
        fast, tutorial = entry.get("fast"), entry.get("tutorial")
        if fast is None or tutorial is None:
            checks[name] = None
            lines.append(f"`{name}`: not checked, no {'fast' if fast is None else 'tutorial'} runs")
            continue
        difference = fast["mean"] - tutorial["mean"]
        ok = abs(100 * difference) <= FAST_WITHIN_POINTS and fast["steps"] <= FAST_MAX_STEPS
        checks[name] = {"difference": difference, "steps": fast["steps"], "holds": ok}
        lines.append(
            f"`{name}`: fast {markdown.percent(fast['mean'])}% "
            f"(n={fast['n']}, {fast['steps']:,} steps) vs "
            f"tutorial schedule {markdown.percent(tutorial['mean'])}% (n={tutorial['n']}): "
            f"{markdown.signed_points(difference, 2)} points, {'within' if ok else 'NOT within'}"
        )
    holds = all(c is not None and c["holds"] for c in checks.values())
    head = (
        f"**The fast preset's means {'' if holds else 'do not all '}lie within "
        f"{FAST_WITHIN_POINTS} point of the tutorial schedule's at <= {FAST_MAX_STEPS:,} steps "
        "for the four configs** (means over the committed seeds; this describes the means, it "
        "does not test that the two schedules are equivalent):"
    )
    text = (
        markdown.wrap(head) + "\n\n" + "\n".join(markdown.wrap(line, bullet=True) for line in lines)
    )
    return text, {"holds": holds, "configs": checks}


def headline(named, presets):
    """The README's sentence: the finding's pair at the longest preset that has it."""
    pair = ("finding_conv_relu", "finding_no_conv_relu")
    preset = next((p for p in presets if all(p in named[n] for n in pair)), None)
    if preset is None:
        return ""
    on, off = (named[n][preset] for n in pair)
    text = (
        f"Measured here ({preset} preset, {on['steps']:,} steps, real data, averaged weights): "
        "with the FC ReLUs off and average pooling, test accuracy is "
        f"{markdown.percent(on['mean'])}% with "
        f"the conv ReLUs (n={on['n']}) and {markdown.percent(off['mean'])}% without (n={off['n']})"
    )
    if preset in named["tutorial"]:
        text += f"; the tutorial net reaches {markdown.percent(named['tutorial'][preset]['mean'])}%"
    return markdown.wrap(
        text + ". Intervals, the max-pool side and the other presets: `docs/RESULTS.md`."
    )


def screening_reused(named, rows, screening_rows, preset="fast"):
    """{name: (seed, mean of the others, its conv-ReLU pair's effect without that seed or
    None)} for each named config whose run at `preset` is a screening run itself (same seed,
    step and both accuracies as a tuning_*.csv row): it was picked on test accuracy, so a reader
    should know the mean and the effect without it."""
    keys = ("seed", "global_step", "test_accuracy", "test_accuracy_raw")
    screened = {tuple(r.get(k) for k in keys) for r in screening_rows}
    reused = {}
    for name, (switches, _) in NAMED_CONFIGS.items():
        entry = named[name].get(preset)
        for row in rows:
            if tuple(row.get(k) for k in keys) in screened and all(
                row.get(k) == v for k, v in switches.items()
            ):
                others = [a for s, a in entry["accuracies"].items() if s != row["seed"]]
                mean = sum(others) / len(others) if others else None
                effect = _effect_without(named, name, preset, row["seed"])
                reused[name] = (row["seed"], mean, effect)
    return reused


def _effect_without(named, name, preset, seed):
    """The conv-ReLU effect of name's pair at preset, paired by seed, without `seed` (compare's
    dict, with its pair's names), or None when name is in no pair or a side has no run left."""
    pair = next((p for p in CONV_RELU_PAIRS if name in p), None)
    if pair is None or any(preset not in named[n] for n in pair):
        return None
    relu, linear = (
        {s: a for s, a in named[n][preset]["accuracies"].items() if s != seed} for n in pair
    )
    return {**stats.compare(relu, linear), "pair": pair} if relu and linear else None


def _drop(drops, **context):
    """The conv-ReLU drop in this setting of the other switches, or None."""
    return next(
        (d for d in drops if d["field"] == "conv_activation" and d["context"] == context), None
    )


def _drop_said(d):
    """'+41.64 points (41.38 to 41.90), separated' (the verdict Holm-adjusted in its family)."""
    points = f"{markdown.signed_points(d['difference'], 2)} points"
    if d["low"] is None:
        return f"{points} (n={d['n_a']}: no interval)"
    interval = f"{markdown.percent(d['low'], 2)} to {markdown.percent(d['high'], 2)}"
    return f"{points} ({interval}), {'separated' if d['separated'] else verdicts.unseparated(d)}"


def at_a_glance(
    named, presets, tuned="", drops=(), drops_preset=None, reused=None, batch_checked=False
):
    """The page's opening, read in half a minute: the finding as measured, what holds, what
    does not, and the caveats. `drops`: the conv-ReLU drops of `drops_preset` (beyond.drops,
    one Holm family), whose verdicts say what holds; `tuned`: whether they survive a learning
    rate per config; `reused`: screening_reused's runs. "" without a preset that has the
    finding's pair."""
    pair = ("finding_conv_relu", "finding_no_conv_relu")
    preset = next((p for p in presets if all(p in named[n] for n in pair)), None)
    if preset is None:
        return ""
    on, off = ({**named[n][preset], "published": named[n]["published"]} for n in pair)
    finding = _drop(drops, fc_activation="linear", pool="avg")
    family = sum(1 for d in drops if d["p"] is not None)
    where = f"at the {_label(drops_preset)}, Holm-adjusted over its {family} ReLU drops"
    held = f" {where[0].upper()}{where[1:]}: {_drop_said(finding)}." if finding else ""
    seeds = verdicts.seeds_text(on["n"], off["n"], each=True)
    lines = [
        f"**The finding as measured** ({_label(preset)}, {seeds}): removing "
        "the conv ReLUs with the FC ReLUs off and average pooling takes test accuracy from "
        f"{markdown.percent(on['mean'])}% to {markdown.percent(off['mean'])}% (published: "
        f"{markdown.percent(on['published'])}% to {markdown.percent(off['published'])}%).{held}"
    ]
    control = named["tutorial"].get(preset)
    if control is not None:
        below = on["published"] - on["mean"]
        further = below > max(abs(v - control["mean"]) for v in CONTROL_PUBLISHED.values())
        lines.append(
            "**The control**, the tutorial net itself, reaches "
            f"{markdown.percent(control['mean'])}% (n={control['n']}) against the published "
            + " and ".join(CONTROL_PUBLISHED)
            + f"; the finding's ReLU end lands {markdown.percent(below)} points below its "
            f"published figure, {'further' if further else 'no further'} than the control lies "
            "from either of its published figures"
            + (
                ", so the data alone does not explain that gap, if the JPEG copy costs each "
                "config about what it costs the control (the 83.4% section below tests what "
                "else)."
                if further
                else "."
            )
        )
    relu_max = _drop(drops, fc_activation="relu", pool="max")
    linear_max = _drop(drops, fc_activation="linear", pool="max")
    if relu_max is not None:
        also = f"; with the FC ReLUs off as well, by {_drop_said(linear_max)}" if linear_max else ""
        lines.append(
            "**With max pooling**, removing the conv ReLUs (FC ReLUs on) changes test accuracy "
            f"by {_drop_said(relu_max)}{also} (the same family)."
        )
    if tuned:
        lines.append(tuned)
    caveats = [
        "the data is a JPEG copy of CIFAR-10 (`DATA.md`)",
        "verdicts are Holm-adjusted within each section, with n seeds as each table says",
        "the fast preset's settings were first chosen on test accuracy; its rate is re-checked "
        "on validation data, per config, below, "
        + (
            "and its batch size (256 against 128) for the tutorial net"
            if batch_checked
            else "its batch size (256 against 128) is not yet"
        ),
    ]
    for name, (seed, rest, effect) in (reused or {}).items():
        without = f"; without it its mean is {markdown.percent(rest, 2)}%" if rest else ""
        if effect:
            n = verdicts.seeds_text(effect["n_a"], effect["n_b"])
            interval = (
                f"95% interval {markdown.interval(effect['low'], effect['high'])}, {n}"
                if effect["low"] is not None
                else f"{n}, too few seeds for an interval"
            )
            without += (
                f" and `{effect['pair'][0]}` − `{effect['pair'][1]}` "
                f"{markdown.signed_points(effect['difference'], 2)} points ({interval})"
            )
        caveats.append(
            f"seed {seed} of `{name}` at the fast preset is that screening run itself (same "
            f"flags, seed and accuracies in `tuning_fast*.csv`){without}"
        )
    if "quick" in presets:
        caveats.append("the quick preset, a shorter schedule, lands lower (its table below)")
    lines.append("**Caveats**: " + "; ".join(caveats) + ".")
    return "\n".join(markdown.wrap(line, bullet=True) for line in lines)
