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
    - a week outside the limits among the last :data:`RECENT_WEEKS` weeks with
      a value (on its own: one week can be a special cause);
    - a pattern: the Anhøj runs signal of the phase, or recent weeks flagged by
      a run or trend rule (MDC shift, trend, two of three; IHI rules), counted
      only when it is sustained and beyond chance: at least three in four of
      the last :data:`RUN_WINDOW` weeks on one side of the centre line, and
      their pooled share differs from the baseline weeks' by a two-proportion
      z of at least :data:`Z_SUSTAINED` (:func:`level_test`, which allows for
      the baseline's own uncertainty). A frozen baseline of 12-20 weeks sits
      by chance a little above or below the truth, so the run rules alone would
      call one stable unit in ten "changed";
    - the recent level alone, when those weeks differ from the baseline by a z
      of :data:`Z_LEVEL` (3) or more: a slow climb the run rules miss.

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
    support the aim. A unit truly below the target is then called reliable at
    most about 5 % of the time. The IHI levels are stated beside it: below
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

import re

import numpy as np
import pandas as pd

from pxlib.errors import ChartError
from pxlib.spc.spec import ChartSpec
from pxlib.survey.ci import proportion_ci

SIGNALS = ("none", "improvement", "concern", "both")
#: the workbook's charts plot shares in percent; a typed target is read through this spec
PERCENT = ChartSpec(kind="p", multiply=100, percent=True)


def target_share(value: float | str) -> float:
    """A target typed as 0.95, 95 or "95%" as a proportion (0.95): :meth:`ChartSpec.to_plotted`."""
    return PERCENT.to_plotted(value) / 100


VERDICTS = ("reliable", "improving", "not yet reliable", "deteriorating")
#: weeks with a value in the current phase before reliability is judged (MDC baseline minimum)
MIN_WEEKS = 12
#: special-cause weeks this recent count as the unit's current signal
RECENT_WEEKS = 6
#: the weeks whose position against the centre line gives a runs signal its direction
RUN_WINDOW = 8
#: one-sided confidence of the lower bound that must reach the target
CONFIDENCE = 0.95

IMPROVEMENT = "special_cause_improvement"
CONCERN = "special_cause_concern"
#: rules that a single week can break; every other rule is a pattern that must be sustained
SINGLE_WEEK_RULES = ("outside limits", "astronomical point (IHI)")
#: z of the recent weeks against the baseline weeks that a pattern needs to count (two-sided 5 %)
Z_SUSTAINED = 1.96
#: z that the recent level needs on its own, with no rule flagging a pattern (the 3-sigma rule
#: applied to the last RUN_WINDOW weeks pooled)
Z_LEVEL = 3.0
PATTERN_WORDS = {
    "runs (Anhøj)": "the Anhøj run rules",
    "longest run (Anhøj)": "a run longer than chance allows (Anhøj)",
    "shift": "a shift (MDC)",
    "trend": "a trend (MDC)",
    "two of three close to limits": "two of three weeks close to a limit (MDC)",
    "shift (IHI)": "a shift (IHI)",
    "trend (IHI)": "a trend (IHI)",
    "level": "the recent level; most weeks are at 100 %, so the run rules are not used",
}
RULE_WORDS = {
    "outside limits": "outside the process limits",
    "longest run (Anhøj)": "in a run on one side longer than chance allows (Anhøj)",
    "shift": "in a shift of weeks on one side of the centre line (MDC)",
    "trend": "in a trend of weeks rising or falling (MDC)",
    "two of three close to limits": "two of three weeks close to a limit (MDC)",
    "shift (IHI)": "in a shift of 6 or more weeks on one side (IHI)",
    "trend (IHI)": "in a trend of 5 or more weeks (IHI)",
    "astronomical point (IHI)": "an astronomical point (IHI)",
}
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
    p = successes / n
    se = np.sqrt(p * (1 - p) / n)
    lo, hi = proportion_ci(p, se, np.inf, method="wilson", level=2 * confidence - 1, ess=n)
    return float(lo), float(hi)


def _side_word(side: int) -> str:
    return "above" if side > 0 else "below"


def _week(x) -> str:
    return pd.Timestamp(x).strftime("%d %b %Y") if isinstance(x, pd.Timestamp) else str(x)


def _change_point(valued: pd.DataFrame):
    """The first week of the new level: the CUSUM change-point estimate, the t that
    maximises |sum of (y_i - mean y) over i < t| (Page 1954; Hinkley 1971) over the
    phase's weeks with a value."""
    y = valued["y"].to_numpy(float)
    if len(y) < 2:
        return valued["x"].iloc[-1] if len(y) else None
    cusum = np.cumsum(y - y.mean())[:-1]
    return valued["x"].iloc[int(np.argmax(np.abs(cusum))) + 1]


def level_test(
    recent: pd.DataFrame, reference: pd.DataFrame, multiply: float
) -> tuple[float, float, float]:
    """(z, recent share, reference share): the two-proportion z statistic of the pooled
    recent weeks against the pooled reference weeks, z = (p1 - p0) / sqrt(p(1-p)(1/n1 + 1/n0))
    with p the pooled share of both (effective sample sizes when weighted)."""
    s1, n1 = _pooled(recent, multiply)
    s0, n0 = _pooled(reference, multiply)
    if n1 <= 0 or n0 <= 0:
        return float("nan"), float("nan"), float("nan")
    p1, p0, p = s1 / n1, s0 / n0, (s1 + s0) / (n1 + n0)
    se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n0))
    z = (p1 - p0) / se if se > 0 else 0.0
    return float(z), p1 * multiply, p0 * multiply


