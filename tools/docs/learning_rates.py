"""RESULTS.md's learning rate per config: chosen on validation data, and what the choice changes.

From docs/logs/lr/run.sh's committed CSVs: the selection trials (each named config at each peak
rate, one seed, on the validation split, shorter than the preset), the tutorial net's rates at the
preset's full length (does the short selection's choice hold?), and the seeds trained at each
config's choice. A config whose choice is the preset's shared rate keeps its runs in
results_fast.csv. Only validation accuracy chooses; test accuracy is read only for the seeds.
A part whose runs are not all committed yet says what is missing instead of a result.
"""

from pathlib import Path

import curves
import findings
import numpy as np

from cifar10_ablation.reports import markdown, report, stats, verdicts

SELECTION_CSV = "selection_fast.csv"
FULL_LENGTH_CSV = "selection_fast_full_length.csv"
BATCH_CSV = "selection_fast_batch.csv"  # stage 4: the tutorial net at BATCH_CHECKED
CHOSEN_CSV = "results_fast_lr.csv"
SHARED_CSV = "results_fast.csv"
# The peak rates docs/logs/lr/run.sh tries (tests/test_learning_rates.py checks the script).
VALUES = (0.01, 0.02, 0.04, 0.08, 0.16)
SHARED_VALUE = 0.04  # flags/fast.flags' --learning_rate (checked by the same test)
SHARED_BATCH = 256  # flags/fast.flags' --batch_size (checked by the same test)
BATCH_CHECKED = 128  # the first fast preset's, which the screening set 256 against
# The conv-ReLU pairs whose effect the choice may change.
PAIRS = findings.CONV_RELU_PAIRS


def _rows(src_dir, name):
    path = Path(src_dir) / name
    return report.read_csv(path) if path.exists() else []


def _matches(row, name):
    return all(row.get(k) == v for k, v in findings.NAMED_ROWS[name].items())


def validation_by_value(rows, name):
    """{value: [validation accuracies]} of the named config's trials."""
    found = {}
    for row in rows:
        if _matches(row, name):
            found.setdefault(float(row["learning_rate"]), []).append(row["validation_accuracy"])
    return found


def choose(rows, values=VALUES):
    """Per named config: the mean validation accuracy per value and the choice (the best mean,
    the first of equals), or None while a value is untrained."""
    choices = {}
    for name in findings.NAMED_CONFIGS:
        found = validation_by_value(rows, name)
        means = {v: sum(found[v]) / len(found[v]) for v in values if found.get(v)}
        done = len(means) == len(values)
        best = max(means, key=means.get) if done else None
        choices[name] = {"means": means, "choice": best}
    return choices


def _cell(choice, value):
    if value not in choice["means"]:
        return "not trained yet"
    text = markdown.percent(choice["means"][value], 2)
    return f"**{text}**" if value == choice["choice"] else text


def selection_table(choices, values=VALUES):
    header = ["config", *(f"rate {v}" for v in values), "chosen"]
    rows = [
        [f"`{name}`", *(_cell(c, v) for v in values), c["choice"] or "pending"]
        for name, c in choices.items()
    ]
    return markdown.table(header, rows)


def _steps(rows):
    return " or ".join(f"{s:,}" for s in sorted({r["global_step"] for r in rows}))


def _seed_noise(spread):
    """(half-width, its text): 95% of the difference two single runs show by seed alone, from
    the tutorial net's seed-to-seed sd at the preset (`spread`: its test accuracies, one per
    seed; t with n-1 degrees of freedom, times sqrt 2)."""
    sd = float(np.std(spread, ddof=1))
    noise = float(stats.t_quantile(len(spread) - 1)) * sd * np.sqrt(2)
    return noise, (
        f"±{100 * noise:.2f} points (95%) that two single runs differ by seed alone (the "
        f"tutorial net's test accuracy at the preset: sd {100 * sd:.2f} points over "
        f"{len(spread)} seeds)"
    )


