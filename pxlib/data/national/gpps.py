"""GP Patient Survey (GPPS) practice files as NHS England publishes them: :func:`read_gpps`.

Two layouts, told apart by the header (``national-data.md`` section 2; source keys in brackets):

- **Up to 2023** (the ``Q<n>`` scheme): identifiers ``Practice_Code``, ``Practice_Name`` and
  the year's geography (``CCG_Code`` to 2021, also ``STP_Code`` in 2021, ``ICS_Code`` from
  2022) [HEEC; C-BRIS]; ``Q<n>base`` = the responses to question n; ``Q<n>_<k>pct`` = the
  share choosing option (or combined code) k, e.g. ``Q28_12pct`` = ("very good" + "fairly
  good") / ``Q28base``; ``Q<n>_merged_<k>pct`` merged bands; ``Q<n>_recoded_<k>pct`` over a
  base without "don't know" [C-BRIS]. Names may be in any case (Stata lower-cases them).
- **2024 onwards** (named stems; the names contain dots): ``ad_practicecode``,
  ``ad_practicename``, ``ad_icscode``, ``ad_pcncode``, ... [C-THF; C-HSAW];
  ``<stem>.pcteval`` = the headline positive result, ``<stem>_<k>.pct`` = the share choosing
  option k, ``<stem>.baseevalw`` = the base of the evaluative result, and ``.pctevalb``
  variants and ``dv_`` derived variables [C-DUCK; C-ING; C-THF].

Values are fractions 0-1 [C-BRIS; C-ING]. A negative value is a suppressed result (-97 is the
code seen in a published file; analysts treat every negative as missing [C-BRIS; HEEC;
C-ING]); the markers ``*`` and ``-`` are read as suppressed too (unconfirmed for GPPS).
GPPS suppresses results based on fewer than 10 unweighted respondents [P-ANAL].

**Bases and percentages as published.** ``pct`` is the file's share (weighted in the
weighted file, the standard [P-EXPL]); ``base`` is the file's base column, named in
``base_column``: ``Q<n>base`` for ``Q<n>_<k>pct`` and ``Q<n>_merged_<k>pct``, and
``<stem>.baseevalw`` for ``<stem>.pcteval``. Whether published bases are weighted is
unconfirmed (the ``w`` of ``.baseevalw`` suggests weighted). Other items have no base here
(their base columns are unconfirmed).

Items keep their published names, except the stable keys of :data:`GPPS_ITEMS`, mapped only
where ``national-data.md`` states the mapping. Results from 2024 onwards are a new series
and 2018 broke the series too: :func:`series_break` is the sentence every chart crossing a
break states.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pxlib.data.national.published import published_values, read_published
from pxlib.errors import ColumnError, DataValidationError
from pxlib.fmt import literal, literals

__all__ = [
    "GPPS_COLUMNS",
    "GPPS_ITEMS",
    "SERIES_BREAKS",
    "SERIES_BREAK_2024",
    "GPPSItem",
    "gpps_series",
    "read_gpps",
    "read_gpps_dir",
    "series_break",
]

#: the columns of :func:`read_gpps`'s frame, in order
GPPS_COLUMNS = (
    "year",
    "practice_code",
    "practice_name",
    "icb_code",
    "pcn_code",
    "item",
    "base",
    "pct",
    "suppressed",
    "suppressed_reason",
    "weighting",
    "series",
    "source_column",
    "base_column",
)

SERIES_UP_TO_2017 = "up to 2017"
SERIES_2018_2023 = "2018-2023"
SERIES_2024_ON = "2024 onwards"
#: the first year of each new series, and the sentence a chart crossing it states
SERIES_BREAKS: dict[int, str] = {
    2018: (
        "GP Patient Survey results from 2018 are not compared with 2017 or earlier: the "
        "questionnaire changed and 16-17-year-olds were added."
    ),
    2024: (
        "GP Patient Survey results from 2024 onwards are a new series: the questionnaire changed "
        "and the survey moved to an online-first design, so they are not compared with 2023 or "
        "earlier years."
    ),
}
SERIES_BREAK_2024 = SERIES_BREAKS[2024]


@dataclass(frozen=True)
class GPPSItem:
    """An item with a stable key across the 2024 redesign."""

    key: str
    label: str
    up_to_2023: str  # the percentage column of the Q<n> layout
    from_2024: str  # the percentage column of the named-stem layout
    sources: str


#: items mapped across the redesign: only the mappings national-data.md states (section 2.3)
GPPS_ITEMS: tuple[GPPSItem, ...] = (
    GPPSItem(
        "overall_experience",
        "Overall experience of the GP practice: good",
        "Q28_12pct",
        "overallexp.pcteval",
        "HEEC; P-SCORE; C-THF; C-ING",
    ),
    GPPSItem(
        "making_appointment",
        "Overall experience of making an appointment: good",
        "Q18_12pct",
        "gpcontactoverall.pcteval",
        "C-BRIS (2021 label); C-THF",
    ),
    GPPSItem(
        "last_appointment_needs_met",
        "Needs met at the last appointment",
        "Q90_12pct",
        "lastgpapptneeds.pcteval",
        "C-THF",
    ),
)

_YEAR_IN_NAME = re.compile(r"gpps_(\d{4})(?!\d)", re.I)
_Q_PCT = re.compile(r"^q(\d+)_(\w+?)pct$")
_Q_PCT_WITH_BASE = re.compile(r"^(\d+|merged_\d+)$")
_STEM_PCT = re.compile(r"^(?P<stem>.+?)(?:_\d+)?\.(?:pct|pcteval|pctevalb)$")
#: columns that hold numbers in either layout (read as numbers where every cell is one)
_VALUE_COLUMN = re.compile(r"^(q\d+.*|.+\.(pct\w*|base\w*))$")


def gpps_series(year: int) -> str:
    """The series a GPPS year belongs to: "up to 2017", "2018-2023" or "2024 onwards"
    (new questionnaires in 2018 [P-GPPS18] and 2024 [P-NHSE24])."""
    if year >= 2024:
        return SERIES_2024_ON
    return SERIES_2018_2023 if year >= 2018 else SERIES_UP_TO_2017


def series_break(years: Iterable[object]) -> str:
    """The sentence(s) a chart of these GPPS years must state: one for each series break
    (2018, 2024) its years cross, or "" when they cross none."""
    ys = sorted({int(y) for y in years if y is not None and not pd.isna(y)})
    if not ys:
        return ""
    return " ".join(text for first, text in SERIES_BREAKS.items() if ys[0] < first <= ys[-1])


# --- layouts -------------------------------------------------------------------------------


def _layout(lower: dict[str, str], source: str, columns: list[str]) -> str:
    has_q, has_stem = "practice_code" in lower, "ad_practicecode" in lower
    if has_q and has_stem:
        raise ColumnError(
            f"{source}: has both 'Practice_Code' (files up to 2023) and 'ad_practicecode' "
            "(2024 onwards); a GPPS practice file has one of them"
        )
    if not (has_q or has_stem):
        raise ColumnError(
            f"{source}: not a GP Patient Survey practice file in a layout pxlib knows: expected "
            "a column 'Practice_Code' (files up to 2023) or 'ad_practicecode' (2024 onwards); "
            f"the first columns are {literals(columns, 6)}"
        )
    return "stem" if has_stem else "q"


def _id_columns(layout: str, year: int) -> dict[str, str | None]:
    """Output identifier -> the published column (lower case); None: not in this year's file."""
    if layout == "stem":
        return {
            "practice_code": "ad_practicecode",
            "practice_name": "ad_practicename",
            "icb_code": "ad_icscode",
            "pcn_code": "ad_pcncode",
        }
    # ICS_Code from 2022; 2021 had STP_Code (STPs became the ICSs); earlier only CCGs [HEEC; C-BRIS]
    icb = "ics_code" if year >= 2022 else ("stp_code" if year == 2021 else None)
    return {
        "practice_code": "practice_code",
        "practice_name": "practice_name",
        "icb_code": icb,
        "pcn_code": None,  # PCN columns before 2024: unconfirmed (read as pcn_code if present)
    }


