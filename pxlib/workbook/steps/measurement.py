"""Notebook 03 (test and measure): weekly shares, baselines and phases, the chart, readings.

:func:`reliability` (weekly shares, frozen baselines and confirmed phases, the
chart and each unit's reading in one call, as a :class:`Reliability`),
:func:`read_weekly` (the same from any weekly table), :func:`plan_text`,
:func:`results_records` (the batch index's records), :func:`verdict_lines`,
:func:`family_chart` (process and balancing measures) and :func:`pdsa_table`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pxlib.disclosure import small_numbers
from pxlib.errors import DataValidationError
from pxlib.escape import md_text
from pxlib.workbook import baseline as _baseline
from pxlib.workbook import measures
from pxlib.workbook import reading as _reading

if TYPE_CHECKING:
    from datetime import date

    from pxlib.data.folder import WorkbookData
    from pxlib.spc.result import SPCResult
    from pxlib.workbook.baseline import PhasePlan


@dataclass
class Reliability:
    """Everything notebook 03 shows: weekly shares, the phase plan, the chart, the readings.

    ``readings`` (one row per unit, :func:`pxlib.workbook.reading.read_units`) is
    the one source of every verdict, caption and icon, and ``result`` is the
    chart made to agree with it (:func:`pxlib.workbook.reading.consistent_result`);
    ``verdicts`` is the same
    table under its older name, and ``phases`` the plan's {unit: [phase starts]}.
    """

    weekly: pd.DataFrame
    plan: _baseline.PhasePlan
    result: object
    readings: pd.DataFrame

    @property
    def verdicts(self) -> pd.DataFrame:
        return self.readings

    @property
    def phases(self) -> dict:
        return self.plan.phases


def reliability(
    data: WorkbookData,
    *,
    target: float | str = 0.95,
    kind: str = "p",
    rules: str | Sequence[str] | None = None,
    weighted: bool = True,
    measure_type: str = "outcome",
    units: Sequence[str] | None = None,
    start: str | date | None = None,
    end: str | date | None = None,
    improvement: str = "increase",
    phases: str = "confirmed",
    limits: str = "auto",
    min_respondents: int | None = None,
) -> Reliability:
    """Weekly shares per unit, baselines and confirmed phases, the chart and each unit's reading.

    ``target`` may be 0.95, 95 or "95%" (the chart is in percent). ``phases``:
    "confirmed" (an adopted cycle starts a phase only when the data confirm a
    sustained change against the frozen baseline, :mod:`pxlib.workbook.baseline`)
    or "adopted" (every adopted cycle starts a phase, as before). ``limits``:
    "auto" (exact binomial limits where few failures are expected a week),
    "exact" or "normal"; run charts have none. ``units`` limits the units.
    """
    weekly = measures.weekly_share(
        data, measure_type=measure_type, weighted=weighted, start=start, end=end
    )
    if units:
        weekly = weekly[weekly["unit"].isin(list(units))].reset_index(drop=True)
    if weekly.empty:
        who = data.trust_code or "the data"
        raise DataValidationError(
            f"{who}: no answers in the local survey (responses file) for the units and weeks "
            "chosen, so there is nothing to chart yet; collect answers with the form written by "
            "notebook 02, or check trust_code and data_dir"
        )
    plan, result, readings = read_weekly(
        weekly,
        data.pdsa_log,
        target=target,
        kind=kind,
        rules=rules,
        improvement=improvement,
        phases=phases,
        limits=limits,
        min_respondents=min_respondents,
    )
    return Reliability(weekly=weekly, plan=plan, result=result, readings=readings)


def read_weekly(
    weekly: pd.DataFrame,
    pdsa_log: pd.DataFrame | None,
    *,
    target: float | str | None = 0.95,
    kind: str = "p",
    rules: str | Sequence[str] | None = None,
    improvement: str = "increase",
    phases: str = "confirmed",
    limits: str = "auto",
    y_label: str = "Patients for whom it happened (%)",
    min_respondents: int | None = None,
) -> tuple[PhasePlan, SPCResult, pd.DataFrame]:
    """(plan, chart, readings) of a weekly table with ``unit``, ``week``, ``y``, ``n``
    (and ``n_respondents``, for the small-number rule).

    The baselines and phases (:func:`pxlib.workbook.baseline.plan_phases`), one
    chart of every unit, each unit's reading (:func:`pxlib.workbook.reading.read_units`)
    and the chart made to agree with the readings
    (:func:`pxlib.workbook.reading.consistent_result`), which is the one returned.
    """
    chart_kw = dict(
        kind=kind,
        rules=rules,
        multiply=100,
        target=None if target is None else 100 * _reading.target_share(target),
        y_label=y_label,
    )
    if kind == "p":
        chart_kw["limits"] = limits
    plan = _baseline.plan_phases(weekly, pdsa_log, mode=phases, improvement=improvement, **chart_kw)
    result = _baseline.chart_units(
        weekly, freeze=plan.freeze, phases=plan.phases, improvement=improvement, **chart_kw
    )
    counts = weekly[["unit", "week", "n_respondents"]] if "n_respondents" in weekly else None
    readings = _reading.read_units(
        result, plan=plan, respondents=counts, min_respondents=min_respondents
    )
    return plan, _reading.consistent_result(result, readings), readings


def plan_text(rel: Reliability) -> str:
    """Markdown: each unit's baseline and what became of its adopted PDSA cycles."""

    lines = []
    base = rel.plan.baselines
    cycles = rel.plan.cycles
    for row in base.itertuples(index=False) if len(base) else []:
        text = (
            f"- **{md_text(row.unit)}**: baseline {row.baseline_from:%d %b %Y} to "
            f"{row.baseline_to:%d %b %Y}, {row.baseline_weeks} weeks with answers: "
            f"{md_text(row.baseline_reason)}"
        )
        own = cycles[cycles["unit"] == row.unit] if len(cycles) else cycles
        for c in own.itertuples(index=False):
            when = f" from {c.effect_from:%d %b %Y}" if pd.notna(c.effect_from) else ""
            what = {
                "confirmed": f"a new phase{when}: the data confirm a sustained change",
                "no change yet": "no new phase: no sustained change yet",
                "too early to tell": "no new phase yet: too early to tell",
                "before the data": "ended before the first week with answers: not judged",
                "adopted": f"a new phase{when} (every adopted cycle starts one)",
            }[c.status]
            text += f"; adopted cycle {md_text(c.cycle_id)}: {what}"
        lines.append(text + ".")
    if not lines and rel.phases:
        lines = [
            f"- **{md_text(u)}**: new phases from "
            + ", ".join(f"{d:%d %b %Y}" for d in starts)
            + " (every adopted PDSA cycle)."
            for u, starts in rel.phases.items()
        ]
    head = "**Baselines and phases** (change is judged against each unit's frozen baseline):"
    return head + "\n\n" + ("\n".join(lines) if lines else "No phases: every week is one phase.")


