"""What a team reads about a unit: one reading, from which every caption, icon and verdict comes.

:func:`read_units` turns an :class:`~pxlib.spc.result.SPCResult` (its chart
specification carries the kind, direction, target in plotted units and number
format) into one row per unit: the **signal**, its **evidence** in words, the
**reliability** against the aim with its uncertainty, the **verdict** and the
**next step**. Point colours come from the same chart; the variation icon,
the caption under each chart, the verdict tables, ``results.json``, the index
and the one-page plan are all read from this table and never computed again.

Signal (none, improvement, concern, both)
    Evidence of change, from the current phase of the chart (whose limits are
    those of the frozen baseline until a change is confirmed,
    :mod:`pxlib.workbook.baseline`):

    - a sustained shift after an adopted PDSA cycle, confirmed against the
      baseline (it started the current phase), or any later phase whose weeks
      differ from the phase before by a two-proportion z of 1.96 or more;
    - a week outside the limits among the last :data:`~pxlib.workbook.evidence.RECENT_WEEKS` weeks with
      a value (on its own: one week can be a special cause);
    - a pattern: the Anhøj runs signal of the phase, or recent weeks flagged by
      a run or trend rule (MDC shift, trend, two of three; IHI rules), counted
      only when it is sustained and beyond chance: at least three in four of
      the last :data:`~pxlib.workbook.evidence.RUN_WINDOW` weeks on one side of the centre line, and
      their pooled share differs from the baseline weeks' by a two-proportion
      z of at least :data:`~pxlib.workbook.evidence.Z_SUSTAINED` (:func:`~pxlib.workbook.evidence.level_test`, which allows for
      the baseline's own uncertainty). A frozen baseline of 12-20 weeks sits
      by chance a little above or below the truth, so the run rules alone would
      call one stable unit in ten "changed";
    - the recent level alone, when those weeks differ from the baseline by a z
      of :data:`~pxlib.workbook.evidence.Z_LEVEL` (3) or more: a slow climb the run rules miss.

    Higher values are an improvement when the measure should increase and a
    concern when it should decrease. A concern is always named in the verdict.

Reliability (Nolan, Resar, Haraden & Griffin 2004, *Improving the Reliability of Health Care*, IHI)
    The share of occasions on which the Always Event happened over the current
    phase, pooled over its weeks (the effective sample sizes when weighted),
    with a one-sided 95 % lower confidence bound (Wilson score bound, Wilson
    1927; the lower end of the two-sided 90 % interval). The unit is
    **reliable** when the phase has at least :data:`MIN_WEEKS` weeks with a
    value, no concern signal, and the lower bound is at or above the target
    (at or below it when lower is better): the data, not only the average,
    support the aim. A unit truly at the target is then called reliable about 5 %
    of the time at one look (binomial sampling; the discrete binomial moves this
    a little either way, and judging again every week adds looks), and a unit
    well below it almost never. The IHI levels are stated beside it: below
    80 % "chaotic"; 80-90 % level 1 (10^-1: one or two failures in ten);
    95 % or more level 2 (10^-2: five failures or fewer in 100); 99.5 % or more
    level 3 (10^-3: five or fewer in 1,000). Weekly values of small samples
    scatter widely around the average, which is why the assurance icon (target
    inside the weekly limits, "hit and miss") can sit beside "reliable".

Verdict
    ``deteriorating`` when the signal includes a concern; otherwise
    ``reliable`` as above; otherwise ``improving`` when the signal is an
    improvement; otherwise ``not yet reliable``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pxlib.disclosure import small_numbers
from pxlib.errors import ChartError
from pxlib.spc.spec import ChartSpec
from pxlib.survey.ci import wilson_interval
from pxlib.workbook.evidence import (
    CONCERN,
    IMPROVEMENT,
    RECENT_WEEKS,
    SINGLE_WEEK_RULES,
    find_evidence,
    limits_note,
    phase_shift,
    pooled,
    single_weeks,
    week_words,
)

if TYPE_CHECKING:
    from pxlib.spc.result import SPCResult
    from pxlib.workbook.baseline import PhasePlan

SIGNALS = ("none", "improvement", "concern", "both")
#: the workbook's charts plot shares in percent; a typed target is read through this spec
PERCENT = ChartSpec(kind="p", multiply=100, percent=True)


def target_share(value: float | str) -> float:
    """A target typed as 0.95, 95 or "95%" as a proportion (0.95): :meth:`ChartSpec.to_plotted`."""
    return PERCENT.to_plotted(value) / 100


VERDICTS = ("reliable", "improving", "not yet reliable", "deteriorating")
#: weeks with a value in the current phase before reliability is judged (MDC baseline minimum)
MIN_WEEKS = 12
#: one-sided confidence of the lower bound that must reach the target
CONFIDENCE = 0.95

#: IHI reliability levels (Nolan et al. 2004; Resar 2006): (lowest share, words)
IHI_LEVELS = (
    (0.995, "IHI level 3 (10^-3): five failures or fewer in 1,000"),
    (0.95, "IHI level 2 (10^-2): five failures or fewer in 100"),
    (0.80, "IHI level 1 (10^-1): one or two failures in ten"),
    (0.0, "below IHI level 1: a chaotic process (under 80 %)"),
)


def ihi_level(share: float) -> str:
    """The IHI reliability level of a share (0-1); 90-95 % lies between levels 1 and 2."""
    if share is None or not np.isfinite(share):
        return ""
    if 0.90 <= share < 0.95:
        return "between IHI levels 1 and 2 (90-95 %)"
    return next(words for low, words in IHI_LEVELS if share >= low)


def lower_bound(successes: float, n: float, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """(one-sided lower, upper) Wilson bounds at ``confidence`` for successes out of n (may be non-integer)."""
    if not n or not np.isfinite(n) or n <= 0:
        return float("nan"), float("nan")
    lo, hi = wilson_interval(successes / n, n, level=2 * confidence - 1)
    return float(lo), float(hi)


def _older_outside(valued: pd.DataFrame, rules: pd.Series) -> int:
    """Weeks of the phase outside the limits before the recent weeks the signal looks at."""
    older = valued.iloc[: max(len(valued) - RECENT_WEEKS, 0)]
    return int(single_weeks(rules.loc[older.index]).sum())


def _answers(respondents: pd.DataFrame | None, by: list[str], key: tuple, weeks) -> float:
    """Unweighted answers behind a group's weeks (infinite when no counts are given)."""
    if respondents is None or respondents.empty:
        return float("inf")
    mask = respondents["week"].isin(list(weeks)).to_numpy().copy()
    for c, v in zip(by, key, strict=True):
        mask &= (respondents[c] == v).to_numpy()
    return float(pd.to_numeric(respondents.loc[mask, "n_respondents"], errors="coerce").sum())


