"""How numbers, percentages, dates and counts read wherever people see them.

One style for reports, the index, captions and tables: whole percentages
written ``84%`` (one decimal only where asked), thousands with commas, dates
as ``05 Jan 2026``, counted words in the right number ("1 week", "3 weeks"),
and a dash for a missing value. Never a float's repr (``52.000000``).
:func:`literal` is how a value reads inside an error message (``7``, not
``np.int64(7)``; text quoted).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable
from numbers import Real

import numpy as np
import pandas as pd

__all__ = ["MISSING", "count", "date", "literal", "literals", "number", "percent", "plural"]

#: what a missing value reads as
MISSING = "–"
_IRREGULAR = {"is": "are", "was": "were", "has": "have", "this": "these", "person": "people"}


def _finite(value: object) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, Real):
        try:
            value = float(value)  # numpy scalars, Decimal, numeric text
        except (TypeError, ValueError):
            return None
    value = float(value)
    return value if math.isfinite(value) else None


def number(value: object, decimals: int | None = None) -> str:
    """``1,234``, ``0.91``, ``12.5``: whole numbers without decimals, others to ``decimals``.

    With ``decimals=None`` a whole number shows none and any other shows up to
    three significant figures below 1 and one decimal above.
    """
    x = _finite(value)
    if x is None:
        return MISSING
    if decimals is not None:
        return f"{x:,.{decimals}f}"
    if x.is_integer():
        return f"{int(x):,}"
    if abs(x) < 1:
        return f"{x:.3g}"
    return f"{x:,.1f}"


def percent(value: object, decimals: int = 0, *, share: bool = True) -> str:
    """``84%`` from a share ``0.84`` (or from ``84`` with ``share=False``)."""
    x = _finite(value)
    if x is None:
        return MISSING
    return f"{100 * x if share else x:.{decimals}f}%"


def plural(n: object, word: str, many: str | None = None) -> str:
    """``word`` in the number ``n`` asks for: "week"/"weeks", "was"/"were", "person"/"people"."""
    x = _finite(n)
    if x is not None and x == 1:
        return word
    return many or _IRREGULAR.get(word, word + "s")


def count(n: object, word: str, many: str | None = None) -> str:
    """``1 week``, ``3 weeks``, ``1,204 patients``."""
    return f"{number(n)} {plural(n, word, many)}"


def yes_no(value: object) -> str:
    """A flag as people write it: "yes" or "no"."""
    return "yes" if bool(value) else "no"


def join(items: Iterable[object], last: str = "and") -> str:
    """``"age"``, ``"age and sex"``, ``"age, sex and ethnic group"`` (``last="or"`` for a choice)."""
    words = [str(i) for i in items]
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


def date(value: object) -> str:
    """``05 Jan 2026`` from a date, timestamp or ISO text; a dash when missing."""
    if value is None or value != value:  # None, NaN, NaT
        return MISSING
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return value
    try:
        return f"{value:%d %b %Y}"
    except (TypeError, ValueError):
        return MISSING


# --- values inside error and warning messages ------------------------------------


def literal(v: object) -> str:
    """A value as a message shows it: plain numbers (no ``np.int64(7)``), dates as
    2024-01-05, text quoted."""
    if isinstance(v, np.datetime64):
        v = pd.Timestamp(v)
    elif isinstance(v, np.timedelta64):
        v = pd.Timedelta(v)
    elif isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, pd.Timestamp):
        if v is pd.NaT:
            return "NaT"
        return v.strftime("%Y-%m-%d") if v == v.normalize() and v.tz is None else str(v)
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, tuple):
        return "(" + ", ".join(literal(u) for u in v) + ")"
    if isinstance(v, list):
        return "[" + ", ".join(literal(u) for u in v) + "]"
    return str(v)


def literals(values: Iterable[object], k: int = 5) -> str:
    """The first ``k`` values, shown plainly and comma-separated ("..." if more)."""
    vals = list(values)
    text = ", ".join(literal(v) for v in vals[:k])
    return text + (", ..." if len(vals) > k else "")
