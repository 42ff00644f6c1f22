"""The raw SDCS extract NHS England's pipeline reads [national-data.md 1.3; FFT-load].

Header on row 3 of every sheet (found by its text: the row holding ``Yearnumber``),
sheet names truncated to Excel's 31 characters, answers ``1 Very Good SUM`` ... (A&E and
ambulance without ``SUM``), the month as a financial ``Yearnumber`` (``2025_26``) and a
``Periodname`` (``AUGUST``), January to March in the second year [FFT-proc].

What the pipeline does before publishing, done here too so that a raw extract reads like
the published file: a provider whose name holds neither ``NHS`` nor ``TRUST`` is given
ICB code ``IS1`` [FFT-main step 5; FFT-cfg IS1_CODE]; ``INTEGRATED CARE BOARD`` in ICB
names becomes ``ICB`` [FFT-proc clean_icb_name]; the ICB level is the trust level
re-summed [FFT-proc]. Counts are full (nothing suppressed): pass the frames to
:func:`pxlib.data.national.fft_suppress` for what NHS England would publish.

The collection-mode and speciality sheets (``... - Collecti``, ``SiteSpec1/2``) are not
read: their columns are not confirmed by any source seen.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from pxlib.data.loaders import fft_period_start
from pxlib.data.national.fft_layouts import (
    ANSWERS,
    IS1_CODE,
    IS1_NAME,
    LEVEL_KEYS,
    RAW_COLUMNS,
    RAW_HEADER_ROW,
    RAW_SHEETS,
    normalise_label,
    output_columns,
)
from pxlib.data.national.fft_published import PCT_TOLERANCE, FFTLayoutWarning
from pxlib.data.national.fft_stats import fft_aggregate, percentages
from pxlib.data.national.fft_values import (
    cell_text,
    check_counts,
    empty_rows,
    first_mismatch,
    number_column,
    text_column,
    where,
)
from pxlib.data.national.xlsx_cells import Workbook
from pxlib.errors import ColumnError, DataValidationError
from pxlib.fmt import literal

_TEXT = {
    "yearnumber",
    "periodname",
    "icb_code",
    "icb_name",
    "org_code",
    "org_name",
    "site_code",
    "site_name",
    "ward",
    "first_speciality",
    "second_speciality",
}
_LEVELS_OF = {
    "inpatient": ("trust", "site", "ward"),
    "ae": ("trust", "site"),
    "ambulance": ("trust",),
}


def raw_header(arr: np.ndarray) -> int | None:
    """0-based row of the raw header (the first of rows 1-10 holding ``Yearnumber``)."""
    for r in range(min(10, arr.shape[0])):
        if any(normalise_label(cell_text(v)) == "yearnumber" for v in arr[r]):
            return r
    return None


def raw_sheets(wb: Workbook, file: str) -> tuple[str, dict[str, str]]:
    """(setting, {level: sheet}) of a raw extract; unknown sheets with a raw header fail."""
    known = {normalise_label(k): v for k, v in RAW_SHEETS.items()}
    found: dict[str, str] = {}
    settings = set()
    for sheet in wb.sheetnames:
        hit = known.get(normalise_label(sheet))
        if hit is None:
            if raw_header(wb.cells(sheet)) is not None:
                raise DataValidationError(
                    f"{file}: sheet {sheet!r} has a raw-extract header (Yearnumber) but is not a "
                    "sheet of the raw extract pxlib knows: "
                    + ", ".join(repr(k) for k, v in RAW_SHEETS.items() if v[1])
                )
            continue
        setting, level = hit
        settings.add(setting)
        if level:
            found[level] = sheet
    if len(settings) != 1:
        raise DataValidationError(
            f"{file}: sheets of {'no' if not settings else 'more than one'} raw-extract setting "
            f"({', '.join(map(repr, wb.sheetnames))})"
        )
    setting = settings.pop()
    for level in _LEVELS_OF[setting]:
        if level not in found:
            names = [k for k, v in RAW_SHEETS.items() if v == (setting, level)]
            raise DataValidationError(
                f"{file}: sheet {names[0]!r} not found; the raw {setting} extract has it "
                f"(sheets: {', '.join(map(repr, wb.sheetnames))})"
            )
    return setting, found


def _independent(names: pd.Series) -> np.ndarray:
    """A provider is independent-sector when its name has neither NHS nor TRUST [FFT-main]."""
    upper = names.fillna("").str.upper()
    return (
        ~upper.str.contains("NHS", regex=False) & ~upper.str.contains("TRUST", regex=False)
    ).to_numpy()


def read_raw_sheet(wb: Workbook, file: str, sheet: str, setting: str, level: str) -> pd.DataFrame:
    """One raw-extract sheet as a tidy frame (full counts, ``suppressed`` false)."""
    arr = wb.cells(sheet)
    h = raw_header(arr)
    if h is None:
        raise DataValidationError(
            f"{where(file, sheet)}: no header row: 'Yearnumber' expected in row {RAW_HEADER_ROW}"
        )
    if h + 1 != RAW_HEADER_ROW:
        warnings.warn(
            f"{file}, sheet {sheet!r}: raw header found on row {h + 1}, not row "
            f"{RAW_HEADER_ROW}; read by its text",
            FFTLayoutWarning,
            stacklevel=3,
        )
    names: list[str | None] = []
    seen: dict[str, int] = {}
    for j, v in enumerate(arr[h]):
        label = cell_text(v)
        if not label:
            names.append(None)
            continue
        col = RAW_COLUMNS.get(normalise_label(label))
        if col is None:
            raise ColumnError(
                f"{where(file, sheet, h + 1, j + 1)}: {literal(label)} is not a column of the "
                "raw FFT extract"
            )
        if col and col in seen:
            raise ColumnError(f"{where(file, sheet, h + 1, j + 1)}: {literal(label)} appears twice")
        if col:
            seen[col] = j
        names.append(col or None)
    required = [
        "yearnumber",
        "periodname",
        *[k for k in LEVEL_KEYS[level] if k != "icb_name"],
        *ANSWERS,
        "total_responses",
    ]
    missing = [c for c in required if c not in seen]
    if missing:
        label = next(k for k, v in RAW_COLUMNS.items() if v == missing[0])
        raise ColumnError(f"{where(file, sheet)}: no column {label!r} in header row {h + 1}")
    block = arr[h + 1 :]
    rows = np.arange(h + 1, arr.shape[0]) + 1
    keep = ~empty_rows(block)
    block, rows = block[keep], rows[keep]
    out: dict[str, object] = {}
    for col, j in seen.items():
        label = cell_text(arr[h, j])
        if col in _TEXT:
            out[col] = text_column(block[:, j])
            continue
        values, _ = number_column(block[:, j], rows, (file, sheet, j + 1, label), allow_star=False)
        if not col.startswith("prop_"):
            check_counts(values, rows, (file, sheet, j + 1, label))
        out[col] = values
    frame = pd.DataFrame(out)
    for key in ("org_code", "site_code", "ward"):
        if key in frame:
            bad = first_mismatch(frame[key].isna().to_numpy())
            if bad is not None:
                raise DataValidationError(
                    f"{where(file, sheet, int(rows[bad]), seen[key] + 1)}: empty in a data row"
                )
    period, unreadable = fft_period_start(frame["yearnumber"], frame["periodname"])
    bad = first_mismatch(unreadable.to_numpy())
    if bad is not None:
        raise DataValidationError(
            f"{where(file, sheet, int(rows[bad]))}: year {literal(frame['yearnumber'][bad])} or "
            f"month {literal(frame['periodname'][bad])} not recognised (e.g. 2025_26 and AUGUST)"
        )
    frame["period"] = period
    _check(frame, rows, file, sheet, seen)
    is1 = _independent(frame["org_name"]) if "org_name" in frame else np.zeros(len(frame), bool)
    frame["icb_code"] = np.where(is1, IS1_CODE, frame["icb_code"])
    if "icb_name" in frame:
        icb = (
            frame["icb_name"]
            .fillna("")
            .map(lambda s: re.sub(r"INTEGRATED CARE BOARD", "ICB", s, flags=re.I))
        )
        frame["icb_name"] = np.where(is1, IS1_NAME, icb)
    frame["independent_sector"] = is1
    frame["setting"] = setting
    frame["level"] = level
    frame["suppressed"] = False
    columns = output_columns(level)
    if "icb_name" not in columns:
        columns.append("icb_name")  # kept for the ICB level re-summed from trusts; dropped after
    return frame.reindex(columns=columns)


def _check(frame, rows, file, sheet, seen) -> None:
    answers = frame[list(ANSWERS)].to_numpy()
    total = frame["total_responses"].to_numpy()
    bad = first_mismatch(np.isfinite(answers).all(axis=1) & (answers.sum(axis=1) != total))
    if bad is not None:
        raise DataValidationError(
            f"{where(file, sheet, int(rows[bad]), seen['total_responses'] + 1, 'Total Responses')}"
            f": {literal(float(total[bad]))} is not the sum of the six answers"
        )
    pos, neg = percentages(frame)
    for col, values in (("prop_pos", pos), ("prop_neg", neg)):
        if col in frame:
            gap = np.abs(frame[col].to_numpy() - values)
            bad = first_mismatch(np.isfinite(gap) & (gap > PCT_TOLERANCE))
            if bad is not None:
                raise DataValidationError(
                    f"{where(file, sheet, int(rows[bad]), seen[col] + 1)}: "
                    f"{literal(float(frame[col][bad]))} disagrees with the answers"
                )
    frame["pct_positive"], frame["pct_negative"] = pos, neg


def read_raw(wb: Workbook, file: str, levels: set[str] | None) -> tuple[str, dict]:
    """(setting, {level: frame}) of a raw extract; ``icb`` re-summed from ``trust``."""
    setting, sheets = raw_sheets(wb, file)
    want = set(sheets) | {"icb"} if levels is None else levels
    frames = {}
    for level, sheet in sheets.items():
        if level in want or (level == "trust" and "icb" in want):
            frames[level] = read_raw_sheet(wb, file, sheet, setting, level)
    if "icb" in want and "trust" in frames:
        frames["icb"] = fft_aggregate(frames["trust"], "icb")
    for level in ("trust", "site", "ward"):
        if level in frames:
            frames[level] = frames[level].drop(columns="icb_name")
    order = ("icb", "trust", "site", "ward")
    return setting, {lev: frames[lev] for lev in order if lev in frames and lev in want}
