"""Intervals over seeds that cover what they claim (tests/test_stats.py simulates the coverage).

Every interval is two-sided 95% and needs MIN_SEEDS runs in each input; with fewer there is
none (the caller prints none). A mean accuracy's interval is clipped to [0, 1], where accuracies
lie. Runs of two configs with the same seed share their data order and distortions, so a
comparison pairs them by seed when both configs have exactly the same seeds (`paired`), and is
Welch's otherwise; it has a two-sided p-value beside its interval. The comparisons of one report
are a family: holm_adjust adjusts their p-values by Holm's step-down method, and a comparison is
`separated` only where the adjusted p is at most ALPHA, so the chance that any comparison of the
family is called separated when no difference is real stays at or under 5%. An activation's
position on the scale from linear (0) to relu (1) is a ratio of differences; its interval is
Fieller's, paired by seed the same way.

The array functions take numpy arrays with the seeds on the last axis, so the coverage test runs
thousands of simulated experiments in one call; the report uses the dict functions at the end.
"""

import math

import numpy as np

LEVEL = 0.95
ALPHA = 1 - LEVEL  # the family-wise error rate of the Holm-adjusted verdicts
MIN_SEEDS = 3
ACCURACY_BOUNDS = (0.0, 1.0)  # where a mean accuracy's interval is clipped
PAIRED, WELCH = "paired", "Welch"
_NORMAL_QUANTILE = 1.959963984540054  # the 97.5% point of N(0, 1)


def _lgamma(v):
    """log Gamma elementwise, computed once per distinct value (simulations repeat a few)."""
    unique, inverse = np.unique(v, return_inverse=True)
    return np.vectorize(math.lgamma, otypes=[float])(unique)[inverse].reshape(np.shape(v))


def _incomplete_beta(a, b, x):
    """Regularized incomplete beta I_x(a, b) by Lentz's continued fraction (Numerical Recipes)."""
    flip = x > (a + 1) / (a + b + 2)  # there the fraction for 1 - I converges faster
    a, b, x = np.where(flip, b, a), np.where(flip, a, b), np.where(flip, 1 - x, x)
    lbeta = _lgamma(a) + _lgamma(b) - _lgamma(a + b)
    front = np.exp(a * np.log(x) + b * np.log1p(-x) - lbeta) / a
    tiny = 1e-300
    c, d = np.ones_like(x), 1 - (a + b) * x / (a + 1)
    d = 1 / np.where(np.abs(d) < tiny, tiny, d)
    fraction = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / np.where(np.abs(d) < tiny, tiny, d)
            c = 1 + numerator / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            fraction = fraction * c * d
        if np.all(np.abs(c * d - 1) < 1e-15):
            break
    value = front * fraction
    return np.where(flip, 1 - value, value)


def t_quantile(df):
    """The 97.5% point of Student's t with df degrees of freedom (any real df >= 1, arrays too).

    Our own (30 lines) because scipy is not a dependency. Newton's method from the normal
    quantile: the t CDF is concave above 0, so the steps rise monotonically to the root.
    """
    df = np.asarray(df, dtype=float)
    unique, inverse = np.unique(df, return_inverse=True)
    if unique.size < df.size:  # each distinct df once
        return t_quantile(unique)[inverse].reshape(df.shape)
    t = np.full_like(df, _NORMAL_QUANTILE)
    log_norm = _lgamma((df + 1) / 2) - _lgamma(df / 2) - 0.5 * np.log(df * math.pi)
    for _ in range(100):
        upper = 0.5 * _incomplete_beta(df / 2, np.full_like(df, 0.5), df / (df + t * t))
        density = np.exp(log_norm - (df + 1) / 2 * np.log1p(t * t / df))
        step = (upper - (1 - LEVEL) / 2) / density
        t = t + step
        if np.all(step < 1e-12 * t):
            break
    return t


