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
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pxlib.errors import ChartWarning, ColumnError, DataValidationError
from pxlib.workbook.measure_cache import cache_entry, remembered
from pxlib.workbook.measure_design import (  # noqa: F401 (importable from here, as before)
    CATCHMENT,
    ELIGIBLE,
    REJECTED_MARGINS_REASON,
    MeasureDesign,
    catchment_margins,
    chosen_questions,
    design_for,
    eligible_margins,
    margins_dict,
    measure_design,
    scored_answers,
    scored_with_sites,
    warn_catchment_only,
)

if TYPE_CHECKING:
    from datetime import date

    from pxlib.data.folder import WorkbookData
    from pxlib.spc.result import SPCResult

WEEK = pd.Timedelta(days=7)
POPULATION_USED = {True: "eligible patients of the unit", False: "none"}
SHARE_COLUMNS = ["n_respondents", "n_happened", "share", "ci_low", "ci_high", "ess", "weighted"]


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
    data: WorkbookData,
    *,
    measure_type: str | None = "outcome",
    question_ids: Sequence[str] | None = None,
    by: Sequence[str] = ("unit", "week"),
    weighted: bool = True,
    start: str | date | None = None,
    end: str | date | None = None,
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
    scored = scored_answers(data, measure_type, question_ids)
    chosen = chosen_questions(scored)
    by = list(by)
    if len(chosen) > 1 and "question_id" not in by:
        by = ["question_id", *by]
    missing = [c for c in by if c not in scored.columns]
    if missing:
        raise ColumnError(f"the scored responses have no column(s) {missing}")
    entry = cache_entry(data)
    if chosen:
        warn_catchment_only(data, entry, stacklevel=3)
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
        md = design_for(data, qid, scored)
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
    data: WorkbookData,
    measure_type: str | None = "outcome",
    *,
    question_ids: Sequence[str] | None = None,
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

    scored = scored_answers(data, measure_type, question_ids)
    chosen = chosen_questions(scored)
    frames = []
    for qid in chosen:
        md = design_for(data, qid, scored)
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
    phases: Sequence[Any] | dict | str | None = None,
    freeze: int | None = None,
    target: float | None = None,
    improvement: str = "increase",
    rules: str | Sequence[str] | None = None,
    y_label: str = "Patients for whom it happened (%)",
    x: str = "week",
    limits: str = "auto",
) -> SPCResult:
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
