"""Spreading the Always Event: each unit of the spread plan, its own baseline, and its status.

``spread_plan.csv`` (schema :data:`pxlib.data.journey_schemas.SPREAD_PLAN`) says
which units take up the Always Event, in which wave, led by whom, from when and
with what adapted. For each of them :func:`spread_progress` shows

- its **own baseline**: its pooled share in the weeks before the week of its
  start date, p = Σ pᵢ·nᵢ / Σ nᵢ over those weeks (the effective sample sizes
  nᵢ when weighted), with one-sided 95 % Wilson bounds, exactly as the reading
  pools a phase (:func:`pxlib.workbook.evidence.pooled`,
  :func:`pxlib.workbook.reading.lower_bound`), and the same since its start;
- its **current reading**: the row of ``rel.readings`` the reports show
  (:func:`pxlib.workbook.reading.read_units`): nothing here judges a unit again;
- its **status**, one rung of :data:`STATUSES`, derived from that reading
  (:data:`STATUS_MEANING`): *not started* (its start date is after the latest
  data or the as-of date, or nothing was measured or tested there since it),
  *testing* (started, no improvement signal: verdict "not yet reliable" or
  "deteriorating", which the ``verdict`` column names), *improving* (verdict
  "improving"), *reliable* (verdict "reliable"), *sustained* (reliable and
  eligible to step down under :func:`pxlib.workbook.sustainability.step_down_rule`).

:func:`reliable_share_over_time` reads the spread units again as the data stood
at the end of each month (the same reading, on the weeks and PDSA decisions known
by then) and counts the programme's units whose reading was reliable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.escape import md_text
from pxlib.workbook import display, steps
from pxlib.workbook.evidence import pooled
from pxlib.workbook.gather import missing_file
from pxlib.workbook.reading import lower_bound
from pxlib.workbook.sustainability import RELIABLE_WEEKS, step_down

if TYPE_CHECKING:
    from datetime import date

    import plotly.graph_objects as go

    from pxlib.data.folder import WorkbookData

#: the spread ladder, in order: every spread unit is on exactly one rung
STATUSES = ("not started", "testing", "improving", "reliable", "sustained")
STATUS_MEANING = {
    "not started": "its start date is still ahead, or nothing has been measured or tested "
    "there since it",
    "testing": "started (measured or a PDSA cycle since its start) but its reading shows no "
    "improvement yet",
    "improving": "its reading shows an improvement, not yet reliably at the target",
    "reliable": "its reading is reliable against the target",
    "sustained": "reliable, and held on the sustain chart's frozen limits long enough to step "
    "down to monthly measurement",
}
PROGRESS_COLUMNS = (
    "unit",
    "wave",
    "lead",
    "start_date",
    "adaptations",
    "status",
    "verdict",
    "baseline_weeks",
    "baseline_n",
    "baseline_share",
    "baseline_low",
    "baseline_high",
    "weeks_since",
    "n_since",
    "share_since",
    "since_low",
    "since_high",
    "cycles_since",
    "current_share",
    "current_low",
    "current_high",
    "reason",
    "next_step",
)
NOT_STARTED_STEP = (
    "Before the start: agree the lead and what is adapted, and measure weekly so the unit "
    "has its own baseline to judge the change against."
)
DAY = pd.Timedelta(days=1)


def _monday(value) -> pd.Timestamp:
    t = pd.Timestamp(value).normalize()
    return t - pd.Timedelta(days=t.day_of_week)


def _pooled_share(points: pd.DataFrame, multiply: float) -> tuple[float, float, float]:
    """(share, lower, upper) over chart points, pooled as the reading pools a phase."""
    successes, n = pooled(points, multiply)
    if n <= 0:
        return np.nan, np.nan, np.nan
    lo, hi = lower_bound(successes, n)
    return successes / n, lo, hi


def _status(started: bool, verdict: str, eligible: bool) -> str:
    """The rung of :data:`STATUSES` of a unit, from its reading's verdict."""
    if not started:
        return "not started"
    if verdict == "reliable":
        return "sustained" if eligible else "reliable"
    return "improving" if verdict == "improving" else "testing"


def _reference_day(rel: steps.Reliability, as_of) -> pd.Timestamp:
    """The as-of day, or the last day of the latest week with data."""
    if as_of is not None and str(as_of) != "":
        return pd.Timestamp(as_of).normalize()
    return pd.Timestamp(rel.weekly["week"].max()) + 6 * DAY


def _cycles_since(log: pd.DataFrame, unit: str, start: pd.Timestamp, until: pd.Timestamp) -> int:
    if log is None or log.empty:
        return 0
    begun = pd.to_datetime(log["start_date"], errors="coerce")
    return int(((log["unit"] == unit) & (begun >= start) & (begun <= until)).sum())


