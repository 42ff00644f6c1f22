"""Change judged against the baseline: frozen baselines and phases that the data confirm.

Standard practice in measurement for improvement (Provost & Murray 2011,
*The Health Care Data Guide*, ch. 6; NHS England, *Making Data Count*, on
rebasing) is to judge each change against a baseline that the change cannot
move, and to give the chart a new phase only when a shift is both **sustained**
and **explained**:

1. **Baseline.** The weeks before the unit's first tested change (the start of
   its first PDSA cycle, whatever its decision), with at least
   :data:`MIN_BASELINE_WEEKS` weeks with a value (MDC: limits from fewer
   points are trial limits). A unit with no PDSA cycle takes its first
   :data:`DEFAULT_BASELINE_WEEKS` weeks with a value, or all of its weeks when
   it has fewer than twice that. The baseline's centre line and limits are
   frozen (``freeze``) and extended over every later week, so a change shows
   as special cause against it instead of moving the lines with it.
2. **Confirmed phases.** An adopted PDSA cycle is marked on the chart. It
   starts a new phase (from the first charted week after the cycle ended) only
   when the weeks after it show a sustained signal against the frozen baseline
   in the direction of improvement: a run of consecutive weeks on the better
   side of the baseline centre line, all after the cycle ended, longer than
   the Anhøj longest-run limit round(log2 n) + 3 of the chart (Anhøj & Olesen
   2014), the same evidence the run rules ask for, and a level after the cycle
   that differs from the baseline weeks' by more than chance (a two-proportion
   z of at least 1.96, :func:`pxlib.workbook.evidence.level_test`, which allows
   for the baseline's own uncertainty). Otherwise the cycle is
   reported as "no change yet" (or "too early to tell" while fewer weeks have
   passed than such a run needs). Cycles are judged in date order; a later
   cycle is judged against the phase before it.
3. ``phases="adopted"`` keeps the earlier behaviour: every adopted cycle
   starts a phase, and no baseline is frozen.

A shift that no PDSA cycle explains is still detected by the run rules
against the frozen baseline (see :mod:`pxlib.workbook.reading`); it does not
start a phase, because nothing explains it yet.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pxlib.errors import ChartError, ChartWarning
from pxlib.workbook.evidence import Z_SUSTAINED, level_test

if TYPE_CHECKING:
    from pxlib.spc.result import SPCResult

#: MDC: limits from fewer points are "trial limits"
MIN_BASELINE_WEEKS = 12
#: a unit with no PDSA cycle: its first 20 weeks with a value form the baseline
DEFAULT_BASELINE_WEEKS = 20
PHASE_MODES = ("confirmed", "adopted")
WEEK = pd.Timedelta(days=7)


@dataclass(frozen=True)
class PhasePlan:
    """Where each unit's baseline ends and which adopted cycles started a phase.

    ``freeze``: {unit: number of leading chart positions (weeks, gaps included)
    of each phase that fix its limits}; ``phases``: {unit: [first week of each
    new phase]}; ``baselines``: one row per unit (``unit``, ``baseline_from``,
    ``baseline_to``, ``baseline_weeks`` with a value, ``baseline_reason``);
    ``cycles``: one row per adopted cycle (``unit``, ``cycle_id``,
    ``end_date``, ``effect_from`` (first charted week after it), ``status``
    (confirmed, no change yet, too early to tell, before the data; "adopted" in
    ``mode="adopted"``), ``run_length``,
    ``run_needed``: the run length that confirms a change).
    """

    mode: str
    freeze: dict = field(default_factory=dict)
    phases: dict = field(default_factory=dict)
    baselines: pd.DataFrame = field(default_factory=pd.DataFrame)
    cycles: pd.DataFrame = field(default_factory=pd.DataFrame)


def _monday(dates: pd.Series) -> pd.Series:
    d = pd.to_datetime(dates, errors="coerce").dt.normalize()
    return d - pd.to_timedelta(d.dt.day_of_week, unit="D")


def _unit_baseline(weeks: np.ndarray, valued: np.ndarray, first_change) -> tuple[int, str]:
    """(baseline length in chart positions, reason) for one unit's sorted week grid."""
    n_valued = int(valued.sum())
    cum = np.cumsum(valued)
    if first_change is not None:
        before = int(np.searchsorted(weeks, np.datetime64(first_change), side="left"))
        if before and cum[before - 1] >= MIN_BASELINE_WEEKS:
            return before, "the weeks before the first PDSA cycle"
        if n_valued <= MIN_BASELINE_WEEKS:
            return len(weeks), "all weeks so far, as fewer than 12 have a value: trial limits"
        k = int(np.searchsorted(cum, MIN_BASELINE_WEEKS, side="left")) + 1
        return k, (
            f"the first {MIN_BASELINE_WEEKS} weeks with a value, as fewer were measured before "
            "the first PDSA cycle"
        )
    if n_valued < 2 * DEFAULT_BASELINE_WEEKS:
        return len(weeks), "all weeks so far, as no PDSA cycle is logged"
    k = int(np.searchsorted(cum, DEFAULT_BASELINE_WEEKS, side="left")) + 1
    return k, f"the first {DEFAULT_BASELINE_WEEKS} weeks with a value, as no PDSA cycle is logged"


