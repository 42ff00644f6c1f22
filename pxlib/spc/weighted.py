"""Weighted survey proportions as p-chart input (Kish effective sample size).

For respondents with weights w_i and answers a_i (1 = yes, 0 = no) in a period,
the weighted proportion is p_w = sum(w a)/sum(w). Its variance under unequal
weighting is about p(1-p)/n_eff with Kish's effective sample size
n_eff = (sum w)^2 / sum(w^2) = n / deff, deff = 1 + cv(w)^2 (Kish 1965, *Survey
Sampling*, s. 11.7; Kish 1992). Charting y = p_w n_eff out of n = n_eff on a p chart
therefore gives limits sqrt(p(1-p)/n_eff) that carry the design effect, where
y = yes-count out of n respondents would pretend the weighted data were a simple
binomial sample and raise false alarms.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pxlib.errors import ChartError, ColumnError
from pxlib.spc.validate import check_finite, numeric
from pxlib.weighting.diagnostics import kish_ess_by


def weighted_counts(
    data: pd.DataFrame,
    x: str,
    y: str,
    weight: str,
    *,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per group and x: ``y`` = weighted proportion x n_eff and ``n`` = n_eff (Kish), plus
    ``p`` (the weighted proportion), ``respondents`` and ``deff`` (= respondents/n_eff).

    p_w = sum(w a)/sum(w), n_eff = (sum w)^2 / sum(w^2) (Kish 1965, s. 11.7; see the
    module docstring).

    ``y`` holds each respondent's answer as 0/1 (or a value in [0, 1]); rows with a
    missing answer or weight are left out (they are not in the denominator); a row
    with no ``x`` or group value is an error, never silently dropped. Feed the result to
    ``chart(result, x, "y", "n", kind="p", by=by)``.
    """
    if not isinstance(data, pd.DataFrame):
        raise ChartError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    by_cols = [by] if isinstance(by, str) else list(by or [])
    for col in [x, y, weight, *by_cols]:
        if col not in data.columns:
            raise ColumnError(f"column '{col}' is not in the data")
        if isinstance(data[col], pd.DataFrame):
            raise ColumnError(f"column '{col}' appears more than once in the data")
    keys_missing = data[[x, *by_cols]].isna().any(axis=1).to_numpy()
    if keys_missing.any():
        rows = np.flatnonzero(keys_missing)[:5].tolist()
        raise ChartError(
            f"{int(keys_missing.sum())} row(s) have no value in '{x}'"
            + (f" or in {by_cols}" if by_cols else "")
            + f" (rows {rows} of the data, counting from 0): give each a period and group, "
            "or remove them knowingly"
        )
    a = numeric(data, y, "y")
    w = numeric(data, weight, "weight")
    check_finite(a, data.index, "y", y)
    check_finite(w, data.index, "weight", weight)
    ok = np.isfinite(a) & np.isfinite(w)
    if (w[ok] < 0).any():
        raise ChartError(f"weights in '{weight}' must not be negative")
    if ((a[ok] < 0) | (a[ok] > 1)).any():
        raise ChartError(f"answers in '{y}' must be 0/1 (or proportions in [0, 1])")
    frame = data.loc[ok, by_cols + [x]].copy()
    frame["_w"] = w[ok]
    frame["_wa"] = w[ok] * a[ok]
    frame["_k"] = 1.0
    groups = frame.groupby(by_cols + [x], sort=True, observed=True)
    agg = groups[["_w", "_wa", "_k"]].sum()
    n_eff = kish_ess_by(groups.ngroup().to_numpy(), w[ok], len(agg))
    n_eff = np.where(n_eff > 0, n_eff, np.nan)  # a group whose weights are all 0: no n
    with np.errstate(invalid="ignore", divide="ignore"):
        p = (agg["_wa"] / agg["_w"]).to_numpy()
    out = agg.index.to_frame(index=False)
    out["y"] = p * n_eff
    out["n"] = n_eff
    out["p"] = p
    out["respondents"] = agg["_k"].to_numpy().astype(np.int64)
    out["deff"] = agg["_k"].to_numpy() / n_eff
    return out
