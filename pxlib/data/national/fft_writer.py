"""Write FFT frames of counts as NHS England publishes them: :func:`write_fft_workbook`.

For synthetic data (the sample, benchmarks): the layout of each setting as
:mod:`.fft_layouts` has it [national-data.md 1.2] -- a ``Notes`` sheet titled in A2
(A&E: B2) ending with the month, a ``Summary`` sheet, and the data sheets with their two
header rows (vertical merges such as ``A10:A11``, the ``Breakdown of Responses`` banner
merged over the answers, the ``Mode of Collection`` banner over the modes), the England
rows (full counts before suppression, percentages to 4 dp [FFT-wr]), the ``Selection``
row of live ``SUBTOTAL(9, ...)`` formulas, the data sorted as published (ICB code, then
Total Responses descending, independent-sector providers last [FFT-README]) with ``*``
where :func:`~pxlib.data.national.fft_suppress` blanks a cell, ``NA`` for a percentage
that cannot be computed, and a final row of ``-`` [FFT-wr]. The hidden ``BS`` sheet
(drop-down lists) and the macros are not written; files are saved as ``.xlsx`` (openpyxl
cannot write macros), and are byte-for-byte reproducible.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from pxlib.data.national.fft_layouts import (
    ANSWERS,
    COUNTS,
    IS1_CODE,
    MODES,
    PERCENTAGES,
    SETTINGS,
    SettingLayout,
    SheetLayout,
)
from pxlib.data.national.fft_stats import percentages
from pxlib.data.national.fft_suppression import fft_suppress
from pxlib.errors import DataValidationError

__all__ = ["write_fft_workbook", "TITLES"]

#: the words that open each setting's Notes title [T-IP, T-AE, T-Amb, T-OP, T-Mat Notes]
TITLES = {
    "inpatient": "Inpatient",
    "ae": "A&E",
    "ambulance": "Ambulance",
    "outpatient": "Outpatient",
    "maternity": "Maternity",
}
_NAMES_OF = {
    "icb": ["icb_code"],
    "trust": ["icb_code", "org_code"],
    "site": ["icb_code", "org_code", "site_code"],
    "ward": ["icb_code", "org_code", "site_code", "ward"],
    "mode": ["icb_code", "org_code"],
}
_SORT = {
    "icb": [],
    "trust": ["icb_code"],
    "site": ["icb_code", "org_code"],
    "ward": ["icb_code", "org_code", "site_code"],
    "mode": ["icb_code"],
}


def _published_order(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    keys = _SORT[level]
    tmp = frame.assign(_is=frame["icb_code"].eq(IS1_CODE), _n=-frame["total_responses"])
    return tmp.sort_values(["_is", *keys, "_n", *_NAMES_OF[level]], kind="mergesort").drop(
        columns=["_is", "_n"]
    )


def _england(frame: pd.DataFrame, layout: SettingLayout, columns: Sequence[str]) -> list[dict]:
    """England rows from full counts: including, then excluding, the IS1 providers."""
    sums = [c for c in columns if (c in COUNTS or c in MODES.values()) and c in frame.columns]
    parts = (
        [frame]
        if len(layout.england_labels) == 1
        else [frame, frame[frame["icb_code"] != IS1_CODE]]
    )
    rows = []
    for part in parts:
        total = part[sums].sum(min_count=1)
        row = {c: total[c] for c in sums}
        if all(a in row for a in ANSWERS):
            pos, neg = percentages(pd.DataFrame([row]))
            row["pct_positive"], row["pct_negative"] = round(pos[0], 4), round(neg[0], 4)
        rows.append(row)
    return rows


def _cell(value, star: bool):
    if star:
        return "*"
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return "NA"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    return value


def _sheet_rows(frame: pd.DataFrame, sl: SheetLayout) -> tuple[list[list], list[str]]:
    """The data rows of one sheet (values and markers) and the column names."""
    columns = list(sl.columns)
    reason = frame["suppression"].to_numpy()
    out = []
    values = {
        c: frame[c].to_numpy(dtype=object)
        if c in frame.columns
        else np.full(len(frame), None, dtype=object)
        for c in columns
    }
    for c in columns:
        if c not in COUNTS and c not in PERCENTAGES and c not in MODES.values():
            values[c] = np.array([None if pd.isna(v) else v for v in values[c]], dtype=object)
    for c in PERCENTAGES:
        if c in values:
            values[c] = np.array(
                [v if v is None or pd.isna(v) else round(float(v), 4) for v in values[c]],
                dtype=object,
            )
    blank = {
        c: (reason != "")
        if (c in ANSWERS or c in MODES.values())
        else (reason == "first")
        if c in PERCENTAGES
        else np.zeros(len(frame), bool)
        for c in columns
    }
    for i in range(len(frame)):
        out.append([_cell(values[c][i], bool(blank[c][i])) for c in columns])
    return out, columns


def _write_sheet(
    wb: Workbook, frame: pd.DataFrame, full: pd.DataFrame, sl: SheetLayout, layout: SettingLayout
) -> None:
    ws = wb.create_sheet(sl.sheet)
    h = layout.header_row
    data, columns = _sheet_rows(frame, sl)
    width = len(columns)
    answer_cols = [j for j, c in enumerate(columns) if c in ANSWERS]
    mode_cols = [j for j, c in enumerate(columns) if c in MODES.values()]
    grid: list[list] = [[None] * width for _ in range(h + 1)]  # rows 1 .. h+1
    grid[0][0] = f"{TITLES[layout.setting]} Friends and Family Test - {sl.sheet}"
    if sl.level == "icb" and layout.setting == "inpatient":
        grid[2][6 if width > 6 else 0] = "Collection mode data is shown with Trusts data"
    merges = []
    for j, label in enumerate(sl.labels):
        if j in answer_cols or (j in mode_cols and layout.modes_on_second_row):
            grid[h][j] = label
        else:
            grid[h - 1][j] = label
            merges.append((h, j + 1, h + 1, j + 1))
    groups = [(answer_cols, "Breakdown of Responses", h)]
    if mode_cols:
        banner = "Response Mode" if layout.setting == "outpatient" else "Mode of Collection"
        groups.append((mode_cols, banner, h if layout.modes_on_second_row else h - 1))
    for cols, banner, row in groups:
        if cols:
            grid[row - 1][cols[0]] = banner
            merges.append((row, cols[0] + 1, row, cols[-1] + 1))
    england = _england(full, layout, columns)
    first_data = h + 2 + len(england) + 1
    last_data = first_data + len(data) - 1
    for label, row in zip(layout.england_labels, england, strict=True):
        grid.append([label if j == 0 else row.get(c) for j, c in enumerate(columns)])
    selection = ["Selection (excluding suppressed data)"] + [None] * (width - 1)
    for j, c in enumerate(columns):
        letter = get_column_letter(j + 1)
        if c in COUNTS or c in MODES.values():
            selection[j] = f"=SUBTOTAL(9,{letter}{first_data}:{letter}{max(last_data, first_data)})"
    grid.append(selection)
    for row in grid:
        ws.append(row)
    for row in data:
        ws.append(row)
    ws.append(["-"] * width)
    for r1, c1, r2, c2 in merges:
        if (r1, c1) != (r2, c2):
            ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
    for j, c in enumerate(columns):
        if c in PERCENTAGES:
            letter = get_column_letter(j + 1)
            for r in range(h + 2, last_data + 1):
                ws[f"{letter}{r}"].number_format = "0%"


def _summary(wb: Workbook, full: Mapping[str, pd.DataFrame], period: pd.Timestamp) -> None:
    ws = wb.create_sheet("Summary")
    level = "trust" if "trust" in full else next(iter(full))
    frame = full[level]
    ws["A6"], ws["B6"], ws["C6"] = "FFT", "Number of organisations submitting", "Responses"
    ws["D6"], ws["E6"] = "Percentage Positive", "Percentage Negative"
    ws["C7"] = f"{period:%b-%y}"
    for r, (label, part) in enumerate(
        (
            ("Total", frame),
            ("NHS", frame[frame["icb_code"] != IS1_CODE]),
            ("IS", frame[frame["icb_code"] == IS1_CODE]),
        ),
        start=8,
    ):
        sums = part[list(ANSWERS)].sum()
        total = float(sums.sum())
        ws.cell(r, 1, label)
        ws.cell(r, 2, int(part["org_code"].nunique()) if "org_code" in part else None)
        ws.cell(r, 3, int(total))
        if total:
            ws.cell(r, 4, round((sums["very_good"] + sums["good"]) / total, 4))
            ws.cell(r, 5, round((sums["poor"] + sums["very_poor"]) / total, 4))


def _reproducible(path: Path, stamp: pd.Timestamp) -> None:
    """Fixed zip times and document dates, so the same data writes the same bytes."""
    iso = f"{stamp:%Y-%m-%dT00:00:00Z}".encode()
    with zipfile.ZipFile(path) as z:
        parts = [(info.filename, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + iso, data)
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def _with_percentages(frame: pd.DataFrame) -> pd.DataFrame:
    """Percentages recomputed from the counts, as the published file computes them."""
    if not all(a in frame.columns for a in ANSWERS):
        return frame
    out = frame.copy()
    out["pct_positive"], out["pct_negative"] = percentages(out)
    return out


def write_fft_workbook(
    frames: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    setting: str = "inpatient",
    period: str | pd.Timestamp | None = None,
    notes: Sequence[str] = (),
) -> Path:
    """Write full-count frames (level -> frame, one month, columns as
    :func:`~pxlib.data.national.read_fft` returns them) as NHS England's published
    workbook of ``setting``, suppressed by :func:`~pxlib.data.national.fft_suppress`.

    ``period`` (default: the frames' one ``period``) goes in the Notes title; ``notes``
    are lines written under it (say there that the data are synthetic). Maternity frames
    need a ``touchpoint`` column. Returns the path written."""
    if setting not in SETTINGS:
        raise DataValidationError(f"write_fft_workbook: unknown setting {setting!r}")
    layout = SETTINGS[setting]
    if period is None:
        periods = pd.concat([f["period"] for f in frames.values()]).dropna().unique()
        if len(periods) != 1:
            raise DataValidationError("write_fft_workbook: the frames must hold one period")
        period = periods[0]
    period = pd.Timestamp(period)
    levels = {s.level for s in layout.sheets}
    full = {
        lev: _with_percentages(frames[lev])
        for lev in ("icb", "trust", "site", "ward", "mode")
        if lev in frames and lev in levels
    }
    missing = sorted(levels - set(full))
    if missing:
        raise DataValidationError(f"write_fft_workbook: no {missing[0]!r} frame for {setting}")
    shown = fft_suppress(full)
    wb = Workbook()
    notes_ws = wb.active
    notes_ws.title = "Notes"
    title = f"{TITLES[setting]} Friends and Family Test (FFT) Data - {period:%B %Y}"
    notes_ws[layout.title_cell] = title
    for i, line in enumerate(notes, start=4):
        notes_ws.cell(i, 1, line)
    _summary(wb, full, period)
    for sl in layout.sheets:
        frame, whole = shown[sl.level], full[sl.level]
        if sl.touchpoint is not None:
            frame = frame[frame["touchpoint"] == sl.touchpoint]
            whole = whole[whole["touchpoint"] == sl.touchpoint]
        order = _published_order(frame, sl.level)
        _write_sheet(wb, order, whole, sl, layout)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    _reproducible(path, period)
    return path
