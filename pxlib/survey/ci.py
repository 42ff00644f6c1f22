"""Confidence intervals for a design-based proportion (vectorised).

As R ``survey::svyciprop`` (Lumley, survey 4.1), with p the estimate, s its
linearised standard error, df the design's degrees of freedom, n the number of
respondents and t = qt(1 - alpha/2, df):

* ``mean``:   p +/- t s (Wald on the proportion);
* ``xlogit``: logit(p) +/- t s / (p (1-p)), back-transformed;
* ``logit``:  the Wald interval of an intercept-only quasi-binomial survey GLM
  on the logit scale, which is numerically the same as ``xlogit``;
* ``asin``:   asin(sqrt p) +/- t s / (2 sqrt(p (1-p))), back-transformed by sin^2;
* ``beta``:   Korn and Graubard (1998): n_eff = p (1-p) / s^2, scaled by
  (qt(alpha/2, n-1) / qt(alpha/2, df))^2, then Clopper-Pearson bounds
  qbeta(alpha/2, n_eff p, n_eff (1-p) + 1) and qbeta(1-alpha/2, n_eff p + 1, n_eff (1-p));
* ``likelihood``: Rao-Scott scaled likelihood interval of the intercept-only
  quasi-binomial GLM (weights scaled to mean 1, dispersion n/(n-1), deviance
  difference scaled by the design effect n/n_eff): the p0 with
  2 n_eff [p log(p/p0) + (1-p) log((1-p)/(1-p0))] <= t^2 n/(n-1), where
  n_eff = p (1-p) / s^2. pxlib solves this exactly; R interpolates a profile
  grid (MASS ``profile.glm``: a spline, then linear interpolation), so R's ends
  differ from the exact ones by 1e-6 to 1e-4 relative, in opposite directions;
* ``wilson``: not in survey 4.1; pxlib's definition is the Wilson score interval
  with n replaced by the design effective sample size n_eff = p (1-p) / s^2 and
  z by t = qt(1 - alpha/2, df):
  (p + t^2/(2 n_eff) +/- t sqrt(p (1-p)/n_eff + t^2/(4 n_eff^2))) / (1 + t^2/n_eff).

**Degenerate estimates.** When every respondent gives the same answer (p = 0 or
1, so s = 0) no interval above is defined and a naive one collapses to [p, p].
pxlib then uses n_eff = the Kish effective sample size ``ess`` and, for every
method except ``wilson`` (which is well defined there), the ``beta``
(Clopper-Pearson) bounds: for p = 1 the interval is [(alpha/2)^(1/n_eff), 1].
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from pxlib.distributions import norm_ppf, t_ppf
from pxlib.errors import DesignError

CI_METHODS = ("logit", "likelihood", "beta", "asin", "mean", "xlogit", "wilson")


def _t(q: float, df: np.ndarray) -> np.ndarray:
    df = np.asarray(df, dtype=float)
    out = np.where(np.isfinite(df) & (df > 0), t_ppf(q, np.maximum(df, 1e-300)), np.nan)
    return np.where(np.isinf(df), norm_ppf(q), out)


def _beta_bounds(p, neff, alpha):
    a_lo = neff * p
    b_lo = neff * (1 - p) + 1
    a_hi = neff * p + 1
    b_hi = neff * (1 - p)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(p <= 0, 0.0, special.betaincinv(np.where(a_lo > 0, a_lo, 1.0), b_lo, alpha))
        hi = np.where(
            p >= 1, 1.0, special.betaincinv(a_hi, np.where(b_hi > 0, b_hi, 1.0), 1 - alpha)
        )
    return lo, hi


def _likelihood(p, neff, crit):
    """Vectorised bisection for the two roots of 2 n_eff KL(p || p0) = crit."""

    def f(p0):
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = np.where(p > 0, p * np.log(p / p0), 0.0)
            t2 = np.where(p < 1, (1 - p) * np.log((1 - p) / (1 - p0)), 0.0)
        return 2 * neff * (t1 + t2) - crit

    out = []
    for side, (lo, hi) in enumerate(((np.zeros_like(p), p.copy()), (p.copy(), np.ones_like(p)))):
        lower_side = side == 0
        a, b = lo.copy(), hi.copy()
        for _ in range(200):
            m = 0.5 * (a + b)
            fm = f(m)
            # on the lower side f decreases in p0; on the upper side it increases
            go_right = fm > 0 if lower_side else fm < 0
            a = np.where(go_right, m, a)
            b = np.where(go_right, b, m)
            if np.all(b - a < 1e-15):
                break
        out.append(0.5 * (a + b))
    lo_root = np.where(p <= 0, 0.0, out[0])
    hi_root = np.where(p >= 1, 1.0, out[1])
    return lo_root, hi_root


def proportion_ci(
    p: ArrayLike,
    se: ArrayLike,
    df: ArrayLike,
    method: str = "logit",
    level: float = 0.95,
    n: ArrayLike | None = None,
    ess: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval (low, high) for proportions p with standard errors se.

    ``df``: design degrees of freedom (``np.inf`` for normal quantiles); ``n``:
    respondents (for ``beta``); ``ess``: Kish effective sample size used when
    se = 0 (see the module docstring). All arguments broadcast.
    """
    if method not in CI_METHODS:
        raise DesignError(f"unknown CI method {method!r}; choose one of {CI_METHODS}")
    if not 0 < level < 1:
        raise DesignError(f"confidence level must be between 0 and 1, not {level}")
    p, se, df = np.broadcast_arrays(
        np.asarray(p, dtype=float), np.asarray(se, dtype=float), np.asarray(df, dtype=float)
    )
    p, se, df = p.astype(float), se.astype(float), df.astype(float)
    n = np.broadcast_to(np.asarray(np.nan if n is None else n, dtype=float), p.shape)
    ess = np.broadcast_to(np.asarray(np.nan if ess is None else ess, dtype=float), p.shape)
    alpha = (1 - level) / 2
    t = _t(1 - alpha, df)
    inner = (p > 0) & (p < 1) & (se > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        neff = np.where(inner, p * (1 - p) / se**2, ess)
        q = p * (1 - p)
        if method == "mean":
            lo, hi = p - t * se, p + t * se
        elif method in ("logit", "xlogit"):
            eta = special.logit(p)
            h = t * se / q
            lo, hi = special.expit(eta - h), special.expit(eta + h)
        elif method == "asin":
            ang = np.arcsin(np.sqrt(p))
            h = t * se / (2 * np.sqrt(q))
            lo = np.sin(np.clip(ang - h, 0, np.pi / 2)) ** 2
            hi = np.sin(np.clip(ang + h, 0, np.pi / 2)) ** 2
        elif method == "beta":
            adj = np.where(inner & np.isfinite(df), (_t(alpha, n - 1) / _t(alpha, df)) ** 2, 1.0)
            adj = np.where(np.isfinite(adj), adj, 1.0)
            lo, hi = _beta_bounds(p, neff * adj, alpha)
        elif method == "likelihood":
            crit = t**2 * np.where(n > 1, n / (n - 1), 1.0)
            lo, hi = _likelihood(p, np.where(inner, neff, np.nan), crit)
        else:  # wilson
            t2 = t**2
            centre = p + t2 / (2 * neff)
            half = t * np.sqrt(q / neff + t2 / (4 * neff**2))
            den = 1 + t2 / neff
            lo, hi = (centre - half) / den, (centre + half) / den
            lo = np.where(p <= 0, 0.0, lo)
            hi = np.where(p >= 1, 1.0, hi)
        if method != "wilson":
            blo, bhi = _beta_bounds(p, neff, alpha)
            lo = np.where(inner, lo, blo)
            hi = np.where(inner, hi, bhi)
    lo = np.where(np.isnan(p), np.nan, np.clip(lo, 0.0, 1.0))
    hi = np.where(np.isnan(p), np.nan, np.clip(hi, 0.0, 1.0))
    return lo, hi


def wilson_interval(
    p: ArrayLike, n: ArrayLike, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (Wilson 1927) for proportions ``p`` from (effective) sizes ``n``.

    low, high = (p + t²/2n ∓ t·√(p(1-p)/n + t²/4n²)) / (1 + t²/n), t the normal
    quantile of ``level``: :func:`proportion_ci` with ``method="wilson"``, the
    binomial standard error √(p(1-p)/n) and ``n`` as the effective sample size,
    so p = 0 or 1 gives a bound of exactly 0 or 1. NaN where n is 0 or missing.
    pxlib's one Wilson interval: every table, reading and sample-size plan uses it.
    """
    p = np.asarray(p, dtype=float)
    n = np.asarray(n, dtype=float)
    ok = n > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(ok, p, np.nan)
        se = np.sqrt(p * (1 - p) / n)
    return proportion_ci(p, se, np.inf, method="wilson", level=level, ess=np.where(ok, n, np.nan))