def _run_rules_off(summary_row: pd.Series) -> bool:
    """Whether the engine left the run rules out of this phase (most weeks at 0 or 100 %)."""
    return "runs above and below the centre line say nothing" in str(summary_row.get("warning", ""))


def _rules_in(frame: pd.DataFrame) -> list[str]:
    rules: list[str] = []
    for text in frame["special_cause"].astype(str):
        rules += [r for r in text.split("; ") if r in RULE_WORDS and r not in rules]
    return rules


def _evidence(cur: pd.DataFrame, summary_row: pd.Series, fmt, multiply: float) -> list[dict]:
    """Evidence of change in the current phase: [{side, words, since}], side +1 higher / -1 lower.

    A week outside the limits among the last :data:`RECENT_WEEKS` counts on its
    own. A pattern (the phase's Anhøj runs signal, or recent weeks flagged by a
    run or trend rule) counts when it is sustained and beyond chance: at least
    three in four of the last :data:`RUN_WINDOW` weeks lie on one side of the
    centre line, and their pooled share differs from the phase's baseline weeks
    by a two-proportion z of at least :data:`Z_SUSTAINED` (:func:`level_test`),
    which allows for the uncertainty of the baseline itself. With no rule
    flagging a pattern, the recent level counts when that z reaches
    :data:`Z_LEVEL` (the 3-sigma rule on the last weeks pooled): a slow climb
    the run rules miss.
    """
    out: list[dict] = []
    valued = cur[np.isfinite(cur["y"].to_numpy(float))]
    recent = valued.tail(RECENT_WEEKS)
    single = recent[
        recent["special_cause"]
        .astype(str)
        .str.contains("|".join(map(re.escape, SINGLE_WEEK_RULES)))
    ]
    for side in (1, -1):
        hits = single[np.sign(single["y"] - single["cl"]).to_numpy() == side]
        if len(hits):
            out.append(
                {
                    "side": side,
                    "words": f"{len(hits)} of the last {len(recent)} weeks {_side_word(side)} the process limits",
                    "since": hits["x"].iloc[0],
                    "kind": "single",
                }
            )
    patterns = [r for r in _rules_in(recent) if r not in SINGLE_WEEK_RULES]
    if bool(summary_row.get("runs_signal", False)) and "longest run (Anhøj)" not in patterns:
        patterns.insert(0, "runs (Anhøj)")
    if _run_rules_off(summary_row):
        patterns.append("level")
    window = valued[valued["include"].astype(bool)].tail(RUN_WINDOW)
    if len(window) < 4:
        return out
    reference = valued[valued["baseline"].astype(bool) & ~valued.index.isin(window.index)]
    if len(reference) < 4:
        reference = valued[~valued.index.isin(window.index)]
    sides = np.sign(window["y"] - window["cl"]).to_numpy()
    frac = float((sides > 0).mean())
    side = 1 if frac >= 0.75 else -1 if frac <= 0.25 else 0
    z, p_recent, p_ref = level_test(window, reference, multiply)
    needed = Z_SUSTAINED if patterns else Z_LEVEL
    if side and np.isfinite(z) and z * side >= needed:
        names = ", ".join(PATTERN_WORDS.get(r, r) for r in patterns) or (
            f"the recent level, {Z_LEVEL:g} standard errors from the baseline"
        )
        since = _change_point(valued)
        out.append(
            {
                "side": side,
                "words": (
                    f"a sustained change since about {_week(since)} ({names}): "
                    f"{int((sides == side).sum())} of the last "
                    f"{len(window)} weeks are {_side_word(side)} the centre line of "
                    f"{fmt(float(window['cl'].iloc[-1]))}, and together they average "
                    f"{fmt(p_recent)} against {fmt(p_ref)} in the baseline weeks, more than "
                    "chance explains"
                ),
                "since": since,
                "kind": "pattern",
            }
        )
    return out


