"""Step 1 of a chart: the options and the data are checked once, with messages a
facilitator can act on (they name files, rows and columns, never a patient's answer).

:func:`check_kind`, :func:`check_rules`, :func:`check_columns` and
:func:`check_settings` validate ``chart``'s options; :func:`numeric` and
:func:`check_finite` read a column as floats; :func:`check_values` refuses values a
chart kind cannot take (negative counts, events above a zero denominator...).
:func:`check_multiply` and :func:`float_values` serve every entry point (``chart``,
``funnel``, ``weighted_counts``, :class:`~pxlib.spc.spec.ChartSpec`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from pxlib.errors import ChartError, ColumnError
from pxlib.fmt import literal as _show
from pxlib.fmt import literals as _show_list
from pxlib.spc.limits import KINDS, NEEDS_N, PROPORTION_KINDS

RULE_SETS = ("anhoej", "mdc", "ihi")
COUNT_KINDS = ("p", "pp", "u", "up", "c", "g")
NO_N_KINDS = ("c", "xbar", "s")
#: the columns of ``points`` and ``summary``: no ``by`` column may take one of these names
RESERVED = {
    "x", "y", "n", "cl", "lcl", "ucl", "lcl_2s", "ucl_2s", "phase", "baseline", "include",
    "sigma_signal", "runs_signal", "longest_run", "longest_run_max", "n_crossings",
    "n_crossings_min", "special_cause", "point_type", "mixed_signal", "close_to_limits",
    "n_points", "n_values", "n_baseline", "n_special_cause", "variation_type",
    "assurance_type", "trial_limits", "warning", "limits",
}  # fmt: skip


def is_number(v: object) -> bool:
    """A finite real number, numpy scalars (a value read from a DataFrame) included."""
    return isinstance(v, numbers.Real) and math.isfinite(v)


def check_multiply(multiply: Any) -> None:
    """ChartError unless ``multiply`` is a positive number."""
    if not (is_number(multiply) and multiply > 0):
        raise ChartError(f"multiply must be a positive number, not {_show(multiply)}")


def as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def check_kind(kind: str) -> str:
    if not isinstance(kind, str) or kind.lower() not in KINDS:
        raise ChartError(f"unknown chart kind {_show(kind)}; choose one of {', '.join(KINDS)}")
    return kind.lower()


def check_rules(rules: str | Sequence[str] | None, kind: str) -> list[str]:
    if rules is None:
        return ["mdc"] if kind == "xmr" else ["anhoej"]
    chosen = [rules] if isinstance(rules, str) else list(rules)
    out = []
    for r in chosen:
        key = str(r).lower().replace("ø", "oe")  # Anhøj as the Danish spell it
        if key not in RULE_SETS:
            raise ChartError(f"unknown rule set {_show(r)}; choose from {', '.join(RULE_SETS)}")
        if key not in out:
            out.append(key)
    if not out:
        raise ChartError("rules is empty; choose at least one of anhoej, mdc, ihi")
    return out


def check_columns(
    data: object, x: str, y: str, n: str | None, by_cols: list[str], phases: object
) -> None:
    """The data is a DataFrame holding every named column; no ``by`` column clashes with
    a result column."""
    if not isinstance(data, pd.DataFrame):
        raise ChartError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    needed = [("x", x), ("y", y)] + ([("n", n)] if n is not None else [])
    needed += [("by", b) for b in by_cols]
    if isinstance(phases, str):
        needed.append(("phases", phases))
    for role, col in needed:
        try:
            present = col in data.columns
        except TypeError:  # an unhashable name
            present = False
        if not present:
            raise ColumnError(
                f"{role} column {_show(col)} is not in the data "
                f"(columns: {', '.join(map(str, data.columns))})"
            )
        if isinstance(data[col], pd.DataFrame):
            raise ColumnError(
                f"{role} column '{col}' appears {data[col].shape[1]} times in the data; "
                "give the columns distinct names"
            )
    clash = [b for b in by_cols if b in RESERVED]
    if clash:
        raise ChartError(
            f"by column(s) {clash} share a name with a result column; rename them first"
        )


def check_settings(
    kind: str,
    n: str | None,
    multiply: Any,
    freeze: Any,
    shift: Any,
    trend: Any,
    centre_line: Any,
    agg: Any,
) -> None:
    if kind in NEEDS_N and n is None:
        raise ChartError(
            f"a {kind} chart needs a denominator: give n (e.g. the number of patients)"
        )
    if kind in NO_N_KINDS and n is not None:
        hint = " (use a u chart for counts per unit of exposure)" if kind == "c" else ""
        raise ChartError(f"a {kind} chart takes no denominator n{hint}")
    check_multiply(multiply)
    if freeze is not None and (
        isinstance(freeze, bool) or not isinstance(freeze, int | np.integer) or freeze < 1
    ):
        raise ChartError(f"freeze must be a whole number of points >= 1, not {_show(freeze)}")
    for name, v in (("shift", shift), ("trend", trend)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 2:
            raise ChartError(f"{name} must be a whole number of points >= 2, not {_show(v)}")
    if centre_line not in ("break", "skip"):
        raise ChartError(f"centre_line must be 'break' or 'skip', not {_show(centre_line)}")
    if agg is not None and agg not in ("mean", "sum", "median"):
        raise ChartError(f"agg must be 'mean', 'sum' or 'median', not {_show(agg)}")


def numeric(data: pd.DataFrame, col: str, role: str = "") -> np.ndarray:
    """A column as floats (missing values as NaN); ChartError for text, dates, durations
    and complex numbers, naming the column and the first row that is not a number."""
    s = data[col]
    what = f"{role} column '{col}'" if role else f"column '{col}'"
    kind = getattr(s.dtype, "kind", "O")
    if kind == "m":
        raise ChartError(
            f"{what} holds durations, not numbers; convert them first, e.g. to days with "
            ".dt.total_seconds() / 86400"
        )
    if kind == "M" or isinstance(s.dtype, pd.DatetimeTZDtype):
        raise ChartError(
            f"{what} holds dates, not numbers; chart a number per date (for a t chart, the "
            "days between events)"
        )
    if kind == "c":
        raise ChartError(f"{what} holds complex numbers; give real numbers")
    if s.dtype == bool or str(s.dtype) == "boolean":
        s = s.astype("Float64")
    try:
        v = pd.to_numeric(s, errors="raise")
        if getattr(v.dtype, "kind", "O") not in "biuf":
            raise TypeError(f"dtype {v.dtype}")
    except (ValueError, TypeError) as exc:
        try:
            bad = (pd.to_numeric(s, errors="coerce").isna() & s.notna()).to_numpy()
        except (ValueError, TypeError):
            bad = s.notna().to_numpy()
        first = s.index[bad][0] if bad.any() else None
        raise ChartError(
            f"{what} must be numeric; row {_show(first)} is not a number "
            f"({int(bad.sum())} such rows)"
        ) from exc
    return float_values(v)


def check_finite(v: np.ndarray, index: pd.Index, role: str, col: str) -> None:
    """ChartError naming the rows where a column holds +/-inf: an infinite count,
    denominator or measurement is broken data, not missing data (which is NaN)."""
    bad = np.isinf(v)
    if bad.any():
        k = int(bad.sum())
        rows = _show_list(index[bad])
        raise ChartError(
            f"{role} column '{col}' has {k} infinite value{'' if k == 1 else 's'} "
            f"(row{'' if k == 1 else 's'} {rows}); "
            "an infinite value is broken data, not a missing one: fix those rows, or make "
            "them missing (NaN) to show them as gaps"
        )


def factorize_x(xs: pd.Series, x: str) -> tuple[np.ndarray, pd.Index]:
    """Codes of the x values in sorted order; ChartError where they cannot be sorted."""
    try:
        xcode, xuniq = pd.factorize(xs, sort=True)
    except TypeError as exc:
        text = str(exc)
        if "tz-naive" in text or "tz-aware" in text or "timezone" in text.lower():
            raise ChartError(
                f"x column '{x}' mixes dates with and without a time zone, which cannot be "
                "ordered; give them all one (e.g. .dt.tz_localize(None) on the aware ones)"
            ) from exc
        raise ChartError(
            f"x column '{x}' holds values that cannot be sorted or compared (such as lists, "
            "or a mix of types); give dates, numbers or text"
        ) from exc
    return xcode, pd.Index(xuniq)


def float_values(s: pd.Series) -> np.ndarray:
    """A column as floats, missing values (and, for text, non-numbers) as NaN."""
    v = pd.to_numeric(s, errors="coerce")
    return v.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def group_name(gid: int, labels: pd.DataFrame, by_cols: list[str]) -> str:
    if not by_cols:
        return ""
    vals = labels.iloc[int(gid)]
    return " in group " + ", ".join(f"{c}={_show(vals[c])}" for c in by_cols)


def check_values(
    kind: str,
    yv: np.ndarray,
    nv: np.ndarray | None,
    gid: np.ndarray,
    labels: pd.DataFrame,
    by_cols: list[str],
    xs: pd.Series,
    row_index: pd.Index,
    y: str,
    n: str | None,
) -> None:
    """Raise ChartError naming the first offending row for values a chart cannot take."""

    def fail(mask, what):
        i = int(np.flatnonzero(mask)[0])
        k = int(mask.sum())
        what = what(i) if callable(what) else what
        raise ChartError(
            f"{kind} chart, row {_show(row_index[i])}{group_name(gid[i], labels, by_cols)}, "
            f"x={_show(xs.iloc[i])}: {what} ({k} such row{'' if k == 1 else 's'})"
        )

    with np.errstate(invalid="ignore"):
        if kind in COUNT_KINDS:
            bad = yv < 0
            if bad.any():
                fail(bad, f"'{y}' is negative; counts cannot be")
        if kind == "t":
            bad = yv <= 0
            if bad.any():
                fail(bad, f"'{y}' is not positive; times between events must be > 0")
        if nv is not None:
            bad = nv < 0
            if bad.any():
                fail(bad, f"'{n}' is negative")
            bad = (nv == 0) & (yv > 0)
            if bad.any():
                fail(
                    bad,
                    lambda i: (
                        f"'{n}' is zero but '{y}' is {_show(float(yv[i]))}; a subgroup with no "
                        "denominator cannot have events"
                    ),
                )
            if kind in PROPORTION_KINDS:
                bad = yv > nv * (1 + 1e-12) + 1e-12  # allow rounding in weighted counts
                if bad.any():
                    fail(bad, f"'{y}' is larger than '{n}' (a proportion above 1)")


__all__ = [
    "RESERVED",
    "RULE_SETS",
    "as_list",
    "check_columns",
    "check_finite",
    "check_kind",
    "check_multiply",
    "check_rules",
    "check_settings",
    "check_values",
    "factorize_x",
    "float_values",
    "group_name",
    "is_number",
    "numeric",
]
