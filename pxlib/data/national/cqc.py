"""CQC NHS patient survey trust-level benchmark files (Adult Inpatient and others): :func:`read_cqc`.

What ``national-data.md`` section 5 confirms [C-RI]: trust-level benchmark data are published
as ODS (e.g. ``20210917 IP20 Trust-level benchmark ODS V1.ods``) with the sheets
``Trust_Scores`` and ``Trust_Respondents`` (other surveys prefix them: ``CMH20_Trust_Scores``,
``UEC20_Trust_Scores``); columns, lower-cased, include ``trustcode``, ``trustname``, ``n_tpat``
(respondents) and per-question columns containing the question code (``q45``, the overall
question of 2020, e.g. ``meanq45``: its mean) with a ``q`` prefix, or ``t`` in the type-3
urgent care survey. Trust scores are standardised for age, sex and route of admission
[C-RI]; they are comparable only within one survey year and type.

**Unconfirmed**: the full column list, the scale of current scores (0-10), suppression
markers, and the expected-range cut-offs CQC uses for better / worse / about the same
[P-CQC15; P-CQC19]. So the reader keeps each question column's statistic under the rest of
its name (``meanq45`` gives question ``q45``, statistic ``mean``), converts nothing, and
fails with a :class:`~pxlib.errors.ColumnError` naming ``trustcode``, ``trustname`` or
``n_tpat`` when one is missing, or a :class:`~pxlib.errors.DataValidationError` naming the
sheet expected.

ODS needs the ``odfpy`` package (pandas' ``engine="odf"``); ``.xlsx`` files with the same
sheets, and a CSV of the scores sheet alone, are read too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pxlib.data.loaders import TEXT_SUFFIXES, read_table
from pxlib.data.national.published import published_values
from pxlib.errors import ColumnError, DataValidationError
from pxlib.fmt import literal, literals

__all__ = [
    "CQC_REQUIRED",
    "CQC_SCORES_COLUMNS",
    "CQC_SHEETS",
    "CQC_SURVEYS",
    "CQCSurvey",
    "read_cqc",
]

#: the two sheets of a benchmark file (a survey code and year may come before them)
CQC_SHEETS = ("Trust_Scores", "Trust_Respondents")
#: columns the scores sheet must have (lower-cased) [C-RI]
CQC_REQUIRED = ("trustcode", "trustname", "n_tpat")
#: survey codes seen in file and sheet names [C-RI]
CQC_SURVEYS = {
    "ip": "Adult Inpatient Survey",
    "cmh": "Community Mental Health Survey",
    "uec": "Urgent and Emergency Care Survey",
}
#: the columns of :attr:`CQCSurvey.scores`, in order
CQC_SCORES_COLUMNS = (
    "year",
    "survey",
    "trust_code",
    "trust_name",
    "n_respondents",
    "question",
    "statistic",
    "value",
    "suppressed",
    "suppressed_reason",
)
_SURVEY_TOKEN = re.compile(r"(?<![a-z])(ip|cmh|uec)(\d{2})(?!\d)", re.I)
_EXCEL = (".ods", ".xlsx", ".xlsm")


@dataclass(frozen=True)
class CQCSurvey:
    """One CQC benchmark file: ``scores`` (long: one row per trust and question column),
    ``respondents`` (the respondents sheet, lower-cased, ``trustcode`` as ``trust_code``;
    None for a CSV), the survey code, year and the sheets read."""

    scores: pd.DataFrame
    respondents: pd.DataFrame | None
    survey: str
    year: int
    sheets: tuple[str, ...]

    @property
    def survey_name(self) -> str:
        """The survey's name for its code (:data:`CQC_SURVEYS`), or the code itself."""
        return CQC_SURVEYS.get(self.survey, self.survey)


def _sheet(names: list[str], wanted: str, source: str) -> str:
    low = wanted.lower()
    found = [n for n in names if n.lower() == low or n.lower().endswith("_" + low)]
    if len(found) != 1:
        what = "no sheet" if not found else f"{len(found)} sheets"
        raise DataValidationError(
            f"{source}: {what} named {literal(wanted)} (or '<survey><yy>_{wanted}'); a CQC "
            f"trust-level benchmark file has the sheets {literals(CQC_SHEETS)}. Sheets found: "
            f"{literals(names, 10)}"
        )
    return found[0]


def _read_sheets(path: Path) -> tuple[pd.DataFrame, pd.DataFrame | None, tuple[str, ...]]:
    if path.suffix.lower() in TEXT_SUFFIXES:
        return read_table(path, notes=[]), None, ()
    if path.suffix.lower() not in _EXCEL:
        raise DataValidationError(
            f"{path.name}: cannot read '{path.suffix}' files as CQC data; use the published "
            ".ods (or .xlsx, or a CSV of the scores sheet)"
        )
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found")
    engine = "odf" if path.suffix.lower() == ".ods" else None
    try:
        with pd.ExcelFile(path, engine=engine) as book:
            names = [str(n) for n in book.sheet_names]
            scores_name = _sheet(names, CQC_SHEETS[0], path.name)
            resp_name = _sheet(names, CQC_SHEETS[1], path.name)
            scores = pd.read_excel(book, sheet_name=scores_name, dtype=object)
            resp = pd.read_excel(book, sheet_name=resp_name, dtype=object)
    except ImportError as exc:
        raise DataValidationError(
            f"{path.name}: reading .ods files needs the package odfpy (pip install odfpy)"
        ) from exc
    except DataValidationError:
        raise
    except Exception as exc:  # odfpy, openpyxl and zipfile raise many types for one problem
        raise DataValidationError(
            f"{path.name}: could not be read as a spreadsheet ({type(exc).__name__}); open it "
            "and save it again as .ods or .xlsx"
        ) from exc
    return scores, resp, (scores_name, resp_name)