def _phase_shift(pts, last, summ, confirmed, fmt, multiply: float) -> dict | None:
    """Evidence that the current phase sits at another level than the phase before it.

    The current phase's weeks pooled against the previous phase's, by
    :func:`level_test`; it counts when the z reaches :data:`Z_SUSTAINED`. The
    words name the adopted cycle the data confirmed, when there is one
    (:mod:`pxlib.workbook.baseline`).
    """
    phase = int(last["phase"])
    current = pts[(pts["phase"] == phase) & np.isfinite(pts["y"].to_numpy(float))]
    before = pts[(pts["phase"] == phase - 1) & np.isfinite(pts["y"].to_numpy(float))]
    z, p_now, p_before = level_test(current, before, multiply)
    if not np.isfinite(z) or abs(z) < Z_SUSTAINED:
        return None
    side = int(np.sign(z))
    earlier = fmt(float(summ[summ["phase"] == phase - 1]["cl"].iloc[0]))
    if len(confirmed):
        c = confirmed.iloc[-1]
        words = (
            f"a sustained shift after cycle {c['cycle_id']}, from {_week(c['effect_from'])}: "
            f"{int(c['run_length'])} weeks in a "
            f"row {_side_word(side)} the centre line of {earlier} before it (chance allows "
            f"{int(c['run_needed']) - 1}); the new phase averages {fmt(p_now)}"
        )
    else:
        words = (
            f"the current phase (from {_week(current['x'].iloc[0]) if len(current) else '?'}) "
            f"averages {fmt(p_now)} against {fmt(p_before)} in the phase before, more than "
            "chance explains"
        )
    since = current["x"].iloc[0] if len(current) else None
    return {"side": side, "words": words, "since": since, "kind": "shift"}


def _limits_note(cur: pd.DataFrame, summary_row: pd.Series, multiply: float) -> str:
    """Why the phase has exact binomial limits, in words (empty for other limits)."""
    if str(summary_row.get("limits", "")) != "exact":
        return ""
    n = cur["n"].to_numpy(float)
    n_bar = float(np.nanmean(n)) if np.isfinite(n).any() else float("nan")
    p = float(summary_row["cl"]) / multiply
    rare = min(p, 1 - p) * n_bar
    side = "not to have it" if p >= 0.5 else "to have it"
    return (
        f"exact binomial limits, as only about {rare:.1f} of {n_bar:.0f} patients a week are "
        f"expected {side} (too few for the usual formula)"
    )


def _pooled(frame: pd.DataFrame, multiply: float) -> tuple[float, float]:
    """(successes, denominator) pooled over weeks with a value: sum(p_i n_i), sum(n_i)."""
    n = frame["n"].to_numpy(float) if "n" in frame.columns else np.full(len(frame), np.nan)
    y = frame["y"].to_numpy(float) / multiply
    ok = np.isfinite(y) & np.isfinite(n) & (n > 0)
    return float((y[ok] * n[ok]).sum()), float(n[ok].sum())


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