def batch_check(selection_rows, batch_rows, spread=()):
    """Whether the preset's batch size, first chosen on test accuracy, stands on validation:
    the tutorial net's best validation accuracy over the rates at the preset's batch (the
    selection's trials) against its best at BATCH_CHECKED (stage 4: the same rates, length and
    split), judged against what seed alone makes two single runs differ by (`_seed_noise`).
    ("", False) until stage 4 has every rate; else (text, True)."""
    at = {}
    for size, rows in ((SHARED_BATCH, selection_rows), (BATCH_CHECKED, batch_rows)):
        found = validation_by_value(rows, "tutorial")
        means = {v: sum(a) / len(a) for v, a in found.items()}
        if len(means) < len(VALUES):
            return (
                "The preset's batch size is not re-checked yet: stage 4 of "
                "[`logs/lr/run.sh`](logs/lr/run.sh) trains the tutorial net at batch "
                f"{BATCH_CHECKED} at each rate on the validation split.",
                False,
            )
        best = max(means, key=means.get)
        at[size] = (best, means[best])
    (rate, shared), (other_rate, other) = at[SHARED_BATCH], at[BATCH_CHECKED]
    text = (
        f"**The preset's batch size, {SHARED_BATCH}, first chosen on test accuracy (above), "
        f"re-checked on validation data** the same way (rows [`{BATCH_CSV}`]({BATCH_CSV}), stage "
        f"4): the tutorial net's best at batch {SHARED_BATCH} is {markdown.percent(shared, 2)}% "
        f"(rate {rate}), at batch {BATCH_CHECKED} {markdown.percent(other, 2)}% (rate "
        f"{other_rate}), each at {_steps(batch_rows)} steps (so batch {BATCH_CHECKED} sees half "
        "the images, as in the screening, which held the steps equal too). "
    )
    if shared >= other and len(spread) >= 2:
        noise, yardstick = _seed_noise(spread)
        told = (
            "beyond what seed alone gives"
            if shared - other > noise
            else "so the lead itself is not told from seed noise at one seed each"
        )
        return text + (
            f"Batch {SHARED_BATCH} stands: the rule picks it, {100 * (shared - other):.2f} points "
            f"above batch {BATCH_CHECKED}, against {yardstick}, {told}."
        ), True
    if shared >= other:
        return text + f"Batch {SHARED_BATCH} stands (one seed each).", True
    ahead = other - shared
    if len(spread) < 2:
        return text + f"Batch {BATCH_CHECKED} reads {100 * ahead:.2f} points above it.", True
    noise, yardstick = _seed_noise(spread)
    if ahead > noise:
        return text + (
            f"Batch {SHARED_BATCH} does not stand: batch {BATCH_CHECKED} reads "
            f"{100 * ahead:.2f} points above it, against {yardstick}."
        ), True
    return text + (
        f"Batch {BATCH_CHECKED} reads {100 * ahead:.2f} points above it, against {yardstick}: "
        "one seed each cannot tell the two batch sizes apart."
    ), True


def full_length(rows, choice, spread=()):
    """Whether the tutorial net's short-selection choice is also its best at full length. The
    yardstick is the difference two single runs can show by seed alone: 95% of it, from the
    tutorial net's seed-to-seed sd at the preset (`spread`: its test accuracies, one per seed;
    t with n-1 degrees of freedom, times sqrt 2). A rate above the choice by more says it does
    not hold; one above it within that cannot be told apart at one seed each; the choice holds
    once it leads with a rate on each side of it in (stage 3 trains one at a time, so a part of
    them must not read as a verdict)."""
    found = validation_by_value(rows, "tutorial")
    if not found:
        return (
            "Not measured yet: stage 3 of [`logs/lr/run.sh`](logs/lr/run.sh) trains the "
            "tutorial net at each rate for the preset's full length, on the validation split."
        )
    means = {v: sum(a) / len(a) for v, a in sorted(found.items())}
    best = max(means, key=means.get)
    listed = ", ".join(f"{v} {markdown.percent(m, 2)}%" for v, m in means.items())
    plot = curves.plot_name(curves.csv_name(FULL_LENGTH_CSV))
    text = (
        f"At the preset's full length ({_steps(rows)} steps), on validation: {listed} (rows "
        f"[`{FULL_LENGTH_CSV}`]({FULL_LENGTH_CSV}), curves [`{plot}`]({plot})). "
    )
    if choice is None:
        return text + "The short selection has not chosen yet."
    said = f"The short selection's choice, {choice},"
    if choice not in means:
        return text + f"{said} is not measured at full length yet: no verdict."
    if best != choice:
        ahead = means[best] - means[choice]
        if len(spread) < 2:
            return text + (
                f"At full length the same rule picks {best}, {100 * ahead:.2f} points above "
                f"{choice}; no verdict until the tutorial net has 2 seeds at the preset to "
                "measure what one seed's difference can be."
            )
        noise, yardstick = _seed_noise(spread)
        by = f"{100 * ahead:.2f} points above it, against {yardstick}"
        if ahead > noise:
            return (
                text + f"{said} does not hold: {best} is best at full length, {by} (one seed each)."
            )
        return text + (
            f"At full length the same rule picks {best}, not {choice}: {best} reads {by}, so one "
            "seed each cannot tell whether the short selection's choice holds at full length."
        )
    if min(means) < choice < max(means):
        return text + f"{said} holds (one seed each)."
    return text + f"{said} is the best so far; no verdict until a rate on each side of it is in."


