"""One published FFT workbook's data sheets read into tidy frames [national-data.md 1.2].

Each data sheet is read by its text, never by fixed cell positions:

1. the header row is the first of rows 1-40 whose column A reads ``ICB Code``; the row
   under it is the sub-header. A column's name is its sub-header cell when there is one
   (answers under the ``Breakdown of Responses`` banner, A&E and maternity mode names
   under ``Mode of Collection``), else its header cell (``A10:A11`` merged keeps its text
   in A10). A cell with text above another must be a banner. Every name must be a column
   of the published layout, once; the level's columns must all be there.
2. Under the sub-header come the England row(s) (at least one is required: a header
   moved away from its table finds none), then the ``Selection`` row (its SUBTOTAL
   formulas are not statistics), then the data, down to the terminating row of ``-``.
3. Counts must be whole and not negative, percentages fractions 0-1,
   ``Total Responses`` the sum of the six answers; where the answers are published the
   percentages are recomputed from them [FFT-ref] and must agree with the published
   (rounded) ones to within half a percentage point, or the file is not what it seems.

A header found on another row than the template's is read by its text, with a warning.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from pxlib.data.national.fft_layouts import (
    ANSWERS,
    BANNERS,
    COUNTS,
    IS1_CODE,
    LEVEL_KEYS,
    MODES,
    PERCENTAGES,
    PUBLISHED_COLUMNS,
    SETTINGS,
    UNCONFIRMED_SETTINGS,
    SettingLayout,
    SheetLayout,
    normalise_label,
    output_columns,
)
from pxlib.data.national.fft_stats import percentages
from pxlib.data.national.fft_values import (
    cell_text,
    check_counts,
    check_fractions,
    empty_rows,
    first_mismatch,
    number_column,
    text_column,
    where,
)
from pxlib.data.national.xlsx_cells import Workbook
from pxlib.errors import ColumnError, DataValidationError, PxlibWarning
from pxlib.fmt import literal

HEADER_SEARCH_ROWS = 40
#: published percentages are rounded (4 dp); a larger gap from the counts means a misread
PCT_TOLERANCE = 0.0051
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for m in names
}
_PERIOD = re.compile(r"([A-Za-z]+)[\s\-]+(\d{4})\W*$")
_IDENTIFIERS = {"icb_code", "icb_name", "org_code", "org_name", "site_code", "site_name", "ward"}
_SPECIALITIES = ("first_speciality", "second_speciality")


class FFTLayoutWarning(PxlibWarning):
    """An FFT file was read, but its layout differs from the template in a harmless way."""


def notes_title(wb: Workbook, file: str) -> tuple[str, str]:
    """(title, cell) of the Notes sheet: A2, or B2 in A&E files [T-IP, T-AE Notes]."""
    notes = next((s for s in wb.sheetnames if normalise_label(s) == "notes"), None)
    if notes is None:
        raise DataValidationError(
            f"{file}: no 'Notes' sheet; a published FFT workbook has one, titled in A2 "
            f"(sheets found: {', '.join(map(repr, wb.sheetnames))})"
        )
    for cell, col in (("A2", 1), ("B2", 2)):
        text = cell_text(wb.value(notes, 2, col))
        if text:
            return text, cell
    raise DataValidationError(
        f"{file}, sheet {notes!r}: no title in A2 (A&E files: B2); the published title reads "
        "e.g. 'Inpatient Friends and Family Test (FFT) Data - July 2025'"
    )


def title_period(title: str, file: str, cell: str) -> pd.Timestamp:
    """First day of the month the title ends with ('... Data - July 2025')."""
    m = _PERIOD.search(title)
    month = _MONTHS.get(m.group(1).lower()) if m else None
    if m is None or month is None:
        raise DataValidationError(
            f"{file}, sheet 'Notes', cell {cell}: the title {literal(title)} does not end with "
            "a month and year (e.g. 'July 2025')"
        )
    return pd.Timestamp(year=int(m.group(2)), month=month, day=1)


def setting_of(title: str, sheetnames: list[str], file: str) -> SettingLayout:
    """The setting the Notes title names (else the one whose sheets are all present)."""
    words = normalise_label(title)
    for other in UNCONFIRMED_SETTINGS:
        if re.search(rf"\b{re.escape(other)}\b", words):
            raise DataValidationError(
                f"{file}: the title {literal(title)} is of a setting whose published layout "
                f"pxlib has not confirmed ({other}); readable settings: " + ", ".join(SETTINGS)
            )
    for layout in SETTINGS.values():
        if any(w in words for w in layout.title_words):
            return layout
    have = {normalise_label(s) for s in sheetnames}
    complete = [
        lay
        for lay in SETTINGS.values()
        if all(normalise_label(s.sheet) in have for s in lay.sheets)
    ]
    if complete:
        return max(complete, key=lambda lay: len(lay.sheets))
    raise DataValidationError(
        f"{file}: the Notes title {literal(title)} names no FFT setting pxlib reads "
        f"({', '.join(SETTINGS)}) and the sheets ({', '.join(map(repr, sheetnames))}) are "
        "not those of any published layout"
    )


def find_sheet(wb: Workbook, name: str, layout: SettingLayout, file: str) -> str:
    """The workbook's sheet called ``name`` (case and spaces aside), or a clear error."""
    for s in wb.sheetnames:
        if normalise_label(s) == normalise_label(name):
            return s
    expected = ", ".join(repr(s.sheet) for s in layout.sheets)
    raise DataValidationError(
        f"{file}: sheet {name!r} not found; the published {layout.setting} layout has sheets "
        f"{expected} (this file has {', '.join(map(repr, wb.sheetnames))})"
    )


