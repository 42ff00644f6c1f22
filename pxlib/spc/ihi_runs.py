"""The IHI runs test: too few or too many runs about the median for chance.

The exact distribution of the number of runs (Wald & Wolfowitz 1940; the
Swed-Eisenhart tables behind the IHI runs table, Provost & Murray 2011), per segment.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.special import gammaln

from pxlib.spc.rules import runs_of, sides

__all__ = ["ihi_runs", "runs_bounds"]


def _log_choose(n, k):
    n = np.asarray(n, float)
    k = np.asarray(k, float)
    with np.errstate(invalid="ignore"):
        out = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    return np.where((k >= 0) & (k <= n), out, -np.inf)


@lru_cache(maxsize=4096)
def runs_bounds(n1: int, n2: int, alpha: float = 0.05) -> tuple[float, float]:
    """Fewest and most runs expected by chance (two-sided ``alpha``) for ``n1`` points
    above and ``n2`` below the median, from the exact distribution of the number of
    runs (Wald & Wolfowitz 1940; the Swed-Eisenhart tables behind the IHI runs table).
    Too few runs: R < lower; too many: R > upper."""
    if n1 == 0 or n2 == 0:
        return (np.nan, np.nan)
    n = n1 + n2
    r = np.arange(2, n + 1)
    k = r // 2
    total = _log_choose(n, n1)
    even = np.log(2) + _log_choose(n1 - 1, k - 1) + _log_choose(n2 - 1, k - 1) - total
    odd = (
        np.logaddexp(
            _log_choose(n1 - 1, k - 1) + _log_choose(n2 - 1, k),
            _log_choose(n1 - 1, k) + _log_choose(n2 - 1, k - 1),
        )
        - total
    )
    p = np.exp(np.where(r % 2 == 0, even, odd))
    lower_tail = np.cumsum(p)
    upper_tail = np.cumsum(p[::-1])[::-1]
    lo = r[np.argmax(lower_tail > alpha / 2)]
    hi = r[len(r) - 1 - np.argmax(upper_tail[::-1] > alpha / 2)]
    return float(lo), float(hi)


def ihi_runs(
    y: np.ndarray, cl: np.ndarray, useful: np.ndarray, seg: np.ndarray, nseg: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per segment: (n_runs, lower, upper, signal) of the IHI runs test: with n1 useful
    points above and n2 below the median (points on it skipped), too few runs
    (< lower) or too many (> upper) by :func:`runs_bounds`, from 10 useful points on
    (Provost & Murray 2011)."""
    _, s, sg = sides(y, cl, useful, seg)
    new, _, _ = runs_of(sg, s)
    n_runs = np.bincount(sg[new], minlength=nseg)
    n1 = np.bincount(sg[s > 0], minlength=nseg)
    n2 = np.bincount(sg[s < 0], minlength=nseg)
    # one exact computation per distinct (n1, n2), not per segment
    width = int(n2.max()) + 1 if nseg else 1
    pairs, which = np.unique(n1 * width + n2, return_inverse=True)
    bounds = np.array([runs_bounds(*divmod(k, width)) for k in pairs.tolist()], dtype=float)
    bounds = bounds.reshape(len(pairs), 2)[which]
    lo, hi = bounds[:, 0], bounds[:, 1]
    with np.errstate(invalid="ignore"):
        sig = (n_runs < lo) | (n_runs > hi)
    sig &= (n1 + n2) >= 10  # the IHI table starts at 10 useful points
    return n_runs, lo, hi, sig
