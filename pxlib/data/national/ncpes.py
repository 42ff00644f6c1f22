"""National Cancer Patient Experience Survey (NCPES) results: :func:`read_ncpes`.

What ``national-data.md`` section 3 confirms: run by Picker for NHS England; results at
national, Cancer Alliance, ICB and NHS trust level, as "scores" (summary positive scores of
the evaluative questions) or "frequencies" (every option), by year, cancer type and patient
group [P-CPES]. Comparability: the questionnaire was reviewed in 2021 [P-TP22]; 2019 is
comparable only with 2015-2018 [P-HLP], so series break at 2015 and 2021.

**Unconfirmed: the published file names and layouts**, the case-mix adjustment's variables
and expected-range method, and the suppression threshold. So the reader takes the two
provisional layouts :data:`NCPES_SCORES_SCHEMA` and :data:`NCPES_FREQUENCIES_SCHEMA` (long
tables; names matched ignoring case, spaces, hyphens and underscores), keeping unadjusted
and adjusted scores and the expected-range bounds as separate columns, as a loader must: a
real file either has these columns or fails with a :class:`~pxlib.errors.ColumnError` naming
the column expected. Any suppression marker (``*``, ``-``) is missing with its reason.

Case-mix adjusted comparisons from respondent-level data: :mod:`pxlib.survey.casemix`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from pxlib.data.national.published import (
    match_schema,
    published_values,
    read_published,
    survey_years,
)
from pxlib.data.schema_types import Column, Schema
from pxlib.errors import DataValidationError
from pxlib.fmt import literal, literals

__all__ = [
    "NCPES_FREQUENCIES_SCHEMA",
    "NCPES_LEVELS",
    "NCPES_SCORES_SCHEMA",
    "NCPES_SERIES_BREAKS",
    "ncpes_series",
    "ncpes_series_break",
    "read_ncpes",
]

#: geography levels of published results [P-CPES], as the reader names them
NCPES_LEVELS = {
    "trust": "trust",
    "nhstrust": "trust",
    "icb": "icb",
    "integratedcareboard": "icb",
    "canceralliance": "cancer_alliance",
    "national": "national",
    "england": "national",
}
#: the first year of each series, and the sentence a chart crossing it states
NCPES_SERIES_BREAKS: dict[int, str] = {
    2015: (
        "Cancer Patient Experience Survey results from 2015 are not compared with earlier "
        "years: questions and scoring changed."
    ),
    2021: (
        "Cancer Patient Experience Survey results from 2021 are not compared with earlier "
        "years: the questionnaire was reviewed in 2021."
    ),
}

_COMMON = (
    Column("year", "count", required=False, aliases=("survey_year",)),
    Column("level", "choice", aliases=("geography", "geography_level")),
    Column("org_code", "code", aliases=("organisation_code",)),
    Column("org_name", "text", required=False, aliases=("organisation_name",)),
    Column("cancer_type", "text", required=False, aliases=("tumour_group",)),
    Column("question", "id", aliases=("question_number",)),
)
#: provisional layout of a scores table: one row per organisation, year, cancer type, question
NCPES_SCORES_SCHEMA = Schema(
    name="NCPES scores",
    description="NCPES summary positive scores with case-mix adjusted scores and expected ranges.",
    columns=(
        *_COMMON,
        Column("n_respondents", "count", aliases=("respondents", "number_of_respondents")),
        Column("unadjusted_score", "proportion"),
        Column("adjusted_score", "proportion"),
        Column("expected_lower", "proportion", aliases=("lower_expected_range",)),
        Column("expected_upper", "proportion", aliases=("upper_expected_range",)),
    ),
)
#: provisional layout of a frequencies table: one row per organisation, question and option
NCPES_FREQUENCIES_SCHEMA = Schema(
    name="NCPES frequencies",
    description="NCPES frequencies: every response option's count and share.",
    columns=(
        *_COMMON,
        Column("option", "text", aliases=("response", "answer")),
        Column("count", "count", aliases=("number",)),
        Column("n_respondents", "count", aliases=("respondents", "base")),
        Column("pct", "proportion", aliases=("percentage", "share")),
    ),
)
_SCORES = ("unadjusted_score", "adjusted_score", "expected_lower", "expected_upper")
_TABLES = {
    "scores": (NCPES_SCORES_SCHEMA, _SCORES, ("n_respondents",)),
    "frequencies": (NCPES_FREQUENCIES_SCHEMA, ("pct",), ("count", "n_respondents")),
}


def ncpes_series(year: int) -> str:
    """The series an NCPES year belongs to: "up to 2014", "2015-2020" or "2021 onwards"."""
    if year >= 2021:
        return "2021 onwards"
    return "2015-2020" if year >= 2015 else "up to 2014"


def ncpes_series_break(years: Iterable[object]) -> str:
    """The sentence(s) a chart of these NCPES years must state ("" when no break is crossed)."""
    ys = sorted({int(y) for y in years if y is not None and not pd.isna(y)})
    if not ys:
        return ""
    return " ".join(t for first, t in NCPES_SERIES_BREAKS.items() if ys[0] < first <= ys[-1])


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    text = frame[col].astype(str).str.strip()
    return text.where(text != "").astype(object)


def read_ncpes(
    path: str | Path,
    table: str = "scores",
    *,
    year: int | None = None,
    scale: str = "fraction",
) -> pd.DataFrame:
    """An NCPES ``table`` ("scores" or "frequencies") in its provisional layout, tidy.

    Scores: ``year, level, org_code, org_name, cancer_type, question, n_respondents,
    unadjusted_score, adjusted_score, expected_lower, expected_upper, reading`` ("above
    expected range" / "below expected range" / "within expected range": the adjusted score
    against the bounds; missing without both), ``suppressed, suppressed_reason, series``.
    Frequencies: the common columns, ``option, count, n_respondents, pct``, the suppression
    columns and ``series``. ``level`` is one of trust, icb, cancer_alliance, national.

    Shares are fractions 0-1; ``scale="percent"`` reads a file that gives 0-100. Raises
    :class:`~pxlib.errors.ColumnError` naming a missing column and
    :class:`~pxlib.errors.DataValidationError` naming columns and rows for an unknown level,
    a share outside 0-1, a negative count, text that is no number or a missing year.
    """
    if table not in _TABLES:
        raise DataValidationError(f"table must be 'scores' or 'frequencies', not {literal(table)}")
    if scale not in ("fraction", "percent"):
        raise DataValidationError(f"scale must be 'fraction' or 'percent', not {literal(scale)}")
    schema, shares, counts = _TABLES[table]
    path = Path(path)
    source = path.name
    note = (
        "The published NCPES layout is unconfirmed: pxlib reads a long table with the columns "
        f"{literals([c.name for c in schema.columns], 20)}"
    )
    frame = match_schema(read_published(path), schema, source, note)
    n = len(frame)
    years = survey_years(frame["year"], year, source, "read_ncpes")
    out = pd.DataFrame({"year": years, "level": _levels(frame, source)})
    for col in ("org_code", "org_name", "cancer_type", "question"):
        out[col] = _text(frame, col).to_numpy()
    blank = out["org_code"].isna() | out["question"].isna()
    if blank.any():
        rows = np.flatnonzero(blank.to_numpy())[:5] + 2
        raise DataValidationError(
            f"{source}: blank 'org_code' or 'question' in rows {literals(rows)}"
        )
    if table == "frequencies":
        out["option"] = _text(frame, "option").to_numpy()
    number, n_supp, n_reason = published_values(
        frame, counts, source, negative_suppressed=False, lower=0, what="counts"
    )
    divisor = 100.0 if scale == "percent" else 1.0
    share, s_supp, s_reason = published_values(
        frame, shares, source, negative_suppressed=False, lower=0, upper=divisor, what="shares"
    )
    for j, col in enumerate(counts):
        out[col] = number[:, j]
    for j, col in enumerate(shares):
        out[col] = share[:, j] / divisor
    if table == "scores":
        adjusted, lo, hi = out["adjusted_score"], out["expected_lower"], out["expected_upper"]
        reading = np.select(
            [adjusted > hi, adjusted < lo, adjusted.notna() & lo.notna() & hi.notna()],
            ["above expected range", "below expected range", "within expected range"],
            default="",
        )
        out["reading"] = pd.Series(reading, dtype=object).where(reading != "")
    # a row's reason: its first suppressed share, else its first suppressed count
    reasons = np.column_stack(
        [np.asarray(r, dtype=object).reshape(-1, n).T for r in (s_reason, n_reason)]
    )
    supp = np.column_stack([s_supp, n_supp])
    out["suppressed"] = supp.any(axis=1)
    out["suppressed_reason"] = np.where(
        out["suppressed"], reasons[np.arange(n), supp.argmax(axis=1)], None
    )
    out["series"] = [ncpes_series(int(y)) for y in out["year"]]
    return out


def _levels(frame: pd.DataFrame, source: str) -> np.ndarray:
    key = frame["level"].astype(str).str.lower().str.replace(r"[^a-z]", "", regex=True)
    level = key.map(NCPES_LEVELS)
    if level.isna().any():
        rows = np.flatnonzero(level.isna().to_numpy())[:5] + 2
        raise DataValidationError(
            f"{source}: 'level' in rows {literals(rows)} is not one of trust, ICB, Cancer "
            "Alliance or national"
        )
    return level.to_numpy(dtype=object)
