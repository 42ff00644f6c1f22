"""One question's answers in one organisation, weighted once: the designs the measures read.

Each unit is raked only to the margins of its own eligible patients
(``describes=eligible``), never to the catchment population; a unit without usable
margins stays unweighted, with the reason recorded (:mod:`pxlib.workbook.measures`
explains why). The scored answers and designs are cached on the data object and
shared by objects with equal tables (:mod:`pxlib.workbook.measure_cache`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pxlib.errors import ColumnError, WeightingWarning
from pxlib.workbook.measure_cache import cache_entry, remembered

if TYPE_CHECKING:
    from pxlib.data.folder import WorkbookData
    from pxlib.survey.summaries import WeightedDesign

ELIGIBLE, CATCHMENT = "eligible", "catchment"


def margins_dict(margins: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The margins table (``variable``, ``level``, ``population``) as {variable: {level: total}}."""
    if margins is None or len(margins) == 0:
        return {}
    missing = [c for c in ("variable", "level", "population") if c not in margins.columns]
    if missing:
        raise ColumnError(f"the margins table has no column(s) {missing}")
    out: dict[str, dict[str, float]] = {}
    for var, level, pop in margins[["variable", "level", "population"]].itertuples(index=False):
        out.setdefault(str(var), {})[str(level)] = float(pop)
    return out


def _has_unit(margins: pd.DataFrame) -> pd.Series:
    if "unit" not in margins.columns:
        return pd.Series(False, index=margins.index)
    unit = margins["unit"]
    return unit.notna() & (unit.astype(str).str.strip() != "")


def _describes(margins: pd.DataFrame) -> pd.Series:
    """What each row describes; a missing or blank ``describes`` means catchment."""
    if "describes" not in margins.columns:
        return pd.Series(CATCHMENT, index=margins.index)
    d = margins["describes"].astype("string").str.strip().str.lower()
    return d.fillna(CATCHMENT).replace("", CATCHMENT)


def eligible_margins(margins: pd.DataFrame | None) -> pd.DataFrame:
    """The margins rows that count a unit's eligible patients (``describes=eligible``, a unit)."""
    if margins is None or len(margins) == 0:
        return pd.DataFrame(columns=["org_code", "unit", "variable", "level", "population"])
    return margins[(_describes(margins) == ELIGIBLE) & _has_unit(margins)]


def catchment_margins(margins: pd.DataFrame | None) -> pd.DataFrame:
    """The margins rows of an organisation's catchment population (no unit; not eligible).

    For comparing with national population surveys (e.g. the GP Patient Survey),
    never for weighting a unit's Always Event measures.
    """
    if margins is None or len(margins) == 0:
        return pd.DataFrame(columns=["org_code", "variable", "level", "population"])
    return margins[(_describes(margins) != ELIGIBLE) & ~_has_unit(margins)]


