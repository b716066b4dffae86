"""Intervals over seeds: the t quantile, degrees of freedom and p-values against hand-worked
values, their simulated coverage, Holm's family-wise error, and when there is none."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from cifar10_ablation.reports import stats

SIMULATIONS = 50_000
# The standard error of a simulated 95% coverage: 0.097 points; 3 of them are the band (0.29).
COVERAGE_BAND = 3 * math.sqrt(0.95 * 0.05 / SIMULATIONS)
# Family sizes of the reports: every size up to the BEYOND answers' 14 drops and leads, so a doc
# section whose family grows by one run stays covered (test_the_docs_use_these_family_sizes).
FAMILY_SIZES = tuple(range(1, 15))
FAMILY_SIMULATIONS = 20_000  # the 5% family-wise rate's standard error: 0.15 points
FWER_BAND = 3 * math.sqrt(0.05 * 0.95 / FAMILY_SIMULATIONS)
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "df, quantile",  # Student's t tables, 97.5% point
    [(1, 12.7062047), (2, 4.3026527), (2.5, 3.5746548), (4, 2.7764451), (10, 2.2281389)]
    + [(30, 2.0422725), (1000, 1.9623391)],
)
def test_t_quantile_matches_the_tables(df, quantile):
    assert float(stats.t_quantile(df)) == pytest.approx(quantile, abs=1e-6)


def test_t_quantile_of_an_array_matches_the_four_digit_table():
    table = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 10: 2.2281, 30: 2.0423}
    df = np.array([2, 1, 30, 3, 2, 10, 4, 1.0])  # repeated values: computed once each
    assert stats.t_quantile(df) == pytest.approx([table[d] for d in df], abs=1e-4)


@pytest.mark.parametrize("df, t", [(1, 12.7062), (2, 4.3027), (3, 3.1824), (10, 2.2281)])
def test_the_p_value_at_the_tables_975_point_is_5_percent(df, t):
    assert float(stats.t_p_value(t, df)) == pytest.approx(0.05, abs=1e-5)
    assert float(stats.t_p_value(-t, df)) == pytest.approx(0.05, abs=1e-5)  # two-sided


def test_p_values_of_student_t_in_closed_form():
    # df = 2: P(|T| >= t) = 1 - t / sqrt(2 + t^2); df = 1 (Cauchy): 1 - 2 atan(t) / pi
    t = np.array([0.0, 0.5, 1.0, 3.0, 10.0])
    assert stats.t_p_value(t, 2) == pytest.approx(1 - t / np.sqrt(2 + t * t), abs=1e-10)
    assert stats.t_p_value(t, 1) == pytest.approx(1 - 2 * np.arctan(t) / np.pi, abs=1e-10)
    assert float(stats.t_p_value(np.inf, 2)) == 0


def test_welch_degrees_of_freedom_of_a_hand_worked_example():
    # variances 1 and 10, so the means' variances are 1/3 and 2:
    # (1/3 + 2)^2 / ((1/3)^2 / 2 + 2^2 / 4) = (49/9) / (19/18) = 98/19; pooled would be 6
    a, b = np.array([0.0, 1, 2]), np.array([0.0, 2, 4, 6, 8])
    assert float(stats.welch_df(a, b)) == pytest.approx(98 / 19, rel=1e-12)
    difference, low, high = stats.welch_difference(a, b)
    half = float(stats.t_quantile(98 / 19)) * math.sqrt(1 / 3 + 2)
    assert (difference, low, high) == pytest.approx((-3, -3 - half, -3 + half), rel=1e-12)
    # equal variances and sizes: Welch's df is the pooled 2 (n - 1)
    assert float(stats.welch_df(a, a + 5)) == pytest.approx(4)


def test_holm_against_a_hand_worked_example():
    # sorted: 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 = 0.04 -> 0.06 (the
    # step-down keeps the adjusted values rising); in the input order:
    p = [0.01, 0.04, 0.03, 0.005]
    assert stats.holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm(np.array([[0.2, 0.5], [0.9, 0.01]])) == pytest.approx(
        np.array([[0.4, 0.5], [0.9, 0.02]])
    )
    assert stats.holm([0.3, 0.6, 0.9]) == pytest.approx([0.9, 1.0, 1.0])  # capped at 1
    # 0.012 < 0.05 / 4 and 0.016 < 0.05 / 3, but 0.04 > 0.05 / 2: the step-down stops there,
    # and the last (0.045 < 0.05 / 1) is not rejected either
    comparisons = [{"p": p} for p in (0.045, 0.012, 0.04, 0.016)] + [{"p": None}]
    stats.holm_adjust(comparisons)
    assert [c["separated"] for c in comparisons] == [False, True, False, True, False]
    assert [c["p_holm"] for c in comparisons] == pytest.approx([0.08, 0.048, 0.08, 0.048, None])
    assert {c["family"] for c in comparisons} == {4}  # the untested one is not in the family


def test_the_docs_use_these_family_sizes():
    """FAMILY_SIZES covers every family docs/summary.json holds (0: no comparison tested)."""
    found = set()

    def walk(value):
        if isinstance(value, dict):
            found.update([value["family"]] if "family" in value else [])
            value = list(value.values())
        for item in value if isinstance(value, list) else []:
            walk(item)

    walk(json.loads((ROOT / "docs" / "summary.json").read_text()))
    assert found and found - {0} <= set(FAMILY_SIZES)


def _null_family(rng, m, n=3, seed_sd=0.02):
    """m paired comparisons of null configs with n seeds: p-values shaped (simulations, m)."""
    seed_effect = rng.normal(0, seed_sd, (FAMILY_SIMULATIONS, 1, n))
    a = 0.7 + seed_effect + rng.normal(0, 0.01, (FAMILY_SIMULATIONS, m, n))
    b = 0.7 + seed_effect + rng.normal(0, 0.01, (FAMILY_SIMULATIONS, m, n))
    return stats.paired_test(a, b)[3]


@pytest.mark.parametrize("m", FAMILY_SIZES)
def test_holm_keeps_the_family_wise_error_at_5_percent(rng, m):
    """No difference is real: the share of families with any comparison called separated."""
    p = _null_family(rng, m)
    family_wise = float(np.mean((stats.holm(p) <= stats.ALPHA).any(axis=-1)))
    assert family_wise <= stats.ALPHA + FWER_BAND
    unadjusted = float(np.mean((p <= stats.ALPHA).any(axis=-1)))
    if m > 1:  # what the correction is for: 1 - 0.95^m, 9.8% at m = 2
        assert unadjusted > 1 - (1 - stats.ALPHA) ** m - FWER_BAND - 0.01


def test_holm_keeps_the_family_wise_error_of_the_scale_at_5_percent(rng):
    """The activation scale's family: 7 alternatives, each against the same relu and linear runs
    (shared seeds and shared ends: dependent comparisons), nothing different from anything."""
    seed_effect = rng.normal(0, 0.02, (FAMILY_SIMULATIONS, 1, 3))
    runs = 0.7 + seed_effect + rng.normal(0, 0.01, (FAMILY_SIMULATIONS, 9, 3))
    alternatives, relu, linear = runs[:, :7], runs[:, 7:8], runs[:, 8:9]
    p = np.concatenate(
        [stats.paired_test(alternatives, relu)[3], stats.paired_test(alternatives, linear)[3]],
        axis=-1,
    )
    assert p.shape == (FAMILY_SIMULATIONS, 14)
    assert float(np.mean((stats.holm(p) <= stats.ALPHA).any(axis=-1))) <= stats.ALPHA + FWER_BAND


def test_holm_keeps_the_family_wise_error_of_welch_comparisons_at_5_percent(rng):
    a = rng.normal(0.7, 0.01, (FAMILY_SIMULATIONS // 4, 4, 3))
    b = rng.normal(0.7, 0.03, (FAMILY_SIMULATIONS // 4, 4, 3))
    p = stats.welch_test(a, b)[3]
    band = 3 * math.sqrt(0.05 * 0.95 / (FAMILY_SIMULATIONS // 4))
    assert float(np.mean((stats.holm(p) <= stats.ALPHA).any(axis=-1))) <= stats.ALPHA + band


def test_a_p_value_at_most_5_percent_is_an_interval_without_0(rng):
    a, b = rng.normal(0.7, 0.01, (2, 2000, 3))
    for test in (stats.paired_test, stats.welch_test):
        _, low, high, p = test(a + 0.01, b)
        assert np.array_equal(p <= 0.05, (low > 0) | (high < 0))


def _coverage(low, high, truth):
    return float(np.mean((low < truth) & (truth < high)))


@pytest.fixture
def rng():
    return np.random.default_rng(20261130)


@pytest.mark.parametrize("n", [3, 5])
def test_mean_interval_covers_95_percent(rng, n):
    _, low, high = stats.mean_interval(rng.normal(0.7, 0.01, (SIMULATIONS, n)))
    assert _coverage(low, high, 0.7) == pytest.approx(0.95, abs=COVERAGE_BAND)


def test_the_check_fails_an_interval_that_undercovers(rng):
    """A normal-quantile interval at n = 3 (what a z interval or a bootstrap amounts to)."""
    x = rng.normal(0.7, 0.01, (SIMULATIONS, 3))
    half = 1.96 * x.std(axis=-1, ddof=1) / np.sqrt(3)
    assert _coverage(x.mean(-1) - half, x.mean(-1) + half, 0.7) < 0.9


def _seeded(rng, means, sds, n, seed_sd=0.02):
    """Runs of several configs sharing n seeds: a common per-seed effect plus their own noise."""
    seed_effect = rng.normal(0, seed_sd, (SIMULATIONS, n))
    return [
        m + seed_effect + rng.normal(0, s, (SIMULATIONS, n))
        for m, s in zip(means, sds, strict=True)
    ]


@pytest.mark.parametrize("n", [3, 5])
def test_paired_difference_covers_95_percent(rng, n):
    a, b = _seeded(rng, (0.74, 0.71), (0.01, 0.005), n)
    _, low, high = stats.paired_difference(a, b)
    assert _coverage(low, high, 0.03) == pytest.approx(0.95, abs=COVERAGE_BAND)


def _welch_coverage_from_variances(rng, na, nb, sa, sb):
    """Welch's coverage computed another way, from sample variances alone: the mean difference
    is normal and independent of them, so coverage = E[P(|Z| <= q(df) se / true se)]. Its own
    standard error is far below a simulation's; (mean, standard error)."""
    va = sa * sa * rng.chisquare(na - 1, SIMULATIONS) / (na - 1) / na
    vb = sb * sb * rng.chisquare(nb - 1, SIMULATIONS) / (nb - 1) / nb
    df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))  # written out, not welch_df
    z = stats.t_quantile(df) * np.sqrt((va + vb) / (sa * sa / na + sb * sb / nb))
    inside = np.vectorize(math.erf)(z / math.sqrt(2))
    return float(inside.mean()), float(inside.std() / math.sqrt(SIMULATIONS))