_PUBLISHED_CASE = {
    "practice_code": "Practice_Code",
    "practice_name": "Practice_Name",
    "ics_code": "ICS_Code",
    "stp_code": "STP_Code",
}


def _items(layout: str, lower: dict[str, str]) -> list[tuple[str, str, str | None]]:
    """(item, percentage column, base column or None) for every result column of the file."""
    stable = {(i.up_to_2023 if layout == "q" else i.from_2024).lower(): i.key for i in GPPS_ITEMS}
    out = []
    for low, name in lower.items():
        if layout == "q":
            m = _Q_PCT.match(low)
            if not m:
                continue
            base = f"q{m.group(1)}base" if _Q_PCT_WITH_BASE.match(m.group(2)) else None
        else:
            m = _STEM_PCT.match(low)
            if not m:
                continue
            base = f"{m.group('stem')}.baseevalw" if low.endswith(".pcteval") else None
        base_name = lower.get(base) if base else None
        out.append((stable.get(low, name), name, base_name))
    return out


def _year(path: Path, year: int | None) -> int:
    m = _YEAR_IN_NAME.search(path.name)
    from_name = int(m.group(1)) if m else None
    if year is None:
        if from_name is None:
            raise DataValidationError(
                f"{path.name}: the survey year is not in the file name (GPPS_<YYYY>_...); "
                "give it as read_gpps(path, year=...)"
            )
        return from_name
    if isinstance(year, bool) or not isinstance(year, (int, np.integer)) or not 1990 < year < 2100:
        raise DataValidationError(f"year must be a year such as 2024, not {literal(year)}")
    if from_name is not None and from_name != year:
        raise DataValidationError(
            f"{path.name}: the file name says {from_name} but year={literal(year)} was given"
        )
    return int(year)


