"""Load and validate the workbook's input files (CSV or Excel).

Every loader returns a :class:`LoadResult`: the valid rows as a tidy DataFrame
and a table of every rejected row with the file, row number, column and reason.
Nothing is dropped silently. With ``strict=True`` a loader raises
:class:`pxlib.errors.DataValidationError` instead when any row is rejected.

Row numbers are those a person sees in a spreadsheet: the header is row 1, the
first data row is row 2. Error messages never quote answers or comments.

The generic steps live in their own modules and are re-exported here:
:mod:`pxlib.data.reading` (reading files as text), :mod:`pxlib.data.normalise`
(codes, names, dates and numbers) and :mod:`pxlib.data.validation` (schema and
column checks, :class:`LoadResult`). This module holds one loader per input file
and the checks that belong to one file only.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from pxlib.data.normalise import (
    MONTHS,
    after_as_of,
    as_of_date,
    fft_period_start,
    iso_week_start,
    normalise_answer,
    normalise_choice,
    normalise_code,
    normalise_name,
    parse_dates,
    parse_numbers,
)
from pxlib.data.reading import (
    EXCEL_SUFFIXES,
    OTHER_DELIMITERS,
    RESAVE,
    TEXT_SUFFIXES,
    DataWarning,
    decode_text,
    read_table,
    sniff_delimiter,
)
from pxlib.data.schemas import (
    FFT,
    FFT_ANSWER_COLUMNS,
    GPPS,
    GPPS_SUPPRESSED,
    MARGINS,
    ORGANISATIONS,
    PDSA_LOG,
    QUESTION_BANK,
    RESPONSES,
    UNITS,
)
from pxlib.data.validation import (
    FIRST_DATA_ROW,
    REJECTED_COLUMNS,
    LoadResult,
    RowIssues,
    TableLoad,
    check_known_units,
    file_has_column,
    load_table,
    match_columns,
    pairs_in,
)

__all__ = [
    "EXCEL_SUFFIXES",
    "FIRST_DATA_ROW",
    "MARGIN_TOLERANCE",
    "MONTHS",
    "OTHER_DELIMITERS",
    "REJECTED_COLUMNS",
    "RESAVE",
    "TEXT_SUFFIXES",
    "DataWarning",
    "LoadResult",
    "as_of_date",
    "decode_text",
    "fft_period_start",
    "iso_week_start",
    "load_fft",
    "load_gpps",
    "load_margins",
    "load_organisations",
    "load_pdsa_log",
    "load_question_bank",
    "load_responses",
    "load_units",
    "match_columns",
    "normalise_answer",
    "normalise_choice",
    "normalise_code",
    "normalise_name",
    "parse_dates",
    "parse_numbers",
    "read_table",
    "sniff_delimiter",
]

#: margins of one group whose variable totals differ by more than this share are rejected
MARGIN_TOLERANCE = 0.01


def load_organisations(path: str | Path | pd.DataFrame, *, strict: bool = False) -> LoadResult:
    """Organisations: ``org_code``, ``org_name``, ``org_type`` (trust, gp_practice,
    other_provider), ``parent_code`` (ICB), ``catchment_of`` (for a GP practice, its trust)."""
    return load_table(path, ORGANISATIONS, strict=strict)


def load_units(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    strict: bool = False,
) -> LoadResult:
    """Units of each organisation (``org_code``, ``unit``, ``site_code``, ``site_name``)."""
    return load_table(path, UNITS, strict=strict, organisations=organisations)


def load_question_bank(path: str | Path | pd.DataFrame, *, strict: bool = False) -> LoadResult:
    """Question bank: one row per question and answer option (``counts_as`` is
    happened / not_happened / excluded; an empty ``answer`` row scores blank answers)."""
    return load_table(path, QUESTION_BANK, strict=strict, checks=[_one_question_per_id])


def _one_question_per_id(load: TableLoad) -> None:
    """Adds ``answer_key``; rejects a question whose rows differ in wording, type or scale."""
    conv = load.conv
    conv["answer"] = conv["answer"].fillna("")
    conv["answer_key"] = normalise_answer(conv["answer"])
    per_question = conv.groupby("question_id")[["wording", "measure_type", "scale"]].nunique()
    inconsistent = per_question.index[(per_question > 1).any(axis=1)]
    load.issues.add(
        conv["question_id"].isin(inconsistent),
        "question_id",
        "question has different wording, measure type or scale on different rows",
    )


def load_responses(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    question_bank: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    strict: bool = False,
    as_of: str | date | None = None,
) -> LoadResult:
    """Always Event survey responses, one row per answer.

    Checks: dates parse and are not after ``as_of`` (default today); response ids are unique; organisation codes are known
    (when ``organisations`` is given); units belong to their organisation (when
    ``units`` is given); the question exists and the answer is on its scale (when
    ``question_bank`` is given); a respondent answers each question once.
    Adds ``week``: the Monday starting the ISO week of ``response_date``.
    """

    def answers_on_scale(load: TableLoad) -> None:
        conv, issues = load.conv, load.issues
        conv["answer"] = conv["answer"].fillna("")
        if question_bank is not None:
            known_q = set(question_bank["question_id"])
            unknown_q = ~conv["question_id"].isin(known_q)
            issues.add(
                unknown_q,
                "question_id",
                "unknown question '"
                + conv["question_id"].astype(str)
                + "' (not in the question bank)",
            )
            answer_key = normalise_answer(conv["answer"])
            on_scale = pairs_in(
                conv["question_id"],
                answer_key,
                question_bank["question_id"],
                question_bank["answer_key"],
            )
            off_scale = ~on_scale & ~unknown_q & (answer_key != "")
            scale = conv["question_id"].map(
                question_bank.drop_duplicates("question_id").set_index("question_id")["scale"]
            )
            issues.add(
                off_scale,
                "answer",
                "answer is not on the scale '"
                + scale.astype(str)
                + "' of question "
                + conv["question_id"].astype(str),
            )
        twice = conv.duplicated(["respondent_id", "question_id"], keep="first") & ~conv.duplicated(
            "response_id", keep=False
        )
        issues.add(
            twice, "respondent_id, question_id", "respondent answered this question more than once"
        )
        conv["week"] = iso_week_start(conv["response_date"])

    return load_table(
        path,
        RESPONSES,
        strict=strict,
        as_of=as_of,
        organisations=organisations,
        units=units,
        checks=[answers_on_scale],
    )


def load_pdsa_log(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    change_ideas: pd.DataFrame | None = None,
    measures: set[str] | None = None,
    strict: bool = False,
    as_of: str | date | None = None,
) -> LoadResult:
    """PDSA log: one row per cycle; ``end_date`` may be empty for a cycle under way.

    Start and end dates must not be after ``as_of`` (default today). Given
    ``change_ideas`` (driver-diagram rows: ``org_code``, ``node_id``), a
    ``change_idea_id`` must be one of its organisation's; given ``measures`` (question
    and audit measure ids), a ``prediction_measure`` must be one of them. A predicted
    value is stored as a fraction (85 and 0.85 both mean 85 %)."""

    def cycles_known(load: TableLoad) -> None:
        conv, issues = load.conv, load.issues
        if change_ideas is not None and not change_ideas.empty:
            known = pairs_in(
                conv["org_code"],
                conv["change_idea_id"],
                change_ideas["org_code"],
                change_ideas["node_id"],
            )
            issues.add(
                conv["change_idea_id"].notna() & ~known,
                "change_idea_id",
                "change idea '"
                + conv["change_idea_id"].astype(str)
                + "' is not a change idea of this organisation in the driver diagram",
            )
        if measures is not None:
            issues.add(
                conv["prediction_measure"].notna() & ~conv["prediction_measure"].isin(measures),
                "prediction_measure",
                "measure '"
                + conv["prediction_measure"].astype(str)
                + "' is neither a question in the question bank nor an audit measure",
            )
        issues.add(
            conv["end_date"] < conv["start_date"], "end_date", "end date is before the start date"
        )
        conv["prediction_value"], conv["prediction_comparison"] = _predictions(conv, issues)

    return load_table(
        path,
        PDSA_LOG,
        strict=strict,
        as_of=as_of,
        organisations=organisations,
        checks=[cycles_known],
    )


def _predictions(conv: pd.DataFrame, issues: RowIssues) -> tuple[pd.Series, pd.Series]:
    """Predicted shares as fractions (85 and 0.85 both mean 85 %), and their comparison.

    A value above 1 is read as a percentage; above 100 it is rejected, as is a
    value without ``prediction_measure`` (a prediction must say what it is about).
    """
    value = conv["prediction_value"]
    issues.add(value > 100, "prediction_value", "prediction_value is above 100 %")
    issues.add(
        value.notna() & conv["prediction_measure"].isna(),
        "prediction_measure",
        "prediction_value is given but prediction_measure (the question or audit measure "
        "it predicts) is empty",
    )
    share = value.where(value <= 1, value / 100)
    comparison = conv["prediction_comparison"].where(
        conv["prediction_comparison"].notna() | value.isna(), "at_least"
    )
    return share, comparison


def load_margins(
    path: str | Path | pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    strict: bool = False,
) -> LoadResult:
    """Population margins: ``org_code``, ``unit``, ``describes``, ``variable``, ``level``,
    ``population`` (a count ≥ 0).

    ``describes`` says which population a row counts: ``eligible`` (a unit's eligible
    patients, e.g. its discharges by age band and sex: the margins that weight that
    unit's Always Event measures) or ``catchment`` (the organisation's catchment
    population, unit blank: only for comparing with national population surveys).
    A blank ``describes``, or a file without the column, means ``catchment`` (the
    meaning margins had before the column existed); a note says so. Checks: an
    ``eligible`` row names a unit, and (when ``units`` is given) a unit of its
    organisation in the units file; a ``catchment`` row names no unit; organisation,
    unit, variable and level are unique together. ``unit`` is missing on
    organisation-level rows.

    Levels are kept as text, never numbers (deprivation quintile "1" is a category).
    """

    def margins_consistent(load: TableLoad) -> None:
        conv, issues = load.conv, load.issues
        if not file_has_column(load.frame, MARGINS.column("describes")):
            load.notes.append(
                f"{load.source}: no 'describes' column, so every margin is taken to describe the "
                "organisation's catchment population (the old meaning): such margins are not used "
                "to weight a unit's Always Event measures; add describes=eligible rows with the "
                "unit's eligible patients to weight them"
            )
        conv["describes"] = conv["describes"].fillna("catchment")
        has_unit = conv["unit"].notna()
        eligible = conv["describes"] == "eligible"
        issues.add(
            eligible & ~has_unit,
            "unit",
            "an eligible margin needs the unit whose eligible patients it counts",
        )
        issues.add(
            has_unit & (conv["describes"] == "catchment"),
            "describes",
            "unit '" + conv["unit"].astype(str) + "' given but describes is catchment (or "
            "blank): a catchment margin is the whole organisation's, so leave unit blank, "
            "or mark the unit's eligible patients describes=eligible",
        )
        check_known_units(conv, units, issues)
        _reject_unequal_margin_totals(conv, issues)

    return load_table(
        path, MARGINS, strict=strict, organisations=organisations, checks=[margins_consistent]
    )


def _reject_unequal_margin_totals(conv: pd.DataFrame, issues: RowIssues) -> None:
    """Reject every row of an (org, unit, describes) group whose variables add up to
    different totals (relative spread above :data:`MARGIN_TOLERANCE`).

    Rows already rejected are left out of the totals first, so a rejected row never
    leaves a lopsided group behind.
    """
    group = ["org_code", "unit", "describes"]
    keyed = conv.assign(unit=conv["unit"].fillna(""))
    valid = np.ones(len(conv), dtype=bool)
    valid[issues.bad_positions()] = False
    if not valid.any():
        return
    totals = keyed[valid].groupby([*group, "variable"])["population"].sum().unstack()
    spread = (totals.max(axis=1) - totals.min(axis=1)) / totals.max(axis=1)
    for org, unit, describes in spread.index[spread > MARGIN_TOLERANCE]:
        in_group = (
            (keyed["org_code"] == org) & (keyed["unit"] == unit) & (keyed["describes"] == describes)
        )
        values = totals.xs((org, unit, describes)).dropna().items()
        where = f"{org} {unit}".strip()
        reason = (
            f"the {describes} margins of {where} add up to different totals by variable "
            f"({', '.join(f'{v}: {t:,.0f}' for v, t in values)}"
            + (", counting rows not otherwise rejected" if (in_group & ~valid).any() else "")
            + "); every variable must count the same population, so the group is set aside "
            "and not used for weighting"
        )
        issues.add(in_group & valid, "population", reason)


def load_fft(
    path: str | Path | pd.DataFrame, *, strict: bool = False, as_of: str | date | None = None
) -> LoadResult:
    """Friends and Family Test monthly extract in the published layout.

    Adds ``period`` (month start), ``pct_positive`` = (very good + good) / total and
    ``pct_negative`` = (poor + very poor) / total. Checks counts are whole and
    non-negative, that ``Total Responses`` is the sum of the six answer counts, and
    that the month has begun by ``as_of`` (default today).
    """
    as_of = as_of_date(as_of)

    def months_and_totals(load: TableLoad) -> None:
        conv, issues = load.conv, load.issues
        period, bad_period = fft_period_start(conv["Yearnumber"], conv["Periodname"])
        issues.add(
            bad_period,
            "Yearnumber, Periodname",
            "year '"
            + conv["Yearnumber"].astype(str)
            + "' or month '"
            + conv["Periodname"].astype(str)
            + "' not recognised (expected e.g. 2025_26 and AUGUST)",
        )
        later, reasons = after_as_of(period, as_of, what="month", fmt="%Y-%m")
        issues.add(later, "Yearnumber, Periodname", reasons)
        conv["period"] = period
        answer_sum = conv[list(FFT_ANSWER_COLUMNS)].sum(axis=1)
        issues.add(
            (answer_sum != conv["Total Responses"]) & conv["Total Responses"].notna(),
            "Total Responses",
            "Total Responses is not the sum of the six answer columns",
        )
        total = conv["Total Responses"].where(conv["Total Responses"] > 0)
        conv["pct_positive"] = (conv["1 Very Good SUM"] + conv["2 Good SUM"]) / total
        conv["pct_negative"] = (conv["4 Poor SUM"] + conv["5 Very Poor SUM"]) / total

    return load_table(path, FFT, strict=strict, as_of=as_of, checks=[months_and_totals])


def load_gpps(path: str | Path | pd.DataFrame, *, strict: bool = False) -> LoadResult:
    """GP Patient Survey practice results.

    Question columns (``qNNbase``, ``qNN_XXpct``) are read as numbers; -97 means
    suppressed and becomes missing, with a ``<column>_suppressed`` flag beside it.
    Percentages must be in 0 to 1 and bases ≥ 0.
    """

    def questions_as_numbers(load: TableLoad) -> None:
        conv, issues = load.conv, load.issues
        question_cols = [c for c in conv.columns if re.match(GPPS.extra_pattern, str(c))]
        for col in question_cols:
            values, not_number = parse_numbers(conv[col])
            issues.add(not_number, col, f"{col} is not a number")
            suppressed = values == GPPS_SUPPRESSED
            clean = values.where(~suppressed)
            limit_bad = (clean < 0) | ((clean > 1) if col.endswith("pct") else False)
            issues.add(
                limit_bad,
                col,
                f"{col} is outside 0 to 1" if col.endswith("pct") else f"negative value in {col}",
            )
            conv[col] = clean.astype(float)
            conv[f"{col}_suppressed"] = suppressed
        if not question_cols:
            load.notes.append(f"{load.source}: no question columns (qNNbase, qNN_XXpct) found")

    return load_table(path, GPPS, strict=strict, checks=[questions_as_numbers])
