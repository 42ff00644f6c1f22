"""Exact binomial probability limits for p charts (``limits="exact"`` or ``"auto"``).

The normal approximation cl +/- 3 sigma_i is poor when n_i cl or n_i (1 - cl) is
small: at cl = 0.985 and n = 15 a stable process falls below its lower limit in
about 2 % of points, not the nominal 0.135 %. Probability limits (Montgomery,
*Introduction to Statistical Quality Control*, the chapter on control charts for
attributes: probability limits for the fraction-nonconforming chart when p or n is
small and the normal approximation fails) put the lines at the same one-sided tail
probabilities as the normal lines instead: alpha = 1 - Phi(3) = 0.00135 for the
3-sigma limits and 1 - Phi(2) = 0.02275 for the 2-sigma lines. With X ~
Binomial(n_i, cl), its distribution function extended to real counts and
denominators by the regularised incomplete beta function,
F(x) = P(X <= x) = I_{1-cl}(n_i - x, x + 1) and S(x) = P(X >= x) = I_cl(x, n_i - x + 1)
(Abramowitz & Stegun 26.5.24; equal to the binomial at whole numbers; a Kish
effective sample size and a weighted count are not whole):

- lcl_i = x_lo / n_i with F(x_lo) = alpha, so that a point is below it (strictly,
  y < lcl) exactly when P(X <= x) < alpha; 0 when even x = 0 is not that unlikely;
- ucl_i = x_hi / n_i with S(x_hi) = alpha, so that a point is above it (y > ucl)
  exactly when P(X >= x) < alpha; 1 when even x = n_i is not that unlikely.

A baseline with no failure at all (cl = 100 %, or no success, 0 %) gives limits of
no width; exact limits then use the Jeffreys estimate (x + 1/2) / (n + 1) of the
baseline instead (:func:`limit_share`), while the centre line stays as observed.

On whole counts this flags exactly the points the discrete binomial test flags
(a week of 15 patients at cl = 98.5 % is below the limit when it has 3 or more
failures); the drawn line lies between two attainable values. On weighted data
the comparison is made on the effective count, y_i n_i, rather than on a count
rounded to a whole number, so one heavily weighted answer does not flag a week
the unweighted counts would not.

``"auto"`` chooses per group and phase: exact limits where the expected count of
the rarer outcome, n-bar min(cl, 1 - cl), is below :data:`EXACT_MIN_EXPECTED` (5,
the usual condition for the normal approximation to the binomial), normal
limits otherwise. :func:`boundary_share` says how often a point sits at 0 % or
100 %, where runs about the centre line stop being informative.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc

from pxlib.distributions import norm_sf
from pxlib.spc.segments import seg_nanmean, seg_sum

#: how p-chart limits are set: normal approximation, exact binomial, or chosen per phase
LIMIT_METHODS = ("normal", "exact", "auto")
#: one-sided tail probability of the normal 3-sigma limits, 1 - Phi(3) = 0.0013499
ALPHA_3SIGMA = float(norm_sf(3.0))
#: one-sided tail probability of the normal 2-sigma lines, 1 - Phi(2) = 0.02275
ALPHA_2SIGMA = float(norm_sf(2.0))
#: ``limits="auto"``: a phase gets exact binomial limits when the expected count of the
#: rarer outcome per point, n-bar * min(p-bar, 1 - p-bar), is below this; the normal
#: approximation to the binomial is taken to be adequate from 5 expected on each side
#: (the textbook rule for the normal approximation, np >= 5 and n(1 - p) >= 5).
EXACT_MIN_EXPECTED = 5.0


def _whole(n: np.ndarray) -> np.ndarray:
    """Denominators as the whole numbers of a binomial: nearest integer, at least 1."""
    return np.maximum(np.rint(n), 1.0)


def _bisect(f, lo: np.ndarray, hi: np.ndarray, target: float, increasing: bool) -> np.ndarray:
    """x in [lo, hi] with f(x) = target for a monotone f, by 60 halvings (vectorised)."""
    lo, hi = lo.astype(float).copy(), hi.astype(float).copy()
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = (f(mid) < target) if increasing else (f(mid) > target)
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def limit_share(cl_s: np.ndarray, successes: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """The share exact limits are built on: the centre line, except where the baseline
    saw no failure (or no success) at all. A p-bar of exactly 100 % says nothing about how
    rare failures are and would give limits of no width, so every later failure would be
    a signal; there the Jeffreys estimate (x + 1/2) / (n + 1) is used instead."""
    with np.errstate(invalid="ignore", divide="ignore"):
        jeffreys = (successes + 0.5) / (trials + 1.0)
    edge = np.isfinite(cl_s) & ((cl_s <= 0) | (cl_s >= 1))
    return np.where(edge, jeffreys, cl_s)


def binomial_limits(p: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial probability limits (Montgomery, *Introduction to Statistical
    Quality Control*, probability limits for attribute charts) at centre lines ``p``
    and denominators ``n`` (see the module docstring): lcl = x_lo / n with
    P(X <= x_lo) = ``alpha`` and ucl = x_hi / n with P(X >= x_hi) = ``alpha``,
    X ~ Binomial(n, p) extended to real x and n by the regularised incomplete beta
    function. NaN where p or n is missing or n is not positive. Solved once per
    distinct (n, p) pair."""
    p = np.asarray(p, dtype=float)
    n = np.asarray(n, dtype=float)
    lcl = np.full(len(p), np.nan)
    ucl = np.full(len(p), np.nan)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(p) & (p >= 0) & (p <= 1) & np.isfinite(n) & (n > 0)
    if ok.any():
        pairs, which = np.unique(np.column_stack((n[ok], p[ok])), axis=0, return_inverse=True)
        which = which.reshape(-1)
        nn, pp = pairs[:, 0], pairs[:, 1]

        def cdf(x):  # P(X <= x)
            return np.where(x >= nn, 1.0, betainc(np.maximum(nn - x, 1e-300), x + 1, 1 - pp))

        def sf(x):  # P(X >= x)
            return np.where(x <= 0, 1.0, betainc(np.maximum(x, 1e-300), nn - x + 1, pp))

        with np.errstate(invalid="ignore", divide="ignore"):
            zero = np.zeros_like(nn)
            x_lo = np.where(cdf(zero) >= alpha, 0.0, _bisect(cdf, zero, nn, alpha, True))
            x_hi = np.where(sf(nn) >= alpha, nn, _bisect(sf, zero, nn, alpha, False))
        lcl[ok] = (x_lo / nn)[which]
        ucl[ok] = (x_hi / nn)[which]
    return lcl, ucl