def _accuracies(rows, name, value):
    return {
        r["seed"]: r["test_accuracy"]
        for r in rows
        if _matches(r, name) and float(r["learning_rate"]) == value
    }


def effects(shared_rows, chosen_rows, choices):
    """Per pair: the conv-ReLU effect at the shared rate and at each config's chosen rate,
    compare()'s dicts, Holm-adjusted as one family."""
    found = []
    for relu, linear in PAIRS:
        for label, rate_of in (
            ("shared", {relu: SHARED_VALUE, linear: SHARED_VALUE}),
            ("per config", {relu: choices[relu]["choice"], linear: choices[linear]["choice"]}),
        ):
            if None in rate_of.values():
                found.append({"pair": (relu, linear), "rates": label, "pending": "choice"})
                continue
            ends = []
            for name in (relu, linear):
                rows = shared_rows if rate_of[name] == SHARED_VALUE else chosen_rows
                ends.append(_accuracies(rows, name, rate_of[name]))
            if not all(ends):
                found.append({"pair": (relu, linear), "rates": label, "pending": "seeds"})
                continue
            c = stats.compare(*ends)
            c.update(pair=(relu, linear), rates=label, rate_of=rate_of, pending=None)
            found.append(c)
    stats.holm_adjust([c for c in found if not c["pending"]])
    return found


def effects_table(found):
    header = [
        "pair (ReLU − linear conv)",
        "rates",
        "effect (points)",
        "95% interval",
        "p",
        "verdict",
    ]
    rows = []
    for c in found:
        pair = f"`{c['pair'][0]}` − `{c['pair'][1]}`"
        if c["pending"]:
            what = "not chosen yet" if c["pending"] == "choice" else "seeds not trained yet"
            rows.append([pair, c["rates"], what, "", "", ""])
            continue
        rates = "shared: " if c["rates"] == "shared" else "per config: "
        rates += " / ".join(str(r) for r in c["rate_of"].values())
        n = verdicts.seeds_text(c["n_a"], c["n_b"])
        points = f"{markdown.signed_points(c['difference'], 2)} ({n})"
        if c["low"] is None:
            rows.append([pair, rates, points, "no interval yet", "", ""])
            continue
        interval = f"{markdown.percent(c['low'], 2)} to {markdown.percent(c['high'], 2)}"
        verdict = "separated" if c["separated"] else verdicts.unseparated(c)
        rows.append([pair, rates, points, interval, verdicts.test_text(c), verdict])
    return markdown.table(header, rows)


def _both_measured(found):
    """Per pair with both effects tested: (relu, linear, shared effect, per-config effect)."""
    by_pair = {}
    for c in found:
        by_pair.setdefault(c["pair"], {})[c["rates"]] = c
    for (relu, linear), both in by_pair.items():
        shared, chosen = both.get("shared"), both.get("per config")
        if all(c and not c["pending"] and c["p"] is not None for c in (shared, chosen)):
            yield relu, linear, shared, chosen


def _separated(c):
    return "separated" if c["separated"] else "not separated"


def _holds(shared, chosen):
    return "holds" if shared["separated"] == chosen["separated"] else "changes"


def survives(found):
    """Per pair with both effects measured: does the shared rate's verdict hold at the chosen
    rates? "" while a per-config effect is pending."""
    said = [
        f"`{relu}` against `{linear}`: "
        f"{markdown.signed_points(shared['difference'], 2)} points at the shared rate "
        f"({_separated(shared)}), "
        f"{markdown.signed_points(chosen['difference'], 2)} at the chosen rates "
        f"({_separated(chosen)}): the verdict {_holds(shared, chosen)}"
        for relu, linear, shared, chosen in _both_measured(found)
    ]
    return ("With a rate chosen per config, " + "; ".join(said) + ".") if said else ""


def glance(found):
    """RESULTS.md's opening line on the tuning: each pair's effect at the chosen rates and
    whether its verdict holds. "" until a pair has both effects."""
    said = [
        f"`{relu}` − `{linear}` {markdown.signed_points(chosen['difference'], 2)} points "
        f"({_separated(chosen)}; {markdown.signed_points(shared['difference'], 2)} at the "
        f"shared rate, the verdict {_holds(shared, chosen)})"
        for relu, linear, shared, chosen in _both_measured(found)
    ]
    if not said:
        return ""
    return (
        "**With a learning rate per config**, each chosen on validation data (fast preset), the "
        "conv-ReLU effects: " + "; ".join(said) + "."
    )