@pytest.mark.parametrize("na, nb, sb", [(3, 3, 0.02), (5, 5, 0.02), (3, 5, 0.02), (3, 3, 0.04)])
def test_welch_difference_covers_what_its_degrees_of_freedom_give(rng, na, nb, sb):
    """Welch's interval is approximate: its coverage at n = 3 lies between ~94.3% and ~96.5% by
    the ratio of the variances, not at 95%. The simulated coverage is checked against the same
    coverage computed from the sample variances alone, within 3 standard errors of both; and
    against 95% within 1.5 points, the approximation's own error at these n."""
    a = rng.normal(0.74, 0.01, (SIMULATIONS, na))
    b = rng.normal(0.71, sb, (SIMULATIONS, nb))
    _, low, high = stats.welch_difference(a, b)
    simulated = _coverage(low, high, 0.03)
    expected, expected_se = _welch_coverage_from_variances(rng, na, nb, 0.01, sb)
    se = math.sqrt(simulated * (1 - simulated) / SIMULATIONS + expected_se**2)
    assert simulated == pytest.approx(expected, abs=3 * se)
    assert simulated == pytest.approx(0.95, abs=0.015)


@pytest.mark.parametrize("n", [3, 5])
@pytest.mark.parametrize("paired", [True, False])
def test_position_interval_covers_95_percent(rng, n, paired):
    means, sds = (0.68, 0.37, 0.75), (0.01, 0.01, 0.02)  # candidate, linear, relu
    if paired:
        runs = _seeded(rng, means, sds, n)
        _, low, high = stats.paired_position(*runs)
    else:
        runs = [rng.normal(m, s, (SIMULATIONS, n)) for m, s in zip(means, sds, strict=True)]
        _, low, high = stats.welch_position(*runs)
    truth = (0.68 - 0.37) / (0.75 - 0.37)
    assert not np.isnan(low).any()  # the ends are far apart: always bounded here
    if paired:  # Fieller's interval is exact for normal data
        assert _coverage(low, high, truth) == pytest.approx(0.95, abs=COVERAGE_BAND)
    else:  # Welch's df taken at the estimated position: approximate, ~95.3-95.8% here
        assert 0.95 - COVERAGE_BAND <= _coverage(low, high, truth) <= 0.965


