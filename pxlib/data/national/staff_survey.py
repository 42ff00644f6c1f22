"""NHS Staff Survey People Promise scores by organisation: :func:`read_staff_survey`.

What ``national-data.md`` section 4 confirms: since the 2021 survey results are reported as
the seven People Promise elements plus the themes staff engagement and morale, replacing ten
earlier themes; each is a **score out of 10**, the average of its question scores, shown
beside the benchmarking group's score [P-LPFT]; organisations are compared only with similar
organisations (benchmarking groups) [P-PICK; P-LPFT]; elements have sub-scores [P-NSSR].
The 2021 change of framework breaks trends.

**Unconfirmed: the published file layout** [P-NSSI]. So the reader takes one long table in
the provisional layout :data:`STAFF_SURVEY_SCHEMA` (one row per organisation, year and
element, sub-score or question; names matched ignoring case, spaces, hyphens and
underscores): a real file either has these columns or fails with a
:class:`~pxlib.errors.ColumnError` naming the column expected.

Element and theme names are recognised in the People Promise's wording
(:data:`PEOPLE_PROMISE_ELEMENTS`, :data:`STAFF_SURVEY_THEMES`); other rows (sub-scores,
questions) keep their published names with an empty ``element_type``.
"""

from __future__ import annotations

import re
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
    "PEOPLE_PROMISE_ELEMENTS",
    "STAFF_SURVEY_COLUMNS",
    "STAFF_SURVEY_SCHEMA",
    "STAFF_SURVEY_THEMES",
    "read_staff_survey",
]

#: the seven People Promise elements, in the People Promise's order and words
PEOPLE_PROMISE_ELEMENTS = (
    "We are compassionate and inclusive",
    "We are recognised and rewarded",
    "We each have a voice that counts",
    "We are safe and healthy",
    "We are always learning",
    "We work flexibly",
    "We are a team",
)
#: the two themes reported beside the elements
STAFF_SURVEY_THEMES = ("Staff engagement", "Morale")
#: the first survey year of the People Promise framework
FIRST_YEAR = 2021
SCORE_RANGE = (0.0, 10.0)

#: the provisional layout read (the published one is unconfirmed): one row per organisation,
#: year and element (or sub-score, or question)
STAFF_SURVEY_SCHEMA = Schema(
    name="NHS Staff Survey scores",
    description="People Promise element and theme scores (0-10) by organisation, long format.",
    columns=(
        Column("year", "count", required=False, aliases=("survey_year",)),
        Column("org_code", "code", aliases=("organisation_code",)),
        Column("org_name", "text", required=False, aliases=("organisation_name",)),
        Column("element", "text"),
        Column("score", "number"),
        Column("benchmark_score", "number", required=False),
        Column("benchmark_group", "text", required=False),
    ),
)
#: the columns of :func:`read_staff_survey`'s frame, in order
STAFF_SURVEY_COLUMNS = (
    "year",
    "org_code",
    "org_name",
    "element",
    "element_type",
    "score",
    "benchmark_score",
    "benchmark_group",
    "suppressed",
    "suppressed_reason",
    "series",
)
_LAYOUT_NOTE = (
    "The published NHS Staff Survey layout is unconfirmed: pxlib reads one long table with "
    f"the columns {literals(STAFF_SURVEY_SCHEMA.column_names, 7)} (year may be given as "
    "read_staff_survey(path, year=...))"
)


def _key(text: str) -> str:
    return re.sub(r"[^a-z]", "", str(text).lower())


_KNOWN = {_key(e): (e, "People Promise element") for e in PEOPLE_PROMISE_ELEMENTS} | {
    _key(t): (t, "theme") for t in STAFF_SURVEY_THEMES
}


def read_staff_survey(path: str | Path, year: int | None = None) -> pd.DataFrame:
    """People Promise element, theme (and sub-score or question) scores by organisation.

    Returns :data:`STAFF_SURVEY_COLUMNS`: ``year``, ``org_code``, ``org_name``, ``element`` (in
    the People Promise's words where recognised), ``element_type`` ("People Promise element",
    "theme" or ""), ``score`` and ``benchmark_score`` (0-10), ``benchmark_group``,
    ``suppressed`` and ``suppressed_reason`` (a ``*`` or ``-`` marker in the file) and
    ``series`` ("2021 onwards": the framework began with the 2021 survey).

    The year is the file's ``year`` column or ``year=``. Raises
    :class:`~pxlib.errors.ColumnError` naming a missing column and
    :class:`~pxlib.errors.DataValidationError` naming columns and rows for scores outside
    0-10, text that is no number, blank organisation codes or elements, and years before
    2021.
    """
    path = Path(path)
    source = path.name
    frame = match_schema(read_published(path), STAFF_SURVEY_SCHEMA, source, _LAYOUT_NOTE)
    n = len(frame)
    for col in ("org_code", "element"):
        blank = frame[col].astype(str).str.strip() == ""
        if blank.any():
            rows = np.flatnonzero(blank.to_numpy())[:5] + 2
            raise DataValidationError(f"{source}: blank {literal(col)} in rows {literals(rows)}")
    years = _check_years(survey_years(frame["year"], year, source, "read_staff_survey"), source)
    values, suppressed, reason = published_values(
        frame,
        ["score", "benchmark_score"],
        source,
        negative_suppressed=False,
        lower=SCORE_RANGE[0],
        upper=SCORE_RANGE[1],
        what="scores (out of 10)",
    )
    element = frame["element"].astype(str).str.strip().to_numpy(dtype=object)
    known = [_KNOWN.get(_key(e), (e, "")) for e in element]
    out = pd.DataFrame(
        {
            "year": years,
            "org_code": frame["org_code"].astype(str).str.strip().to_numpy(),
            "org_name": _text(frame["org_name"]),
            "element": [k[0] for k in known],
            "element_type": [k[1] for k in known],
            "score": values[:, 0],
            "benchmark_score": values[:, 1],
            "benchmark_group": _text(frame["benchmark_group"]),
            "suppressed": suppressed[:, 0],
            "suppressed_reason": np.asarray(reason[:n], dtype=object),
            "series": f"{FIRST_YEAR} onwards",
        },
        columns=list(STAFF_SURVEY_COLUMNS),
    )
    return out


def _text(column: pd.Series) -> np.ndarray:
    text = column.astype(str).str.strip()
    return text.where(text != "").to_numpy(dtype=object)


def _check_years(years: np.ndarray, source: str) -> np.ndarray:
    early = years < FIRST_YEAR
    if early.any():
        rows = np.flatnonzero(early)[:5] + 2
        raise DataValidationError(
            f"{source}: People Promise scores exist from the {FIRST_YEAR} survey; rows "
            f"{literals(rows)} have earlier years (the ten earlier themes are not read)"
        )
    return years