def read_units(result, *, plan=None, target: float | None = None) -> pd.DataFrame:
    """One reading per chart group (see the module docstring for every rule).

    ``plan`` is the :class:`~pxlib.workbook.baseline.PhasePlan` the chart was
    drawn with (for the baseline and the adopted cycles' outcome); ``target``
    overrides the chart's target (plotted units). Columns: the ``by``
    columns, ``phase``, ``weeks_in_phase``, ``latest_week``, ``latest_value``,
    ``centre_line``, ``lower_limit``, ``upper_limit``, ``baseline_centre``,
    ``signal``, ``evidence``, ``since``, ``estimate``, ``ci_low``,
    ``ci_high``, ``reliability``, ``verdict``, ``variation_type``,
    ``assurance_type``, ``cycles``, ``caveats``, ``reason``, ``next_step``,
    ``caption``.
    """
    spec = result.spec
    fmt = spec.format_value
    target = spec.target if target is None else target
    direction = spec.direction
    multiply = float(spec.multiply)
    cycles = plan.cycles if plan is not None and len(getattr(plan, "cycles", [])) else None
    by = list(result.by)
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
        ev = _evidence(cur, last, fmt, multiply)
        own_cycles = cycles[cycles["unit"] == unit] if cycles is not None else pd.DataFrame()
        confirmed = (
            own_cycles[own_cycles["status"] == "confirmed"] if len(own_cycles) else own_cycles
        )
        if int(last["phase"]) > 1:
            shift = _phase_shift(pts, last, summ, confirmed, fmt, multiply)
            if shift is not None:
                ev.insert(0, shift)
        better = {e["side"] * direction > 0 for e in ev} if direction else set()
        signal = (
            "both" if better == {True, False}
            else "improvement" if better == {True}
            else "concern" if better == {False}
            else "none"
        )  # fmt: skip
        successes, denom = _pooled(valued, multiply)
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
        est_s = fmt(share * multiply)
        bound = lo if direction >= 0 else hi
        bound_word = "at least" if direction >= 0 else "at most"
        rel = (
            f"Over the {weeks} weeks of the current phase it happened for {est_s} of patients "
            f"(95% confident: {bound_word} {fmt(bound * multiply)}; {ihi_level(share)})"
        )
        if tgt is not None:
            if reliable:
                rel += f": reliably at the {fmt(target)} target."
            elif weeks < MIN_WEEKS:
                rel += (
                    f"; {MIN_WEEKS} weeks are needed to judge it against the {fmt(target)} target."
                )
            elif supported and concern:
                rel += f", but a concern signal means it cannot be called reliable against the {fmt(target)} target."
            elif (direction > 0 and share >= tgt) or (direction < 0 and share <= tgt):
                rel += (
                    f": the average meets the {fmt(target)} target but the evidence does not yet "
                    "rule out chance."
                )
            else:
                rel += f": not yet at the {fmt(target)} target."
        else:
            rel += ". No target is set."
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
            else "no special cause: the weeks vary by chance"
        )
        caveats = (
            "; ".join(
                c
                for c in (_limits_note(cur, last, multiply), str(last.get("warning", "") or ""))
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
            "none": "No sign of change",
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


def _next_step(verdict: str, signal: str, weeks: int, notes: list[str], cycles, since) -> str:
    when = f" since {_week(since)}" if since is not None else ""
    if verdict == "deteriorating":
        head = "The earlier improvement is slipping. " if signal == "both" else ""
        return (
            f"{head}Find out with the team what changed{when} (staffing, the process, who was "
            "asked), put it right, and test a change in a small PDSA cycle; keep measuring weekly."
        )
    if verdict == "reliable":
        return (
            "Hold the gains: build the change into standard work, hand the measure to the "
            "process owner, move to the sustain chart (limits frozen from this phase), measure "
            "less often, and share what worked with the next unit."
        )
    if verdict == "improving":
        if cycles is None or not len(cycles) or not (cycles["status"] == "confirmed").any():
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


def consistent_result(result, readings: pd.DataFrame):
    """The chart as the team sees it, agreeing with the readings point for point.

    In each group's current phase, points flagged only by a pattern rule (a run,
    shift or trend) keep their special-cause colour only when the reading found
    that pattern sustained and beyond chance on their side; otherwise they are
    drawn as common cause. The phase's ``runs_signal`` says whether the reading
    accepted a pattern, and its ``variation_type`` is the reading's, so the
    figure's icons, legend and ordering tell the same story as the caption.
    Weeks outside the limits and earlier phases are left as the engine drew them.
    """
    import dataclasses

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
    causes = pts["special_cause"].astype(str)
    single = causes.str.contains("|".join(map(re.escape, SINGLE_WEEK_RULES)))
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
        pts.loc[demote, "special_cause"] = ""
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
    return dataclasses.replace(result, points=pts, summary=summ)