def exact_segments(
    limits: str, n: np.ndarray, cl_s: np.ndarray, seg: np.ndarray, nseg: int, base: np.ndarray
) -> np.ndarray:
    """Per segment: whether a p chart with ``limits`` ("normal", "exact", "auto") gets
    exact binomial limits. "auto": where n-bar * min(cl, 1 - cl) <
    :data:`EXACT_MIN_EXPECTED`, n-bar the mean denominator of the ``base`` points (those
    the centre line comes from)."""
    if limits == "normal":
        return np.zeros(nseg, dtype=bool)
    if limits == "exact":
        return np.ones(nseg, dtype=bool)
    n_bar = seg_nanmean(n, seg, nseg, base)
    with np.errstate(invalid="ignore"):
        return n_bar * np.minimum(cl_s, 1.0 - cl_s) < EXACT_MIN_EXPECTED


def boundary_share(
    n: np.ndarray, cl: np.ndarray, seg: np.ndarray, nseg: int, mask: np.ndarray
) -> np.ndarray:
    """Per segment: the mean over the ``mask`` points of the chance that a point sits
    at the boundary nearer its centre line under Binomial(n_i, cl): P(X = n_i) = cl^n_i
    (100 %) where cl >= 1/2, P(X = 0) = (1 - cl)^n_i (0 %) below, n_i rounded to a
    whole number. Above 1/2, the typical point is at the boundary."""
    q = np.where(cl >= 0.5, cl, 1.0 - cl)
    with np.errstate(invalid="ignore"):
        mass = q ** _whole(n)
    return seg_nanmean(mass, seg, nseg, mask)


def p_exact_lines(
    lines: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    n: np.ndarray,
    y_sum: np.ndarray,
    cl_s: np.ndarray,
    cl_fixed: np.ndarray,
    seg: np.ndarray,
    nseg: int,
    ok: np.ndarray,
    limits: str,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """Replace, in the p chart's normal ``lines`` (lcl, ucl, lcl_2s, ucl_2s per point),
    those of the segments that get exact limits (:func:`exact_segments`) by
    :func:`binomial_limits` at the 3- and 2-sigma tail probabilities, built on
    :func:`limit_share` (a fixed centre line is used as it is). Returns the four lines
    and the per-segment flag."""
    lcl, ucl, l2, u2 = lines
    exact = exact_segments(limits, n, cl_s, seg, nseg, ok)
    at = exact[seg]
    if at.any():
        p_lim = limit_share(cl_s, seg_sum(y_sum, seg, nseg, ok), seg_sum(n, seg, nseg, ok))
        p_lim = np.where(np.isfinite(cl_fixed), cl_s, p_lim)[seg]
        lcl, ucl, l2, u2 = lcl.copy(), ucl.copy(), l2.copy(), u2.copy()
        lcl[at], ucl[at] = binomial_limits(p_lim[at], n[at], ALPHA_3SIGMA)
        l2[at], u2[at] = binomial_limits(p_lim[at], n[at], ALPHA_2SIGMA)
    return (lcl, ucl, l2, u2), exact


__all__ = [
    "ALPHA_2SIGMA",
    "ALPHA_3SIGMA",
    "EXACT_MIN_EXPECTED",
    "LIMIT_METHODS",
    "binomial_limits",
    "boundary_share",
    "exact_segments",
    "limit_share",
    "p_exact_lines",
]
