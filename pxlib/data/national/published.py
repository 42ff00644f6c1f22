"""Cells of the files NHS England and CQC publish: numbers, suppression markers, columns.

Shared by the GPPS, NCPES, Staff Survey and CQC readers (``national-data.md`` sections 2-5):

- :func:`parse_published`: numbers from a column; negative codes kept for the caller (GPPS
  publishes suppressed results as negative sentinels such as -97 [C-BRIS]), the markers of
  :data:`SUPPRESSION_MARKERS` flagged, any other text reported;
- :func:`published_values`: several columns at once, as (rows x columns) arrays, with the
  reason of each suppressed cell and errors naming the column and row;
- :func:`read_published`: a CSV read fast (pandas parses the value columns as numbers) with
  the encodings and delimiters of :func:`pxlib.data.read_table`, or a workbook sheet;
- :func:`match_schema`: a provisional schema's columns found by name, or a
  :class:`~pxlib.errors.ColumnError` naming the column expected.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pxlib.data.loaders import (
    TEXT_SUFFIXES,
    DataWarning,
    decode_text,
    match_columns,
    read_table,
    sniff_delimiter,
)
from pxlib.data.schema_types import Schema
from pxlib.errors import ColumnError, DataValidationError
from pxlib.fmt import literal, literals

__all__ = [
    "SUPPRESSION_MARKERS",
    "cells_where",
    "match_schema",
    "parse_published",
    "published_values",
    "read_published",
    "survey_years",
]

#: text cells read as "suppressed" (besides negative codes where a reader says so); the FFT's
#: markers, unconfirmed for the other collections
SUPPRESSION_MARKERS = ("*", "-")


def parse_published(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numbers from one column of a published file: ``(numbers, marked, bad)``.

    ``numbers`` is NaN where a cell is blank or not a finite number (negative codes are
    kept: the caller decides what they mean); ``marked`` is True for a suppression marker of
    :data:`SUPPRESSION_MARKERS`; ``bad`` is True for any other text (``inf`` and ``nan``
    included). A column pandas already read as numbers passes straight through.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.to_numpy(dtype=float, copy=True, na_value=np.nan)
        bad = ~np.isfinite(numbers) & ~np.isnan(numbers)
        numbers[bad] = np.nan
        return numbers, np.zeros(len(numbers), dtype=bool), bad
    text = values.astype(object)
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, copy=True)
    finite = np.isfinite(numbers)
    numbers[~finite] = np.nan
    marked = np.zeros(len(numbers), dtype=bool)
    bad = np.zeros(len(numbers), dtype=bool)
    other = np.flatnonzero(~finite)
    if len(other):
        cells = text.iloc[other]
        stripped = cells.astype(str).str.strip()
        blank = ((stripped == "") | cells.isna()).to_numpy()
        is_marker = stripped.isin(SUPPRESSION_MARKERS).to_numpy()
        marked[other[is_marker]] = True
        bad[other[~is_marker & ~blank]] = True
    return numbers, marked, bad


def cells_where(mask: np.ndarray, columns: Sequence[str], limit: int = 3) -> str:
    """ "column 'Q28_12pct' row 5, ..." for the first cells of a (rows x columns) mask, rows
    numbered as in a spreadsheet (the header is row 1)."""
    mask = np.asarray(mask).reshape(len(mask), -1)
    rows, cols = np.nonzero(mask)
    order = np.lexsort((rows, cols))[:limit]
    shown = ", ".join(f"column {literal(columns[cols[i]])} row {rows[i] + 2}" for i in order)
    more = int(mask.sum()) - len(order)
    return shown + (f" and {more} more" if more > 0 else "")


def published_values(
    frame: pd.DataFrame,
    columns: Sequence[str],
    source: str,
    *,
    negative_suppressed: bool,
    lower: float | None = None,
    upper: float | None = None,
    what: str = "values",
) -> tuple[np.ndarray, np.ndarray, pd.Categorical]:
    """``(values, suppressed, reason)`` of ``columns``: (rows x columns) arrays of numbers (NaN
    where blank or suppressed) and of suppression flags, and each cell's reason
    ("suppressed in the file (-97)", the code or marker shown; missing where not suppressed),
    flattened column by column.

    Negative numbers are suppression codes when ``negative_suppressed`` (GPPS); otherwise
    they are checked against ``lower``. Raises :class:`DataValidationError` naming columns and
    rows for text that is neither a number nor a marker, and for values outside
    [``lower``, ``upper``].
    """
    n = len(frame)
    values = np.empty((n, len(columns)))
    suppressed = np.zeros((n, len(columns)), dtype=bool)
    bad = np.zeros((n, len(columns)), dtype=bool)
    where: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    for j, col in enumerate(columns):
        numbers, marked, bad[:, j] = parse_published(frame[col])
        supp = marked | (numbers < 0) if negative_suppressed else marked
        suppressed[:, j] = supp
        values[:, j] = np.where(supp, np.nan, numbers)
        if supp.any():
            rows = np.flatnonzero(supp)
            cells = frame[col].to_numpy(dtype=object)[rows]
            text = [
                str(c).strip() if m else f"{v:g}"
                for c, m, v in zip(cells, marked[rows], numbers[rows], strict=True)
            ]
            where.append(j * n + rows)
            labels.append(np.asarray(text, dtype=object))
    if bad.any():
        codes = "a negative code, " if negative_suppressed else ""
        raise DataValidationError(
            f"{source}: {int(bad.sum())} cell(s) are neither a number nor a suppression marker "
            f"({codes}{literals(SUPPRESSION_MARKERS)}): {cells_where(bad, columns)}"
        )
    checks = [] if lower is None else [(values < lower, f"below {literal(lower)}")]
    checks += [] if upper is None else [(values > upper, f"above {literal(upper)}")]
    for outside, words in checks:
        if outside.any():
            raise DataValidationError(
                f"{source}: {what} {words} at {cells_where(outside, columns)}; this is not a "
                "file in a layout pxlib knows"
            )
    codes = np.full(n * len(columns), -1, dtype=np.int64)
    uniques: list[str] = []
    if where:
        c, u = pd.factorize(np.concatenate(labels))
        codes[np.concatenate(where)] = c
        uniques = [f"suppressed in the file ({x})" for x in u]
    reason = pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object))
    return values, suppressed, reason


def read_published(
    path: str | Path, value_column: re.Pattern | None = None, sheet: str | int = 0
) -> pd.DataFrame:
    """A published file's cells.

    CSV: columns whose lower-case names match ``value_column`` are left to pandas to parse as
    numbers (much faster than text; a column holding a marker stays text), the rest kept as
    text; encodings and delimiters as :func:`pxlib.data.read_table`. Excel (``sheet``) and
    ``value_column=None``: every cell as text, by :func:`pxlib.data.read_table`.
    """
    path = Path(path)
    if path.suffix.lower() not in TEXT_SUFFIXES or value_column is None:
        return read_table(path, sheet, notes=[])
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found")
    notes: list[str] = []
    text = decode_text(path.read_bytes(), path, notes)
    for note in notes:
        warnings.warn(note, DataWarning, stacklevel=3)
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        raise DataValidationError(f"{path}: the file is empty; it needs a header row")
    sep = sniff_delimiter(first)
    header = next(csv.reader([first], delimiter=sep))
    dtype = {h: str for h in header if not value_column.match(h.strip().lower())}
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=dtype,
            keep_default_na=False,
            na_values={h: [""] for h in header if h not in dtype},
            low_memory=False,
        )
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise DataValidationError(
            f"{path}: could not be read as CSV ({str(exc)[:200]}); check that no row has more "
            "fields than the header"
        ) from exc


def match_schema(
    frame: pd.DataFrame, schema: Schema, source: str, layout_note: str
) -> pd.DataFrame:
    """``frame`` with its columns renamed to ``schema``'s (case, spaces, hyphens and
    underscores ignored; :func:`pxlib.data.loaders.match_columns`), absent optional columns
    added empty. A missing required column is a :class:`ColumnError` naming it, followed by
    ``layout_note`` (what is known of the published layout)."""
    try:
        out, _ = match_columns(frame, schema, source)
    except ColumnError as exc:
        raise ColumnError(f"{exc}. {layout_note}") from exc
    return out


def survey_years(column: pd.Series, year: int | None, source: str, reader: str) -> np.ndarray:
    """Each row's survey year: the file's ``year`` column, or ``year`` where the column is
    blank (a year in the column that differs from ``year`` is an error naming the rows).
    Raises :class:`DataValidationError` naming rows without a whole-number year."""
    if year is not None and (isinstance(year, bool) or not isinstance(year, (int, np.integer))):
        raise DataValidationError(f"year must be a year such as 2024, not {literal(year)}")
    text = column.astype(str).str.strip()
    numbers = pd.to_numeric(text.where(text != ""), errors="coerce")
    if year is not None:
        other = numbers.notna() & (numbers != year)
        if other.any():
            rows = np.flatnonzero(other.to_numpy())[:5] + 2
            raise DataValidationError(
                f"{source}: 'year' differs from year={literal(year)} in rows {literals(rows)}"
            )
        numbers = numbers.fillna(year)
    bad = numbers.isna() | (numbers % 1 != 0)
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())[:5] + 2
        raise DataValidationError(
            f"{source}: no survey year in rows {literals(rows)} (column 'year'); give one in "
            f"each row or {reader}(path, year=...)"
        )
    return numbers.to_numpy(dtype=np.int64)
