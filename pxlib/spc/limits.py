"""Centre lines and control limits per chart kind, for every group and phase at once.

One small function per kind, found in :data:`LIMITS` (as qicharts2 dispatches
``qic.<chart>``); each docstring gives its formula and source. All inputs
(:class:`Subgroups`) are arrays sorted by group, phase and x; ``seg`` numbers the
(group, phase) segments 0..nseg-1 and ``base`` marks the points that are both baseline
and included. Formulas (qicharts2 0.8.1 unless stated; see ``../shared/methods/spc.md``):

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

The 2-sigma lines are cl +/- 2 sigma, cut at the same bounds. Exact binomial
probability limits for p charts (``limits="exact"`` or ``"auto"``) are in
:mod:`pxlib.spc.exact`; funnel limits (one centre line for every unit, Spiegelhalter
2005) are :func:`funnel_limits`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from pxlib.errors import ChartError
from pxlib.spc import constants as K
from pxlib.spc.exact import (  # noqa: F401 (also importable from here, as before)
    ALPHA_2SIGMA,
    ALPHA_3SIGMA,
    EXACT_MIN_EXPECTED,
    LIMIT_METHODS,
    binomial_limits,
    boundary_share,
    exact_segments,
    p_exact_lines,
)
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


@dataclass(frozen=True)
class Subgroups:
    """What the limits of every kind are computed from (see the module docstring)."""

    kind: str
    y: np.ndarray  # plotted value per point (before multiply)
    y_sum: np.ndarray  # sum of the y of the rows combined in a point
    n: np.ndarray  # denominator per point (sum of n), NaN without one
    y_len: np.ndarray  # number of values combined in a point (subgroup size)
    y_sd: np.ndarray  # sd of the values combined in a point
    seg: np.ndarray
    nseg: int
    base: np.ndarray  # baseline & included
    cl_fixed: np.ndarray  # per segment: a given centre line, NaN to compute it
    screen_mr: bool = True
    laney_sd: bool = False
    limits: str = "normal"


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


# --- one function per kind -------------------------------------------------------------


def run_lines(d: Subgroups) -> Lines:
    """Run chart: cl = median(y) of the baseline; no limits (qicharts2; Provost &
    Murray 2011)."""
    nan = np.full(len(d.y), np.nan)
    cl = _fill_cl(seg_nanmedian(d.y, d.seg, d.nseg, d.base), d.cl_fixed)[d.seg]
    return Lines(d.y, cl, nan, nan, nan, nan, np.full(d.nseg, np.nan))


def i_lines(d: Subgroups) -> Lines:
    """Individuals chart: cl = mean(y); sigma = AMR/d2, d2 = 1.128, the average moving
    range screened at 3.267 AMR (Nelson 1982); cl +/- 3 sigma (qicharts2 ``qic.i``;
    Montgomery, *Introduction to Statistical Quality Control*, the chart for individual
    measurements)."""
    cl_s = _fill_cl(seg_nanmean(d.y, d.seg, d.nseg, d.base), d.cl_fixed)
    amr = average_moving_range(d.y, d.seg, d.nseg, d.base, d.screen_mr)
    centre, sigma = cl_s[d.seg], (amr / K.D2)[d.seg]
    lcl, ucl, l2, u2 = _symmetric(centre, sigma, d.kind)
    return Lines(d.y, centre, lcl, ucl, l2, u2, amr)


def xmr_lines(d: Subgroups) -> Lines:
    """Making Data Count XmR: mean +/- 2.66 AMR (NHSRplotthedots 0.2.2, screened AMR);
    the 2-sigma ("close to the limits") lines at 2/3 of that."""
    cl_s = _fill_cl(seg_nanmean(d.y, d.seg, d.nseg, d.base), d.cl_fixed)
    amr = average_moving_range(d.y, d.seg, d.nseg, d.base, d.screen_mr)
    centre, sigma = cl_s[d.seg], (K.MDC_LIMIT * amr / 3.0)[d.seg]
    lcl, ucl, l2, u2 = _symmetric(centre, sigma, d.kind)
    return Lines(d.y, centre, lcl, ucl, l2, u2, amr)


def t_lines(d: Subgroups) -> Lines:
    """t chart (time between rare events): an individuals chart on y^(1/3.6) (Nelson's
    transformation to near normality), cl = mean(y^(1/3.6)) +/- 3 AMR/1.128, the lines
    back-transformed by ^3.6, a negative lower line becoming 0 (qicharts2 ``qic.t``)."""
    e = K.T_EXPONENT
    yy = d.y ** (1.0 / e)
    cl_s = _fill_cl(seg_nanmean(yy, d.seg, d.nseg, d.base), d.cl_fixed ** (1.0 / e))
    amr = average_moving_range(yy, d.seg, d.nseg, d.base, d.screen_mr)
    centre, sigma = cl_s[d.seg], (amr / K.D2)[d.seg]

    def back(v):
        with np.errstate(invalid="ignore"):
            out = np.where(v < 0, 0.0, np.abs(v) ** e)
        return np.where(np.isfinite(v), out, np.nan)

    return Lines(
        d.y,
        back(centre),
        back(centre - 3 * sigma),
        back(centre + 3 * sigma),
        back(centre - 2 * sigma),
        back(centre + 2 * sigma),
        amr,
    )


def mr_lines(d: Subgroups) -> Lines:
    """Moving-range chart: y = |y_i - y_(i-1)|; cl = mean MR; UCL = D4 cl = 3.267 cl,
    LCL = 0 (qicharts2 ``qic.mr``; Montgomery, D4 for ranges of two)."""
    mr, _ = moving_ranges(d.y, d.seg)
    ymr = np.concatenate(([np.nan], mr)) if len(d.y) else d.y.copy()
    cl_s = _fill_cl(seg_nanmean(ymr, d.seg, d.nseg, d.base), d.cl_fixed)
    cl = cl_s[d.seg]
    sigma = (K.D4 - 1.0) * cl / 3.0
    lcl = np.where(np.isfinite(cl), 0.0, np.nan)
    ucl = K.D4 * cl
    l2, u2 = _clip(cl - 2 * sigma, cl + 2 * sigma, "mr")
    return Lines(ymr, cl, lcl, ucl, l2, u2, cl_s)


def _sigma_hat(d: Subgroups) -> np.ndarray:
    """Per segment: the within-subgroup sigma-hat, the mean of the s_i when subgroups
    are of equal size, else the pooled sd sqrt(sum((n_i - 1) s_i^2) / sum(n_i - 1))
    (qicharts2; Montgomery)."""
    seg, nseg = d.seg, d.nseg
    has = d.y_len > 0
    lo, hi = seg_min_max(d.y_len, seg, nseg, has)
    var_n = hi > lo  # unequal subgroup sizes: pooled sd, else mean of the s_i
    bb = d.base & has
    sd_ok = bb & np.isfinite(d.y_sd)
    pooled_num = seg_sum((d.y_len - 1) * d.y_sd**2, seg, nseg, sd_ok)
    pooled_den = seg_sum(d.y_len - 1.0, seg, nseg, bb)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = np.sqrt(pooled_num / pooled_den)
    sbar = seg_nanmean(d.y_sd, seg, nseg, bb)
    return np.where(var_n, pooled, sbar)


def xbar_lines(d: Subgroups) -> Lines:
    """x-bar chart: cl = sum(n_i xbar_i)/sum(n_i); limits cl +/- A3(n_i) sigma-hat,
    A3 = 3/(c4 sqrt(n)) (Montgomery, appendix VI; qicharts2 ``qic.xbar``)."""
    seg, nseg = d.seg, d.nseg
    sigma_hat = _sigma_hat(d)
    bb = d.base & (d.y_len > 0) & np.isfinite(d.y)
    tot = seg_sum(d.y_len * d.y, seg, nseg, bb)
    cnt = seg_sum(d.y_len, seg, nseg, bb)
    with np.errstate(invalid="ignore", divide="ignore"):
        cl_s = _fill_cl(tot / cnt, d.cl_fixed)
    cl = cl_s[seg]
    sigma = K.a3(d.y_len) * sigma_hat[seg] / 3.0
    lcl, ucl, l2, u2 = _symmetric(cl, sigma, d.kind)
    return Lines(d.y, cl, lcl, ucl, l2, u2, sigma_hat)


def s_lines(d: Subgroups) -> Lines:
    """s chart: cl = sigma-hat; LCL = B3 cl = max(0, 1 - 3 c5/c4) cl, UCL = B4 cl =
    (1 + 3 c5/c4) cl, c5 = sqrt(1 - c4^2) (Montgomery, appendix VI; qicharts2
    ``qic.s``)."""
    cl_s = _fill_cl(_sigma_hat(d), d.cl_fixed)
    cl = cl_s[d.seg]
    ratio = K.c5(d.y_len) / K.c4(d.y_len)
    lcl = np.maximum(0.0, 1.0 - 3.0 * ratio) * cl
    ucl = (1.0 + 3.0 * ratio) * cl
    l2 = np.maximum(0.0, 1.0 - 2.0 * ratio) * cl
    u2 = (1.0 + 2.0 * ratio) * cl
    return Lines(d.y_sd, cl, lcl, ucl, l2, u2, cl_s)


def _attribute(d: Subgroups) -> Lines:
    """p, pp, u and up: cl = sum(y)/sum(n) of the baseline; sigma_i = sqrt(cl(1 - cl)/n_i)
    (binomial, p and pp) or sqrt(cl/n_i) (Poisson, u and up); for pp and up (Laney 2002)
    times sigma_z, the spread of z_i = (y_i - cl)/sigma_i: mean|diff z|/1.128
    (screened, x ordered) or, with ``laney_sd``, sd(z)."""
    seg, nseg, kind = d.seg, d.nseg, d.kind
    b = d.base & np.isfinite(d.y)
    ok = b & np.isfinite(d.n)
    with np.errstate(invalid="ignore", divide="ignore"):
        cl_s = _fill_cl(seg_sum(d.y_sum, seg, nseg, ok) / seg_sum(d.n, seg, nseg, ok), d.cl_fixed)
        cl = cl_s[seg]
        if kind in PROPORTION_KINDS:
            sigma = np.sqrt(cl * (1.0 - cl) / d.n)
        else:
            sigma = np.sqrt(cl / d.n)
    spread = np.ones(nseg)
    if kind in ("pp", "up"):
        with np.errstate(invalid="ignore", divide="ignore"):
            z = (d.y - cl) / sigma
        z = np.where(np.isfinite(z), z, np.nan)
        if d.laney_sd:
            cnt = seg_count(seg, nseg, b & np.isfinite(z))
            m = seg_nanmean(z, seg, nseg, b)
            dev = np.where(b & np.isfinite(z), (z - m[seg]) ** 2, 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                sigma_z = np.sqrt(seg_sum(dev, seg, nseg) / (cnt - 1))
        else:
            sigma_z = average_moving_range(z, seg, nseg, d.base, d.screen_mr) / K.D2
        spread = sigma_z
        sigma = sigma * sigma_z[seg]
    lcl, ucl, l2, u2 = _symmetric(cl, sigma, kind)
    exact = None
    if kind == "p" and d.limits != "normal":
        (lcl, ucl, l2, u2), exact = p_exact_lines(
            (lcl, ucl, l2, u2), d.n, d.y_sum, cl_s, d.cl_fixed, seg, nseg, ok, d.limits
        )
    return Lines(d.y, cl, lcl, ucl, l2, u2, spread, exact)


def p_lines(d: Subgroups) -> Lines:
    """p chart: cl = sum(y)/sum(n); cl +/- 3 sqrt(cl(1 - cl)/n_i), cut at [0, 1]
    (qicharts2 ``qic.p``); with ``limits`` "exact" or "auto", binomial probability
    limits where chosen (:mod:`pxlib.spc.exact`; Montgomery)."""
    return _attribute(d)


def pp_lines(d: Subgroups) -> Lines:
    """Laney p' chart: cl +/- 3 sigma_i sigma_z, the p chart's sigma_i times sigma_z =
    mean|diff z|/1.128 of z_i = (p_i - cl)/sigma_i (Laney 2002, *Improved control
    charts for attributes*; qicharts2 ``qic.pp``)."""
    return _attribute(d)


def u_lines(d: Subgroups) -> Lines:
    """u chart: cl = sum(y)/sum(n); cl +/- 3 sqrt(cl/n_i), LCL >= 0 (qicharts2
    ``qic.u``)."""
    return _attribute(d)


def up_lines(d: Subgroups) -> Lines:
    """Laney u' chart: cl +/- 3 sigma_i sigma_z, the u chart's sigma_i times sigma_z
    (as for p', Laney 2002; qicharts2 ``qic.up``)."""
    return _attribute(d)


def c_lines(d: Subgroups) -> Lines:
    """c chart: cl = m = mean(y); m +/- 3 sqrt(m) (Poisson), LCL >= 0 (qicharts2
    ``qic.c``)."""
    m_s = _fill_cl(seg_nanmean(d.y, d.seg, d.nseg, d.base), d.cl_fixed)
    m = m_s[d.seg]
    with np.errstate(invalid="ignore"):
        sigma = np.sqrt(m)
    lcl, ucl, l2, u2 = _symmetric(m, sigma, d.kind)
    return Lines(d.y, m, lcl, ucl, l2, u2, m_s)


def g_lines(d: Subgroups) -> Lines:
    """g chart (cases between events): limits from the mean m, m +/- 3 sqrt(m(m + 1))
    (geometric), LCL >= 0; the centre line shown is the median (qicharts2 ``qic.g``;
    Benneyan 2001)."""
    m_s = _fill_cl(seg_nanmean(d.y, d.seg, d.nseg, d.base), d.cl_fixed)
    m = m_s[d.seg]
    with np.errstate(invalid="ignore"):
        sigma = np.sqrt(m * (m + 1.0))
    lcl, ucl, l2, u2 = _symmetric(m, sigma, d.kind)
    cl = _fill_cl(seg_nanmedian(d.y, d.seg, d.nseg, d.base), d.cl_fixed)[d.seg]
    return Lines(d.y, cl, lcl, ucl, l2, u2, m_s)


#: chart kind -> the function computing its lines
LIMITS: dict[str, Callable[[Subgroups], Lines]] = {
    "run": run_lines,
    "i": i_lines,
    "mr": mr_lines,
    "xbar": xbar_lines,
    "s": s_lines,
    "t": t_lines,
    "p": p_lines,
    "pp": pp_lines,
    "c": c_lines,
    "u": u_lines,
    "up": up_lines,
    "g": g_lines,
    "xmr": xmr_lines,
}


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
    with the per-kind cl and sigma of :data:`LIMITS` (qicharts2 0.8.1, NHSRplotthedots
    0.2.2 for xmr; Montgomery's c4/A3/B3/B4 for xbar and s), limits cut at 0 (counts,
    rates, mr) and 1 (proportions).

    ``cl_fixed`` holds one value per segment (NaN: compute it). ``laney_sd``
    makes the Laney sigma_z the standard deviation of z (categorical x, funnels)
    rather than mean|diff z|/1.128 (Laney 2002). ``limits`` ("normal", "exact",
    "auto"; p charts only) chooses exact binomial probability limits per segment
    (:func:`~pxlib.spc.exact.binomial_limits`, :func:`~pxlib.spc.exact.exact_segments`);
    ``Lines.exact`` says where.
    """
    try:
        lines_of = LIMITS[kind]
    except (KeyError, TypeError):
        raise ChartError(
            f"unknown chart kind {str(kind)!r}; choose one of {', '.join(KINDS)}"
        ) from None
    return lines_of(
        Subgroups(
            kind, y, y_sum, n, y_len, y_sd, seg, nseg, base, cl_fixed, screen_mr, laney_sd, limits
        )
    )


# --- funnels -----------------------------------------------------------------------------


def funnel_sigma(c: float, n: np.ndarray, kind: str) -> np.ndarray:
    """Binomial sqrt(c(1 - c)/n) (p) or Poisson sqrt(c/n) (u) sigma at denominators n."""
    return np.sqrt(c * (1 - c) / n) if kind == "p" else np.sqrt(c / n)


def _funnel_cut(v, kind: str):
    return np.clip(v, 0.0, 1.0) if kind == "p" else np.maximum(v, 0.0)


def funnel_limits(
    cl: float,
    n: ArrayLike,
    *,
    kind: str = "p",
    sigma_z: float = 1.0,
    sigmas: float = 3.0,
    multiply: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper funnel limits at denominators ``n`` (for drawing the curves):
    c -/+ ``sigmas`` sigma_z sqrt(c(1 - c)/n) for p, sqrt(c/n) for u, with c =
    cl/multiply, cut at [0, 1] (p) or 0 (u) (Spiegelhalter 2005, *Funnel plots for
    comparing institutional performance*; Laney 2002 for sigma_z), times ``multiply``."""
    c = cl / multiply
    n = np.asarray(n, dtype=float)
    sigma = funnel_sigma(c, n, kind)
    lo = _funnel_cut(c + -sigmas * (sigma * sigma_z), kind)
    hi = _funnel_cut(c + sigmas * (sigma * sigma_z), kind)
    return lo * multiply, hi * multiply


__all__ = [
    "KINDS",
    "LIMITS",
    "NEEDS_N",
    "PROPORTION_KINDS",
    "RATE_KINDS",
    "Lines",
    "Subgroups",
    "compute_limits",
    "funnel_limits",
    "funnel_sigma",
]