def _grid(weekly: pd.DataFrame, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """A unit's chart positions (every week from its first to its last) and which have a value."""
    own = weekly.loc[weekly["unit"] == unit, ["week", "n"]]
    own = own[pd.to_numeric(own["n"], errors="coerce") > 0]
    if own.empty:
        return np.array([], dtype="datetime64[ns]"), np.array([], dtype=bool)
    first, last = own["week"].min(), own["week"].max()
    grid = pd.date_range(first, last, freq="7D").to_numpy()
    valued = np.isin(grid, own["week"].to_numpy(dtype="datetime64[ns]"))
    return grid, valued


def chart_units(weekly: pd.DataFrame, *, freeze: dict, phases: dict, **chart_kw: Any) -> SPCResult:
    """One chart of every unit with its own baseline length, as a single SPCResult.

    :func:`pxlib.spc.chart` takes one ``freeze`` for all groups, so units that
    share a baseline length are charted together and the results joined.
    ``chart_kw`` are passed on (``kind``, ``rules``, ``improvement``,
    ``target`` in plotted units, ``multiply``, ``limits``, ``y_label``).
    """
    from pxlib.spc import chart
    from pxlib.spc.result import stack_results

    if weekly.empty:
        raise ChartError("no weekly values to chart")
    units = list(dict.fromkeys(weekly["unit"]))
    by_freeze: dict = {}
    for u in units:
        by_freeze.setdefault(freeze.get(u), []).append(u)
    parts = []
    for k, members in by_freeze.items():
        sub = weekly[weekly["unit"].isin(members)]
        ph = {u: phases[u] for u in members if phases.get(u)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ChartWarning)
            parts.append(
                chart(sub, "week", "y", "n", by="unit", phases=ph or None, freeze=k, **chart_kw)
            )
    if len(parts) == 1:
        return parts[0]
    order = {u: i for i, u in enumerate(sorted(units))}

    def _sorted(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
        key = frame["unit"].map(order)
        return frame.assign(_o=key).sort_values(["_o", *cols], kind="stable").drop(columns="_o")

    stacked = stack_results(parts)
    return stacked.with_points(
        _sorted(stacked.points, ["x"]), _sorted(stacked.summary, ["phase"]).reset_index(drop=True)
    )


def _adopted(pdsa_log: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["unit", "cycle_id", "end_date", "effect_week"]
    if pdsa_log is None or pdsa_log.empty or "decision" not in pdsa_log.columns:
        return pd.DataFrame(columns=cols)
    log = pdsa_log[pdsa_log["decision"].astype("string").str.strip().str.lower() == "adopt"]
    log = log[pd.to_datetime(log["end_date"], errors="coerce").notna()]
    out = log.assign(effect_week=_monday(log["end_date"]) + WEEK)
    return out.sort_values(["unit", "effect_week"], kind="stable")[cols].reset_index(drop=True)


def _run_after(pts: pd.DataFrame, start, side: int) -> int:
    """Longest run of consecutive useful points on ``side`` of the centre line, from ``start`` on.

    Useful points are included, have a value and are not on the centre line
    (the Anhøj convention); missing weeks neither make nor break a run.
    """
    after = pts[(pts["x"] >= start) & pts["include"].astype(bool)]
    y = after["y"].to_numpy(float)
    cl = after["cl"].to_numpy(float)
    ok = np.isfinite(y) & np.isfinite(cl) & (y != cl)
    on_side = np.sign(y[ok] - cl[ok]) == side
    best = run = 0
    for hit in on_side:  # a few dozen weeks per cycle
        run = run + 1 if hit else 0
        best = max(best, run)
    return best


def plan_phases(
    weekly: pd.DataFrame,
    pdsa_log: pd.DataFrame | None,
    *,
    mode: str = "confirmed",
    improvement: str = "increase",
    **chart_kw: Any,
) -> PhasePlan:
    """Baselines and phases for every unit of ``weekly`` (see the module docstring).

    ``weekly`` has ``unit``, ``week``, ``y`` and ``n`` (from
    :func:`pxlib.workbook.measures.weekly_share`); ``chart_kw`` are the chart's
    options, used to judge adopted cycles on the chart the team will see.
    """
    if mode not in PHASE_MODES:
        raise ChartError(f"phases must be one of {PHASE_MODES}, not {mode!r}")
    adopted = _adopted(pdsa_log)
    units = sorted(weekly["unit"].unique())
    cycle_cols = [
        "unit", "cycle_id", "end_date", "effect_from", "status", "run_length", "run_needed",
    ]  # fmt: skip
    if mode == "adopted":
        phases, rows = {}, []
        for u in units:
            grid, _ = _grid(weekly, u)
            own = adopted[adopted["unit"] == u]
            pos = np.searchsorted(grid, own["effect_week"].to_numpy("datetime64[ns]"), side="left")
            for c, p in zip(own.itertuples(index=False), pos, strict=True):
                if 0 < p < len(grid):
                    phases.setdefault(u, []).append(pd.Timestamp(grid[p]))
                    rows.append(
                        {"unit": u, "cycle_id": c.cycle_id, "end_date": c.end_date,
                         "effect_from": pd.Timestamp(grid[p]), "status": "adopted",
                         "run_length": 0, "run_needed": np.nan}
                    )  # fmt: skip
            if u in phases:
                phases[u] = sorted(set(phases[u]))
        return PhasePlan(mode=mode, phases=phases, cycles=pd.DataFrame(rows, columns=cycle_cols))

    first_change = {}
    if pdsa_log is not None and len(pdsa_log) and "start_date" in pdsa_log.columns:
        starts = _monday(pdsa_log["start_date"])
        first_change = starts.groupby(pdsa_log["unit"]).min().dropna().to_dict()
    freeze, rows = {}, []
    for u in units:
        grid, valued = _grid(weekly, u)
        if not len(grid):
            continue
        k, reason = _unit_baseline(grid, valued, first_change.get(u))
        freeze[u] = k
        rows.append(
            {
                "unit": u,
                "baseline_from": pd.Timestamp(grid[0]),
                "baseline_to": pd.Timestamp(grid[min(k, len(grid)) - 1]),
                "baseline_weeks": int(valued[:k].sum()),
                "baseline_reason": reason,
            }
        )
    side = {"increase": 1, "decrease": -1}.get(improvement, 0)
    phases: dict = {}
    cycles = []
    for u, own in adopted.groupby("unit", sort=True):
        if u not in freeze:
            continue
        grid, _ = _grid(weekly, u)
        sub = weekly[weekly["unit"] == u]
        judged: dict = {}  # cycles whose change takes effect in the same week are judged together
        for c in own.itertuples(index=False):
            pos = int(np.searchsorted(grid, np.datetime64(c.effect_week), side="left"))
            record = {"unit": u, "cycle_id": c.cycle_id, "end_date": c.end_date}
            if pos in judged:
                record.update(judged[pos])
                cycles.append(record)
                continue
            if pos == 0:
                status, effect, run, need = "before the data", pd.NaT, 0, np.nan
            elif pos >= len(grid) or side == 0:
                status, effect, run, need = "too early to tell", pd.NaT, 0, np.nan
            else:
                effect = pd.Timestamp(grid[pos])
                res = chart_units(
                    sub,
                    freeze=freeze,
                    phases={u: phases.get(u, [])},
                    improvement=improvement,
                    **chart_kw,
                )
                pts = res.points
                limit = pts.loc[pts["x"] >= effect, "longest_run_max"]
                need = (
                    float(limit.iloc[0]) + 1 if len(limit) and pd.notna(limit.iloc[0]) else np.nan
                )
                run = _run_after(pts, effect, side)
                useful_after = int(
                    (np.isfinite(pts["y"].to_numpy(float)) & (pts["x"] >= effect).to_numpy()).sum()
                )
                after = pts[(pts["x"] >= effect).to_numpy()]
                before = pts[(pts["x"] < effect).to_numpy() & pts["baseline"].to_numpy(bool)]
                before = before[before["phase"] == before["phase"].max()]
                z = level_test(after, before, float(chart_kw.get("multiply", 1.0)))[0]
                if np.isfinite(need) and run >= need and np.isfinite(z) and z * side >= Z_SUSTAINED:
                    status = "confirmed"
                    phases.setdefault(u, []).append(effect)
                elif not np.isfinite(need) or useful_after < need:
                    status = "too early to tell"
                else:
                    status = "no change yet"
            judged[pos] = {
                "effect_from": effect,
                "status": status,
                "run_length": int(run),
                "run_needed": need,
            }
            record.update(judged[pos])
            cycles.append(record)
    return PhasePlan(
        mode=mode,
        freeze=freeze,
        phases=phases,
        baselines=pd.DataFrame(rows),
        cycles=pd.DataFrame(cycles, columns=cycle_cols),
    )