def _weighting(path: Path, weighting: str | None) -> str:
    if weighting is not None:
        if weighting not in ("weighted", "unweighted"):
            raise DataValidationError(
                f"weighting must be 'weighted' or 'unweighted', not {literal(weighting)}"
            )
        return weighting
    name = path.name.lower()
    if "unweighted" in name:
        return "unweighted"
    return "weighted" if "weighted" in name else "unknown"


def _codes(values: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """Factorised text: blanks are missing."""
    text = pd.Series(values, dtype=object).astype(str).str.strip()
    codes, uniques = pd.factorize(text.where(text != ""))
    return codes, pd.Index(uniques, dtype=object)


# --- the reader ------------------------------------------------------------------------------


def read_gpps(
    path: str | Path,
    year: int | None = None,
    *,
    weighting: str | None = None,
    items: Iterable[str] | None = None,
    require_items: bool = True,
) -> pd.DataFrame:
    """One GPPS practice file (CSV or .xlsx) of any year as a long frame, one row per practice
    and result.

    Columns :data:`GPPS_COLUMNS`: ``year``, ``practice_code``, ``practice_name``, ``icb_code``
    (``ICS_Code``; ``STP_Code`` in 2021; missing before), ``pcn_code`` (``ad_pcncode`` from
    2024; before, a ``PCN_Code`` column if the file has one), ``item`` (a stable key of
    :data:`GPPS_ITEMS` or the published column name), ``base`` and ``pct`` (as published;
    see the module docstring), ``suppressed`` with ``suppressed_reason`` (the code or marker
    the file shows), ``weighting`` ("weighted", "unweighted" from the file name or
    ``weighting=``, else "unknown"), ``series`` (:func:`gpps_series`), ``source_column`` and
    ``base_column``. Text columns are categorical. Blank cells (a result not published) give
    no row.

    The year comes from the file name (``GPPS_<YYYY>_...``) or ``year=``. ``items`` keeps only
    the given items (stable keys or published names): much faster on a published file of
    about 1,000 columns when few are wanted; with ``require_items=False`` a file lacking some
    (or all) of them gives the rows of those it has. Raises :class:`ColumnError` naming the
    column expected when the header is of no layout pxlib knows or a required column is
    missing, and :class:`DataValidationError` naming columns and rows for cells that are not
    numbers, percentages above 1, blank or repeated practice codes.
    """
    path = Path(path)
    source = path.name
    year = _year(path, year)
    frame = read_published(path, _VALUE_COLUMN)
    columns = [str(c) for c in frame.columns]
    lower: dict[str, str] = {}
    for name in columns:
        low = name.strip().lower()
        twin = re.sub(r"\.\d+$", "", low)
        if low in lower or (twin != low and twin in lower):
            raise ColumnError(f"{source}: column {literal(name)} appears more than once")
        lower[low] = name
    layout = _layout(lower, source, columns)
    if (layout == "stem") != (year >= 2024):
        raise DataValidationError(
            f"{source}: a {year} file in the "
            + ("2024-onwards layout (ad_practicecode)" if layout == "stem" else "Q<n> layout")
            + "; GPPS used the Q<n> layout up to 2023 and named stems from 2024"
        )
    ids = _id_columns(layout, year)
    if layout == "q" and "pcn_code" in lower:
        ids["pcn_code"] = "pcn_code"
    for low in ids.values():
        if low is not None and low not in lower:
            raise ColumnError(
                f"{source}: missing the column {literal(_PUBLISHED_CASE.get(low, low))}, which "
                f"GPPS practice files of {year} have"
            )
    found = _items(layout, lower)
    if items is not None:
        wanted = list(dict.fromkeys(items))
        missing = [w for w in wanted if w not in {f[0] for f in found}]
        if missing and require_items:
            raise ColumnError(f"{source}: no item {literals(missing)} in this file")
        found = [f for f in found if f[0] in wanted]
    if not found and (items is None or require_items):
        expect = "'Q<n>_<k>pct'" if layout == "q" else "'<stem>.pcteval' or '<stem>_<k>.pct'"
        raise ColumnError(f"{source}: no result columns ({expect}) found")

    code_col = lower[ids["practice_code"]]
    codes = frame[code_col].astype(str).str.strip()
    for what, mask in (("blank", codes == ""), ("repeated", codes.duplicated())):
        if mask.any():
            rows = np.flatnonzero(mask.to_numpy())[:5] + 2
            raise DataValidationError(
                f"{source}: {what} {literal(code_col)} in rows {literals(rows)}"
            )

    pct_cols = [f[1] for f in found]
    pct, suppressed, reason = published_values(
        frame,
        pct_cols,
        source,
        negative_suppressed=True,
        upper=1,
        what="percentages (GPPS gives fractions 0-1)",
    )
    base_names = sorted({f[2] for f in found if f[2] is not None})
    base_of = np.array([base_names.index(f[2]) if f[2] else -1 for f in found], dtype=np.int64)
    if base_names:
        bases, _, _ = published_values(frame, base_names, source, negative_suppressed=True)
    else:
        bases = np.full((len(frame), 1), np.nan)

    n_practices, n_items = pct.shape
    keep = (~np.isnan(pct) | suppressed).ravel(order="F")
    practice = np.tile(np.arange(n_practices), n_items)[keep]
    item = np.repeat(np.arange(n_items), n_practices)[keep]
    bcol = base_of[item]
    base = np.where(bcol >= 0, bases[practice, np.maximum(bcol, 0)], np.nan)
    supp_flat = suppressed.ravel(order="F")[keep]

    out: dict[str, object] = {"year": np.full(len(item), year, dtype=np.int64)}
    for name in ("practice_code", "practice_name", "icb_code", "pcn_code"):
        low = ids[name]
        if low is None:
            out[name] = pd.Categorical.from_codes(
                np.full(len(item), -1), categories=pd.Index([], dtype=object)
            )
            continue
        c, u = _codes(frame[lower[low]].to_numpy(dtype=object))
        out[name] = pd.Categorical.from_codes(c[practice], categories=u)
    out["item"] = pd.Categorical.from_codes(item, categories=pd.Index([f[0] for f in found]))
    out["base"] = base
    out["pct"] = pct.ravel(order="F")[keep]
    out["suppressed"] = supp_flat
    out["suppressed_reason"] = reason[keep]
    for name, value in (
        ("weighting", _weighting(path, weighting)),
        ("series", gpps_series(year)),
    ):
        out[name] = pd.Categorical.from_codes(np.zeros(len(item), dtype=np.int64), [value])
    out["source_column"] = pd.Categorical.from_codes(item, categories=pd.Index(pct_cols))
    bc, bu = _codes(np.array([f[2] or "" for f in found], dtype=object))
    out["base_column"] = pd.Categorical.from_codes(bc[item], categories=bu)
    return pd.DataFrame(out, columns=list(GPPS_COLUMNS))


_GPPS_FILE = re.compile(r"^gpps_\d{4}_.*practice.*\.(csv|xlsx)$", re.I)


def read_gpps_dir(
    folder: str | Path, *, weighting: str | None = None, items: Iterable[str] | None = None
) -> pd.DataFrame:
    """Every GPPS practice file of a folder (``GPPS_<YYYY>_...Practice....csv``/``.xlsx``, as
    published) read by :func:`read_gpps` and stacked by year; ``weighting=`` keeps one kind,
    ``items=`` only those items (a year without them gives no rows). Two files of one year and weighting are an error naming both."""
    folder = Path(folder)
    frames, seen = [], {}
    for p in sorted(p for p in folder.iterdir() if p.is_file() and _GPPS_FILE.match(p.name)):
        key = (int(_YEAR_IN_NAME.search(p.name).group(1)), _weighting(p, None))
        if weighting is not None and key[1] != weighting:
            continue
        if key in seen:
            raise DataValidationError(
                f"{folder}: two GPPS practice files for {key[0]} ({key[1]}): {seen[key]}, {p.name}"
            )
        seen[key] = p.name
        frames.append(read_gpps(p, items=items, require_items=False))
    if not frames:
        raise DataValidationError(
            f"{folder}: no GP Patient Survey practice file (GPPS_<YYYY>_Practice_....csv)"
        )
    return _stack(frames)


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames of :data:`GPPS_COLUMNS` one under another, text columns kept categorical (their
    categories united, without turning millions of rows into Python strings and back)."""
    out = {}
    for c in GPPS_COLUMNS:
        parts = [f[c] for f in frames]
        if not isinstance(parts[0].dtype, pd.CategoricalDtype):
            out[c] = np.concatenate([p.to_numpy() for p in parts])
            continue
        categories = pd.Index(
            list(dict.fromkeys(x for p in parts for x in p.cat.categories)), dtype=object
        )
        codes = []
        for p in parts:
            recode = np.append(categories.get_indexer(p.cat.categories), -1)
            codes.append(recode[p.cat.codes.to_numpy()])  # code -1 (missing) stays -1
        out[c] = pd.Categorical.from_codes(np.concatenate(codes), categories=categories)
    return pd.DataFrame(out, columns=list(GPPS_COLUMNS))
