"""Margins, level matching and the collapse of respondents to weighting cells.

Internal helpers shared by raking, calibration and post-stratification.

Rules (documented in the public functions):

* ``margins`` is ``{variable: {level: population}}`` (also accepted: a dict of
  ``pd.Series`` indexed by level, or a long DataFrame with columns
  ``variable``/``var``, ``level`` and ``population``/``total``).
* A margin whose values sum to 1 (within 1e-6) is a set of **shares**; shares are
  turned into counts with the population size: the sum of a count margin when
  one is given, otherwise ``total=`` or, failing that, the sum of the base weights.
* Count margins must agree on the population size (relative 1e-6).
* Sample values are matched to margin levels **as labels** (never as numbers):
  first by equality, then by their text (so ``1`` matches ``"1"``).
* Every sample level needs a margin; every margin level with a positive
  population needs respondents with positive weight.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from pxlib.errors import ColumnError, WeightingError
from pxlib.fmt import literal as show
from pxlib.fmt import literals

SHARE_TOL = 1e-6
TOTAL_TOL = 1e-6


def show_list(values: Iterable[Any], k: int = 5) -> str:
    """The first ``k`` values shown plainly, comma-separated, in brackets."""
    return "[" + literals(values, k) + "]"


def check_frame(df: object, what: str = "df") -> None:
    """WeightingError unless ``df`` is a DataFrame."""
    if not isinstance(df, pd.DataFrame):
        raise WeightingError(
            f"{what} must be a pandas DataFrame of respondents, not {type(df).__name__}"
        )


def column(df: pd.DataFrame, name: Any, what: str) -> pd.Series:
    """One column of ``df``: ColumnError when it is absent or its name is not unique."""
    try:
        present = name in df.columns
    except TypeError:  # an unhashable name
        present = False
    if not present:
        raise ColumnError(
            f"{what} column {show(name)} is not in the data (columns: {list(df.columns)})"
        )
    col = df[name]
    if isinstance(col, pd.DataFrame):
        raise ColumnError(
            f"{what} column {show(name)} appears {col.shape[1]} times in the data; "
            "give the columns distinct names"
        )
    return col


@overload
def check_number(
    value: object,
    name: str,
    *,
    positive: bool = ...,
    integer: Literal[True],
    minimum: float | None = ...,
) -> int: ...
@overload
def check_number(
    value: object,
    name: str,
    *,
    positive: bool = ...,
    integer: Literal[False] = ...,
    minimum: float | None = ...,
) -> float: ...
def check_number(
    value: Any,
    name: str,
    *,
    positive: bool = False,
    integer: bool = False,
    minimum: float | None = None,
) -> float:
    """A finite real number (numpy scalars included), else WeightingError naming it."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and math.isfinite(float(value))
    if ok and integer:
        ok = float(value) == int(value)
    if ok and positive:
        ok = float(value) > 0
    if ok and minimum is not None:
        ok = float(value) >= minimum
    if not ok:
        need = "a whole number" if integer else "a finite number"
        if positive:
            need += " > 0"
        if minimum is not None:
            need += f" >= {minimum:g}"
        raise WeightingError(f"{name} must be {need}, not {show(value)}")
    return int(value) if integer else float(value)


def resolve_base(
    df: pd.DataFrame, base_weights: str | pd.Series | ArrayLike | None, what: str = "base_weights"
) -> ArrayLike | None:
    """Base weights given as a column name, a Series (aligned with ``df`` by its index)
    or an array, as an array or None; raises for a missing column or a Series whose
    index is not the data's."""
    if base_weights is None:
        return None
    if isinstance(base_weights, str):
        return column(df, base_weights, what).to_numpy()
    if isinstance(base_weights, pd.Series):
        if base_weights.index.equals(df.index):
            return base_weights.to_numpy()
        if (
            base_weights.index.is_unique
            and df.index.is_unique
            and len(base_weights) == len(df)
            and base_weights.index.isin(df.index).all()
        ):
            return base_weights.reindex(df.index).to_numpy()
        raise WeightingError(
            f"{what}: a Series whose index does not match the data's index; give one "
            "aligned with the data (or an array in the data's row order)"
        )
    if isinstance(base_weights, pd.DataFrame):
        raise WeightingError(f"{what} must be one column of weights, not a DataFrame")
    return base_weights


