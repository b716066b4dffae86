"""A report's comparisons are one family: the verdict follows Holm's adjusted test, the interval
stays the unadjusted 95% one, and the report says how many comparisons the family has."""

from cifar10_ablation.reports import stats, verdicts


def _comparison(a, b, difference, low, high, p):
    return {"field": "pool", "context": {}, "a": a, "b": b, "method": stats.PAIRED} | {
        "n_a": 3,
        "n_b": 3,
        "difference": difference,
        "low": low,
        "high": high,
        "p": p,
    }


def test_a_verdict_follows_the_adjusted_test_not_the_interval():
    # both intervals exclude 0 (p < 0.05), but 0.03 x 2 = 0.06: Holm separates neither
    family = stats.holm_adjust(
        [
            _comparison("avg", "max", 0.0083, 0.0001, 0.0165, 0.03),
            _comparison("x", "y", 0.01, 0.001, 0.02, 0.04),
        ]
    )
    assert [c["separated"] for c in family] == [False, False]
    assert verdicts.comparison_sentence(family[0]) == (
        "pool avg and max: not separated once adjusted for the family (+0.83 points, 95% interval "
        "0.01 to 1.65; paired by seed, n=3; p=0.03, Holm-adjusted p=0.06)."
    )
    # alone, the same comparison is its own family and separated
    [alone] = stats.holm_adjust([_comparison("avg", "max", 0.0083, 0.0001, 0.0165, 0.03)])
    assert verdicts.comparison_sentence(alone) == (
        "pool avg above max: +0.83 points (95% interval 0.01 to 1.65; paired by seed, n=3; p=0.03)."
    )


def test_the_report_says_how_many_comparisons_its_family_has():
    family = stats.holm_adjust(
        [_comparison("a", "b", 0.1, 0.05, 0.15, 0.001) for _ in range(3)]
        + [_comparison("c", "d", 0.1, None, None, None)]  # no interval: not in the family
    )
    note = verdicts.family_note(family)
    assert note.startswith("Verdicts are Holm-adjusted over the 3 comparisons of this report")
    lines = verdicts.comparison_lines({"comparisons": family})
    assert lines.startswith("Verdicts are Holm-adjusted over the 3 comparisons")
    assert lines.count("pool a above b: +10.00 points") == 3
    assert "p=0.001, Holm-adjusted p=0.003" in lines
    assert verdicts.family_note([_comparison("c", "d", 0.1, None, None, None)]) == ""


def test_every_report_names_the_seeds_behind_a_pair_alike():
    assert verdicts.seeds_text(3, 3) == "n=3"
    assert verdicts.seeds_text(3, 3, each=True) == "n=3 each"
    assert verdicts.seeds_text(2, 3, each=True) == "n=2 and 3"
    uneven = _comparison("avg", "max", 0.0083, -0.01, 0.02, 0.2) | {"n_a": 2}
    [uneven] = stats.holm_adjust([uneven])
    assert "paired by seed, n=2 and 3;" in verdicts.comparison_sentence(uneven)