def test_no_interval_below_three_seeds():
    two = {0: 0.71, 1: 0.72}
    three = {0: 0.74, 1: 0.75, 2: 0.73}
    assert stats.describe(two.values())["low"] is None
    assert stats.describe(two.values())["sd"] == pytest.approx(0.00707, abs=1e-5)
    assert stats.describe([0.5])["sd"] is None
    assert stats.compare(three, two)["low"] is None
    assert stats.position(three, two, {0: 0.8, 1: 0.8, 2: 0.81})["low"] is None
    described = stats.describe(three.values())
    assert described["low"] < 0.74 < described["high"]


def test_compare_pairs_by_seed_only_when_the_seeds_match():
    a = {0: 0.741, 1: 0.752, 2: 0.733}
    b = {0: 0.731, 1: 0.741, 2: 0.724}  # each seed ~0.01 below a, seeds differ by ~0.02
    paired = stats.compare(a, b)
    assert paired["method"] == "paired" and paired["difference"] == pytest.approx(0.01)
    # the differences 0.010, 0.011, 0.009: sd 0.001, t on 2 degrees of freedom
    half = 4.3026527 * 0.001 / math.sqrt(3)
    assert (paired["low"], paired["high"]) == pytest.approx((0.01 - half, 0.01 + half), abs=1e-9)
    t = 0.01 / (0.001 / math.sqrt(3))
    assert paired["p"] == pytest.approx(1 - t / math.sqrt(2 + t * t), abs=1e-9)  # df = 2
    # the same runs under other seed numbers, or of other nets: Welch on the variances
    # 9.1e-5 and 7.3e-5 (by hand), not separated
    va, vb = 9.1e-5 / 3, 7.3e-5 / 3
    df = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 2)
    half = float(stats.t_quantile(df)) * math.sqrt(va + vb)
    for welch in (stats.compare(a, {3: 0.731, 4: 0.741, 5: 0.724}), stats.compare(a, b, False)):
        assert welch["method"] == "Welch"
        assert (welch["low"], welch["high"]) == pytest.approx((0.01 - half, 0.01 + half))
        assert welch["low"] < 0 < welch["p"] - 0.05
    assert stats.compare(a, {0: 0.731, 1: 0.741, 3: 0.724})["method"] == "Welch"  # one differs


def test_a_mean_accuracys_interval_is_clipped_to_0_and_1():
    # mean 0.8567, sd 0.2223: the t interval is [0.304, 1.409], an accuracy above 100%
    high = stats.describe([0.98, 0.99, 0.60])
    assert (high["low"], high["high"]) == pytest.approx((0.3044, 1.0), abs=1e-4)
    low = stats.describe([0.02, 0.01, 0.40])  # [-0.409, 0.6956]
    assert (low["low"], low["high"]) == pytest.approx((0.0, 0.6956), abs=1e-4)
    inside = stats.describe([0.74, 0.75, 0.73])
    assert (inside["low"], inside["high"]) == pytest.approx(
        (0.74 - 0.02484, 0.74 + 0.02484), abs=1e-5
    )


def test_position_is_none_when_the_ends_are_not_separated():
    linear = {0: 0.50, 1: 0.60, 2: 0.40}
    relu = {0: 0.52, 1: 0.58, 2: 0.45}
    result = stats.position({0: 0.51, 1: 0.59, 2: 0.42}, linear, relu)
    assert result["low"] is None and result["bounded"] is False