def _lower(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    names = [str(c).strip().lower() for c in frame.columns]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ColumnError(f"{source}: columns {literals(twice)} appear more than once")
    return frame.set_axis(names, axis=1)


def _survey_and_year(
    path: Path, sheets: tuple[str, ...], survey: str | None, year: int | None
) -> tuple[str, int]:
    m = next((m for t in (*sheets, path.name) if (m := _SURVEY_TOKEN.search(t))), None)
    code = m.group(1).lower() if m else None
    found_year = 2000 + int(m.group(2)) if m else None
    if year is not None:
        if isinstance(year, bool) or not isinstance(year, (int, np.integer)):
            raise DataValidationError(f"year must be a year such as 2023, not {literal(year)}")
        if found_year is not None and found_year != year:
            raise DataValidationError(
                f"{path.name}: the names say {found_year} but year={literal(year)} was given"
            )
        found_year = int(year)
    code = survey.lower() if survey is not None else code
    if code is None or found_year is None:
        raise DataValidationError(
            f"{path.name}: the survey and year are not in the file or sheet names (e.g. 'IP20'); "
            "give them as read_cqc(path, survey='ip', year=2020)"
        )
    return code, found_year


def _question_columns(columns: list[str], prefix: str | None) -> tuple[list, str]:
    """(column, question code, statistic) of each question column, and the prefix used."""
    prefixes = [prefix.lower()] if prefix else ["q", "t"]
    for p in prefixes:
        pattern = re.compile(rf"(?P<pre>[a-z_]*?)(?P<code>{p}\d+[a-z]?)(?P<post>_[a-z0-9_]*)?")
        found = []
        for col in columns:
            m = pattern.fullmatch(col)
            if m and col not in CQC_REQUIRED:
                stat = (m.group("pre") + (m.group("post") or "")).strip("_") or "value"
                found.append((col, m.group("code"), stat))
        if found:
            return found, p
    return [], prefixes[0]


def read_cqc(
    path: str | Path,
    *,
    survey: str | None = None,
    year: int | None = None,
    prefix: str | None = None,
) -> CQCSurvey:
    """A CQC trust-level benchmark file (.ods, .xlsx, or a CSV of the scores sheet).

    ``scores`` has :data:`CQC_SCORES_COLUMNS`: ``year`` and ``survey`` (from names such as
    ``IP20``, or ``survey=``/``year=``), ``trust_code``, ``trust_name``, ``n_respondents``
    (``n_tpat``), ``question`` (``q45``), ``statistic`` (the rest of the column's name, e.g.
    ``mean``), ``value`` as published, ``suppressed`` and ``suppressed_reason`` (a ``*`` or
    ``-`` marker); blank cells give no row. Question columns have the prefix ``prefix`` ("q"
    or "t"; by default "q", else "t" when no column has a "q" code).
    """
    path = Path(path)
    source = path.name
    scores_raw, resp_raw, sheets = _read_sheets(path)
    code, found_year = _survey_and_year(path, sheets, survey, year)
    where = f"{source} (sheet {literal(sheets[0])})" if sheets else source
    frame = _lower(scores_raw, where)
    missing = [c for c in CQC_REQUIRED if c not in frame.columns]
    if missing:
        raise ColumnError(
            f"{where}: missing the column {literals(missing)}; a CQC Trust_Scores sheet has "
            f"{literals(CQC_REQUIRED)} and question columns such as 'meanq45' (names are "
            "compared in lower case)"
        )
    questions, used = _question_columns(list(frame.columns), prefix)
    if not questions:
        raise ColumnError(
            f"{where}: no question columns (names containing {literal(used + '<number>')}, "
            "such as 'meanq45')"
        )
    trust = frame["trustcode"].astype(str).str.strip()
    blank = (trust == "") | frame["trustcode"].isna()
    if blank.any():
        rows = np.flatnonzero(blank.to_numpy())[:5] + 2
        raise DataValidationError(f"{where}: blank 'trustcode' in rows {literals(rows)}")
    n_resp, _, _ = published_values(
        frame, ["n_tpat"], where, negative_suppressed=False, lower=0, what="respondents"
    )
    cols = [q[0] for q in questions]
    values, suppressed, reason = published_values(frame, cols, where, negative_suppressed=False)
    n_trusts = len(frame)
    keep = (~np.isnan(values) | suppressed).ravel(order="F")
    t = np.tile(np.arange(n_trusts), len(cols))[keep]
    q = np.repeat(np.arange(len(cols)), n_trusts)[keep]
    scores = pd.DataFrame(
        {
            "year": np.full(len(t), found_year, dtype=np.int64),
            "survey": code,
            "trust_code": trust.to_numpy(dtype=object)[t],
            "trust_name": frame["trustname"].astype(str).str.strip().to_numpy(dtype=object)[t],
            "n_respondents": n_resp[t, 0],
            "question": np.array([c[1] for c in questions], dtype=object)[q],
            "statistic": np.array([c[2] for c in questions], dtype=object)[q],
            "value": values.ravel(order="F")[keep],
            "suppressed": suppressed.ravel(order="F")[keep],
            "suppressed_reason": np.asarray(reason, dtype=object)[keep],
        },
        columns=list(CQC_SCORES_COLUMNS),
    )
    respondents = None
    if resp_raw is not None:
        respondents = _lower(resp_raw, f"{source} (sheet {literal(sheets[1])})")
        if "trustcode" not in respondents.columns:
            raise ColumnError(
                f"{source} (sheet {literal(sheets[1])}): missing the column 'trustcode'"
            )
        respondents = respondents.rename(columns={"trustcode": "trust_code"})
    return CQCSurvey(scores, respondents, code, found_year, sheets)
