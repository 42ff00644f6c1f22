"""Values of a chart's tables as figure code needs them: blank or not, text, floats,
booleans, plotly's x values, and a number written without float noise."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        return False
    return isinstance(value, str) and value.strip() == ""


def as_text(value: object) -> str:
    return "" if is_blank(value) else str(value)


def is_datetime(series: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(series)


def plotly_x(series: pd.Series) -> list:
    """x values for plotly JSON: ISO dates (short) for datetimes, plain values otherwise."""
    missing = series.isna().to_numpy()
    if is_datetime(series):
        out = series.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    else:
        out = series.to_numpy(dtype=object, copy=True)
    out[missing] = None
    return out.tolist()


def as_floats(series: pd.Series | Sequence) -> np.ndarray:
    return pd.to_numeric(pd.Series(series), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def optional_floats(frame: pd.DataFrame, col: str) -> np.ndarray:
    """A numeric column, or NaN throughout when the table has none."""
    return as_floats(frame[col]) if col in frame.columns else np.full(len(frame), np.nan)


def as_bools(series: pd.Series | None, length: int, default: bool) -> np.ndarray:
    if series is None:
        return np.full(length, default)
    return series.astype("boolean").fillna(default).to_numpy(dtype=bool)


def value_text(value: object) -> str:
    """A value from the data as figure text: a whole number without ".0", another
    number with at most 3 decimals (0.192 for 10/52; no float noise such as
    0.30000000000000004), anything else as it is."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        v = float(value)
        if not math.isfinite(v):
            return "n/a"
        if v == round(v) and abs(v) < 1e15:
            return str(int(round(v)))
        if abs(v) >= 1e-3:
            return f"{v:.3f}".rstrip("0").rstrip(".")
        return f"{v:.2e}"
    return as_text(value)


def is_date_like(value: object) -> bool:
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return True
    if hasattr(value, "year") and hasattr(value, "month"):
        return True
    if isinstance(value, str):
        try:
            pd.Timestamp(value)
        except (ValueError, TypeError):
            return False
        return bool(re.match(r"\d{4}-\d{2}-\d{2}", value))
    return False
