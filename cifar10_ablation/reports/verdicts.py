"""The sentences a comparison is reported in: "A above B" only where the Holm-adjusted test
over its family holds, with the unadjusted 95% interval, the p-values and the family's size.
"""

from cifar10_ablation.reports import markdown, stats

MEAN_INTERVAL_NOTE = (
    f"The 95% interval of a mean is Student's t over seeds (none below {stats.MIN_SEEDS} seeds), "
    "clipped to [0, 100]%, where accuracies lie."
)


def p_text(p, name="p"):
    """'p=0.031' (two significant digits) or 'p<0.001'."""
    return f"{name}<0.001" if p < 0.001 else f"{name}={p:.2g}"


def test_text(c):
    """'p=0.004, Holm-adjusted p=0.03' for a compared pair with a p-value ('p=0.004' alone in a
    family of one, where the adjusted p is the p); "" without one."""
    if c.get("p") is None:
        return ""
    if c.get("family", 1) <= 1:
        return p_text(c["p"])
    return f"{p_text(c['p'])}, {p_text(c['p_holm'], 'Holm-adjusted p')}"


def seeds_text(n_a, n_b, each=False):
    """'n=3' ('n=3 each' with `each`, for a sentence that names both groups) or 'n=2 and 3':
    the seeds behind a compared pair."""
    if n_a != n_b:
        return f"n={n_a} and {n_b}"
    return f"n={n_a} each" if each else f"n={n_a}"


def unseparated(c):
    """Why a tested comparison is not called separated: its interval holds 0, or it excludes 0
    but the Holm-adjusted test over its family does not reject."""
    if c["low"] > 0 or c["high"] < 0:
        return "not separated once adjusted for the family"
    return "not separated at this n"


def family_note(found, what="comparisons of this report", method=None):
    """One line saying how the verdicts of these comparisons were adjusted ("" for none); with
    `method`, a link to where the method is described, for a page that states it once."""
    tested = sum(1 for c in found if c.get("p") is not None)
    if tested == 0:
        return ""
    if tested == 1:
        return f"Only one of the {what} has an interval: a family of one, its test unadjusted (5%)."
    if method:
        link = f"[how]({method})"
        return f"Verdicts are Holm-adjusted over the {tested} {what} with an interval ({link})."
    return (
        f"Verdicts are Holm-adjusted over the {tested} {what} with an interval (at most 5% "
        "chance that any is called separated when no difference is real); each 95% interval "
        "is shown unadjusted."
    )


def comparison_sentence(c):
    """'A above B by ...' only when the Holm-adjusted test over its family rejects 0
    (c["separated"], stats.holm_adjust)."""
    where = ", ".join(f"{k}={v}" for k, v in c["context"].items())
    where = f"With {where}: " if where else ""
    n = seeds_text(c["n_a"], c["n_b"])
    how = "paired by seed" if c["method"] == stats.PAIRED else "Welch, seeds differ"
    points = f"{markdown.signed_points(c['difference'], 2)} points"
    pair = f"{where}{c['field']} {c['a']} and {c['b']}"
    if c["low"] is None:  # of any size: without an interval nothing says it is beyond seed noise
        needs = f"an interval needs {stats.MIN_SEEDS} seeds each"
        return f"{pair}: no interval yet ({points}; {n}: {needs})."
    low, high = markdown.percent(c["low"], 2), markdown.percent(c["high"], 2)
    test = test_text(c)
    if c["separated"]:
        above, below = (c["a"], c["b"]) if c["difference"] > 0 else (c["b"], c["a"])
        points = f"{markdown.signed_points(abs(c['difference']), 2)} points"
        return (
            f"{where}{c['field']} {above} above {below}: {points} (95% interval "
            f"{low} to {high}; {how}, {n}; {test})."
        )
    interval = f"95% interval {low} to {high}; {how}, {n}; {test}"
    return f"{pair}: {unseparated(c)} ({points}, {interval})."


def comparison_lines(summary):
    note = family_note(summary["comparisons"])
    lines = "".join(f"- {comparison_sentence(c)}\n" for c in summary["comparisons"])
    return (f"{markdown.wrap(note)}\n\n" if note else "") + lines
