"""Notebook 04 (spread and sustain): quarters, the funnel, adoption, sustain charts, sites.

:func:`quarter_bounds`, :func:`quarter_funnel`, :func:`adoption_table`,
:func:`sustain` (limits frozen from each reliable unit's first weeks),
:func:`sustain_status`, :func:`site_chart` and :func:`spread_records` (the
batch index's records).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pxlib.errors import DataValidationError
from pxlib.workbook import baseline as _baseline
from pxlib.workbook import measures
from pxlib.workbook import reading as _reading
from pxlib.workbook.steps.measurement import Reliability, read_weekly, results_records

if TYPE_CHECKING:
    from pxlib.data.folder import WorkbookData
    from pxlib.spc.result import FunnelResult


def quarter_bounds(weeks: pd.Series, quarter: str = "") -> tuple[pd.Timestamp, pd.Timestamp, str]:
    """(first Monday, last Monday, label) of ``quarter`` ("2026Q2"), or of the latest quarter with data."""
    weeks = pd.to_datetime(pd.Series(weeks)).dropna()
    if weeks.empty:
        raise DataValidationError("no weeks with data")
    period = pd.Period(quarter, freq="Q") if quarter else pd.Timestamp(weeks.max()).to_period("Q")
    inside = weeks[(weeks >= period.start_time) & (weeks <= period.end_time)]
    if inside.empty:
        raise DataValidationError(f"no survey weeks in {period}: choose another quarter")
    return pd.Timestamp(inside.min()), pd.Timestamp(inside.max()), str(period)


def quarter_funnel(
    data: WorkbookData, *, quarter: str = "", weighted: bool = True
) -> tuple[FunnelResult, pd.DataFrame, str]:
    """Funnel plot input and result for the weighted share per unit over one quarter.

    Returns ``(funnel_result, table, label)``; ``table`` has the unit's
    ``n_respondents``, ``share``, ``ess``, ``y``, ``n`` for the quarter.
    """
    from pxlib.spc import funnel

    weekly = measures.weekly_share(data, weighted=weighted)
    start, end, label = quarter_bounds(weekly["week"], quarter)
    table = measures.weekly_share(data, by=("unit",), weighted=weighted, start=start, end=end)
    table = table[table["n"] > 0].reset_index(drop=True)
    result = funnel(
        table,
        "unit",
        "y",
        "n",
        kind="p",
        multiply=100,
        y_label=f"Patients for whom it happened (%), {label}",
    )
    return result, table, label


def adoption_table(data: WorkbookData, rel: Reliability, *, weighted: bool = True) -> pd.DataFrame:
    """Which units adopted a change (a PDSA cycle decided 'adopt') and how they do since.

    One row per unit: ``unit``, ``site``, ``adopted`` (yes/no), ``cycle``,
    ``change_idea``, ``since`` (first week of the new phase), ``weeks_since``,
    ``n_respondents``, ``share_since`` with ``ci_low``/``ci_high`` (weighted),
    and the unit's ``verdict``.
    """
    log = data.pdsa_log
    adopted = log[log["decision"].astype("string").str.strip().str.lower() == "adopt"]
    units = sorted(rel.weekly["unit"].unique())
    site = {}
    if len(data.units) and "site_name" in data.units.columns:
        site = dict(zip(data.units["unit"], data.units["site_name"], strict=False))
    rows = []
    for unit in units:
        starts = rel.phases.get(unit, [])
        cycles = adopted[adopted["unit"] == unit].sort_values("end_date")
        row = {
            "unit": unit,
            "site": site.get(unit, ""),
            "adopted": "yes" if len(cycles) else "no",
            "cycle": ", ".join(cycles["cycle_id"].astype(str)),
            "change_idea": str(cycles["change_idea"].iloc[-1]) if len(cycles) else "",
            "since": starts[0] if starts else pd.NaT,
        }
        if starts:
            since = measures.weekly_share(data, by=("unit",), weighted=weighted, start=starts[0])
            since = since[since["unit"] == unit]
            weeks = rel.weekly[(rel.weekly["unit"] == unit) & (rel.weekly["week"] >= starts[0])]
            row["weeks_since"] = int(weeks["week"].nunique())
            if len(since):
                s = since.iloc[0]
                row.update(
                    n_respondents=int(s["n_respondents"]),
                    share_since=float(s["share"]),
                    ci_low=float(s["ci_low"]),
                    ci_high=float(s["ci_high"]),
                )
        verdict = rel.verdicts.loc[rel.verdicts["unit"] == unit, "verdict"]
        row["verdict"] = verdict.iloc[0] if len(verdict) else ""
        rows.append(row)
    cols = [
        "unit",
        "site",
        "adopted",
        "cycle",
        "change_idea",
        "since",
        "weeks_since",
        "n_respondents",
        "share_since",
        "ci_low",
        "ci_high",
        "verdict",
    ]
    return pd.DataFrame(rows).reindex(columns=cols)


def sustain(
    rel: Reliability, *, freeze_weeks: int = 20, rules: str | Sequence[str] | None = None
) -> Reliability | None:
    """Sustain charts: each reliable unit's current phase with limits frozen from its first weeks.

    The reliable phase's first ``freeze_weeks`` weeks (fewer when the phase is
    shorter) fix the centre line and limits; later weeks are judged against
    them, so a fall shows as special-cause concern instead of dragging the
    limits down with it. Returns the sustain chart with each unit's reading of
    it, or None when no unit is reliable.
    """
    reliable = rel.readings.loc[rel.readings["verdict"] == "reliable", "unit"].tolist()
    if not reliable:
        return None
    weekly = rel.weekly[rel.weekly["unit"].isin(reliable)].copy()
    keep = np.ones(len(weekly), bool)
    for unit in reliable:
        starts = rel.phases.get(unit, [])
        if starts:
            keep &= ~((weekly["unit"] == unit) & (weekly["week"] < starts[-1])).to_numpy()
    weekly = weekly[keep]
    spec = rel.result.spec
    kw = dict(
        kind=spec.kind,
        rules=rules,
        multiply=spec.multiply,
        target=spec.target,
        improvement=spec.improvement,
        y_label="Sustain: patients for whom it happened (%)",
    )
    if spec.kind == "p":
        kw["limits"] = spec.limits
    plan = _baseline.PhasePlan(mode="sustain", freeze={u: freeze_weeks for u in reliable})
    result = _baseline.chart_units(weekly, freeze=plan.freeze, phases={}, **kw)
    readings = _reading.read_units(result, plan=plan)
    shown = _reading.consistent_result(result, readings)
    return Reliability(weekly=weekly, plan=plan, result=shown, readings=readings)


SUSTAIN_ADVICE = {
    "deteriorating": (
        "The gains are slipping against what the reliable process gave: find out what "
        "changed and restart PDSA testing."
    ),
    "holding": (
        "The gains are holding on the frozen limits: keep the changes in standard work and "
        "keep measuring weekly until the step-down rule allows monthly measurement."
    ),
}


def sustain_status(sustained: Reliability) -> pd.DataFrame:
    """Per unit on its sustain chart: ``holding`` or ``deteriorating``, from its reading.

    Columns: ``unit``, ``weeks_after_baseline``, ``status``, ``evidence``, ``advice``.
    """
    pts = sustained.result.points
    after = pts[~pts["baseline"].astype(bool) & np.isfinite(pts["y"].to_numpy(float))]
    weeks = after.groupby("unit").size()
    r = sustained.readings
    status = np.where(r["signal"].isin(["concern", "both"]), "deteriorating", "holding")
    return pd.DataFrame(
        {
            "unit": r["unit"],
            "weeks_after_baseline": r["unit"].map(weeks).fillna(0).astype(int),
            "status": status,
            "evidence": r["evidence"],
            "advice": [SUSTAIN_ADVICE[s] for s in status],
        }
    )


def site_chart(
    data: WorkbookData,
    *,
    target: float | str = 0.95,
    kind: str = "p",
    rules: str | Sequence[str] | None = None,
    weighted: bool = True,
    improvement: str = "increase",
    limits: str = "auto",
) -> Reliability | None:
    """Weekly share per site (all units of a site together), read as units are.

    Returns a :class:`Reliability` whose ``unit`` column holds the site name
    (so every display helper works unchanged), or None without site names.
    Sites have no PDSA cycles of their own: their baselines are frozen as for
    a unit with none.
    """
    weekly = measures.weekly_share(data, by=("site_name", "week"), weighted=weighted)
    if weekly.empty:
        return None
    weekly = weekly.assign(unit=weekly["site_name"].astype(str))
    plan, result, readings = read_weekly(
        weekly,
        None,
        target=target,
        kind=kind,
        rules=rules,
        improvement=improvement,
        limits=limits,
        y_label="Patients for whom it happened (%), by site",
    )
    return Reliability(weekly=weekly, plan=plan, result=result, readings=readings)


def spread_records(
    rel: Reliability,
    adoption: pd.DataFrame,
    status: pd.DataFrame | None,
    *,
    min_respondents: int | None = None,
) -> list[dict]:
    """Per unit: the :func:`results_records` keys plus ``adopted`` and ``sustain_status``."""
    records = results_records(rel.readings, weekly=rel.weekly, min_respondents=min_respondents)
    adopted = dict(zip(adoption["unit"], adoption["adopted"], strict=False))
    sustain_ = {} if status is None else dict(zip(status["unit"], status["status"], strict=False))
    for rec in records:
        rec["adopted"] = adopted.get(rec["unit"], "no")
        rec["sustain_status"] = sustain_.get(rec["unit"], "")
    return records