def _unit_rows(
    plan: pd.DataFrame,
    rel: steps.Reliability | None,
    readings: pd.DataFrame,
    log: pd.DataFrame,
    until: pd.Timestamp,
    eligible: dict,
) -> list[dict]:
    """One progress row per unit of the plan, as the data stood on ``until`` (``rel``
    None: no week with data yet)."""
    if rel is None:
        pts = pd.DataFrame({"unit": [], "x": pd.to_datetime([]), "y": [], "n": []})
        weekly = pd.DataFrame({"unit": [], "week": pd.to_datetime([]), "n_respondents": []})
        multiply = 1.0
    else:
        pts, weekly = rel.result.points, rel.weekly[rel.weekly["week"] <= until]
        multiply = float(rel.result.spec.multiply)
    rows = []
    for p in plan.itertuples(index=False):
        start = _monday(p.start_date)
        own = pts[(pts["unit"] == p.unit) & (pts["x"] <= until)]
        valued = own[np.isfinite(own["y"].to_numpy(float))]
        before, since = valued[valued["x"] < start], valued[valued["x"] >= start]
        w_unit = weekly[weekly["unit"] == p.unit]
        reading = readings[readings["unit"] == p.unit]
        verdict = str(reading["verdict"].iloc[0]) if len(reading) else ""
        cycles = _cycles_since(log, p.unit, start, until)
        started = start <= until and (len(since) > 0 or cycles > 0)
        status = _status(started, verdict, bool(eligible.get(p.unit, False)))
        b_share, b_lo, b_hi = _pooled_share(before, multiply)
        s_share, s_lo, s_hi = _pooled_share(since, multiply)
        row = {
            "unit": p.unit,
            "wave": int(p.wave) if pd.notna(p.wave) else pd.NA,
            "lead": "" if pd.isna(p.lead) else str(p.lead),
            "start_date": pd.Timestamp(p.start_date),
            "adaptations": "" if pd.isna(p.adaptations) else str(p.adaptations),
            "status": status,
            "verdict": verdict,
            "baseline_weeks": len(before),
            "baseline_n": int(w_unit.loc[w_unit["week"] < start, "n_respondents"].sum()),
            "baseline_share": b_share,
            "baseline_low": b_lo,
            "baseline_high": b_hi,
            "weeks_since": len(since),
            "n_since": int(w_unit.loc[w_unit["week"] >= start, "n_respondents"].sum()),
            "share_since": s_share,
            "since_low": s_lo,
            "since_high": s_hi,
            "cycles_since": cycles,
            "current_share": np.nan,
            "current_low": np.nan,
            "current_high": np.nan,
        }
        if len(reading):
            r = reading.iloc[0]
            row.update(
                current_share=float(r["estimate"]) / multiply,
                current_low=float(r["ci_low"]) / multiply,
                current_high=float(r["ci_high"]) / multiply,
            )
        row["reason"] = _reason(row, until)
        row["next_step"] = (
            NOT_STARTED_STEP
            if status == "not started"
            else (str(reading["next_step"].iloc[0]) if len(reading) else "")
        )
        rows.append(row)
    return rows


def _reason(row: dict, until: pd.Timestamp) -> str:
    start = fmt.date(row["start_date"])
    if row["status"] == "not started":
        if row["start_date"] > until:
            return f"Starts {start}, after {fmt.date(until)}, the day this status is judged on."
        return f"Planned from {start}, but nothing measured or tested there since."
    done = (
        f"since {start}: {fmt.count(row['weeks_since'], 'week')} measured, "
        f"{fmt.count(row['cycles_since'], 'PDSA cycle')}"
    )
    verdict = row["verdict"] or "no reading yet"
    return f"{row['status'].capitalize()}: {STATUS_MEANING[row['status']]} (reading: {verdict}; {done})."


