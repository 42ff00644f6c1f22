"""Checks of what a design is given: a named column present once (:func:`column_of`),
an analysis column as floats (:func:`numeric_column`), a 0/1 column
(:func:`check_01`), a confidence level and degrees of freedom.

Each raises :class:`pxlib.errors.DesignError` (or ``ColumnError``) with a message
naming the column or the value, never a respondent's answer.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd

from pxlib.errors import ColumnError, DesignError
from pxlib.weighting._margins import show, show_list


def column_of(df: pd.DataFrame, name: str, what: str) -> pd.Series:
    try:
        present = name in df.columns
    except TypeError:  # an unhashable name
        present = False
    if not present:
        raise ColumnError(f"{what} column {show(name)} is not in the data")
    col = df[name]
    if isinstance(col, pd.DataFrame):
        raise ColumnError(
            f"{what} column {show(name)} appears {col.shape[1]} times in the data; "
            "give the columns distinct names"
        )
    return col


def numeric_column(df: pd.DataFrame, name: str) -> np.ndarray:
    """An analysis column as floats (missing as NaN); DesignError for text, categories,
    complex numbers and infinite values (broken data, not missing data)."""
    s = column_of(df, name, "analysis")
    if (
        isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_complex_dtype(s)
        or not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))
    ):
        raise DesignError(
            f"column {name!r} is not numeric; estimate a category's share with "
            "proportion() on a 0/1 column"
        )
    y = s.to_numpy(dtype=float, na_value=np.nan)
    inf = np.isinf(y)
    if inf.any():
        k = int(inf.sum())
        raise DesignError(
            f"column {name!r}: {k} row{' holds' if k == 1 else 's hold'} an infinite value "
            f"(row{'' if k == 1 else 's'} {show_list(df.index[inf])[1:-1]}); an infinite value "
            "is broken data: fix it, or make it missing (NaN) to leave the row out"
        )
    return y


def check_level(level: object) -> float:
    """A confidence level strictly between 0 and 1, as a float."""
    if not (
        isinstance(level, numbers.Real) and not isinstance(level, bool) and 0 < float(level) < 1
    ):
        raise DesignError(f"level must be a confidence level between 0 and 1, not {show(level)}")
    return float(level)


def check_ddf(ddf: Any) -> float | None:
    if ddf is None:
        return None
    ok = isinstance(ddf, numbers.Real) and not isinstance(ddf, bool)
    if not (ok and not math.isnan(ddf) and ddf > 0):
        raise DesignError(
            f"ddf must be a positive number of degrees of freedom (np.inf for normal "
            f"quantiles), not {show(ddf)}"
        )
    return float(ddf)


def check_01(y: np.ndarray, col: str) -> None:
    bad = (y != 0) & (y != 1)
    if bad.any():
        bad &= ~np.isnan(y)
    if bad.any():
        raise DesignError(
            f"proportion: column {col!r} must hold 0/1 (or True/False); "
            f"{int(bad.sum())} row(s) hold other values"
        )
