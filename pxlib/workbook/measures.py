"""The workbook's measures: weekly shares per unit, PDSA phases, charts.

The thin glue between :mod:`pxlib.data`, the weighting and survey modules and
:func:`pxlib.spc.chart` that every notebook needs, so that notebook cells only
name what they want:

- :func:`weekly_share`: per unit and week, the share of patients for whom the
  Always Event happened, each unit weighted to **its own eligible patients**
  (``describes=eligible`` margins), with the effective sample size and a 95 %
  interval;
- :func:`weighting_summary` and :func:`weighting_note`: what weighting did to
  each unit, as a table and as a sentence for the report;
- :func:`adopted_phase_starts`: a new chart phase from the first week after each
  adopted PDSA cycle's end date;
- :func:`measure_chart`: the p chart (or run chart) of those shares, in percent.

Weighting (:func:`measure_design`). An Always Event aim is about the patients
of a unit ("95 % of patients leaving the ward"), so a unit's answers are raked
only to the margins of that unit's eligible patients (e.g. its discharges by age
band and sex), each unit on its own; the organisation's catchment population
(``describes=catchment``) is never used for a unit measure (it is for comparing
with national population surveys, :func:`pxlib.survey.always_event_share`). A
unit without eligible margins, or whose margins cannot be used, stays unweighted
(``weighted=False``, with a :class:`pxlib.errors.WeightingWarning`). Each unit's
weights are scaled to average 1 over its respondents (the margins are used as
shares), so a figure pooling several units (an organisation's weekly share, a
share by age band) counts each unit by its respondents whether it is weighted or
not, with each unit's own age and sex mix put right.

The weights of one organisation and one question are made **once over all its
weeks**; every unit-week, window (``start``/``end``) and group is a domain
estimate of that one design, so a unit-week has the same value whichever weeks
are shown. The design is cached on the :class:`pxlib.data.WorkbookData` object
(keyed on its ``responses``, ``question_bank``, ``margins`` and ``units`` tables:
assigning a new table rebuilds it; change tables by assignment, not in place) and
shared with objects whose tables have the same contents
(:mod:`pxlib.workbook.measure_cache`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pxlib.errors import ChartWarning, ColumnError, DataValidationError, WeightingWarning
from pxlib.workbook.measure_cache import cache_entry, remembered

if TYPE_CHECKING:
    from pxlib.survey.summaries import WeightedDesign

WEEK = pd.Timedelta(days=7)
ELIGIBLE, CATCHMENT = "eligible", "catchment"
POPULATION_USED = {True: "eligible patients of the unit", False: "none"}
SHARE_COLUMNS = ["n_respondents", "n_happened", "share", "ci_low", "ci_high", "ess", "weighted"]


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
    data, measure_type: str | None = "outcome", question_ids: Sequence[str] | None = None
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


def _scored(data, measure_type, question_ids) -> pd.DataFrame:
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


def measure_design(data, question_id: str) -> MeasureDesign:
    """The weighted and unweighted designs of one question (cached on ``data``).

    The question's answers over every week, one row per respondent; each unit
    raked to its ``describes=eligible`` margins (age band, sex, ... as the margins
    give them) with :func:`pxlib.survey.summaries.build_design` (``unit_col``,
    ``scale="respondents"``). Problems leave a unit unweighted with a
    :class:`pxlib.errors.WeightingWarning`, never an exception.
    """
    return _measure_design(data, question_id, None)


def _measure_design(data, question_id: str, scored: pd.DataFrame | None) -> MeasureDesign:
    """:func:`measure_design`, taking the question's rows from ``scored`` when given."""
    entry = cache_entry(data)
    cached = entry["designs"].get(question_id)
    if cached is not None:
        return cached
    if scored is None:
        scored = _scored(data, None, (question_id,))
    eligible = eligible_margins(getattr(data, "margins", None))
    weighted, unweighted = remembered(
        entry, ("designs", question_id), lambda: _designs(scored, question_id, eligible)
    )
    if weighted is None:
        weighted = unweighted
        _warn_catchment_only(data, entry, stacklevel=4)
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