def margins_to_dict(margins: pd.DataFrame | dict) -> dict[str, dict]:
    """Normalise the accepted margin forms to ``{variable: {level: value}}``."""
    if isinstance(margins, pd.DataFrame):
        cols = {c.lower(): c for c in margins.columns}
        var = cols.get("variable", cols.get("var"))
        lev = cols.get("level")
        tot = cols.get("population", cols.get("total"))
        if var is None or lev is None or tot is None:
            raise ColumnError(
                "a margins table needs columns 'variable' (or 'var'), 'level' and "
                f"'population' (or 'total'); it has {list(margins.columns)}"
            )
        out: dict[str, dict] = {}
        for v, lv, t in zip(margins[var], margins[lev], margins[tot], strict=True):
            out.setdefault(str(v), {})[lv] = t
        return out
    if not isinstance(margins, dict) or not margins:
        raise WeightingError("margins must be a non-empty {variable: {level: population}} dict")
    out = {}
    for v, m in margins.items():
        if isinstance(m, pd.Series):
            out[v] = dict(zip(m.index, m.to_numpy(), strict=True))
        elif isinstance(m, dict):
            out[v] = dict(m)
            if not out[v]:
                raise WeightingError(f"margin {show(v)} has no levels")
        else:
            raise WeightingError(
                f"margin {v!r} must be a {{level: population}} dict or a Series, "
                f"not {type(m).__name__}"
            )
    return out


def check_base_weights(
    base: ArrayLike | None, n: int, allow_zero: bool, what: str = "base weights"
) -> np.ndarray:
    """Base weights as a float array; NaN, negative (and zero unless allowed) raise."""
    if base is None:
        return np.ones(n)
    try:
        w = np.asarray(base, dtype=float)
    except (ValueError, TypeError) as exc:
        raise WeightingError(f"{what} must be numbers; some values are not") from exc
    if w.ndim != 1:
        raise WeightingError(f"{what} must be one value per row, not an array of shape {w.shape}")
    if w.shape != (n,):
        raise WeightingError(f"{what} have {w.size} values for {n} rows")
    bad = ~np.isfinite(w)
    if bad.any():
        raise WeightingError(
            f"{what}: {int(bad.sum())} row(s) have a missing or infinite weight "
            f"(first at position {int(np.flatnonzero(bad)[0])})"
        )
    neg = w < 0
    if neg.any():
        raise WeightingError(
            f"{what}: {int(neg.sum())} row(s) have a negative weight "
            f"(first at position {int(np.flatnonzero(neg)[0])}); weights must be positive"
        )
    if not allow_zero:
        zero = w == 0
        if zero.any():
            raise WeightingError(
                f"{what}: {int(zero.sum())} row(s) have a weight of exactly 0 "
                f"(first at position {int(np.flatnonzero(zero)[0])}); drop them, or pass "
                "allow_zero=True to keep them at 0"
            )
    return w


def encode(col: pd.Series, levels: list, name: str) -> np.ndarray:
    """Code of each row's value among ``levels`` (labels, never numbers).

    Raises when a row is missing or holds a level absent from ``levels``.
    """
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = np.asarray(col.array.codes)  # a view, no copy
        uniques = pd.Index(col.cat.categories)
    else:
        try:
            codes, uniques = pd.factorize(col, use_na_sentinel=True)
        except TypeError as exc:
            raise WeightingError(
                f"column {name!r} holds values that cannot be levels (such as lists); "
                "give text, numbers or categories"
            ) from exc
        uniques = pd.Index(uniques)
    if (codes < 0).any():
        raise WeightingError(
            f"column {name!r}: {int((codes < 0).sum())} row(s) have no value; weighting "
            "needs every respondent's level (impute it, or collapse it into a level)"
        )
    lev_index = pd.Index(levels)
    pos = np.asarray(lev_index.get_indexer(uniques), dtype=np.int64)
    if (pos < 0).any():
        text = pd.Index([str(x) for x in levels])
        if text.is_unique:
            alt = text.get_indexer(pd.Index([str(x) for x in uniques]))
            pos = np.where(pos < 0, alt, pos)
    # levels that exist only as unused categories do not matter
    if (pos < 0).any():
        present = np.bincount(codes, minlength=len(uniques))[: len(uniques)] > 0
        missing = present & (pos < 0)
    else:
        missing = np.zeros(len(uniques), dtype=bool)
    if missing.any():
        bad = [str(u) for u in uniques[missing]]
        raise WeightingError(
            f"margin {name!r}: level(s) {bad} occur in the sample but have no population "
            f"in the margins (margin levels: {[str(x) for x in levels]})"
        )
    if pos.size <= len(levels) and np.array_equal(pos, np.arange(pos.size)):
        return codes  # categories already in margin order
    small = np.int16 if len(levels) < 2**15 else np.int64
    return pos.astype(small)[codes]


def check_levels(
    names: Sequence[str],
    levels: Sequence[list],
    targets: Sequence[np.ndarray],
    haves: Sequence[np.ndarray],
) -> None:
    """Raise for levels with a population but no weight, or weight but no population."""
    for v, lv, t, have in zip(names, levels, targets, haves, strict=True):
        zero_pop = (t == 0) & (have > 0)
        if zero_pop.any():
            bad = [str(lv[i]) for i in np.flatnonzero(zero_pop)]
            raise WeightingError(
                f"margin {v!r}: level(s) {bad} have respondents but a population of 0"
            )
        empty = (t > 0) & (have <= 0)
        if empty.any():
            bad = [str(lv[i]) for i in np.flatnonzero(empty)]
            raise WeightingError(
                f"margin {v!r}: level(s) {bad} have a population but no respondents with a "
                "positive weight (an empty cell); collapse them into a neighbouring level"
            )