def at_the_edge(choices, values=VALUES):
    """The configs whose choice is the grid's smallest or largest rate: its best may lie beyond
    what was tried."""
    edge = [
        f"`{name}` ({c['choice']})"
        for name, c in choices.items()
        if c["choice"] in (min(values), max(values))
    ]
    if not edge:
        return ""
    return (
        "At the edge of the rates tried: " + ", ".join(edge) + ". A config's best rate may lie "
        f"beyond the {len(values)} tried; its choice is the best of those, not an optimum."
    )


def seed_files(src_dir):
    """Where the seeds at the chosen rates are committed, once the first has finished."""
    if not (Path(src_dir) / CHOSEN_CSV).exists():
        return ""
    rows = curves.csv_name(CHOSEN_CSV)
    plot = curves.plot_name(rows)
    return (
        f"The seeds at the chosen rates: rows [`{CHOSEN_CSV}`]({CHOSEN_CSV}), curves "
        f"[`{rows}`]({rows}), drawn in [`{plot}`]({plot})."
    )


def _paragraph(text):
    return markdown.wrap(text) if text else ""


def _stands(choice):
    """Whether the preset's shared rate, first chosen on test accuracy, is the tutorial net's
    choice on validation data."""
    if choice is None:
        return (
            "Whether the preset's shared rate stands is not known until the tutorial net's "
            "trials are all committed."
        )
    if choice == SHARED_VALUE:
        return (
            f"**The preset's rate, {SHARED_VALUE}, first chosen on test accuracy (above), is "
            "also the tutorial net's choice on validation data at the selection's length.**"
        )
    return (
        f"**On validation data the tutorial net chooses {choice}, not the preset's "
        f"{SHARED_VALUE}, which was first chosen on test accuracy (above).**"
    )


def fragments(src_dir):
    """The learning-rate fragments of RESULTS.md ("" each without a selection CSV), and their
    JSON-ready summary."""
    selection = _rows(src_dir, SELECTION_CSV)
    names = (
        "lr_selection",
        "lr_selection_table",
        "lr_steps",
        "lr_pending",
        "lr_stands",
        "lr_survives",
        "lr_edge",
        "lr_seed_files",
    )
    if not selection:
        others = ("lr_effects_table", "lr_effects_note", "lr_glance", "lr_batch_checked")
        return dict.fromkeys((*names, *others), ""), {}
    choices = choose(selection)
    tutorial = choices["tutorial"]["choice"]
    shared = _rows(src_dir, SHARED_CSV)
    spread = list(_accuracies(shared, "tutorial", SHARED_VALUE).values())
    batch_text, batch_checked = batch_check(selection, _rows(src_dir, BATCH_CSV), spread)
    found = effects(shared, _rows(src_dir, CHOSEN_CSV), choices)
    pending = [f"`{n}`" for n, c in choices.items() if c["choice"] is None]
    still = "Still training (stage 1 of [`logs/lr/run.sh`](logs/lr/run.sh)): "
    tested = [c for c in found if not c["pending"]]
    value = {
        "lr_selection": "yes",
        "lr_selection_table": selection_table(choices),
        "lr_steps": _steps(selection),
        "lr_pending": markdown.wrap(still + ", ".join(pending) + ".") if pending else "",
        "lr_stands": markdown.wrap(
            _stands(tutorial)
            + " "
            + full_length(_rows(src_dir, FULL_LENGTH_CSV), tutorial, spread)
            + " "
            + batch_text
        ),
        "lr_effects_table": effects_table(found),
        "lr_survives": _paragraph(survives(found)),
        "lr_glance": glance(found),
        "lr_edge": _paragraph(at_the_edge(choices)),
        "lr_seed_files": _paragraph(seed_files(src_dir)),
        "lr_batch_checked": "yes" if batch_checked else "",
        "lr_effects_note": markdown.wrap(
            verdicts.family_note(tested, "effects of this table", findings.METHOD)
        ),
    }
    summary = {
        "choices": {
            n: {"choice": c["choice"], "means": {str(v): m for v, m in c["means"].items()}}
            for n, c in choices.items()
        },
        "effects": [{k: v for k, v in c.items() if k != "rate_of"} for c in found],
    }
    return value, summary
