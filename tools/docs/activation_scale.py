"""ACTIVATION_SCALE.md's fragments: where each alternative to ReLU lies between linear and relu.

From docs/activation_scale_quick.csv: the table of positions (reports/scale.py), each
alternative against both ends as one Holm-adjusted family, what those verdicts support, and the
per-run summary.
"""

import json

from cifar10_ablation.reports import markdown, report, scale, stats, verdicts

CSV = "activation_scale_quick.csv"


def versus_ends(entries, field):
    """Each alternative against relu and against linear, paired by seed: one family, Holm-adjusted
    (the higher mean first in each pair, so a separated pair reads "A above B")."""
    ends = {e["activation"]: e["accuracies"] for e in entries if e["end"]}
    found = []
    for e in entries:
        if e["end"]:
            continue
        for end in (scale.RELU, scale.NOTHING):
            pair = sorted([(e["activation"], e["accuracies"]), (end, ends[end])], key=_mean_first)
            (a, by_seed_a), (b, by_seed_b) = pair
            found.append(
                {"field": field, "context": {}, "activation": e["activation"], "end": end}
                | {"a": a, "b": b, **stats.compare(by_seed_a, by_seed_b)}
            )
    return stats.holm_adjust(found)


def _mean_first(item):
    return -sum(item[1].values()) / len(item[1])


def ends_verdict(found):
    """What the adjusted comparisons support: per end of the scale, which alternatives lie
    above it, below it, or are not separated from it."""
    by_end, sentences = {}, []
    for end in (scale.RELU, scale.NOTHING):
        sides = {"above": [], "below": [], "not separated": [], "untested": []}
        for c in found:
            if c["end"] != end:
                continue
            if c["p"] is None:
                side = "untested"
            elif not c["separated"]:
                side = "not separated"
            else:
                side = "above" if c["a"] == c["activation"] else "below"
            sides[side].append(c["activation"])
        by_end[end] = sides
        said = [
            f"**{side} {end}**: {', '.join(names)}"
            if side in ("above", "below")
            else f"{side} from {end}: {', '.join(names)}"
            if side == "not separated"
            else f"no interval yet ({stats.MIN_SEEDS} seeds each): {', '.join(names)}"
            for side, names in sides.items()
            if names
        ]
        sentences.append(f"{'; '.join(said)}.")
    tested = sum(1 for c in found if c["p"] is not None)
    head = f"What the {tested} comparisons support, Holm-adjusted over all of them:"
    return markdown.wrap(" ".join([head, *sentences])), by_end


def fragments(rows):
    """The activation scale's table, each alternative against both ends (Holm-adjusted), what
    those verdicts say, and the per-run summary."""
    summary = report.summarize(rows)
    field, entries = scale.entries_of(rows, summary["fields"])
    if field is None:
        raise ValueError(f"{CSV} holds no activation scale: {entries or 'no linear/relu'}")
    if len({json.dumps(e["context"], sort_keys=True) for e in entries}) > 1:
        raise ValueError(f"{CSV} varies more than {field}; the docs describe one setting")
    header = [field, "n", "test accuracy % (mean)", "per seed %", "position", "95% interval"]
    rows = []
    for e in entries:
        seeds = " / ".join(markdown.percent(a, 2) for _, a in sorted(e["accuracies"].items()))
        rows.append(
            [
                e["activation"],
                e["n"],
                markdown.percent(e["accuracy"]),
                seeds,
                f"{e['position']:.2f}",
            ]
            + [scale.interval_text(e)]
        )
    found = versus_ends(entries, field)
    verdict, by_end = ends_verdict(found)
    others = [e for e in entries if not e["end"]]
    low, high = others[0], others[-1]
    fragments = {
        "scale_table": markdown.table(header, rows),
        "scale_family": str(sum(1 for c in found if c["p"] is not None)),
        "scale_versus_ends": "\n".join(
            markdown.wrap(verdicts.comparison_sentence(c), bullet=True) for c in found
        ),
        "scale_verdict": verdict,
        "scale_runs": report.config_table(summary).rstrip("\n"),
        "scale_range": markdown.wrap(
            f"The alternatives' positions run from {low['position']:.2f} ({low['activation']}) "
            f"to {high['position']:.2f} ({high['activation']})."
        ),
    }
    return fragments, {
        "summary": summary,
        "field": field,
        "entries": entries,
        "versus_ends": found,
        "verdicts": by_end,
    }