@dataclass(frozen=True)
class Prepared:
    """Margins matched to the data."""

    names: list[str]
    levels: list[list]
    codes: list[np.ndarray]  # per margin: level index of each row
    targets: list[np.ndarray]  # per margin: population count of each level
    total: float


def prepare(
    df: pd.DataFrame,
    margins: pd.DataFrame | dict,
    base: np.ndarray | None,
    total: float | None = None,
    check: bool = True,
) -> Prepared:
    """Match margins to the data, turning shares into counts and checking them."""
    check_frame(df)
    md = margins_to_dict(margins)
    if total is not None:
        total = check_number(total, "total", positive=True)
    names, levels, raw = [], [], []
    for v, m in md.items():
        if v not in df.columns:
            raise ColumnError(
                f"margin {v!r} has no column in the data (columns: {list(df.columns)})"
            )
        column(df, v, "margin")
        try:
            vals = np.asarray(list(m.values()), dtype=float)
        except (ValueError, TypeError) as exc:
            raise WeightingError(
                f"margin {v!r}: populations must be numbers; some levels have text"
            ) from exc
        if not np.all(np.isfinite(vals)) or (vals < 0).any():
            raise WeightingError(f"margin {v!r}: populations must be finite and not negative")
        if vals.sum() <= 0:
            raise WeightingError(f"margin {v!r}: populations sum to 0")
        names.append(v)
        levels.append(list(m.keys()))
        raw.append(vals)
    is_share = [abs(r.sum() - 1.0) <= SHARE_TOL for r in raw]
    count_totals = [(n, r.sum()) for n, r, s in zip(names, raw, is_share, strict=True) if not s]
    if count_totals:
        ref_name, ref = count_totals[0]
        for n, t in count_totals[1:]:
            if abs(t - ref) > TOTAL_TOL * ref:
                raise WeightingError(
                    f"inconsistent margin totals: {ref_name!r} sums to {ref:g} but {n!r} "
                    f"sums to {t:g}; every margin must describe the same population"
                )
        if total is not None and abs(total - ref) > TOTAL_TOL * ref:
            raise WeightingError(
                f"inconsistent margin totals: total={total:g} but {ref_name!r} sums to {ref:g}"
            )
        pop = float(ref)
    else:
        pop = (
            float(total)
            if total is not None
            else float(base.sum())
            if base is not None
            else float(len(df))
        )
    targets = [r * pop if s else r for r, s in zip(raw, is_share, strict=True)]
    codes = [encode(df[v], lv, v) for v, lv in zip(names, levels, strict=True)]
    if check:
        check_levels(
            names,
            levels,
            targets,
            [
                np.bincount(c, weights=base, minlength=t.size)
                for c, t in zip(codes, targets, strict=True)
            ],
        )
    return Prepared(names, levels, codes, targets, pop)


@dataclass(frozen=True)
class Cells:
    """Respondents collapsed to their populated cells of the margins' cross."""

    row_cell: np.ndarray  # compact cell index of each row
    level_codes: list[np.ndarray]  # per margin: level of each compact cell
    sizes: list[int]


def make_cells(codes: list[np.ndarray], sizes: list[int]) -> Cells:
    """Collapse rows to the populated cells of the cross of the margins.

    Mixed-radix cell numbers; bincount when the full cross is small, else unique.
    """
    n = codes[0].size
    full = int(np.prod(sizes, dtype=np.float64)) if sizes else 1
    if full < 2**31:
        kt = np.int64 if full > 2**20 else np.int32
        key: np.ndarray = codes[0].astype(kt)
        stride = sizes[0]
        for c, s in zip(codes[1:], sizes[1:], strict=True):
            key += np.multiply(c, stride, dtype=kt)
            stride *= s
        if full <= 4 * n + 1024:
            # every cell of the cross (empty ones carry no weight)
            row_cell = key
            cell_keys = np.arange(full)
        else:
            cell_keys, row_cell = np.unique(key, return_inverse=True)
        level_codes = []
        stride = 1
        for s in sizes:
            level_codes.append((cell_keys // stride) % s)
            stride *= s
        return Cells(row_cell, level_codes, list(sizes))
    stacked = np.column_stack(codes)
    uniq, row_cell = np.unique(stacked, axis=0, return_inverse=True)
    return Cells(row_cell.ravel(), [uniq[:, k] for k in range(len(sizes))], list(sizes))


def model_matrix(level_codes: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """Calibration model matrix on cells: an intercept, then treatment-coded dummies.

    Columns: 1, then level 2..L of each margin (R's ``~a+b+c`` coding).
    """
    m = level_codes[0].size if level_codes else 1
    cols = [np.ones(m)]
    for lc, s in zip(level_codes, sizes, strict=True):
        for k in range(1, s):
            cols.append((lc == k).astype(float))
    return np.column_stack(cols)