def spread_progress(
    data: WorkbookData,
    rel: steps.Reliability,
    *,
    as_of: str | date | None = None,
    reliable_weeks: int = RELIABLE_WEEKS,
    freeze_weeks: int = 20,
    min_respondents: int | None = None,
) -> pd.DataFrame:
    """Each unit of the spread plan: its baseline, its reading, and its rung of :data:`STATUSES`.

    ``rel`` is the reliability the reports show (:func:`pxlib.workbook.steps.reliability`,
    or an audit measure's, :func:`pxlib.workbook.audits.audit_chart`). ``as_of``:
    the day the status is judged on (default: the last day of the latest week
    with data); ``reliable_weeks`` and ``freeze_weeks`` are those of
    :func:`pxlib.workbook.sustainability.step_down`, which decides *sustained*;
    ``min_respondents`` is passed to the reading made on an earlier ``as_of`` day
    (``rel``'s own readings were made with the reports' rule). Shares are proportions: ``baseline_*`` before the week of the start date,
    ``*_since`` from it (with ``baseline_n``/``n_since`` the answers behind them,
    for the small-number rule, and the one-sided 95 % bounds), ``current_*`` the
    reading's current phase. Sorted by wave and start date; empty without a spread plan
    (:func:`spread_text` then says which file to add).
    """
    plan = getattr(data, "spread_plan", None)
    if plan is None or plan.empty:
        return pd.DataFrame(columns=list(PROGRESS_COLUMNS))
    plan = plan.sort_values(["wave", "start_date", "unit"], kind="stable")
    until = _reference_day(rel, as_of)
    return _progress(plan, rel, data.pdsa_log, until, reliable_weeks, freeze_weeks, min_respondents)


def _progress(
    plan, rel, log, until, reliable_weeks, freeze_weeks, min_respondents=None
) -> pd.DataFrame:
    """The ladder on ``until``; before the latest week with data, on the data known then."""
    if until < rel.weekly["week"].max():
        rel = reliability_as_of(rel, log, until, list(plan["unit"]), min_respondents)
    if rel is None:
        eligible, readings, rel_shown = {}, pd.DataFrame(columns=["unit"]), None
    else:
        stepped = step_down(rel, reliable_weeks=reliable_weeks, freeze_weeks=freeze_weeks)
        eligible = dict(zip(stepped["unit"], stepped["eligible"], strict=True))
        readings, rel_shown = rel.readings, rel
    rows = _unit_rows(plan, rel_shown, readings, log, until, eligible)
    return pd.DataFrame(rows, columns=list(PROGRESS_COLUMNS))


def shown_progress(progress: pd.DataFrame, *, min_respondents: int | None = None) -> pd.DataFrame:
    """A display copy: baseline and since-start shares hidden where too few answers lie behind them.

    The small-number rule of :mod:`pxlib.disclosure` through
    :func:`pxlib.workbook.display.suppress`, once for each count; ``note`` joins
    both notes. (The current share is the reading's, hidden by it.)
    """
    first = display.suppress(
        progress,
        n_col="baseline_n",
        value_cols=["baseline_share", "baseline_low", "baseline_high"],
        min_respondents=min_respondents,
    )
    notes = first.pop("note")
    out = display.suppress(
        first,
        n_col="n_since",
        value_cols=["share_since", "since_low", "since_high"],
        min_respondents=min_respondents,
    )
    both = [
        "; ".join(f"{what} {n}" for what, n in (("baseline:", a), ("since start:", b)) if n)
        for a, b in zip(notes, out["note"], strict=True)
    ]
    out["note"] = both
    return out


def spread_text(progress: pd.DataFrame) -> str:
    """Markdown: how many units are on each rung, named; or which file to add."""
    if progress.empty:
        return md_text(missing_file("spread_plan"))
    waves = progress["wave"].dropna().nunique()
    parts = []
    for status in STATUSES[::-1]:
        units = progress.loc[progress["status"] == status, "unit"]
        if len(units):
            parts.append(f"{len(units)} {status} ({', '.join(md_text(u) for u in units)})")
    return (
        f"**Spread plan:** {fmt.count(len(progress), 'unit')} in {fmt.count(waves, 'wave')}: "
        + "; ".join(parts)
        + "."
    )


# --- the programme over time ------------------------------------------------------------------


