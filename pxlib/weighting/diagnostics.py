"""Weight diagnostics: Kish effective sample size, design effect, a summary.

* Kish effective sample size: ESS = (sum w)^2 / sum w^2 (Kish 1965).
* Kish design effect due to unequal weights: deff = n sum w^2 / (sum w)^2 = n / ESS
  = 1 + CV^2 (CV with the population standard deviation of the weights).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from pxlib.errors import WeightingError


def _arr(weights) -> np.ndarray:
    """The finite weights as floats (missing ones left out); WeightingError for text."""
    if isinstance(weights, pd.DataFrame):
        raise WeightingError("weights must be one column of weights, not a DataFrame")
    try:
        w = np.asarray(weights, dtype=float)
    except (ValueError, TypeError) as exc:
        raise WeightingError("weights must be numbers; some values are not") from exc
    w = w.ravel() if w.ndim == 0 else w
    return w[np.isfinite(w)]


def kish_ess(weights: ArrayLike) -> float:
    """Kish effective sample size (sum w)^2 / sum w^2; 0 for no weight."""
    w = _arr(weights)
    s2 = float(np.dot(w, w))
    return float(w.sum() ** 2 / s2) if s2 > 0 else 0.0


def kish_ess_by(groups: np.ndarray, weights: np.ndarray, n_groups: int) -> np.ndarray:
    """Kish effective sample size within each group, (sum_g w)^2 / sum_g w^2; 0 for a
    group with no weight.

    ``groups`` holds each weight's group code (0 to ``n_groups - 1``); the weights must
    be finite (a weight of 0 leaves a row out of its group).
    """
    total = np.bincount(groups, weights=weights, minlength=n_groups)
    squares = np.bincount(groups, weights=weights * weights, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(squares > 0, total**2 / squares, 0.0)


def design_effect(weights: ArrayLike) -> float:
    """Kish design effect of unequal weighting, n sum w^2 / (sum w)^2 (n: weights > 0)."""
    w = _arr(weights)
    w = w[w > 0]
    s = float(w.sum())
    return float(w.size * np.dot(w, w) / s**2) if s > 0 else float("nan")


def weight_summary(weights: ArrayLike) -> pd.DataFrame:
    """One-row table a facilitator can read: how uneven the weights are.

    Columns: ``n`` (respondents), ``n_zero`` (weight 0), ``total`` (sum),
    ``min``, ``median``, ``max`` (of positive weights), ``ratio`` (max/min),
    ``cv`` (coefficient of variation), ``ess`` (Kish effective sample size),
    ``deff`` (Kish design effect, n/ESS over positive weights).
    """
    w = _arr(weights)
    pos = w[w > 0]
    if pos.size == 0:
        row = dict(n=w.size, n_zero=int((w == 0).sum()), total=0.0)
        return pd.DataFrame([row])
    row = dict(
        n=int(w.size),
        n_zero=int((w == 0).sum()),
        total=float(w.sum()),
        min=float(pos.min()),
        median=float(np.median(pos)),
        max=float(pos.max()),
        ratio=float(pos.max() / pos.min()),
        cv=float(pos.std() / pos.mean()),
        ess=kish_ess(pos),
        deff=design_effect(pos),
    )
    return pd.DataFrame([row])
