"""Post-stratification, weight trimming and non-response adjustment.

* Post-stratification (R ``survey::postStratify``): within each class c of one
  variable (or the cross of several), ``w_i = d_i * N_c / sum_{j in c} d_j``.
  A class with a population but no respondents is an error, never a silent drop.
* Trimming (R ``survey::trimWeights``): weights are clipped to [lower, upper]; the
  mass removed (or added) is shared out equally over the units that were not
  clipped, so the total weight is unchanged. ``strict=True`` repeats until no
  weight lies outside the bounds.
* Non-response adjustment by weighting classes (Kalton and Flores-Cervantes
  2003): within class c, respondents' weights are multiplied by
  ``sum_{sampled in c} d / sum_{responding in c} d``; non-respondents get 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from pxlib.errors import ColumnError, WeightingError

from ._margins import check_base_weights, check_frame, check_number, resolve_base, show, show_list


@dataclass(frozen=True)
class PostFit:
    weights: np.ndarray
    unit: np.ndarray  # class index of each row
    X: np.ndarray  # identity: classes x classes
    base: np.ndarray


def _as_cols(cells) -> list[str]:
    return [cells] if isinstance(cells, str) else list(cells)


def _totals_dict(totals, cols: list[str]) -> dict:
    try:
        if isinstance(totals, pd.DataFrame):
            tcol = next((c for c in ("population", "total", "N") if c in totals.columns), None)
            if tcol is None or any(c not in totals.columns for c in cols):
                raise ColumnError(
                    f"a post-stratification totals table needs columns {cols} and 'population'"
                )
            keys = (
                totals[cols[0]].tolist()
                if len(cols) == 1
                else list(zip(*(totals[c] for c in cols), strict=True))
            )
            return dict(zip(keys, totals[tcol].to_numpy(dtype=float), strict=True))
        if isinstance(totals, pd.Series):
            return dict(zip(totals.index, totals.to_numpy(dtype=float), strict=True))
        if isinstance(totals, dict):
            out = {}
            for k, v in totals.items():
                out[k] = check_number(v, f"the population total of class {show(k)}", minimum=0)
            return out
    except ValueError as exc:
        if isinstance(exc, ColumnError | WeightingError):
            raise
        raise WeightingError(
            f"post-stratification on {cols}: population totals must be numbers"
        ) from exc
    raise WeightingError(
        f"post-stratification totals must be a {{class: population}} dict, a Series or a table "
        f"with columns {cols} and 'population', not {type(totals).__name__}"
    )


def class_codes(df: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, list]:
    """Compact class index of each row, and the class labels (tuples when crossed)."""
    check_frame(df)
    for c in cols:
        if c not in df.columns:
            raise ColumnError(f"weighting class column {c!r} is not in the data")
        if isinstance(df[c], pd.DataFrame):
            raise ColumnError(f"weighting class column {c!r} appears more than once in the data")
        if df[c].isna().any():
            raise WeightingError(
                f"weighting class column {c!r}: {int(df[c].isna().sum())} row(s) have no value"
            )
    codes: list[np.ndarray] = []
    uniqs: list[list] = []
    for c in cols:
        try:
            k, u = pd.factorize(df[c])
        except TypeError as exc:
            raise WeightingError(
                f"weighting class column {c!r} holds values that cannot be classes (such as "
                "lists); give text, numbers or categories"
            ) from exc
        codes.append(k.astype(np.int64))
        uniqs.append(list(u))
    key = np.zeros(len(df), dtype=np.int64)
    stride = 1
    for class_code, class_levels in zip(codes, uniqs, strict=True):
        key += class_code * stride
        stride *= max(len(class_levels), 1)
    ukeys, unit = np.unique(key, return_inverse=True)
    labels = []
    for uk in ukeys:
        parts, rem = [], int(uk)
        for class_levels in uniqs:
            parts.append(class_levels[rem % len(class_levels)])
            rem //= len(class_levels)
        labels.append(parts[0] if len(cols) == 1 else tuple(parts))
    return unit.ravel(), labels


def _match(labels: list, tot: dict, cols: list[str]) -> np.ndarray:
    def norm(x):
        return tuple(str(v) for v in x) if isinstance(x, tuple) else str(x)

    text = {norm(k): v for k, v in tot.items()}
    out = np.empty(len(labels))
    for i, lab in enumerate(labels):
        if lab in tot:
            out[i] = tot[lab]
        elif norm(lab) in text:
            out[i] = text[norm(lab)]
        else:
            raise WeightingError(
                f"post-stratification on {cols}: class {norm(lab)} occurs in the sample "
                "but has no population total"
            )
    return out


def poststratify_fit(
    df: pd.DataFrame,
    cells: str | Sequence[str],
    totals: dict | pd.Series | pd.DataFrame,
    base_weights: str | pd.Series | ArrayLike | None = None,
    allow_zero: bool = False,
) -> PostFit:
    cols = _as_cols(cells)
    check_frame(df)
    base = check_base_weights(resolve_base(df, base_weights), len(df), allow_zero)
    tot = _totals_dict(totals, cols)
    unit, labels = class_codes(df, cols)
    N = _match(labels, tot, cols)
    if (N < 0).any() or not np.all(np.isfinite(N)):
        raise WeightingError(f"post-stratification on {cols}: totals must be finite, >= 0")
    have = np.bincount(unit, weights=base, minlength=len(labels))
    seen = {str(x) if not isinstance(x, tuple) else tuple(map(str, x)) for x in labels}
    empty = [
        k
        for k, v in tot.items()
        if v > 0 and (str(k) if not isinstance(k, tuple) else tuple(map(str, k))) not in seen
    ]
    bad = [labels[i] for i in np.flatnonzero(have <= 0)]
    if empty or bad:
        raise WeightingError(
            f"post-stratification on {cols}: class(es) {show_list([*empty, *bad])} have a population "
            "but no respondents with a positive weight; collapse them with a neighbouring class"
        )
    f = N / have
    return PostFit(base * f[unit], unit, np.eye(len(labels)), base)


def poststratify(
    df: pd.DataFrame,
    cells: str | Sequence[str],
    totals: dict | pd.Series | pd.DataFrame,
    base_weights: str | pd.Series | ArrayLike | None = None,
    *,
    allow_zero: bool = False,
) -> pd.Series:
    """Post-stratify: each class's weights sum to its population total.

    ``cells``: a column name or a list of them (crossed). ``totals``: ``{class:
    population}`` (tuples as keys when crossed), a Series, or a DataFrame with the
    class columns and ``population``.
    """
    fit = poststratify_fit(df, cells, totals, base_weights, allow_zero)
    return pd.Series(fit.weights, index=df.index, name="weight")


def trim(
    weights: pd.Series | ArrayLike,
    lower: float | None = None,
    upper: float | None = None,
    *,
    strict: bool = False,
    max_iter: int = 100,
) -> pd.Series:
    """Clip weights to [lower, upper], sharing the difference over the others.

    ``w' = clip(w, lower, upper)``; the removed mass ``sum(w - w')`` is added
    equally to every unit that was not clipped (R ``trimWeights``), keeping the
    total. ``strict=True`` repeats until nothing lies outside the bounds.

    Weights of exactly 0 (non-respondents after :func:`nonresponse_adjust`, rows left
    out of a calibration) are not weights to trim: they stay 0, are never raised to
    ``lower`` and get no share of the trimmed mass. (R's ``trimWeights`` would raise
    them; its designs hold no zero weights, so on R's designs the results agree.)

    On a calibrated :class:`pxlib.survey.Design` (``Design.trim`` after ``rake``,
    ``calibrate`` or ``poststratify``), standard errors keep using that calibration,
    as R's ``svyrecvar`` does after ``trimWeights()``: the trimmed estimator sum w' y is
    the calibrated estimator of the variable (w'/w) y, and is linearised as such
    (residuals of (w'/w) z from the calibration model, times the calibrated weights w).
    This matches R's SEs to 1e-6 after ``rake()`` (with ``variance="r_rake"``),
    ``calibrate()`` and ``postStratify()`` (tests/fixtures/survey_r/make_trim_cases.R).
    """
    if isinstance(weights, pd.DataFrame):
        raise WeightingError("trim: weights must be one column of weights, not a DataFrame")
    if weights is None or isinstance(weights, str):
        raise WeightingError(
            f"trim: weights must be an array or Series of numbers, not {show(weights)}"
        )
    if isinstance(weights, pd.Series):
        s = weights
    else:
        arr = np.asarray(weights, dtype=object)
        if arr.ndim != 1:
            if arr.ndim > 1:
                raise WeightingError(
                    f"trim: weights must be one value per row, not shape {arr.shape}"
                )
            arr = arr.reshape(1)
        s = pd.Series(arr)
    w = check_base_weights(s.to_numpy(), len(s), True, "weights")
    lo = -np.inf if lower is None else check_number(lower, "trim: lower")
    hi = np.inf if upper is None else check_number(upper, "trim: upper")
    max_iter = check_number(max_iter, "trim: max_iter", integer=True, minimum=1)
    if lo > hi:
        raise WeightingError(f"trim: lower bound {lo:g} is above upper bound {hi:g}")
    w = w.copy()
    live = w > 0  # zero weights stay zero
    for _ in range(max_iter if strict else 1):
        out = live & ((w < lo) | (w > hi))
        if not out.any():
            break
        clipped = np.where(live, np.clip(w, lo, hi), w)
        extra = float((w - clipped).sum())
        inside = live & ~out
        if not inside.any():
            raise WeightingError("trim: every weight is outside the bounds; widen them")
        w = clipped
        w[inside] += extra / inside.sum()
    return pd.Series(w, index=s.index, name="weight")


def nonresponse_adjust(
    df: pd.DataFrame,
    responded: str,
    classes: str | Sequence[str],
    base_weights: str | pd.Series | ArrayLike | None = None,
) -> pd.Series:
    """Weighting-class non-response adjustment (see the module docstring).

    ``responded``: a boolean (or 0/1) column; ``classes``: column(s) forming the
    weighting classes. Non-respondents get weight 0; a class with sampled units
    but no respondent raises (collapse it first).
    """
    cols = _as_cols(classes)
    check_frame(df)
    if responded not in df.columns:
        raise ColumnError(f"response indicator column {responded!r} is not in the data")
    r = df[responded]
    if isinstance(r, pd.DataFrame):
        raise ColumnError(f"response indicator column {responded!r} appears more than once")
    if r.isna().any():
        raise WeightingError(f"response indicator {responded!r} has missing values")
    if not pd.api.types.is_bool_dtype(r):
        num = pd.to_numeric(r, errors="coerce")
        if not pd.api.types.is_numeric_dtype(r) or not num.isin([0, 1]).all():
            n_bad = int((~num.isin([0, 1])).sum())
            raise WeightingError(
                f"response indicator {responded!r} must be True/False or 1/0; "
                f"{n_bad} row(s) hold other values"
            )
    did_respond = r.to_numpy().astype(bool)
    base = check_base_weights(resolve_base(df, base_weights), len(df), True)
    unit, labels = class_codes(df, cols)
    all_d = np.bincount(unit, weights=base, minlength=len(labels))
    resp_d = np.bincount(unit, weights=base * did_respond, minlength=len(labels))
    bad = (resp_d <= 0) & (all_d > 0)
    if bad.any():
        raise WeightingError(
            f"non-response adjustment on {cols}: class(es) "
            f"{show_list([labels[i] for i in np.flatnonzero(bad)])} have no respondents; "
            "collapse them"
        )
    f = np.divide(all_d, resp_d, out=np.zeros_like(all_d), where=resp_d > 0)
    return pd.Series(np.where(did_respond, base * f[unit], 0.0), index=df.index, name="weight")