def _header_row(arr: np.ndarray, file: str, sheet: str, layout: SettingLayout) -> int:
    for r in range(min(HEADER_SEARCH_ROWS, arr.shape[0])):
        if arr.shape[1] and normalise_label(cell_text(arr[r, 0])) == "icb code":
            if r + 1 != layout.header_row:
                warnings.warn(
                    f"{file}, sheet {sheet!r}: header row found on row {r + 1}, where the "
                    f"{layout.setting} template has it on row {layout.header_row}; read by "
                    "its text",
                    FFTLayoutWarning,
                    stacklevel=4,
                )
            return r
    raise DataValidationError(
        f"{where(file, sheet)}: no header row: 'ICB Code' expected in column A of row "
        f"{layout.header_row} (searched rows 1-{HEADER_SEARCH_ROWS})"
    )


def _column_names(arr, h, file, sheet, sheet_layout: SheetLayout) -> list[str | None]:
    """Column name of every column from the two header rows (None: no header)."""
    width = arr.shape[1]
    top = arr[h]
    sub = arr[h + 1] if h + 1 < arr.shape[0] else np.full(width, None, dtype=object)
    names: list[str | None] = []
    seen: dict[str, int] = {}
    allowed = set(sheet_layout.columns) | set(COUNTS) | set(PERCENTAGES) | set(MODES.values())
    if sheet_layout.level == "ward":
        allowed |= set(_SPECIALITIES)
    for j in range(width):
        t, s = cell_text(top[j]), cell_text(sub[j])
        if t and s and normalise_label(t) not in BANNERS:
            raise DataValidationError(
                f"{where(file, sheet, h + 2, j + 1)}: {literal(s)} sits under the header "
                f"{literal(t)} of row {h + 1}; only a banner (Breakdown of Responses, Mode of "
                "Collection) may stand above a sub-header. Has the header row moved?"
            )
        label = s or t
        if not label or normalise_label(label) in BANNERS:
            names.append(None)
            continue
        col = PUBLISHED_COLUMNS.get(normalise_label(label))
        if col is None:
            raise ColumnError(
                f"{where(file, sheet, h + 2 if s else h + 1, j + 1)}: {literal(label)} is not a "
                f"column of the published FFT layout of sheet {sheet_layout.sheet!r}"
            )
        if col not in allowed:
            raise ColumnError(
                f"{where(file, sheet, h + 1, j + 1)}: {literal(label)} does not belong on the "
                f"{sheet_layout.level}-level sheet {sheet_layout.sheet!r}"
            )
        if col in seen:
            raise ColumnError(
                f"{where(file, sheet, h + 1, j + 1)}: {literal(label)} appears twice (also "
                f"column {seen[col] + 1})"
            )
        seen[col] = j
        names.append(col)
    required = list(LEVEL_KEYS[sheet_layout.level]) + ["total_responses"]
    if sheet_layout.level != "mode":
        required += [*ANSWERS, *PERCENTAGES]
    if "total_eligible" in sheet_layout.columns:
        required.append("total_eligible")
    by_col = dict(zip(sheet_layout.columns, sheet_layout.labels, strict=True))
    missing = [c for c in required if c not in seen]
    if missing:
        raise ColumnError(
            f"{where(file, sheet)}: no column {by_col.get(missing[0], missing[0])!r} in header "
            f"rows {h + 1}-{h + 2}; the published sheet has "
            + ", ".join(repr(lab) for lab in sheet_layout.labels)
        )
    return names


def _label_of(arr: np.ndarray, r: int) -> str:
    for j in range(min(3, arr.shape[1])):
        text = cell_text(arr[r, j])
        if text:
            return text.lower()
    return ""


def _data_rows(arr, h, file, sheet, layout: SettingLayout) -> tuple[int, int]:
    """(first, end) 0-based rows of the data: after England/Selection, to the terminator."""
    n = arr.shape[0]
    i, england = h + 2, 0
    while i < n:
        label = _label_of(arr, i)
        if label.startswith("england"):
            england += 1
        elif not (label.startswith("selection") or empty_rows(arr[i : i + 1])[0]):
            break
        i += 1
    if england == 0:
        raise DataValidationError(
            f"{where(file, sheet, h + 3)}: no England row under the header rows {h + 1}-{h + 2}; "
            f"the published layout has {layout.england_labels[0]!r} there. Has the header row "
            "moved?"
        )
    first = i
    col_a = np.array([cell_text(v) for v in arr[first:, 0]], dtype=object)
    end = n
    for k in np.flatnonzero(col_a == "-"):
        row = arr[first + k]
        if all(v is None or cell_text(v) == "-" for v in row):
            end = first + int(k)
            break
        raise DataValidationError(
            f"{where(file, sheet, first + int(k) + 1, 1)}: ICB Code is '-' in a row that is "
            "not the terminating row of '-'"
        )
    if end < n:
        after = (~pd.isna(arr[end + 1 :])).sum(axis=1)
        if (after >= 3).any():
            r = end + 2 + int(np.flatnonzero(after >= 3)[0])
            raise DataValidationError(
                f"{where(file, sheet, r)}: values below the terminating row of '-' (row "
                f"{end + 1}); the published sheet ends there"
            )
    return first, end