def _groups(result):
    by = list(result.by)
    if not by:
        return [((), result.points, result.summary)]
    out = []
    for key, pts in result.points.groupby(by, sort=True, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        mask = np.logical_and.reduce([result.summary[c] == v for c, v in zip(by, key, strict=True)])
        out.append((key, pts, result.summary[mask]))
    return out


def read_units(
    result: SPCResult,
    *,
    plan: PhasePlan | None = None,
    target: float | None = None,
    respondents: pd.DataFrame | None = None,
    min_respondents: int | None = None,
) -> pd.DataFrame:
    """One reading per chart group (see the module docstring for every rule).

    ``plan`` is the :class:`~pxlib.workbook.baseline.PhasePlan` the chart was
    drawn with (for the baseline and the adopted cycles' outcome); ``target``
    overrides the chart's target (plotted units). ``respondents`` (the ``by``
    columns, ``week`` and ``n_respondents``) lets the small-number rule of
    :mod:`pxlib.disclosure` hide the phase's share when it rests on too few answers. Columns: the ``by``
    columns, ``phase``, ``weeks_in_phase``, ``latest_week``, ``latest_value``,
    ``centre_line``, ``lower_limit``, ``upper_limit``, ``baseline_centre``,
    ``signal``, ``evidence``, ``since``, ``estimate``, ``ci_low``,
    ``ci_high``, ``reliability``, ``verdict``, ``variation_type``,
    ``assurance_type``, ``cycles``, ``caveats``, ``reason``, ``next_step``,
    ``caption``.
    """
    spec = result.spec
    fmt = spec.format_value
    rule = small_numbers(min_respondents)
    target = spec.target if target is None else target
    direction = spec.direction
    multiply = float(spec.multiply)
    cycles = plan.cycles if plan is not None and len(getattr(plan, "cycles", [])) else None
    by = list(result.by)
    rules = result.rules_at()
    rows = []
    for key, pts, summ in _groups(result):
        pts = pts.sort_values("x")
        summ = summ.sort_values("phase")
        if summ.empty:
            raise ChartError(f"no summary row for group {key}")
        last, first = summ.iloc[-1], summ.iloc[0]
        cur = pts[pts["phase"] == last["phase"]]
        valued = cur[np.isfinite(cur["y"].to_numpy(float))]
        unit = key[by.index("unit")] if "unit" in by else (key[-1] if key else "")
        ev = find_evidence(cur, last, fmt, multiply, rules)
        own_cycles = cycles[cycles["unit"] == unit] if cycles is not None else pd.DataFrame()
        confirmed = (
            own_cycles[own_cycles["status"].isin(["confirmed", "adopted"])]
            if len(own_cycles)
            else own_cycles
        )
        if int(last["phase"]) > 1:
            shift = phase_shift(pts, last, summ, confirmed, fmt, multiply, direction)
            if shift is not None:
                ev.insert(0, shift)
        better = {e["side"] * direction > 0 for e in ev} if direction else set()
        signal = (
            "both" if better == {True, False}
            else "improvement" if better == {True}
            else "concern" if better == {False}
            else "none"
        )  # fmt: skip
        successes, denom = pooled(valued, multiply)
        hidden = not rule.shows(_answers(respondents, by, key, valued["x"]))
        share = successes / denom if denom > 0 else np.nan
        lo, hi = lower_bound(successes, denom)
        weeks = int(len(valued))
        tgt = None if target is None else float(target) / multiply
        supported = (
            tgt is not None
            and direction != 0
            and ((direction > 0 and lo >= tgt) or (direction < 0 and hi <= tgt))
        )
        concern = signal in ("concern", "both")
        reliable = bool(supported and weeks >= MIN_WEEKS and not concern)
        verdict = (
            "deteriorating" if concern
            else "reliable" if reliable
            else "improving" if signal == "improvement"
            else "not yet reliable"
        )  # fmt: skip
        rel = _reliability_words(
            fmt,
            weeks,
            share,
            lo,
            hi,
            direction,
            target,
            tgt,
            reliable,
            supported,
            concern,
            multiply,
        )
        if not weeks:
            rel = "No week of the current phase has answers yet."
        elif hidden:
            rel = (
                f"Over the {weeks} weeks of the current phase: {rule.note} "
                f"({rule.threshold} answers are needed before a share is shown)."
            )
            share = lo = hi = np.nan
        notes = []
        for c in own_cycles.itertuples(index=False) if len(own_cycles) else []:
            if c.status == "no change yet":
                notes.append(f"No change yet after cycle {c.cycle_id}.")
            elif c.status == "too early to tell":
                notes.append(
                    f"Too early to tell whether cycle {c.cycle_id} changed anything "
                    f"({int(c.run_needed) if pd.notna(c.run_needed) else 'more'} weeks on the better side are needed)."
                )
        key_side = -direction if concern else direction
        since = min((e["since"] for e in ev if e["side"] == key_side), default=None)
        evidence = (
            "; ".join(e["words"] for e in ev)
            if ev
            else "no special cause in the recent weeks: they vary by chance"
        )
        older = _older_outside(valued, rules)
        if older:
            evidence += f" ({older} earlier week{'s' if older > 1 else ''} of this phase outside the limits)"
        caveats = (
            "; ".join(
                c
                for c in (limits_note(cur, last, multiply), str(last.get("warning", "") or ""))
                if c.strip()
            )
            .strip()
            .rstrip(".")
        )
        variation = (
            CONCERN if concern
            else IMPROVEMENT if signal == "improvement"
            else str(valued["point_type"].iloc[-1]) if (direction == 0 and len(valued))
            else "common_cause"
        )  # fmt: skip
        step = _next_step(verdict, signal, weeks, notes, own_cycles, since)
        signal_text = {
            "none": "A change, neither improvement nor concern (no direction is set)"
            if ev and not direction
            else "No sign of change",
            "improvement": "Improvement",
            "concern": "Concern",
            "both": "Concern after an improvement",
        }[signal]
        reason = f"{signal_text}: {evidence}. {rel}" + (f" {' '.join(notes)}" if notes else "")
        last_valued = pts[np.isfinite(pts["y"].to_numpy(float))]
        latest = last_valued.iloc[-1] if len(last_valued) else None
        record = dict(zip(by, key, strict=True))
        record.update(
            {
                "phase": int(last["phase"]),
                "weeks_in_phase": weeks,
                "latest_week": latest["x"] if latest is not None else pd.NaT,
                "latest_value": float(latest["y"]) if latest is not None else np.nan,
                "centre_line": float(last["cl"]),
                "lower_limit": float(last["lcl"]) if pd.notna(last["lcl"]) else np.nan,
                "upper_limit": float(last["ucl"]) if pd.notna(last["ucl"]) else np.nan,
                "baseline_centre": float(first["cl"]),
                "signal": signal,
                "pattern_side": next((e["side"] for e in ev if e["kind"] == "pattern"), 0),
                "evidence": evidence,
                "since": since if since is not None else pd.NaT,
                "estimate": share * multiply,
                "ci_low": lo * multiply,
                "ci_high": hi * multiply,
                "reliability": rel,
                "verdict": verdict,
                "variation_type": variation,
                "assurance_type": str(last.get("assurance_type") or ""),
                "cycles": " ".join(notes),
                "caveats": caveats,
                "reason": reason,
                "next_step": step,
                "caption": f"{verdict[:1].upper()}{verdict[1:]}. {reason}"
                + (f" Caveats: {caveats}." if caveats else ""),
            }
        )
        rows.append(record)
    return pd.DataFrame(rows)


def _reliability_words(
    fmt, weeks, share, lo, hi, direction, target, tgt, reliable, supported, concern, multiply
) -> str:
    """The reliability sentence: the phase's share, its one-sided 95 % bound, the IHI
    level (of failures when lower is better) and the judgement against the target."""
    bound = lo if direction >= 0 else hi
    head = (
        f"Over the {weeks} weeks of the current phase it happened for {fmt(share * multiply, 1)} "
        f"of patients (95% confident: {'at least' if direction >= 0 else 'at most'} "
        f"{fmt(bound * multiply, 1)}"
    )
    if direction:
        head += f"; {ihi_level(share if direction > 0 else 1 - share)}"
    head += ")"
    if tgt is None:
        return head + ". No target is set."
    t = fmt(target)
    if not direction:
        return head + ". No direction of improvement is set, so the target is not judged."
    if reliable:
        return head + f": reliably at the {t} target."
    if weeks < MIN_WEEKS:
        return head + f"; {MIN_WEEKS} weeks are needed to judge it against the {t} target."
    if supported and concern:
        return (
            head
            + f", but a concern signal means it cannot be called reliable against the {t} target."
        )
    if (direction > 0 and share >= tgt) or (direction < 0 and share <= tgt):
        return (
            head
            + f": the average meets the {t} target but the evidence does not yet rule out chance."
        )
    return head + f": not yet at the {t} target."


def _next_step(verdict: str, signal: str, weeks: int, notes: list[str], cycles, since) -> str:
    when = f" since {week_words(since)}" if since is not None else ""
    if verdict == "deteriorating":
        head = "The earlier improvement is slipping. " if signal == "both" else ""
        return (
            f"{head}Find out with the team what changed{when} (staffing, the process, who was "
            "asked), put it right, and test a change in a small PDSA cycle; keep measuring weekly."
        )
    if verdict == "reliable":
        return (
            "Hold the gains: build the change into standard work, hand the measure to the "
            "process owner, move to the sustain chart (limits frozen from this phase), keep "
            "measuring weekly until the step-down rule allows monthly measurement (notebook 04), "
            "and share what worked with the next unit."
        )
    if verdict == "improving":
        status = set(cycles["status"]) if cycles is not None and len(cycles) else set()
        if "too early to tell" in status and not status & {"confirmed", "adopted"}:
            return (
                "Keep the adopted change and keep measuring every week: a few more weeks on "
                "the better side will confirm it as a new phase."
            )
        if not status & {"confirmed", "adopted"}:
            return (
                "Better than the baseline, but no adopted PDSA cycle explains it: record what "
                "changed as a PDSA cycle so it can be kept and spread, and keep measuring."
            )
        if weeks < MIN_WEEKS:
            return f"Keep the adopted change and keep measuring: {MIN_WEEKS - weeks} more weeks before reliability can be judged."
        return "Keep the adopted change and test the next change idea in a new PDSA cycle."
    if any(n.startswith("No change yet") for n in notes):
        return (
            "Study why the adopted change made no difference yet (is it done every time, on "
            "every shift?), adapt or abandon it, and test the next idea."
        )
    if any(n.startswith("Too early") for n in notes):
        return "Keep measuring every week: it is too early to judge the latest change."
    if weeks < MIN_WEEKS:
        return f"Keep measuring every week: {MIN_WEEKS} weeks are needed to judge reliability."
    return (
        "Test a change idea with a small PDSA cycle (one shift, a few patients) and keep "
        "plotting every week."
    )


def consistent_result(result: SPCResult, readings: pd.DataFrame) -> SPCResult:
    """The chart as the team sees it, agreeing with the readings point for point.

    In each group's current phase, points flagged only by a pattern rule (a run,
    shift or trend) keep their special-cause colour only when the reading found
    that pattern sustained and beyond chance on their side; otherwise they are
    drawn as common cause. The phase's ``runs_signal`` says whether the reading
    accepted a pattern, and its ``variation_type`` is the reading's, so the
    figure's icons, legend and ordering tell the same story as the caption.
    Weeks outside the limits and earlier phases are left as the engine drew them.
    """
    by = list(result.by)
    pts = result.points.copy()
    summ = result.summary.copy()
    keys = readings[[*by, "phase", "pattern_side", "variation_type"]]
    cur = pts[by].merge(keys, on=by, how="left", validate="many_to_one") if by else None
    if cur is None:
        row = keys.iloc[0]
        current_phase = np.full(len(pts), row["phase"])
        accepted = np.full(len(pts), row["pattern_side"])
    else:
        current_phase = cur["phase"].to_numpy()
        accepted = cur["pattern_side"].to_numpy()
    single = result.flagged(SINGLE_WEEK_RULES)
    special = pts["point_type"].astype(str) != "common_cause"
    side = np.sign(pts["y"].to_numpy(float) - pts["cl"].to_numpy(float))
    in_current = pts["phase"].to_numpy() == current_phase
    demote = (special & ~single).to_numpy() & in_current & (side != accepted)
    if demote.any():
        pts["point_type"] = pts["point_type"].astype(object)
        pts.loc[demote, "point_type"] = "common_cause"
        pts["point_type"] = pd.Categorical(
            pts["point_type"], categories=result.points["point_type"].cat.categories
        )
        causes = pts["special_cause"].astype(object).where(~demote, "")
        pts["special_cause"] = (
            pd.Categorical(causes)
            if isinstance(pts["special_cause"].dtype, pd.CategoricalDtype)
            else causes
        )
        if "mixed_signal" in pts.columns:
            pts.loc[demote, "mixed_signal"] = False
    s_keys = summ[by].merge(keys, on=by, how="left", validate="many_to_one") if by else None
    s_phase = s_keys["phase"].to_numpy() if by else np.full(len(summ), keys["phase"].iloc[0])
    last = summ["phase"].to_numpy() == s_phase
    pattern = (
        s_keys["pattern_side"].to_numpy()
        if by
        else np.full(len(summ), keys["pattern_side"].iloc[0])
    ) != 0
    variation = (
        s_keys["variation_type"].to_numpy()
        if by
        else np.full(len(summ), keys["variation_type"].iloc[0])
    )
    summ.loc[last, "runs_signal"] = pattern[last]
    summ.loc[last, "variation_type"] = variation[last]
    return result.with_points(pts, summ, cleared=demote)
