"""Intervals over seeds: the t quantile, their simulated coverage, and when there is none."""

import numpy as np
import pytest

from cifar10_ablation.reports import stats

SIMULATIONS = 20_000  # coverage standard error ~0.15 points: 93-97% is a real check


@pytest.mark.parametrize(
    "df, quantile",  # Student's t tables, 97.5% point
    [(1, 12.7062047), (2, 4.3026527), (2.5, 3.5746548), (4, 2.7764451), (10, 2.2281389)]
    + [(30, 2.0422725), (1000, 1.9623391)],
)
def test_t_quantile_matches_the_tables(df, quantile):
    assert float(stats.t_quantile(df)) == pytest.approx(quantile, abs=1e-6)


def _coverage(low, high, truth):
    return float(np.mean((low < truth) & (truth < high)))


@pytest.fixture
def rng():
    return np.random.default_rng(20261130)


@pytest.mark.parametrize("n", [3, 5])
def test_mean_interval_covers_95_percent(rng, n):
    _, low, high = stats.mean_interval(rng.normal(0.7, 0.01, (SIMULATIONS, n)))
    assert 0.93 <= _coverage(low, high, 0.7) <= 0.97


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
    assert 0.93 <= _coverage(low, high, 0.03) <= 0.97


@pytest.mark.parametrize("na, nb", [(3, 3), (5, 5), (3, 5)])
def test_welch_difference_covers_95_percent(rng, na, nb):
    a = rng.normal(0.74, 0.01, (SIMULATIONS, na))
    b = rng.normal(0.71, 0.02, (SIMULATIONS, nb))
    _, low, high = stats.welch_difference(a, b)
    assert 0.93 <= _coverage(low, high, 0.03) <= 0.97


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
    assert 0.93 <= _coverage(low, high, truth) <= 0.97


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
    assert paired["low"] > 0  # the seed effect cancels: separated
    welch = stats.compare(a, {3: 0.731, 4: 0.741, 5: 0.724})
    assert welch["method"] == "Welch" and welch["low"] < 0  # unpaired: not separated


def test_position_is_none_when_the_ends_are_not_separated():
    linear = {0: 0.50, 1: 0.60, 2: 0.40}
    relu = {0: 0.52, 1: 0.58, 2: 0.45}
    result = stats.position({0: 0.51, 1: 0.59, 2: 0.42}, linear, relu)
    assert result["low"] is None and result["bounded"] is False
