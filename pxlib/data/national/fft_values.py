"""Cell values of FFT sheets read into columns, with every oddity named by its cell.

Markers [national-data.md 1.2; T-IP Notes!A50; FFT-wr]: ``*`` suppressed, ``-`` a
percentage that could not be calculated (and the terminating row), ``NA`` missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from pxlib.errors import DataValidationError
from pxlib.fmt import literal

SUPPRESSED = "*"
NOT_CALCULATED = "-"
MISSING_MARKERS = frozenset({"", "NA", "N/A", "NAN"})


def where(
    file: str, sheet: str, row: int | None = None, col: int | None = None, label: str | None = None
) -> str:
    """``file, sheet 'Wards', row 15, column G ('Very Good')`` (1-based row and column)."""
    text = f"{file}, sheet {sheet!r}"
    if row is not None:
        text += f", row {row}"
    if col is not None:
        text += f", column {get_column_letter(col)}"
        if label:
            text += f" ({label!r})"
    return text


def cell_text(value: object) -> str:
    """A header or label cell as text ('' when empty)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def text_column(values: np.ndarray) -> np.ndarray:
    """Identifier cells as text (codes written as numbers read ``7``, not ``7.0``); empty
    cells become None."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        if v is None:
            out[i] = None
        elif isinstance(v, float) and v.is_integer():
            out[i] = str(int(v))
        else:
            text = str(v).strip()
            out[i] = text or None
    return out


def number_column(
    values: np.ndarray,
    rows: np.ndarray,
    ctx: tuple,
    *,
    allow_star: bool = True,
    what: str = "a number",
) -> tuple[np.ndarray, np.ndarray]:
    """Numbers of one column, and where the file wrote ``*``.

    ``-``, ``NA`` and empty cells are NaN (not suppressed); any other text, or a
    boolean, raises :class:`DataValidationError` naming the cell. ``ctx`` is
    ``(file, sheet, col, label)``."""
    n = len(values)
    out = np.full(n, np.nan)
    star = np.zeros(n, dtype=bool)
    is_float = np.fromiter((type(v) is float for v in values), dtype=bool, count=n)
    is_none = np.fromiter((v is None for v in values), dtype=bool, count=n)
    if is_float.any():
        out[is_float] = values[is_float].astype(float)
    rest = np.flatnonzero(~is_float & ~is_none)
    for i in rest:
        v = values[i]
        if isinstance(v, bool):
            bad = True
        elif isinstance(v, int | np.integer | np.floating):
            out[i] = float(v)
            continue
        elif isinstance(v, str):
            text = v.strip()
            if text == SUPPRESSED and allow_star:
                star[i] = True
                continue
            if text == NOT_CALCULATED or text.upper() in MISSING_MARKERS:
                continue
            try:
                out[i] = float(text)
                continue
            except ValueError:
                bad = True
        else:
            bad = True
        if bad:
            file, sheet, col, label = ctx
            raise DataValidationError(
                f"{where(file, sheet, int(rows[i]), col, label)}: {literal(v)} is not {what}"
                + (" or a marker ('*' suppressed, '-', 'NA')" if allow_star else "")
            )
    return out, star


def check_counts(values: np.ndarray, rows: np.ndarray, ctx: tuple) -> None:
    """Counts are whole and not negative."""
    finite = np.isfinite(values)
    bad = finite & ((values < 0) | (np.abs(values - np.round(values)) > 1e-9))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        file, sheet, col, label = ctx
        raise DataValidationError(
            f"{where(file, sheet, int(rows[i]), col, label)}: {literal(float(values[i]))} is not "
            f"a count (a whole number, 0 or more); {int(bad.sum())} such cells in the column"
        )


def check_fractions(values: np.ndarray, rows: np.ndarray, ctx: tuple) -> None:
    """Percentages are published as fractions 0-1 [FFT-cfg PERCENTAGE_NUMBER_FORMAT]."""
    bad = np.isfinite(values) & ((values < -1e-9) | (values > 1 + 1e-9))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        file, sheet, col, label = ctx
        raise DataValidationError(
            f"{where(file, sheet, int(rows[i]), col, label)}: {literal(float(values[i]))} is not "
            "a fraction from 0 to 1 (published percentages are fractions, shown as 0%)"
        )


def first_mismatch(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else None


def empty_rows(block: np.ndarray) -> np.ndarray:
    """Rows of ``block`` with no value at all (every cell empty)."""
    if block.size == 0:
        return np.ones(block.shape[0], dtype=bool)
    return pd.isna(block).all(axis=1)
