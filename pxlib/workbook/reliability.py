"""A plain verdict per unit: not yet reliable, improving, or reliable against the aim.

From an :class:`~pxlib.spc.result.SPCResult` of the weekly share (higher is
better) and the aim's target, each unit (chart group) gets one of three
verdicts, the reason in words and what to do next:

reliable
    The unit's current phase has at least ``min_points`` weeks with a value,
    its centre line (the average share over the phase) is at or above the
    target, and fewer than ``max_recent_concern`` of its last ``recent`` weeks
    are special-cause concern points (an isolated low week is reported, not
    counted as unreliable). With MDC assurance ``consistent_pass`` (the lower
    process limit above the target) every week, not just the average, meets the
    aim; the reason says which. The reliability of a process is the share of
    occasions it happens (IHI: 80-90 % is "chaos", 95 % the first level of
    designed reliability), which is the centre line here; weekly limits of small
    samples mostly reflect sampling noise.
improving
    Not (yet) reliable, but the data show improvement: the current phase's
    latest value is a special-cause improvement point, or the current phase has
    ``shift`` or more weeks in a row above the centre line of the first phase
    (the baseline before any adopted change) - the Making Data Count shift
    rule applied against the old centre line, the evidence MDC asks for before
    rebasing a chart.
not yet reliable
    Neither: the process is below the aim and no improvement is shown yet
    (including units whose current phase is too short to tell).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pxlib.errors import ChartError

VERDICTS = ("not yet reliable", "improving", "reliable")

CONCERN = "special_cause_concern"
IMPROVEMENT = "special_cause_improvement"


def _longest_run_above(values: np.ndarray, level: float) -> int:
    """Longest run of consecutive finite values strictly above ``level`` (missing values skipped)."""
    vals = values[np.isfinite(values)]
    if vals.size == 0 or not np.isfinite(level):
        return 0
    above = vals > level
    best = run = 0
    for a in above:
        run = run + 1 if a else 0
        best = max(best, run)
    return best


def _fmt(value: float, percent: bool) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:.0f}%" if percent else f"{value:.3g}"


def unit_verdicts(
    result,
    target: float | None = None,
    *,
    min_points: int = 12,
    recent: int = 6,
    max_recent_concern: int = 2,
    shift: int = 7,
) -> pd.DataFrame:
    """One row per chart group: the verdict, why, and what to do next.

    ``target`` is in the units of the plotted y (e.g. 95 for a chart in percent);
    by default the chart's own target. Columns: the ``by`` columns, ``phase``
    (current), ``weeks_in_phase`` (with a value), ``latest_week``,
    ``latest_value``, ``centre_line``, ``lower_limit``, ``upper_limit``,
    ``variation_type``, ``assurance_type``, ``weeks_above_baseline`` (longest
    run above the first phase's centre line), ``verdict``, ``reason``,
    ``next_step``.
    """
    target = result.target if target is None else target
    if target is None:
        raise ChartError("a verdict needs the aim's target: give target= or chart with target=")
    if result.improvement == "decrease":
        raise ChartError(
            "verdicts are for measures where higher is better (the share for whom it happened)"
        )
    by = list(result.by)
    points = result.points
    summary = result.summary
    percent = result.multiply == 100 or bool(getattr(result, "percent", False))
    groups = points.groupby(by, sort=False) if by else [((), points)]
    rows = []
    for key, frame in groups:
        key = key if isinstance(key, tuple) else (key,)
        srows = summary
        for col, val in zip(by, key, strict=True):
            srows = srows[srows[col] == val]
        srows = srows.sort_values("phase")
        last = srows.iloc[-1]
        first = srows.iloc[0]
        frame = frame.sort_values("x")
        current = frame[frame["phase"] == last["phase"]]
        valued = current[np.isfinite(current["y"].to_numpy(float))]
        y = valued["y"].to_numpy(float)
        cl = float(last["cl"])
        n_values = int(len(valued))
        latest = valued.iloc[-1] if n_values else None
        tail = valued.tail(recent)
        recent_concern = int((tail["point_type"] == CONCERN).sum())
        assurance = str(last.get("assurance_type") or "")
        variation = str(latest["point_type"]) if latest is not None else ""
        above_base = _longest_run_above(y, float(first["cl"])) if len(srows) > 1 else 0
        t = _fmt(target, percent)
        if n_values >= min_points and cl >= target and recent_concern < max_recent_concern:
            verdict = "reliable"
            if assurance == "consistent_pass":
                reason = (
                    f"Every week is expected to meet the aim: the lower process limit is above "
                    f"the {t} target (average {_fmt(cl, percent)} over {n_values} weeks)."
                )
            else:
                reason = (
                    f"On average it happens for {_fmt(cl, percent)} of patients over "
                    f"{n_values} weeks, at or above the {t} target; with small weekly "
                    "samples some weeks will still fall below it by chance."
                )
            step = (
                "Hold the gains: keep the changes in standard work, move to the sustain chart "
                "(limits frozen from this phase), measure less often, and share what worked "
                "with the next unit."
            )
            if recent_concern:
                step = (
                    "Look into the recent unusually low week (special-cause concern) with the "
                    "team; then " + step[0].lower() + step[1:]
                )
        elif (variation == IMPROVEMENT) or (above_base >= shift):
            verdict = "improving"
            bits = []
            if above_base >= shift:
                bits.append(
                    f"{above_base} weeks in a row above the baseline average of "
                    f"{_fmt(float(first['cl']), percent)}"
                )
            if variation == IMPROVEMENT:
                bits.append("the latest week is a special-cause improvement")
            reason = (
                f"Better than before ({'; '.join(bits)}), but the current average of "
                f"{_fmt(cl, percent)} is below the {t} target"
                + (f" or has fewer than {min_points} weeks" if n_values < min_points else "")
                + "."
            )
            step = (
                "Keep the adopted change and test the next change idea in a new PDSA cycle; "
                "add a new chart phase only when a change is adopted."
            )
        else:
            verdict = "not yet reliable"
            if n_values < min_points and cl >= target:
                reason = (
                    f"Only {n_values} weeks since the last change: too early to judge against "
                    f"the {t} target (at least {min_points} are needed)."
                )
                step = (
                    "Keep measuring every week; review the chart when there are 12 weeks of data."
                )
            else:
                reason = (
                    f"It happens for about {_fmt(cl, percent)} of patients, below the {t} "
                    "target, with no sign of improvement yet."
                )
                step = (
                    "Test a change idea with a small PDSA cycle (one shift, a few patients) and "
                    "keep plotting every week."
                )
            if recent_concern:
                reason += f" {recent_concern} of the last {len(tail)} weeks were unusually low."
                step = (
                    "Find out what changed in the recent low weeks, then "
                    + step[0].lower()
                    + step[1:]
                )
        record = dict(zip(by, key, strict=True))
        record.update(
            {
                "phase": int(last["phase"]),
                "weeks_in_phase": n_values,
                "latest_week": latest["x"] if latest is not None else pd.NaT,
                "latest_value": float(latest["y"]) if latest is not None else np.nan,
                "centre_line": cl,
                "lower_limit": float(last["lcl"]) if pd.notna(last["lcl"]) else np.nan,
                "upper_limit": float(last["ucl"]) if pd.notna(last["ucl"]) else np.nan,
                "variation_type": variation,
                "assurance_type": assurance,
                "weeks_above_baseline": int(above_base),
                "verdict": verdict,
                "reason": reason,
                "next_step": step,
            }
        )
        rows.append(record)
    return pd.DataFrame(rows)