def t_p_value(t, df):
    """Two-sided p-value of Student's t statistic t with df degrees of freedom (arrays too):
    P(|T| >= |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2); 0 for an infinite t."""
    t, df = np.broadcast_arrays(np.abs(np.asarray(t, dtype=float)), np.asarray(df, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x = np.where(np.isinf(t), 0.0, df / (df + t * t))
        p = _incomplete_beta(df / 2, np.full_like(df, 0.5), x)
    return np.clip(p, 0, 1)


def _t_test(difference, se, df):
    """(difference, low, high, two-sided p) of a t statistic difference / se with df."""
    half = t_quantile(df) * se
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, difference / se, np.where(difference == 0, 0.0, np.inf))
    return difference, difference - half, difference + half, t_p_value(t, df)


def mean_interval(x):
    """(mean, low, high) of the mean over the last axis: Student's t."""
    n = x.shape[-1]
    mean = x.mean(axis=-1)
    half = t_quantile(n - 1) * x.std(axis=-1, ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def paired_test(a, b):
    """(mean of a - b, low, high, p), seeds matched along the last axis: t on the differences,
    n - 1 degrees of freedom."""
    d = a - b
    n = d.shape[-1]
    se = d.std(axis=-1, ddof=1) / math.sqrt(n)
    return _t_test(d.mean(axis=-1), se, np.full(np.shape(se), n - 1.0))


def welch_df(a, b):
    """Welch-Satterthwaite degrees of freedom of mean(a) - mean(b), samples on the last axis:
    (va + vb)^2 / (va^2 / (na - 1) + vb^2 / (nb - 1)) with v the variance of each mean."""
    va, vb = a.var(axis=-1, ddof=1) / a.shape[-1], b.var(axis=-1, ddof=1) / b.shape[-1]
    return (va + vb) ** 2 / (va**2 / (a.shape[-1] - 1) + vb**2 / (b.shape[-1] - 1))


def welch_test(a, b):
    """(mean(a) - mean(b), low, high, p) for independent samples: Welch's t."""
    va, vb = a.var(axis=-1, ddof=1) / a.shape[-1], b.var(axis=-1, ddof=1) / b.shape[-1]
    return _t_test(a.mean(axis=-1) - b.mean(axis=-1), np.sqrt(va + vb), welch_df(a, b))


def paired_difference(a, b):
    """(mean of a - b, low, high), seeds matched along the last axis: t on the differences."""
    return paired_test(a, b)[:3]


def welch_difference(a, b):
    """(mean(a) - mean(b), low, high) for independent samples: Welch's t."""
    return welch_test(a, b)[:3]


def holm(p_values):
    """Holm's step-down adjusted p-values along the last axis, in the input order (arrays of
    families too). With the m p-values sorted, p_(1) <= ... <= p_(m), the i-th adjusted value
    is max over j <= i of min(1, (m - j + 1) p_(j)); rejecting where it is <= ALPHA rejects
    H_(1), H_(2), ... while p_(i) <= ALPHA / (m - i + 1) and stops at the first that is not."""
    p = np.asarray(p_values, dtype=float)
    m = p.shape[-1]
    order = np.argsort(p, axis=-1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=-1)
    stepped = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * ranked), axis=-1)
    adjusted = np.empty_like(p)
    np.put_along_axis(adjusted, order, stepped, axis=-1)
    return adjusted


def _fieller(x, y, vxx, vyy, vxy, df):
    """The set {r : (x - r y)^2 <= t^2 var(x - r y)} for means x, y with (co)variances v.

    Returns (low, high); NaN where the set is unbounded (y not clearly away from 0).
    """
    q = t_quantile(df) ** 2
    a, b, c = y * y - q * vyy, x * y - q * vxy, x * x - q * vxx
    root = np.sqrt(np.maximum(b * b - a * c, 0))
    bounded = a > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = (b - root) / a, (b + root) / a
    return np.where(bounded, low, np.nan), np.where(bounded, high, np.nan)


def paired_position(candidate, low_end, high_end):
    """(position, low, high) of candidate between low_end (0) and high_end (1), seeds matched.

    Fieller on the per-seed differences x = candidate - low_end, y = high_end - low_end: at the
    true position, x - r y has mean 0, so its t statistic is exactly Student's (normal data).
    """
    x, y = candidate - low_end, high_end - low_end
    n = x.shape[-1]
    xm, ym = x.mean(axis=-1), y.mean(axis=-1)
    dx, dy = x - xm[..., None], y - ym[..., None]
    vxx, vyy, vxy = ((u * v).sum(axis=-1) / (n - 1) / n for u, v in ((dx, dx), (dy, dy), (dx, dy)))
    return (xm / ym, *_fieller(xm, ym, vxx, vyy, vxy, np.full_like(xm, n - 1.0)))


