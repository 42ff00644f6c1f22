"""Synthetic FFT workbooks in NHS England's exact published layouts, for the tests.

Written from ``../shared/national-data.md`` section 1 with openpyxl, independently of
pxlib's own writer: the layout facts are restated here (header rows, banners, England
and Selection rows, markers), and suppression is worked out by :func:`reference_flags`,
a plain loop over each parent's units, not by pxlib. Every organisation is fictional
(Z codes); every count is drawn at random.

- :func:`hierarchy` draws full counts for wards, sites, trusts and ICBs of a setting;
- :func:`reference_flags` and :func:`marked` turn them into what NHS England shows
  (``*`` where suppressed, percentages rounded to 4 dp);
- :func:`build_fft_workbook` writes a published workbook, with optional faults (a
  renamed sheet, a header moved onto the England rows, an extra column, no Notes title);
- :func:`build_raw_extract` writes the raw SDCS extract (header on row 3).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

ANSWERS = ["very_good", "good", "neither", "poor", "very_poor", "dont_know"]
ANSWER_LABELS = ["Very Good", "Good", "Neither Good nor Poor", "Poor", "Very Poor", "Don't Know"]
IP_MODES = [
    "Mode SMS",
    "Mode Electronic Discharge",
    "Mode Electronic Home",
    "Mode Paper Discharge",
    "Mode Paper Home",
    "Mode Telephone",
    "Mode Online",
    "Mode Other",
]
AE_MODES = [m for m in IP_MODES if m != "Mode Electronic Home"]
OP_MODES = [
    "Mode SMS",
    "Mode Electronic At Appointment",
    "Mode Electronic After Appointment",
    "Mode Paper At Appointment",
    "Mode Paper After Appointment",
    "Mode Telephone",
    "Mode Online",
    "Mode Other",
]
MODE_COLUMN = {m: "mode_" + m[5:].lower().replace(" ", "_") for m in IP_MODES + OP_MODES}
TOUCHPOINTS = {
    "Q1": "antenatal",
    "Q2": "birth",
    "Q3": "postnatal ward",
    "Q4": "postnatal community",
}

# label of each column, by (setting, level)
_ID = {
    "icb": [("ICB Code", "icb_code"), ("ICB Name", "icb_name")],
    "trust": [("ICB Code", "icb_code"), ("Trust Code", "org_code"), ("Trust Name", "org_name")],
}
_ID["site"] = _ID["trust"] + [("Site Code", "site_code"), ("Site Name", "site_name")]
_ID["ward"] = _ID["site"] + [("Ward Name", "ward")]
_TOTALS = [
    ("Total Responses", "total_responses"),
    ("Total Eligible", "total_eligible"),
    ("Percentage Positive", "pct_positive"),
    ("Percentage Negative", "pct_negative"),
]
_ANS = list(zip(ANSWER_LABELS, ANSWERS, strict=True))
_SPEC = [("First Speciality", "first_speciality"), ("Second Speciality", "second_speciality")]
_ENG = [
    "England (including Independent Sector Providers)",
    "England (excluding Independent Sector Providers)",
]


def _modes(labels):
    return [(m, MODE_COLUMN[m]) for m in labels]


def _sheet(level, ids=None, totals=_TOTALS, after=(), modes=(), touchpoint=None):
    return {
        "level": level,
        "columns": (ids or _ID[level]) + totals + _ANS + list(after) + list(modes),
        "touchpoint": touchpoint,
    }


def _maternity():
    sheets = {}
    for q, tp in TOUCHPOINTS.items():
        totals = _TOTALS if q == "Q2" else [t for t in _TOTALS if t[1] != "total_eligible"]
        sheets[f"ICB {q}"] = _sheet("icb", totals=totals, touchpoint=tp)
        sheets[f"Trusts {q}"] = _sheet(
            "trust", totals=totals, touchpoint=tp, modes=_modes(AE_MODES)
        )
        if q != "Q4":
            sheets[f"Sites {q}"] = _sheet("site", totals=totals, touchpoint=tp)
    return sheets


_AMB_ORG = [("ICB code", "icb_code"), ("Org Code", "org_code"), ("Organisation Name", "org_name")]
#: the published layouts [national-data.md 1.2]
LAYOUTS = {
    "inpatient": {
        "title": "Inpatient",
        "title_cell": "A2",
        "header": 10,
        "england": _ENG,
        "modes_row2": False,
        "mode_banner": "Mode of Collection",
        "sheets": {
            "ICB": _sheet("icb"),
            "Trusts": _sheet("trust", modes=_modes(IP_MODES)),
            "Sites": _sheet("site"),
            "Wards": _sheet("ward", after=_SPEC),
        },
    },
    "ae": {
        "title": "A&E",
        "title_cell": "B2",
        "header": 3,
        "england": ["England"],
        "modes_row2": True,
        "mode_banner": "Mode of Collection",
        "sheets": {
            "ICB": _sheet("icb"),
            "Trusts": _sheet("trust", modes=_modes(AE_MODES)),
            "Sites": _sheet("site"),
        },
    },
    "ambulance": {
        "title": "Ambulance",
        "title_cell": "A2",
        "header": 8,
        "england": _ENG,
        "modes_row2": True,
        "mode_banner": "Mode of Collection",
        "sheets": {
            "PTS ICB": _sheet("icb"),
            "PTS Org": _sheet("trust", ids=_AMB_ORG),
            "Mode Org": {
                "level": "mode",
                "touchpoint": None,
                "columns": _AMB_ORG + [("Total Responses", "total_responses")] + _modes(AE_MODES),
            },
        },
    },
    "outpatient": {
        "title": "Outpatient",
        "title_cell": "A2",
        "header": 8,
        "england": _ENG,
        "modes_row2": False,
        "mode_banner": "Response Mode",
        "sheets": {
            "ICB": _sheet("icb"),
            "Orgs": _sheet(
                "trust",
                ids=[("ICB Code", "icb_code"), ("Org Code", "org_code"), ("Org Name", "org_name")],
                modes=_modes(OP_MODES),
            ),
        },
    },
    "maternity": {
        "title": "Maternity",
        "title_cell": "A2",
        "header": 9,
        "england": [e.replace("Providers", "providers") for e in _ENG],
        "modes_row2": True,
        "mode_banner": "Mode of Collection",
        "sheets": _maternity(),
    },
}


# --- counts -------------------------------------------------------------------------


def hierarchy(
    rng: np.random.Generator,
    *,
    icbs=2,
    trusts=2,
    sites=2,
    wards=3,
    small=0.25,
    touchpoint=None,
    is1=True,
    mode_labels=IP_MODES,
) -> dict[str, pd.DataFrame]:
    """Full counts for wards and their sites, trusts and ICBs (sums of the wards).

    About ``small`` of the wards get 0-6 responses (so that suppression happens); an
    independent-sector provider (ICB ``IS1``) is added when ``is1``."""
    rows = []
    icb_codes = [f"ZQ{i + 1}" for i in range(icbs)] + (["IS1"] if is1 else [])
    for i, icb in enumerate(icb_codes):
        for t in range(1 if icb == "IS1" else trusts):
            org = f"Z{chr(65 + i)}{t + 1}"
            name = f"Zed Clinics {org} Ltd" if icb == "IS1" else f"Zed {org} Hospitals NHS Trust"
            for s in range(sites):
                site = f"{org}{s + 1:02d}"
                for w in range(wards):
                    n = (
                        int(rng.integers(0, 7))
                        if rng.random() < small
                        else int(rng.integers(8, 120))
                    )
                    p = rng.dirichlet([8, 4, 1, 0.6, 0.4, 0.5])
                    counts = rng.multinomial(n, p)
                    rows.append(
                        {
                            "icb_code": icb,
                            "org_code": org,
                            "org_name": name,
                            "site_code": site,
                            "site_name": f"{org} Site {s + 1}",
                            "ward": f"Ward {chr(65 + w)}{'' if w % 2 else ' Unit'}",
                            "first_speciality": ["300 - GENERAL MEDICINE", "100 - GENERAL SURGERY"][
                                w % 2
                            ],
                            "second_speciality": None if w % 3 else "430 - GERIATRIC MEDICINE",
                            **dict(zip(ANSWERS, counts.tolist(), strict=True)),
                            "total_responses": n,
                            "total_eligible": n * 4 + int(rng.integers(0, 9)),
                        }
                    )
    ward = pd.DataFrame(rows)
    sums = [*ANSWERS, "total_responses", "total_eligible"]
    site = ward.groupby(
        ["icb_code", "org_code", "org_name", "site_code", "site_name"], as_index=False, sort=False
    )[sums].sum()
    trust = ward.groupby(["icb_code", "org_code", "org_name"], as_index=False, sort=False)[
        sums
    ].sum()
    for label in mode_labels:
        trust[MODE_COLUMN[label]] = 0
    for k, n in enumerate(trust["total_responses"]):
        split = rng.multinomial(n, np.full(len(mode_labels), 1 / len(mode_labels)))
        for label, v in zip(mode_labels, split, strict=True):
            trust.loc[k, MODE_COLUMN[label]] = int(v)
    icb = ward.groupby("icb_code", as_index=False, sort=False)[sums].sum()
    icb["icb_name"] = icb["icb_code"].map(
        lambda c: "INDEPENDENT SECTOR PROVIDERS" if c == "IS1" else f"NHS ZED {c} ICB"
    )
    frames = {"icb": icb, "trust": trust, "site": site, "ward": ward}
    for frame in frames.values():
        frame["pct_positive"] = pct(frame, ["very_good", "good"])
        frame["pct_negative"] = pct(frame, ["poor", "very_poor"])
        if touchpoint:
            frame["touchpoint"] = touchpoint
    return frames


def pct(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    """A share of all six answers (Don't Know in the denominator); NaN for no responses."""
    total = frame[ANSWERS].sum(axis=1)
    return (frame[cols].sum(axis=1) / total.where(total > 0)).astype(float)


# --- suppression, worked out plainly -----------------------------------------------

_PARENT = {"icb": None, "trust": "icb", "site": "trust", "ward": "site"}
_PARENT_KEY = {"trust": ["icb_code"], "site": ["org_code"], "ward": ["org_code", "site_code"]}
_OWN_KEY = {"icb": ["icb_code"], "trust": ["org_code"], "site": ["org_code", "site_code"]}


def reference_flags(frames: dict[str, pd.DataFrame], threshold: int = 5) -> dict[str, list[str]]:
    """Suppression reason per row ("first", "second", "cascade", ""), level by level from
    the ICBs down, by national-data.md 1.5: first level 1-4; rank within the parent by
    responses (zeros left out; ward ties by first speciality, second speciality, ward name;
    others by code); rank 2 follows a first-level rank 1; a suppressed parent takes its
    rank-1 and rank-2 children with it."""
    out: dict[str, list[str]] = {}
    for level in ("icb", "trust", "site", "ward"):
        if level not in frames:
            continue
        frame = frames[level]
        reasons = [""] * len(frame)
        suppressed_parents = set()
        parent = _PARENT[level]
        if parent:
            pf = frames[parent]
            for k in range(len(pf)):
                if out[parent][k]:
                    suppressed_parents.add(tuple(pf.iloc[k][_OWN_KEY[parent]]))
        groups: dict[tuple, list[int]] = {}
        for k in range(len(frame)):
            key = tuple(frame.iloc[k][_PARENT_KEY[level]]) if parent else ()
            groups.setdefault(key, []).append(k)
        for key, members in groups.items():

            def order(k, frame=frame, level=level):
                row = frame.iloc[k]
                if level == "ward":
                    ties = [
                        str(row["first_speciality"] or "").lower(),
                        str(row["second_speciality"] or "").lower(),
                        row["ward"].lower(),
                    ]
                else:
                    ties = [str(row[_OWN_KEY[level][-1]]).lower()]
                return (row["total_responses"], *ties)

            ranked = sorted((k for k in members if frame.iloc[k]["total_responses"] > 0), key=order)
            for k in members:
                if 0 < frame.iloc[k]["total_responses"] < threshold:
                    reasons[k] = "first"
            if len(ranked) >= 2 and reasons[ranked[0]] == "first" and not reasons[ranked[1]]:
                reasons[ranked[1]] = "second"
            if key in suppressed_parents:
                for k in ranked[:2]:
                    reasons[k] = reasons[k] or "cascade"
        out[level] = reasons
    return out


def marked(frame: pd.DataFrame, reasons: list[str]) -> pd.DataFrame:
    """What the published sheet shows: ``*`` in counts and modes on any flag, in the
    percentages on first-level flags; percentages to 4 dp, ``NA`` without responses."""
    out = frame.copy().astype(object)
    modes = [c for c in out.columns if c.startswith("mode_")]
    for k, reason in enumerate(reasons):
        for col in ("pct_positive", "pct_negative"):
            if col in out.columns:
                v = frame[col].iloc[k]
                out.loc[k, col] = "NA" if pd.isna(v) else round(float(v), 4)
        if reason:
            for col in ANSWERS + modes:
                if col in out.columns:
                    out.loc[k, col] = "*"
        if reason == "first":
            for col in ("pct_positive", "pct_negative"):
                if col in out.columns:
                    out.loc[k, col] = "*"
    return out


# --- workbooks ----------------------------------------------------------------------


def _england_values(frame: pd.DataFrame, columns, include_is: bool) -> dict:
    part = frame if include_is else frame[frame["icb_code"] != "IS1"]
    out = {}
    for col in columns:
        if col in ANSWERS or col.startswith(("total_", "mode_")):
            out[col] = int(pd.to_numeric(part[col], errors="coerce").fillna(0).sum())
    if "very_good" in out:
        total = sum(out[a] for a in ANSWERS)
        if total:
            out["pct_positive"] = round((out["very_good"] + out["good"]) / total, 4)
            out["pct_negative"] = round((out["poor"] + out["very_poor"]) / total, 4)
    return out


def build_fft_workbook(
    path: str | Path,
    setting: str,
    month: str,
    sheets: dict[str, pd.DataFrame],
    *,
    full: dict | None = None,
    rename: dict[str, str] | None = None,
    move_header: int = 0,
    extra_column: tuple[str, str] | None = None,
    title: str | None = None,
    no_title: bool = False,
) -> Path:
    """A published workbook of ``setting`` titled for ``month`` ("July 2025"), whose data
    sheets hold ``sheets`` (sheet name -> frame of cell values: numbers, ``*``, ``NA``).

    ``full`` (sheet -> full counts) feeds the England rows (default: the numbers shown).
    Faults for failure tests: ``rename`` sheets, ``move_header`` (write the two header
    rows that many rows lower, over the England rows), ``extra_column`` (sheet, label)
    added after the last column, ``no_title`` (Notes A2/B2 empty)."""
    lay = LAYOUTS[setting]
    h = lay["header"]
    wb = Workbook()
    notes = wb.active
    notes.title = "Notes"
    notes["A1"] = "Friends and Family Test"
    if not no_title:
        notes[lay["title_cell"]] = title or (
            f"{lay['title']} Friends and Family Test (FFT) Data - {month}"
        )
    notes["A7"] = "Overall, how was your experience of our service?"
    notes["A15"] = (
        "FFT results cannot be used to compare providers directly: collection "
        "methods are flexible and local populations differ."
    )
    notes["I4"] = "Export CSV"
    summary = wb.create_sheet("Summary")
    summary["A6"], summary["B6"] = "FFT", "Number of organisations submitting"
    summary["A8"], summary["A9"], summary["A10"] = "Total", "NHS", "IS"
    for name, spec in lay["sheets"].items():
        if name not in sheets:
            continue
        ws = wb.create_sheet((rename or {}).get(name, name))
        cols = list(spec["columns"])
        if extra_column and extra_column[0] == name:
            cols.append((extra_column[1], "_extra"))
        frame = sheets[name].reset_index(drop=True)
        ws["A1"] = f"{lay['title']} FFT: {name}"
        ws["A2"] = f"Data for {month}"
        top, sub = h + move_header, h + 1 + move_header
        answer_cols = [j + 1 for j, (_, c) in enumerate(cols) if c in ANSWERS]
        mode_cols = [j + 1 for j, (_, c) in enumerate(cols) if c.startswith("mode_")]
        for j, (label, _col) in enumerate(cols, start=1):
            if j in answer_cols or (j in mode_cols and lay["modes_row2"]):
                ws.cell(sub, j, label)
            else:
                ws.cell(top, j, label)
                ws.merge_cells(start_row=top, start_column=j, end_row=sub, end_column=j)
        if answer_cols:
            ws.cell(top, answer_cols[0], "Breakdown of Responses")
            ws.merge_cells(
                start_row=top, start_column=answer_cols[0], end_row=top, end_column=answer_cols[-1]
            )
        if mode_cols:
            row = top if lay["modes_row2"] else top - 1
            ws.cell(row, mode_cols[0], lay["mode_banner"])
            ws.merge_cells(
                start_row=row, start_column=mode_cols[0], end_row=row, end_column=mode_cols[-1]
            )
        source = (full or {}).get(name, frame)
        r = h + 2
        for k, label in enumerate(lay["england"]):
            if r > sub:
                values = _england_values(source, [c for _, c in cols], include_is=(k == 0))
                ws.cell(r, 1, label)
                for j, (_, col) in enumerate(cols, start=1):
                    if col in values:
                        ws.cell(r, j, values[col])
            r += 1
        first_data = r + 1
        last_data = first_data + len(frame) - 1
        if r > sub:
            ws.cell(r, 1, "Selection (excluding suppressed data)")
            for j, (_, col) in enumerate(cols, start=1):
                letter = get_column_letter(j)
                if col in ANSWERS or col.startswith(("total_", "mode_")):
                    ws.cell(r, j, f"=SUBTOTAL(9,{letter}{first_data}:{letter}{last_data})")
        for k in range(len(frame)):
            for j, (_, col) in enumerate(cols, start=1):
                v = frame.loc[k, col] if col in frame.columns else (7 if col == "_extra" else None)
                if v is None or (isinstance(v, float) and np.isnan(v)):
                    continue
                ws.cell(first_data + k, j, v.item() if isinstance(v, np.generic) else v)
            for j, (_, col) in enumerate(cols, start=1):
                if col.startswith("pct_"):
                    ws.cell(first_data + k, j).number_format = "0%"
        for j in range(1, len(cols) + 1):
            ws.cell(last_data + 1, j, "-")
    bs = wb.create_sheet("BS")
    bs["A1"] = "ICB list"
    bs.sheet_state = "hidden"
    path = Path(path)
    wb.save(path)
    return path


def published_sheets(
    setting: str,
    frames_by_touchpoint: dict[str | None, dict],
    reasons_by_touchpoint: dict[str | None, dict],
) -> dict[str, pd.DataFrame]:
    """Sheet name -> marked frame, for every data sheet of ``setting``."""
    out = {}
    for name, spec in LAYOUTS[setting]["sheets"].items():
        tp = spec["touchpoint"]
        level = spec["level"]
        frames, reasons = frames_by_touchpoint[tp], reasons_by_touchpoint[tp]
        if level == "mode":
            frame = frames["trust"]
            out[name] = marked(frame, reasons["trust"])
        else:
            out[name] = marked(frames[level], reasons[level])
    return out


# --- the raw SDCS extract ----------------------------------------------------------

RAW_IP = {
    "ward": (
        "Parent & Self Trusts - Ward Lev",
        [
            "Yearnumber",
            "Periodname",
            "Parent org code",
            "Parent name",
            "Org code",
            "Org name",
            "Site code",
            "Site name",
            "Ward name",
            "Spec 1",
            "Spec 2",
        ],
    ),
    "site": (
        "Parent & Self Trusts - Site Lev",
        [
            "Yearnumber",
            "Periodname",
            "Parent org code",
            "Parent name",
            "Org code",
            "Org name",
            "Site Code",
            "Site Name MAX",
        ],
    ),
    "trust": (
        "Parent & Self Trusts - Organisa",
        ["Yearnumber", "Periodname", "Parent org code", "Parent name", "Org code", "Org name"],
    ),
}
RAW_ANSWERS = [
    "1 Very Good SUM",
    "2 Good SUM",
    "3 Neither Good nor Poor SUM",
    "4 Poor SUM",
    "5 Very Poor SUM",
    "6 Dont Know SUM",
]
_RAW_IDS = {
    "Yearnumber": None,
    "Periodname": None,
    "Parent org code": "icb_code",
    "Parent name": "icb_name",
    "Org code": "org_code",
    "Org name": "org_name",
    "Site code": "site_code",
    "Site Code": "site_code",
    "Site name": "site_name",
    "Site Name MAX": "site_name",
    "Ward name": "ward",
    "Spec 1": "first_speciality",
    "Spec 2": "second_speciality",
}


def build_raw_extract(
    path: str | Path,
    frames: dict[str, pd.DataFrame],
    yearnumber: str,
    periodname: str,
    *,
    icb_names: dict[str, str] | None = None,
    header_row: int = 3,
    extra_column: str | None = None,
) -> Path:
    """The inpatient raw extract: sheets with truncated names, header on ``header_row``
    (3 as published), full counts, ``Prop_Pos``; plus the modes and speciality sheets."""
    wb = Workbook()
    wb.remove(wb.active)
    for level, (sheet, ids) in RAW_IP.items():
        ws = wb.create_sheet(sheet)
        ws["A1"] = "FFT inpatient submissions"
        labels = (
            ids
            + RAW_ANSWERS
            + ["Total Responses", "Total Eligible SUM", "Prop_Pos", "Title", "Response Rate"]
        )
        if extra_column:
            labels.append(extra_column)
        for j, label in enumerate(labels, start=1):
            ws.cell(header_row, j, label)
        frame = frames[level].reset_index(drop=True)
        for k in range(len(frame)):
            row = frame.iloc[k]
            values = []
            for label in labels:
                key = _RAW_IDS.get(label, "")
                if label == "Yearnumber":
                    values.append(yearnumber)
                elif label == "Periodname":
                    values.append(periodname)
                elif label == "Parent name":
                    values.append(
                        (icb_names or {}).get(
                            row["icb_code"], f"NHS {row['icb_code']} INTEGRATED CARE BOARD"
                        )
                    )
                elif key:
                    values.append(row[key])
                elif label in RAW_ANSWERS:
                    values.append(int(row[ANSWERS[RAW_ANSWERS.index(label)]]))
                elif label == "Total Responses":
                    values.append(int(row["total_responses"]))
                elif label == "Total Eligible SUM":
                    values.append(int(row["total_eligible"]))
                elif label == "Prop_Pos":
                    values.append(
                        None if pd.isna(row["pct_positive"]) else float(row["pct_positive"])
                    )
                elif label == "Title":
                    values.append("Inpatient")
                elif label == "Response Rate":
                    values.append(row["total_responses"] / max(row["total_eligible"], 1))
                else:
                    values.append(1)
            for j, v in enumerate(values, start=1):
                if v is not None:
                    ws.cell(header_row + 1 + k, j, v)
    for sheet in ("Parent & Self Trusts - Collecti", "SiteSpec1", "SiteSpec2"):
        ws = wb.create_sheet(sheet)
        ws["A3"], ws["B3"] = "Org code", "Collection Mode"
    path = Path(path)
    wb.save(path)
    return path