def _log_as_of(log: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """The PDSA log as it stood on ``day``: cycles begun by then; a decision only once ended."""
    if log is None or log.empty:
        return log
    begun = pd.to_datetime(log["start_date"], errors="coerce") <= day
    out = log[begun].copy()
    ended = pd.to_datetime(out["end_date"], errors="coerce") <= day
    if "decision" in out.columns:
        out["decision"] = out["decision"].astype("string").where(ended, "")
    return out


def reliability_as_of(
    rel: steps.Reliability,
    log: pd.DataFrame,
    day: str | date,
    units: Iterable[str] | None = None,
    min_respondents: int | None = None,
) -> steps.Reliability | None:
    """``rel`` as the data stood on ``day``: its chart and readings on the weeks and PDSA
    decisions known then, or None when no week with data is that early.

    The same call with the same options as ``rel`` was made with
    (:func:`pxlib.workbook.steps.read_weekly`: kind, rules, direction, target,
    phases and limits read from ``rel``), on the weeks up to ``day`` (of
    ``units`` only, when given). On the latest day with data it gives ``rel``'s
    own readings.
    """
    spec = rel.result.spec
    day = pd.Timestamp(day)
    weekly = rel.weekly[rel.weekly["week"] <= day]
    if units is not None:
        weekly = weekly[weekly["unit"].isin(list(units))]
    if weekly.empty:
        return None
    weekly = weekly.reset_index(drop=True)
    plan, result, readings = steps.read_weekly(
        weekly,
        _log_as_of(log, day),
        target=None if spec.target is None else spec.target / spec.multiply,
        kind=spec.kind,
        rules=list(spec.rules),
        improvement=spec.improvement,
        phases=rel.plan.mode,
        limits=spec.limits,
        y_label=spec.y_label or "",
        min_respondents=min_respondents,
    )
    return steps.Reliability(weekly=weekly, plan=plan, result=result, readings=readings)


SHARE_COLUMNS = ("month", "units_planned", "units_started", "units_reliable", "share_reliable")


def reliable_share_over_time(
    data: WorkbookData,
    rel: steps.Reliability,
    *,
    reliable_weeks: int = RELIABLE_WEEKS,
    freeze_weeks: int = 20,
) -> pd.DataFrame:
    """Per month: how many units of the spread plan had started and how many were reliable.

    At each month's end the spread units are put on the ladder exactly as
    :func:`spread_progress` with ``as_of`` that day puts them (read on the data
    known then, :func:`reliability_as_of`); ``units_reliable`` counts those *reliable* or *sustained* (sustained
    units are reliable). ``share_reliable`` = units reliable / units in the
    plan (the programme's share, a proportion). Months run from the first with
    data on or after the earliest start to the latest with data. Empty without
    a spread plan or data.
    """
    plan = getattr(data, "spread_plan", None)
    if plan is None or plan.empty or rel.weekly.empty:
        return pd.DataFrame(columns=list(SHARE_COLUMNS))
    units = list(plan["unit"])
    weeks = pd.to_datetime(rel.weekly["week"])
    first = max(weeks.min(), _monday(plan["start_date"].min()))
    months = pd.period_range(first.to_period("M"), weeks.max().to_period("M"), freq="M")
    rows = []
    for month in months:
        end = month.end_time.normalize()
        statuses = list(
            _progress(plan, rel, data.pdsa_log, end, reliable_weeks, freeze_weeks)["status"]
        )
        reliable = sum(s in ("reliable", "sustained") for s in statuses)
        rows.append(
            {
                "month": month.start_time,
                "units_planned": len(units),
                "units_started": sum(s != "not started" for s in statuses),
                "units_reliable": reliable,
                "share_reliable": reliable / len(units),
            }
        )
    return pd.DataFrame(rows, columns=list(SHARE_COLUMNS))


def reliable_share_figure(over_time: pd.DataFrame) -> go.Figure:
    """A line of the share of spread units reliable, by month (0-100 %)."""
    shown = over_time.assign(percent=100 * over_time["share_reliable"].astype(float))
    fig = display.line_figure(
        shown,
        x="month",
        ys={"percent": "Spread units reliable"},
        title="Share of the spread plan's units whose reading is reliable",
        x_title="Month (status at its end)",
        y_title="Units reliable (%)",
    )
    fig.update_yaxes(range=[0, 100])
    fig.update_traces(
        customdata=over_time[["units_reliable", "units_planned"]].to_numpy(),
        hovertemplate="%{x|%b %Y}: %{customdata[0]} of %{customdata[1]} units (%{y:.0f}%)<extra></extra>",
    )
    return fig


def reliable_share_alt(over_time: pd.DataFrame) -> str:
    """The line in words: the span, where it started and where it ends."""
    if over_time.empty:
        return "No spread plan or no data yet, so there is no line to draw."
    first, last = over_time.iloc[0], over_time.iloc[-1]

    def at(r) -> str:
        return (
            f"{fmt.percent(r['share_reliable'])} ({r['units_reliable']} of "
            f"{fmt.count(r['units_planned'], 'unit')}) in {r['month']:%b %Y}"
        )

    peak = over_time.loc[over_time["share_reliable"].idxmax()]
    text = (
        "Line chart of the share of the spread plan's units whose reading was reliable at the "
        f"end of each month, from {first['month']:%b %Y} to {last['month']:%b %Y}: "
    )
    if over_time["share_reliable"].nunique() == 1:
        return text + f"{fmt.percent(first['share_reliable'])} throughout."
    text += f"{at(first)}, {at(last)}"
    if peak["share_reliable"] > last["share_reliable"]:
        text += f"; highest {at(peak)}"
    return text + "."