def scored_with_sites(
    data: WorkbookData,
    measure_type: str | None = "outcome",
    question_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """``data.scored(...)`` with the unit's ``site_code`` and ``site_name`` added (from units.csv)."""
    scored = data.scored(measure_type=measure_type, question_ids=question_ids)
    units = getattr(data, "units", None)
    if units is not None and len(units) and {"unit", "site_code"} <= set(units.columns):
        cols = [c for c in ("unit", "site_code", "site_name") if c in units.columns]
        scored = scored.merge(units[cols].drop_duplicates("unit"), on="unit", how="left")
    return scored


# --- the design, made once ----------------------------------------------------------------


@dataclass(frozen=True)
class MeasureDesign:
    """One question's answers in one organisation, weighted once over all weeks.

    ``weighted``: each unit raked to its own eligible margins (units without
    usable margins keep weight 1); ``unweighted``: every weight 1. Both are
    :class:`pxlib.survey.summaries.WeightedDesign` with strata = units, read
    with :func:`pxlib.survey.summaries.domain_shares`. ``units``: one row per
    unit: ``org_code``, ``unit``, ``n_rows``, ``weighted``, ``variables`` (the
    margins used), ``reason`` (why not weighted, when not).
    """

    question_id: str
    weighted: WeightedDesign
    unweighted: WeightedDesign
    units: pd.DataFrame


def scored_answers(
    data: WorkbookData, measure_type: str | None, question_ids: Sequence[str] | None
) -> pd.DataFrame:
    """:func:`scored_with_sites`, cached on ``data`` per choice of questions."""
    key = (None, tuple(question_ids)) if question_ids is not None else (measure_type, None)
    entry = cache_entry(data)
    if key not in entry["scored"]:
        entry["scored"][key] = remembered(
            entry, ("scored", key), lambda: scored_with_sites(data, measure_type, question_ids)
        )
    return entry["scored"][key]


def _org_word(data) -> str:
    org = getattr(data, "organisation", None)
    kind = str(org.get("org_type", "")) if org is not None else ""
    return {"trust": "trust", "gp_practice": "practice"}.get(kind, "organisation")


def _not_weighted_reason(data) -> str:
    if len(catchment_margins(getattr(data, "margins", None))):
        return (
            f"the margins describe the {_org_word(data)}'s catchment population, "
            "not the patients leaving each unit"
        )
    return "there are no margins of the units' eligible patients"


REJECTED_MARGINS_REASON = (
    "its margins rows were rejected when the data were checked "
    "(pxlib validate lists each one with its reason)"
)


def _units_with_rejected_margins(data) -> set[str]:
    """Units of which a margins row was set aside by validation (their weighting is not used)."""
    rejected = getattr(data, "rejected", None)
    if rejected is None or rejected.empty or "unit" not in rejected.columns:
        return set()
    from_margins = rejected["file"].astype(str).str.contains("margins", case=False)
    return set(rejected.loc[from_margins, "unit"].astype(str).str.strip()) - {""}


def measure_design(data: WorkbookData, question_id: str) -> MeasureDesign:
    """The weighted and unweighted designs of one question (cached on ``data``).

    The question's answers over every week, one row per respondent; each unit
    raked to its ``describes=eligible`` margins (age band, sex, ... as the margins
    give them) with :func:`pxlib.survey.summaries.build_design` (``unit_col``,
    ``scale="respondents"``). Problems leave a unit unweighted with a
    :class:`pxlib.errors.WeightingWarning`, never an exception.
    """
    return design_for(data, question_id, None)


def design_for(data: WorkbookData, question_id: str, scored: pd.DataFrame | None) -> MeasureDesign:
    """:func:`measure_design`, taking the question's rows from ``scored`` when given."""
    entry = cache_entry(data)
    cached = entry["designs"].get(question_id)
    if cached is not None:
        return cached
    if scored is None:
        scored = scored_answers(data, None, (question_id,))
    eligible = eligible_margins(getattr(data, "margins", None))
    weighted, unweighted = remembered(
        entry, ("designs", question_id), lambda: _designs(scored, question_id, eligible)
    )
    if weighted is None:
        weighted = unweighted
        warn_catchment_only(data, entry, stacklevel=4)
    units = weighted.groups.copy()
    units["reason"] = np.where(
        units["weighted"],
        "",
        np.where(units["reason"].eq("no margins"), _not_weighted_reason(data), units["reason"]),
    )
    if len(eligible):
        with_margins = set(eligible["unit"].astype(str))
        lacking = ~units["weighted"] & ~units["unit"].astype(str).isin(with_margins)
        units.loc[lacking, "reason"] = "no margins of the unit's eligible patients"
    refused = _units_with_rejected_margins(data)
    set_aside = ~units["weighted"] & units["unit"].astype(str).isin(refused)
    units.loc[set_aside, "reason"] = REJECTED_MARGINS_REASON
    md = MeasureDesign(question_id, weighted, unweighted, units.reset_index(drop=True))
    entry["designs"][question_id] = md
    return md


def warn_catchment_only(data: WorkbookData, entry: dict, stacklevel: int) -> None:
    """Once per data object: margins of the catchment only leave the measures unweighted."""
    if entry["warned"] or len(eligible_margins(getattr(data, "margins", None))):
        return
    if len(catchment_margins(getattr(data, "margins", None))):
        entry["warned"] = True
        warnings.warn(
            f"{getattr(data, 'trust_code', None) or 'the data'}: the margins describe the "
            "catchment population, not the patients of each unit, so the Always Event "
            "measures are not weighted (add describes=eligible margins per unit)",
            WeightingWarning,
            stacklevel=stacklevel,
        )


def _designs(
    scored: pd.DataFrame, question_id: str, eligible: pd.DataFrame
) -> tuple[WeightedDesign | None, WeightedDesign]:
    """One question's designs: raked to the units' eligible margins (None without any), and unweighted."""
    from pxlib.survey.summaries import build_design

    rows = scored[scored["question_id"] == question_id].reset_index(drop=True)
    unweighted = build_design(rows, None, unit_col="unit")
    if not len(eligible):
        return None, unweighted
    return build_design(rows, eligible, unit_col="unit", scale="respondents"), unweighted


def chosen_questions(scored: pd.DataFrame) -> list[str]:
    return sorted(scored["question_id"].dropna().unique())
