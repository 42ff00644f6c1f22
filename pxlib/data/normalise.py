"""Normalising values as every part of pxlib compares them: column names, codes,
choices and answers, dates (ISO or UK day-first, the as-of date, ISO weeks, FFT
months) and numbers.

Each function takes text cells (a Series, or one value) and returns the normalised
values, with a mask of the non-empty cells that could not be read where that applies.
"""

from __future__ import annotations

import re
from datetime import date
from typing import overload

import numpy as np
import pandas as pd

from pxlib.errors import DataValidationError

MONTHS = (
    "JANUARY FEBRUARY MARCH APRIL MAY JUNE JULY AUGUST SEPTEMBER OCTOBER NOVEMBER DECEMBER".split()
)


#: cells looked at to judge whether a column repeats its values (see :func:`strip_cells`)
_SAMPLE_CELLS = 1000


def strip_cells(values: pd.Series) -> pd.Series:
    """The cells as text without surrounding whitespace: ``values.astype(str).str.strip()``.

    The same result, faster on the columns an input file mostly has, which repeat a
    few values (codes, units, dates, answers): each distinct value is stripped once and
    the results are spread back by position (``pd.factorize``). A column whose first
    cells are mostly distinct (ids, comments) is stripped cell by cell.
    """
    text = values.astype(str)
    head = text.iloc[:_SAMPLE_CELLS]
    if len(text) < 2 * _SAMPLE_CELLS or head.nunique(dropna=False) * 8 > len(head):
        return text.str.strip()
    codes, uniques = pd.factorize(text, use_na_sentinel=False)
    stripped = pd.Index(uniques).str.strip().to_numpy(dtype=object)
    return pd.Series(stripped[codes], index=text.index, name=text.name, dtype=text.dtype)


def normalise_name(name: str) -> str:
    """Column name for matching: lower case, runs of spaces, hyphens and underscores as one '_'."""
    return re.sub(r"[\s_\-]+", "_", str(name).strip().lower()).strip("_")


@overload
def normalise_code(values: str) -> str: ...
@overload
def normalise_code(values: pd.Series) -> pd.Series: ...
def normalise_code(values: str | pd.Series) -> str | pd.Series:
    """An organisation or unit code as every part of pxlib compares it: surrounding
    whitespace removed (" ZA1 " is ZA1), nothing else changed ("010" stays "010").

    Validation and batch staging both use it, so they keep the same rows.
    """
    if isinstance(values, str):
        return values.strip()
    return strip_cells(values)


def as_of_date(as_of: str | date | None = None) -> pd.Timestamp:
    """The as-of date dates are checked against: ``None`` means today; text is YYYY-MM-DD."""
    if as_of is None:
        return pd.Timestamp(date.today())
    if isinstance(as_of, str):
        try:
            return pd.Timestamp(date.fromisoformat(as_of.strip()))
        except ValueError:
            raise DataValidationError(
                f"as-of date '{as_of}' is not a date written YYYY-MM-DD"
            ) from None
    return pd.Timestamp(as_of).normalize()


def after_as_of(
    dates: pd.Series, as_of: pd.Timestamp, what: str = "date", fmt: str = "%Y-%m-%d"
) -> tuple[pd.Series, pd.Series]:
    """(mask of dates after ``as_of``, the reason for each): a date not yet reached is a typo."""
    later = dates.notna() & (dates > as_of)
    shown = dates.dt.strftime(fmt).fillna("")
    return later, f"{what} " + shown + f" is after the as-of date {as_of:%Y-%m-%d}"


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ISO (YYYY-MM-DD) or UK day-first (DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY) dates.

    Returns the dates (datetime64, NaT where empty or unparsed) and a mask of
    non-empty cells that did not parse. A time of day, if present, is dropped.
    """
    text = strip_cells(values)
    text = text.str.replace(r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "", regex=True)
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    uk_text = text.str.replace(r"[-.]", "/", regex=True)
    uk = pd.to_datetime(uk_text, format="%d/%m/%Y", errors="coerce")
    parsed = iso.fillna(uk)
    bad = parsed.isna() & (text != "")
    return parsed.astype("datetime64[ns]"), bad


def iso_week_start(dates: pd.Series) -> pd.Series:
    """The Monday that starts each date's ISO week."""
    dates = pd.to_datetime(dates)
    return (dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")).dt.normalize()


def normalise_choice(values: pd.Series) -> pd.Series:
    """Lower case with runs of spaces and hyphens as '_' (e.g. 'GP practice' -> 'gp_practice')."""
    return strip_cells(values).str.lower().str.replace(r"[\s\-]+", "_", regex=True)


def normalise_answer(values: pd.Series) -> pd.Series:
    """Answer text for matching with the question bank: case, punctuation and spacing ignored."""
    text = values.astype(str).str.lower().str.replace(r"[^a-z0-9]+", " ", regex=True)
    return text.str.strip()


def parse_numbers(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from text, and a mask of non-empty cells that are not finite numbers.

    ``inf``, ``Infinity``, ``nan`` and overflowing values such as ``1e400`` are not
    numbers here (``pd.to_numeric`` would accept them): a count or population
    cannot be infinite, and a missing value is an empty cell.
    """
    text = strip_cells(raw)
    empty = text == ""
    numbers = pd.to_numeric(text.where(~empty, None), errors="coerce").astype(float)
    numbers = numbers.where(np.isfinite(numbers))
    return numbers, numbers.isna() & ~empty


def fft_period_start(yearnumber: pd.Series, periodname: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Month start from an FFT financial year ("2025_26") and month name ("AUGUST").

    April to December fall in the first calendar year, January to March in the second.
    Returns the dates and a mask of rows whose year or month could not be read.
    """
    first_year = pd.to_numeric(
        yearnumber.astype(str).str.extract(r"^(\d{4})[_/\-]\d{2,4}$")[0], errors="coerce"
    )
    month = (
        periodname.astype(str).str.strip().str.upper().map({m: i + 1 for i, m in enumerate(MONTHS)})
    )
    year = first_year + (month <= 3).astype(float)
    ok = year.notna() & month.notna()
    dates = pd.to_datetime(
        pd.DataFrame({"year": year.where(ok, 2000), "month": month.where(ok, 1), "day": 1}).astype(
            int
        )
    ).where(ok)
    return dates, ~ok
