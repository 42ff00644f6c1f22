"""Centre lines and control limits per chart kind, for every group and phase at once.

All inputs are arrays sorted by group, phase and x; ``seg`` numbers the
(group, phase) segments 0..nseg-1 and ``base`` marks the points that are both
baseline and included. Formulas (qicharts2 0.8.1 unless stated; see
``../shared/methods/spc.md``):

- run: cl = median(y); no limits.
- i: cl = mean(y); sigma = AMR/1.128 (AMR screened at 3.267 AMR); cl +/- 3 sigma.
- xmr: Making Data Count (NHSRplotthedots): mean +/- 2.66 AMR; "close" at 2/3 of that.
- mr: y = |diff(y)|; cl = mean MR; UCL = 3.267 cl, LCL = 0.
- xbar: cl = sum(n_i xbar_i)/sum(n_i); sigma-hat = mean(s_i) (equal n) or pooled;
  cl +/- A3(n_i) sigma-hat.
- s: cl = mean(s_i) or pooled; LCL = B3 cl, UCL = B4 cl.
- t: i chart on y^(1/3.6), back-transformed (Nelson); LCL < 0 becomes 0.
- p: cl = sum(y)/sum(n); sigma_i = sqrt(cl(1-cl)/n_i); clipped to [0, 1].
- pp, up (Laney): sigma_i * sigma_z, sigma_z = mean|diff z|/1.128 (x ordered) or sd(z).
- c: cl = mean(y); sigma = sqrt(cl); LCL >= 0.
- u: cl = sum(y)/sum(n); sigma_i = sqrt(cl/n_i); LCL >= 0.
- g: limits from the mean m: m +/- 3 sqrt(m(m+1)), LCL >= 0; the centre line shown is
  the median.

Exact binomial probability limits (p charts, ``limits="exact"`` or ``"auto"``)
--------------------------------------------------------------------------------
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
baseline instead (:func:`_limit_share`), while the centre line stays as observed.

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

from dataclasses import dataclass

import numpy as np
from scipy.special import betainc

from pxlib.distributions import norm_sf
from pxlib.errors import ChartError
from pxlib.spc import constants as K
from pxlib.spc.segments import (
    average_moving_range,
    moving_ranges,
    seg_count,
    seg_min_max,
    seg_nanmean,
    seg_nanmedian,
    seg_sum,
)

KINDS = ("run", "i", "mr", "xbar", "s", "t", "p", "pp", "c", "u", "up", "g", "xmr")
PROPORTION_KINDS = ("p", "pp")
RATE_KINDS = ("u", "up")
NEEDS_N = ("p", "pp", "u", "up")
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


@dataclass
class Lines:
    """Per-point results of :func:`compute_limits` (before ``multiply``)."""

    y: np.ndarray
    cl: np.ndarray
    lcl: np.ndarray
    ucl: np.ndarray
    lcl_2s: np.ndarray
    ucl_2s: np.ndarray
    #: per segment: the dispersion the limits rest on (AMR, sigma-hat, sigma_z...), NaN if none
    spread: np.ndarray
    #: per segment: True where exact binomial limits were used (p charts); None: nowhere
    exact: np.ndarray | None = None


def _clip(lo, hi, kind):
    with np.errstate(invalid="ignore"):
        if kind in PROPORTION_KINDS:
            hi = np.where(np.isfinite(hi) & (hi > 1), 1.0, hi)
        if kind in PROPORTION_KINDS + RATE_KINDS + ("c", "g", "mr"):
            lo = np.where(np.isfinite(lo) & (lo < 0), 0.0, lo)
    return lo, hi


def _symmetric(centre, sigma, kind):
    lcl, ucl = _clip(centre - 3 * sigma, centre + 3 * sigma, kind)
    l2, u2 = _clip(centre - 2 * sigma, centre + 2 * sigma, kind)
    return lcl, ucl, l2, u2


def _fill_cl(computed: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(fixed), fixed, computed)


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


def _limit_share(cl_s: np.ndarray, successes: np.ndarray, trials: np.ndarray) -> np.ndarray:
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


def compute_limits(
    kind: str,
    *,
    y: np.ndarray,
    y_sum: np.ndarray,
    n: np.ndarray,
    y_len: np.ndarray,
    y_sd: np.ndarray,
    seg: np.ndarray,
    nseg: int,
    base: np.ndarray,
    cl_fixed: np.ndarray,
    screen_mr: bool = True,
    laney_sd: bool = False,
    limits: str = "normal",
) -> Lines:
    """Centre line, 3-sigma and 2-sigma lines for every point: cl +/- k sigma (k = 3, 2)
    with the per-kind cl and sigma of the module docstring (qicharts2 0.8.1,
    NHSRplotthedots 0.2.2 for xmr; Montgomery's c4/A3/B3/B4 for xbar and s), limits
    cut at 0 (counts, rates, mr) and 1 (proportions).

    ``cl_fixed`` holds one value per segment (NaN: compute it). ``laney_sd``
    makes the Laney sigma_z the standard deviation of z (categorical x, funnels)
    rather than mean|diff z|/1.128 (Laney 2002). ``limits`` ("normal", "exact",
    "auto"; p charts only) chooses exact binomial probability limits per segment
    (:func:`binomial_limits`, :func:`exact_segments`); ``Lines.exact`` says where.
    """
    nan = np.full(len(y), np.nan)
    fin = np.isfinite(y)
    b = base & fin

    if kind == "run":
        cl = _fill_cl(seg_nanmedian(y, seg, nseg, base), cl_fixed)[seg]
        return Lines(y, cl, nan, nan, nan, nan, np.full(nseg, np.nan))

    if kind in ("i", "xmr", "t"):
        yy = y ** (1.0 / K.T_EXPONENT) if kind == "t" else y
        fixed = cl_fixed ** (1.0 / K.T_EXPONENT) if kind == "t" else cl_fixed
        cl_s = _fill_cl(seg_nanmean(yy, seg, nseg, base), fixed)
        amr = average_moving_range(yy, seg, nseg, base, screen_mr)
        if kind == "xmr":
            sigma_s = K.MDC_LIMIT * amr / 3.0
        else:
            sigma_s = amr / K.D2
        centre = cl_s[seg]
        sigma = sigma_s[seg]
        if kind != "t":
            lcl, ucl, l2, u2 = _symmetric(centre, sigma, kind)
            return Lines(y, centre, lcl, ucl, l2, u2, amr)
        e = K.T_EXPONENT

        def back(v):
            with np.errstate(invalid="ignore"):
                out = np.where(v < 0, 0.0, np.abs(v) ** e)
            return np.where(np.isfinite(v), out, np.nan)

        return Lines(
            y,
            back(centre),
            back(centre - 3 * sigma),
            back(centre + 3 * sigma),
            back(centre - 2 * sigma),
            back(centre + 2 * sigma),
            amr,
        )

    if kind == "mr":
        mr, _ = moving_ranges(y, seg)
        ymr = np.concatenate(([np.nan], mr)) if len(y) else y.copy()
        cl_s = _fill_cl(seg_nanmean(ymr, seg, nseg, base), cl_fixed)
        cl = cl_s[seg]
        sigma = (K.D4 - 1.0) * cl / 3.0
        lcl = np.where(np.isfinite(cl), 0.0, np.nan)
        ucl = K.D4 * cl
        l2, u2 = _clip(cl - 2 * sigma, cl + 2 * sigma, "mr")
        return Lines(ymr, cl, lcl, ucl, l2, u2, cl_s)

    if kind in ("xbar", "s"):
        has = y_len > 0
        lo, hi = seg_min_max(y_len, seg, nseg, has)
        var_n = hi > lo  # unequal subgroup sizes: pooled sd, else mean of the s_i
        bb = base & has
        sd_ok = bb & np.isfinite(y_sd)
        pooled_num = seg_sum((y_len - 1) * y_sd**2, seg, nseg, sd_ok)
        pooled_den = seg_sum(y_len - 1.0, seg, nseg, bb)
        with np.errstate(invalid="ignore", divide="ignore"):
            pooled = np.sqrt(pooled_num / pooled_den)
        sbar = seg_nanmean(y_sd, seg, nseg, bb)
        sigma_hat = np.where(var_n, pooled, sbar)
        if kind == "xbar":
            tot = seg_sum(y_len * y, seg, nseg, bb & fin)
            cnt = seg_sum(y_len, seg, nseg, bb & fin)
            with np.errstate(invalid="ignore", divide="ignore"):
                cl_s = _fill_cl(tot / cnt, cl_fixed)
            cl = cl_s[seg]
            sigma = K.a3(y_len) * sigma_hat[seg] / 3.0
            lcl, ucl, l2, u2 = _symmetric(cl, sigma, kind)
            return Lines(y, cl, lcl, ucl, l2, u2, sigma_hat)
        ys = y_sd
        cl_s = _fill_cl(sigma_hat, cl_fixed)
        cl = cl_s[seg]
        ratio = K.c5(y_len) / K.c4(y_len)
        lcl = np.maximum(0.0, 1.0 - 3.0 * ratio) * cl
        ucl = (1.0 + 3.0 * ratio) * cl
        l2 = np.maximum(0.0, 1.0 - 2.0 * ratio) * cl
        u2 = (1.0 + 2.0 * ratio) * cl
        return Lines(ys, cl, lcl, ucl, l2, u2, cl_s)

    if kind in ("p", "pp", "u", "up"):
        ok = b & np.isfinite(n)
        with np.errstate(invalid="ignore", divide="ignore"):
            cl_s = _fill_cl(seg_sum(y_sum, seg, nseg, ok) / seg_sum(n, seg, nseg, ok), cl_fixed)
            cl = cl_s[seg]
            if kind in PROPORTION_KINDS:
                sigma = np.sqrt(cl * (1.0 - cl) / n)
            else:
                sigma = np.sqrt(cl / n)
        spread = np.ones(nseg)
        if kind in ("pp", "up"):
            with np.errstate(invalid="ignore", divide="ignore"):
                z = (y - cl) / sigma
            z = np.where(np.isfinite(z), z, np.nan)
            if laney_sd:
                cnt = seg_count(seg, nseg, b & np.isfinite(z))
                m = seg_nanmean(z, seg, nseg, b)
                dev = np.where(b & np.isfinite(z), (z - m[seg]) ** 2, 0.0)
                with np.errstate(invalid="ignore", divide="ignore"):
                    sigma_z = np.sqrt(seg_sum(dev, seg, nseg) / (cnt - 1))
            else:
                sigma_z = average_moving_range(z, seg, nseg, base, screen_mr) / K.D2
            spread = sigma_z
            sigma = sigma * sigma_z[seg]
        lcl, ucl, l2, u2 = _symmetric(cl, sigma, kind)
        exact = None
        if kind == "p" and limits != "normal":
            exact = exact_segments(limits, n, cl_s, seg, nseg, ok)
            at = exact[seg]
            if at.any():
                p_lim = _limit_share(cl_s, seg_sum(y_sum, seg, nseg, ok), seg_sum(n, seg, nseg, ok))
                p_lim = np.where(np.isfinite(cl_fixed), cl_s, p_lim)[seg]
                lcl, ucl, l2, u2 = lcl.copy(), ucl.copy(), l2.copy(), u2.copy()
                lcl[at], ucl[at] = binomial_limits(p_lim[at], n[at], ALPHA_3SIGMA)
                l2[at], u2[at] = binomial_limits(p_lim[at], n[at], ALPHA_2SIGMA)
        return Lines(y, cl, lcl, ucl, l2, u2, spread, exact)

    if kind in ("c", "g"):
        # c: Poisson, sigma = sqrt(m); g: geometric, sigma = sqrt(m(m + 1)); m = mean(y)
        m_s = _fill_cl(seg_nanmean(y, seg, nseg, base), cl_fixed)
        m = m_s[seg]
        with np.errstate(invalid="ignore"):
            sigma = np.sqrt(m) if kind == "c" else np.sqrt(m * (m + 1.0))
        lcl, ucl, l2, u2 = _symmetric(m, sigma, kind)
        cl = m if kind == "c" else _fill_cl(seg_nanmedian(y, seg, nseg, base), cl_fixed)[seg]
        return Lines(y, cl, lcl, ucl, l2, u2, m_s)

    raise ChartError(f"unknown chart kind {str(kind)!r}; choose one of {', '.join(KINDS)}")
