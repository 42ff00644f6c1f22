"""Control-chart constants, computed exactly rather than read from tables.

c4(n) = sqrt(2/(n-1)) * Gamma(n/2) / Gamma((n-1)/2)  (Montgomery, *Introduction to
Statistical Quality Control*, appendix VI), evaluated through ``lgamma``;
c5 = sqrt(1 - c4^2); A3 = 3 / (c4 sqrt(n)); B3 = max(0, 1 - 3 c5/c4); B4 = 1 + 3 c5/c4.
Subgroups of one (or none) have no within-subgroup spread: the constants are NaN.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaln

#: d2 for moving ranges of two: E|X1 - X2| / sigma = 2/sqrt(pi) ~ 1.128 (qicharts2 uses 1.128).
D2 = 1.128
#: D4 for moving ranges of two: upper limit of a moving-range chart, 3.267 * mean MR.
D4 = 3.267
#: Making Data Count (NHSRplotthedots) XmR multiplier: limits are mean +/- 2.66 * AMR.
MDC_LIMIT = 2.66
#: Exponent of the Nelson transformation used by the t chart: y^(1/3.6).
T_EXPONENT = 3.6
#: Fewer points than this in a phase give trial limits (NHSRplotthedots' threshold).
TRIAL_LIMIT_POINTS = 13


def _valid(n: ArrayLike) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    return np.where(n > 1, n, np.nan)


def c4(n: ArrayLike) -> np.ndarray:
    """c4(n), the bias of the sample standard deviation: E[s] = c4 * sigma."""
    n = _valid(n)
    return np.sqrt(2.0 / (n - 1.0)) * np.exp(gammaln(n / 2.0) - gammaln((n - 1.0) / 2.0))


def c5(n: ArrayLike) -> np.ndarray:
    """c5(n) = sqrt(1 - c4^2): the standard deviation of s in units of sigma."""
    return np.sqrt(1.0 - c4(n) ** 2)


def a3(n: ArrayLike) -> np.ndarray:
    """A3(n) = 3 / (c4 sqrt(n)): x-bar limits are cl +/- A3 * s-bar."""
    n = _valid(n)
    return 3.0 / (c4(n) * np.sqrt(n))


def b3(n: ArrayLike) -> np.ndarray:
    """B3(n) = max(0, 1 - 3 c5/c4): s-chart lower limit factor."""
    return np.maximum(0.0, 1.0 - 3.0 * c5(n) / c4(n))


def b4(n: ArrayLike) -> np.ndarray:
    """B4(n) = 1 + 3 c5/c4: s-chart upper limit factor."""
    return 1.0 + 3.0 * c5(n) / c4(n)