def _warn_catchment_only(data, entry: dict, stacklevel: int) -> None:
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


def _chosen_questions(scored: pd.DataFrame) -> list[str]:
    return sorted(scored["question_id"].dropna().unique())


def _window(weeks: pd.Series, start, end) -> np.ndarray | None:
    if start is None and end is None:
        return None
    keep = np.ones(len(weeks), dtype=bool)
    if start is not None:
        keep &= (weeks >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        keep &= (weeks <= pd.Timestamp(end)).to_numpy()
    return keep


def weekly_share(
    data,
    *,
    measure_type: str | None = "outcome",
    question_ids: Sequence[str] | None = None,
    by: Sequence[str] = ("unit", "week"),
    weighted: bool = True,
    start=None,
    end=None,
) -> pd.DataFrame:
    """Per ``by`` group (unit and week by default): the share for whom it happened.

    ``data`` is a :class:`pxlib.data.WorkbookData`. ``by`` may name any column of
    the scored responses (``unit``, ``week``, ``age_band``, ...) and the unit's
    ``site_code``/``site_name``; ``start``/``end`` keep answers in those weeks
    (a domain of the whole period's design, never a re-weighting of the window).
    Columns: the ``by`` columns (plus ``question_id`` when several questions are
    chosen), ``n_respondents`` (answers counted: don't-know and blank answers
    leave the denominator), ``n_happened``, ``share`` (with ``weighted``, each
    unit weighted to its own eligible patients, see the module docstring;
    :func:`measure_design`), ``ci_low``, ``ci_high`` (95 % Wilson on the
    effective sample size, t quantiles), ``ess`` (Kish effective sample size),
    ``weighted`` (every answer of the group weighted), and ``y`` = share × ess,
    ``n`` = ess for a p chart.
    """
    scored = _scored(data, measure_type, question_ids)
    chosen = _chosen_questions(scored)
    by = list(by)
    if len(chosen) > 1 and "question_id" not in by:
        by = ["question_id", *by]
    missing = [c for c in by if c not in scored.columns]
    if missing:
        raise ColumnError(f"the scored responses have no column(s) {missing}")
    entry = cache_entry(data)
    if chosen:
        _warn_catchment_only(data, entry, stacklevel=3)
    choice = (measure_type, None if question_ids is None else tuple(question_ids))
    key = ("weekly_share", choice, tuple(by), bool(weighted), repr(start), repr(end))
    return remembered(
        entry, key, lambda: _weekly_share(data, scored, chosen, by, weighted, start, end)
    )


def _weekly_share(
    data, scored: pd.DataFrame, chosen: list[str], by: list[str], weighted: bool, start, end
) -> pd.DataFrame:
    """:func:`weekly_share` of the scored answers of the ``chosen`` questions."""
    from pxlib.survey.summaries import domain_shares

    frames = []
    for qid in chosen:
        md = _measure_design(data, qid, scored)
        wd = md.weighted if weighted else md.unweighted
        within = _window(wd.data["week"], start, end)
        frames.append(domain_shares(wd, "happened", by, within=within).drop(columns="se"))
    frames = [f for f in frames if len(f)]
    if not frames:
        empty = pd.DataFrame(columns=[*by, *SHARE_COLUMNS, "y", "n"])
        kinds = {c: float for c in ("share", "ci_low", "ci_high", "ess", "y", "n")}
        return empty.astype({**kinds, "n_respondents": int, "n_happened": int, "weighted": bool})
    agg = pd.concat(frames, ignore_index=True)
    if len(frames) > 1:
        agg = agg.sort_values(by, kind="stable", ignore_index=True)
    agg = agg[[*by, *SHARE_COLUMNS]]
    agg["weighted"] = agg["weighted"].astype(bool) & weighted
    agg["n_happened"] = agg["n_happened"].astype(int)
    agg["y"] = agg["share"] * agg["ess"]
    agg["n"] = agg["ess"]
    return agg.reset_index(drop=True)


# --- what weighting did -------------------------------------------------------------------


def weighting_summary(
    data, measure_type: str | None = "outcome", *, question_ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """What weighting did to each unit over the whole period: one row per unit.

    Columns: ``org_code``, ``question_id`` (only when several questions are
    chosen), ``unit``, ``n_respondents`` (answers counted), ``unweighted_share``,
    ``weighted_share`` (NaN when the unit is not weighted), ``design_effect``
    (Kish, n·Σw²/(Σw)² over the unit's answers; 1 when not weighted), ``ess``
    (n / design effect), ``weighted``, ``population_used`` ("eligible patients of
    the unit" or "none"), ``variables`` (the margins used, e.g. "age_band, sex")
    and ``reason`` (why not weighted). :func:`weighting_note` puts it in words.
    """
    from pxlib.survey.summaries import domain_shares

    scored = _scored(data, measure_type, question_ids)
    chosen = _chosen_questions(scored)
    frames = []
    for qid in chosen:
        md = _measure_design(data, qid, scored)
        w = domain_shares(md.weighted, "happened", ["org_code", "unit"])
        u = domain_shares(md.unweighted, "happened", ["org_code", "unit"])
        info = md.units[["org_code", "unit", "variables", "reason"]]
        t = u[["org_code", "unit", "n_respondents", "share"]].rename(
            columns={"share": "unweighted_share"}
        )
        t["weighted_share"] = np.where(w["weighted"], w["share"], np.nan)
        t["ess"] = np.where(w["weighted"], w["ess"], u["ess"])
        with np.errstate(invalid="ignore", divide="ignore"):
            t["design_effect"] = np.where(t["ess"] > 0, t["n_respondents"] / t["ess"], np.nan)
        t["weighted"] = w["weighted"].to_numpy(bool)
        t["population_used"] = t["weighted"].map(POPULATION_USED)
        t = t.merge(info, on=["org_code", "unit"], how="left")
        t["variables"] = np.where(t["weighted"], t["variables"].fillna(""), "")
        t["reason"] = t["reason"].fillna("")
        if len(chosen) > 1:
            t.insert(1, "question_id", qid)
        frames.append(t)
    cols = [
        "org_code",
        *(["question_id"] if len(chosen) > 1 else []),
        "unit",
        "n_respondents",
        "unweighted_share",
        "weighted_share",
        "design_effect",
        "ess",
        "weighted",
        "population_used",
        "variables",
        "reason",
    ]
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def weighting_note(summary: pd.DataFrame) -> str:
    """One plain-English sentence per organisation about weighting, for the report.

    From :func:`weighting_summary`: e.g. "Weighted to each unit's eligible
    patients (age band, sex): Ash Ward 66 % weighted against 69 % unweighted,
    design effect 1.3." or "Not weighted: the margins describe the trust's
    catchment population, not the patients leaving each unit; the figures are the
    respondents' own answers." Sentences are joined by a space.
    """
    sentences = []
    for _, org in summary.groupby("org_code", sort=True):
        label = (
            org["unit"].astype(str) + " (" + org["question_id"].astype(str) + ")"
            if "question_id" in org.columns
            else org["unit"].astype(str)
        )
        done, left = org[org["weighted"]], org[~org["weighted"]]
        if done.empty:
            reasons = list(dict.fromkeys(left["reason"].astype(str)))
            why = (
                reasons[0]
                if len(reasons) == 1
                else "; ".join(
                    f"{lab}: {r}"
                    for lab, r in zip(label[~org["weighted"]], left["reason"], strict=True)
                )
            )
            sentences.append(f"Not weighted: {why}; the figures are the respondents' own answers.")
            continue
        variables = list(
            dict.fromkeys(
                v.strip()
                for vs in done["variables"].astype(str)
                for v in vs.split(",")
                if v.strip()
            )
        )
        parts = [
            f"{lab} {_pct(r.weighted_share)} weighted against {_pct(r.unweighted_share)} "
            f"unweighted, design effect {r.design_effect:.1f}"
            for lab, r in zip(label[org["weighted"]], done.itertuples(index=False), strict=True)
        ]
        parts += [
            f"{lab} not weighted ({r})"
            for lab, r in zip(label[~org["weighted"]], left["reason"], strict=True)
        ]
        names = ", ".join(v.replace("_", " ") for v in variables)
        sentences.append(
            f"Weighted to each unit's eligible patients ({names}): " + "; ".join(parts) + "."
        )
    return " ".join(sentences)


def adopted_phase_starts(
    pdsa_log: pd.DataFrame,
    weeks: pd.DataFrame | pd.Series | None = None,
    *,
    by: str = "unit",
    adopt: Sequence[str] = ("adopt",),
) -> dict:
    """Where new chart phases begin: the first week after each adopted PDSA cycle's end date.

    A cycle whose ``decision`` is ``adopt`` ends on ``end_date``; its change is in
    place from the Monday after the week holding that date (a cycle ending on a
    Friday 2 January starts the phase on Monday 5 January). With ``weeks`` (a
    table with ``by`` and ``week`` columns, e.g. from :func:`weekly_share`) each
    start moves to the unit's first charted week on or after it and starts
    after the unit's last week are dropped. Returns {unit: [week, ...]}, the form
    :func:`pxlib.spc.chart` takes as ``phases``. Cycles without an end date are
    still running and start nothing.
    """
    for col in (by, "end_date", "decision"):
        if col not in pdsa_log.columns:
            raise ColumnError(f"the PDSA log has no column {col!r}")
    wanted = {a.strip().lower() for a in adopt}
    log = pdsa_log[pdsa_log["decision"].astype("string").str.strip().str.lower().isin(wanted)]
    end = pd.to_datetime(log["end_date"], errors="coerce")
    log = log.assign(_end=end)[end.notna()]
    monday = log["_end"].dt.normalize() - pd.to_timedelta(log["_end"].dt.day_of_week, unit="D")
    log = log.assign(_start=monday + WEEK)
    grid = None
    if weeks is not None:
        grid = weeks[[by, "week"]] if isinstance(weeks, pd.DataFrame) else None
    out: dict = {}
    for unit, g in log.groupby(by, sort=True):
        starts = sorted(set(g["_start"]))
        if grid is not None:
            own = np.sort(pd.to_datetime(grid.loc[grid[by] == unit, "week"]).unique())
            if len(own) == 0:
                continue
            pos = np.searchsorted(own, np.asarray(starts, dtype="datetime64[ns]"), side="left")
            starts = sorted({pd.Timestamp(own[p]) for p in pos if 0 < p < len(own)})
        if starts:
            out[unit] = [pd.Timestamp(s) for s in starts]
    return out


def measure_chart(
    weekly: pd.DataFrame,
    *,
    kind: str = "p",
    by: str | Sequence[str] | None = "unit",
    phases=None,
    freeze: int | None = None,
    target: float | None = None,
    improvement: str = "increase",
    rules=None,
    y_label: str = "Patients for whom it happened (%)",
    x: str = "week",
    limits: str = "auto",
):
    """A chart of weekly shares in percent (``y``/``n`` from :func:`weekly_share`).

    ``kind`` "p" (control chart on the effective sample sizes; ``limits`` "auto"
    gives exact binomial limits where few failures are expected a week) or "run"
    (median centre line). ``target`` is a proportion (0.95) and is charted as 95 %. The
    engine's caveat warnings (trial limits, gaps) stay in ``summary['warning']``
    rather than being printed.
    """
    from pxlib.spc import chart

    y_col, n_col = "y", "n"
    missing = [c for c in (x, y_col, n_col) if c not in weekly.columns]
    if missing:
        raise ColumnError(
            f"the weekly table has no column(s) {missing}; make it with weekly_share()"
        )
    if weekly.empty:
        raise DataValidationError(
            "no weekly values to chart: the organisation has no survey answers"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChartWarning)
        return chart(
            weekly,
            x,
            y_col,
            n_col,
            kind=kind,
            by=by,
            phases=phases,
            freeze=freeze,
            multiply=100,
            improvement=improvement,
            target=None if target is None else 100 * target,
            rules=rules,
            y_label=y_label,
            **({"limits": limits} if kind == "p" else {}),
        )