def read_sheet(
    wb: Workbook,
    file: str,
    sheet: str,
    layout: SettingLayout,
    sheet_layout: SheetLayout,
    period: pd.Timestamp,
) -> pd.DataFrame:
    """One published data sheet as a tidy frame (see the module docstring)."""
    arr = wb.cells(sheet)
    h = _header_row(arr, file, sheet, layout)
    names = _column_names(arr, h, file, sheet, sheet_layout)
    first, end = _data_rows(arr, h, file, sheet, layout)
    block = arr[first:end]
    rows = np.arange(first, end) + 1
    keep = ~empty_rows(block)
    block, rows = block[keep], rows[keep]
    for j, name in enumerate(names):
        if name is None and not pd.isna(block[:, j]).all():
            r = int(rows[np.flatnonzero(~pd.isna(block[:, j]))[0]])
            raise ColumnError(
                f"{where(file, sheet, r, j + 1)}: a value in a column with no header (header "
                f"rows {h + 1}-{h + 2})"
            )
    labels = {
        name: cell_text(arr[h + 1, j]) or cell_text(arr[h, j])
        for j, name in enumerate(names)
        if name
    }
    col_of = {name: j for j, name in enumerate(names) if name}
    out: dict[str, object] = {}
    stars = np.zeros(len(rows), dtype=bool)
    for name, j in col_of.items():
        ctx = (file, sheet, j + 1, labels[name])
        if name in _IDENTIFIERS or name in _SPECIALITIES:
            out[name] = text_column(block[:, j])
            continue
        values, star = number_column(block[:, j], rows, ctx)
        if name in PERCENTAGES:
            check_fractions(values, rows, ctx)
        else:
            check_counts(values, rows, ctx)
        out[name] = values
        if name not in ("total_responses", "total_eligible"):
            stars |= star
    level = sheet_layout.level
    for key in LEVEL_KEYS[level]:
        if key.endswith("_name"):
            continue
        bad = first_mismatch(pd.isna(out[key]))
        if bad is not None:
            raise DataValidationError(
                f"{where(file, sheet, int(rows[bad]), col_of[key] + 1, labels[key])}: empty "
                "in a data row"
            )
        marks = pd.Series(out[key], dtype=object).str.lower().str.match(r"(england|selection)")
        lead = first_mismatch(marks.fillna(False).to_numpy(dtype=bool))
        if lead is not None:
            raise DataValidationError(
                f"{where(file, sheet, int(rows[lead]))}: an England or Selection row among the "
                "data rows"
            )
    frame = pd.DataFrame(out)
    if level != "mode":
        _check_totals(frame, rows, file, sheet, col_of, labels)
    frame["suppressed"] = stars
    frame["setting"] = layout.setting
    frame["level"] = level
    frame["period"] = period
    if sheet_layout.touchpoint:
        frame["touchpoint"] = sheet_layout.touchpoint
    frame["independent_sector"] = frame["icb_code"].str.upper().eq(IS1_CODE)
    modes = tuple(c for c in MODES.values() if c in frame.columns)
    columns = output_columns(level, modes, touchpoint=sheet_layout.touchpoint is not None)
    return frame.reindex(columns=columns)


def _check_totals(frame, rows, file, sheet, col_of, labels) -> None:
    """Total Responses is the sum of the answers; percentages agree with the counts."""
    answers = frame[list(ANSWERS)].to_numpy()
    complete = np.isfinite(answers).all(axis=1)
    total = frame["total_responses"].to_numpy()
    bad = first_mismatch(complete & np.isfinite(total) & (answers.sum(axis=1) != total))
    if bad is not None:
        raise DataValidationError(
            f"{where(file, sheet, int(rows[bad]), col_of['total_responses'] + 1, 'Total Responses')}"
            f": {literal(float(total[bad]))} is not the sum of the six answers "
            f"({literal(float(answers[bad].sum()))})"
        )
    recomputed = percentages(frame)
    for name, values in zip(PERCENTAGES, recomputed, strict=True):
        published = frame[name].to_numpy()
        gap = np.abs(published - values)
        bad = first_mismatch(np.isfinite(gap) & (gap > PCT_TOLERANCE))
        if bad is not None:
            raise DataValidationError(
                f"{where(file, sheet, int(rows[bad]), col_of[name] + 1, labels[name])}: "
                f"{literal(float(published[bad]))} disagrees with the answers, which give "
                f"{literal(round(float(values[bad]), 4))}"
            )
        frame[name] = np.where(np.isfinite(values), values, published)