def welch_position(candidate, low_end, high_end):
    """(position, low, high) for independent runs: Fieller with Welch's degrees of freedom,
    taken at the estimated position (an approximation; its coverage is simulated in the test)."""
    means = [v.mean(axis=-1) for v in (candidate, low_end, high_end)]
    ns = [v.shape[-1] for v in (candidate, low_end, high_end)]
    va, vl, vh = (
        v.var(axis=-1, ddof=1) / n for v, n in zip((candidate, low_end, high_end), ns, strict=True)
    )
    x, y = means[0] - means[1], means[2] - means[1]
    r = x / y
    parts = (va, (1 - r) ** 2 * vl, r * r * vh)  # var(x - r y), in the order of ns
    df = sum(parts) ** 2 / sum(p * p / (n - 1) for p, n in zip(parts, ns, strict=True))
    return (r, *_fieller(x, y, va + vl, vh + vl, vl, df))


# The report's side: runs as {seed: test accuracy}; None wherever there is no interval.


def _none_if_nan(value):
    value = float(value)
    return None if math.isnan(value) else value


def describe(values, bounds=ACCURACY_BOUNDS):
    """n, mean, sd (None for n = 1), and the t interval of the mean (None for n < MIN_SEEDS),
    clipped to bounds (accuracies lie in [0, 1]; a t interval of three seeds may not)."""
    x = np.array(list(values), dtype=float)
    summary = {"n": len(x), "mean": float(x.mean()), "sd": None, "low": None, "high": None}
    if len(x) > 1:
        summary["sd"] = float(x.std(ddof=1))
    if len(x) >= MIN_SEEDS:
        _, low, high = mean_interval(x)
        summary["low"], summary["high"] = float(max(low, bounds[0])), float(min(high, bounds[1]))
    return summary


def compare(a, b, pair_seeds=True):
    """mean(a) - mean(b) for {seed: value} dicts, paired when the seeds match, Welch's otherwise
    (pair_seeds=False: runs of different nets, whose seed numbers are not shared runs), with
    the 95% interval and the two-sided p-value (None below MIN_SEEDS seeds in either). Its
    verdict comes from holm_adjust over the family it belongs to."""
    paired = pair_seeds and sorted(a) == sorted(b)
    xa = np.array([a[s] for s in sorted(a)])
    xb = np.array([b[s] for s in sorted(b)])
    result = {
        "method": PAIRED if paired else WELCH,
        "n_a": len(xa),
        "n_b": len(xb),
        "difference": float(xa.mean() - xb.mean()),
        "low": None,
        "high": None,
        "p": None,
    }
    if min(len(xa), len(xb)) >= MIN_SEEDS:
        _, low, high, p = (paired_test if paired else welch_test)(xa, xb)
        result.update(low=float(low), high=float(high), p=float(p))
    return result


def holm_adjust(comparisons):
    """The comparisons (compare's dicts) as one family, in place and returned: each gets
    `family` (how many have a p-value), `p_holm` (Holm-adjusted; None without a p) and
    `separated` (p_holm <= ALPHA). Comparisons without an interval are not tested."""
    tested = [c for c in comparisons if c.get("p") is not None]
    adjusted = holm([c["p"] for c in tested]) if tested else []
    for c in comparisons:
        c.update(family=len(tested), p_holm=None, separated=False)
    for c, p in zip(tested, adjusted, strict=True):
        c.update(p_holm=float(p), separated=bool(p <= ALPHA))
    return comparisons


def position(candidate, low_end, high_end):
    """Where candidate lies from low_end (0) to high_end (1), {seed: value} dicts each.

    The interval is paired when all three have the same seeds, Welch's otherwise; None when an
    input has fewer than MIN_SEEDS runs or the set is unbounded (`bounded` False).
    """
    seeds = sorted(candidate)
    paired = seeds == sorted(low_end) == sorted(high_end)
    arrays = [np.array([d[s] for s in sorted(d)]) for d in (candidate, low_end, high_end)]
    means = [a.mean() for a in arrays]
    result = {
        "method": PAIRED if paired else WELCH,
        "position": float((means[0] - means[1]) / (means[2] - means[1])),
        "low": None,
        "high": None,
        "bounded": None,
    }
    if min(len(a) for a in arrays) >= MIN_SEEDS:
        _, low, high = (paired_position if paired else welch_position)(*arrays)
        result["low"], result["high"] = _none_if_nan(low), _none_if_nan(high)
        result["bounded"] = result["low"] is not None
    return result
