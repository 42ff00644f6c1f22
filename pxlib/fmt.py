"""How numbers, percentages, dates and counts read wherever people see them.

One style for reports, the index, captions and tables: whole percentages
written ``84%`` (one decimal only where asked), thousands with commas, dates
as ``05 Jan 2026``, counted words in the right number ("1 week", "3 weeks"),
and a dash for a missing value. Never a float's repr (``52.000000``).
"""

from __future__ import annotations

import datetime as _dt
import math
from numbers import Real

__all__ = ["MISSING", "count", "date", "number", "percent", "plural"]

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
