"""The few distribution functions pxlib needs, from ``scipy.special``.

``scipy.stats`` costs about a second to import, paid again by every notebook
kernel of a batch; these are the same special functions ``scipy.stats`` calls
for these distributions, so the numbers are identical (``tests/test_distributions.py``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

__all__ = ["binom_cdf", "binom_ppf", "norm_ppf", "norm_sf", "t_ppf"]


def norm_sf(x: ArrayLike) -> np.ndarray | np.float64:
    """Upper tail area of the standard normal, 1 - Φ(x) = Φ(-x)."""
    return special.ndtr(-np.asarray(x, dtype=float))


def norm_ppf(q: ArrayLike) -> np.ndarray | np.float64:
    """Standard normal quantile Φ⁻¹(q)."""
    return special.ndtri(np.asarray(q, dtype=float))


def t_ppf(q: ArrayLike, df: ArrayLike) -> np.ndarray:
    """Student's t quantile with ``df`` degrees of freedom (df > 0; infinite df: the normal)."""
    q, df = np.broadcast_arrays(np.asarray(q, dtype=float), np.asarray(df, dtype=float))
    finite = np.isfinite(df)
    out = special.stdtrit(np.where(finite, df, 1.0), q)
    return np.where(finite, out, special.ndtri(q))


def binom_cdf(k: ArrayLike, n: ArrayLike, p: ArrayLike) -> np.ndarray:
    """Binomial distribution function P(X <= k) for X ~ Bin(n, p), n >= 1: for whole
    0 <= k < n the regularised incomplete beta I_{1-p}(n - k, k + 1) (as
    ``scipy.stats.binom.cdf`` computes it), 0 below 0 and 1 from n on; k is floored."""
    k, n, p = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (k, n, p)))
    k = np.floor(k)
    inside = (k >= 0) & (k < n)
    safe_k, safe_n = np.where(inside, k, 0.0), np.where(inside, n, 1.0)
    out = special.betainc(safe_n - safe_k, safe_k + 1, 1 - p)
    return np.where(k < 0, 0.0, np.where(k >= n, 1.0, out))


def binom_ppf(q: ArrayLike, n: ArrayLike, p: ArrayLike) -> np.ndarray | np.float64:
    """Binomial quantile: the smallest whole k with P(X <= k) >= q, for 0 < q < 1 and n >= 1.

    The incomplete-beta inverse ``bdtrik`` gives k to within a step or two; the
    exact cumulative probability ``bdtr`` then moves it down while P(X <= k - 1)
    still reaches q, and up while P(X <= k) falls short.
    """
    q, n, p = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (q, n, p)))
    whole_n = n.astype(np.int64)
    k = np.clip(np.ceil(special.bdtrik(q, n, p)), 0, n).astype(np.int64)
    while True:
        down = (k > 0) & (special.bdtr(np.maximum(k - 1, 0), whole_n, p) >= q)
        if not down.any():
            break
        k = np.where(down, k - 1, k)
    while True:
        up = (k < whole_n) & (special.bdtr(k, whole_n, p) < q)
        if not up.any():
            break
        k = np.where(up, k + 1, k)
    return k.astype(float)