#: weeks of history in the index's sparkline of each unit
RECENT_SPARK_WEEKS = 26


def _recent_values(weekly: pd.DataFrame, latest_week, rule) -> tuple[pd.Timestamp, list]:
    """(first week, weekly percentages) of the last RECENT_SPARK_WEEKS weeks; None where not shown."""
    last = pd.Timestamp(latest_week)
    weeks = pd.date_range(end=last, periods=RECENT_SPARK_WEEKS, freq="7D")
    shown = weekly[~rule.hides(weekly["n_respondents"])] if len(weekly) else weekly
    by_week = dict(zip(pd.to_datetime(shown["week"]), 100 * shown["share"], strict=True))
    values = [by_week.get(w) for w in weeks]
    return weeks[0], [
        None if v is None or not np.isfinite(v) else round(float(v), 1) for v in values
    ]


def results_records(
    readings: pd.DataFrame,
    *,
    min_respondents: int | None = None,
    weekly: pd.DataFrame | None = None,
    extra: dict | None = None,
    improvement: str = "increase",
) -> list[dict]:
    """One record per unit for :func:`pxlib.report.record_results`, from its reading.

    Keys: ``unit``, ``verdict``, ``signal``, ``since``, ``variation_type``,
    ``assurance_type``, ``latest_week``, ``latest_value`` and
    ``n_respondents`` (answers that week; both null when the small-number rule
    of :mod:`pxlib.disclosure` hides them), ``estimate``, ``ci_low``,
    ``ci_high`` (the current phase's share and its one-sided 95 % bounds),
    ``reason`` and ``next_step``,
    ``recent_values`` (the charted weekly percentage of the last
    :data:`RECENT_SPARK_WEEKS` weeks to the latest, ``None`` where a week had
    no answers or too few to show) from ``recent_from``, ``value_format``
    ("percent") and ``improvement``, for the index's sparkline and icons,
    plus ``extra`` columns of ``readings`` ({record key: column}).
    """
    rule = small_numbers(min_respondents)
    records = []
    for row in readings.itertuples(index=False):
        latest = float(row.latest_value) if pd.notna(row.latest_value) else None
        n_latest = None
        if weekly is not None and latest is not None:
            hit = weekly[(weekly["unit"] == row.unit) & (weekly["week"] == row.latest_week)]
            if len(hit):
                n_latest = int(hit["n_respondents"].iloc[0])
        if n_latest is None or not rule.shows(n_latest):
            latest = n_latest = None

        def _round(v):
            return None if v is None or not np.isfinite(v) else round(float(v), 1)

        rec = {
            "unit": row.unit,
            "verdict": row.verdict,
            "signal": row.signal,
            "since": None if pd.isna(row.since) else row.since,
            "variation_type": row.variation_type,
            "assurance_type": row.assurance_type,
            "latest_week": row.latest_week,
            "n_respondents": n_latest,
            "latest_value": _round(latest),
            "estimate": _round(row.estimate),
            "ci_low": _round(row.ci_low),
            "ci_high": _round(row.ci_high),
            "reason": row.reason,
            "next_step": row.next_step,
            "value_format": "percent",
            "improvement": improvement,
        }
        if weekly is not None and pd.notna(row.latest_week):
            rec["recent_from"], rec["recent_values"] = _recent_values(
                weekly[weekly["unit"] == row.unit], row.latest_week, rule
            )
        for key, col in (extra or {}).items():
            rec[key] = getattr(row, col)
        records.append(rec)
    return records


def verdict_lines(verdicts: pd.DataFrame) -> list[str]:
    """'<unit>: <verdict>' per unit, for a short printed summary."""
    return [f"{r.unit}: {r.verdict}" for r in verdicts.itertuples(index=False)]


def family_chart(
    data: WorkbookData,
    measure_type: str,
    *,
    phases: dict | None = None,
    kind: str = "p",
    weighted: bool = True,
    rules: str | Sequence[str] | None = None,
) -> tuple[SPCResult | None, pd.DataFrame]:
    """Weekly chart of the process or balancing questions per unit (and question).

    Balancing measures count something that should not rise (lower is
    better); process measures should rise. Returns ``(result, weekly)`` or
    ``(None, empty)`` when the question bank has no such measure.
    """
    bank = data.question_bank
    qids = list(dict.fromkeys(bank.loc[bank["measure_type"] == measure_type, "question_id"]))
    if not qids:
        return None, pd.DataFrame()
    weekly = measures.weekly_share(data, question_ids=qids, weighted=weighted)
    if weekly.empty:
        return None, weekly
    if "question_id" not in weekly.columns:
        weekly.insert(0, "question_id", qids[0])
    wording = bank.drop_duplicates("question_id").set_index("question_id")["wording"]
    label = "; ".join(f"{q}: {wording.get(q, '')}" for q in qids)
    by = ["question_id", "unit"] if len(qids) > 1 else ["unit"]
    ph = None
    if phases:
        if len(by) == 2:
            ph = {(q, u): v for u, v in phases.items() for q in qids}
        else:
            ph = phases
    result = measures.measure_chart(
        weekly,
        kind=kind,
        by=by,
        phases=ph,
        target=None,
        rules=rules,
        improvement="decrease" if measure_type == "balancing" else "increase",
        y_label=f"{measure_type.capitalize()} measure (%): {label}",
    )
    return result, weekly


PDSA_HEADERS = {
    "cycle_id": "Cycle",
    "unit": "Unit",
    "start_date": "Started",
    "end_date": "Ended",
    "change_idea": "Change idea",
    "prediction": "Prediction",
    "what_happened": "What happened",
    "decision": "Decision",
}


def pdsa_table(data: WorkbookData) -> pd.DataFrame:
    """The organisation's PDSA log for display (a cycle with no decision is 'still running')."""
    log = data.pdsa_log
    cols = [c for c in PDSA_HEADERS if c in log.columns]
    out = log[cols].copy()
    if "decision" in out.columns:
        out["decision"] = out["decision"].astype("string").fillna("still running")
    sort = [c for c in ("unit", "start_date") if c in out.columns]
    return out.sort_values(sort, kind="stable").reset_index(drop=True) if sort else out
