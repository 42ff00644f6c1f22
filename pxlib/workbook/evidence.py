"""Evidence of change in a unit's chart: the facts a reading is built from.

:func:`find_evidence` lists what the current phase of a chart shows, each item with
its side (+1 higher, -1 lower), its words and since when; the rules are those of
:mod:`pxlib.workbook.reading`'s docstring. :func:`level_test` compares the pooled
share of two sets of weeks (the two-proportion z test); :func:`change_point`
estimates when a new level began.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from pxlib.fmt import plural
from pxlib.spc.summary import runs_rules_off

#: special-cause weeks this recent count as the unit's current signal
RECENT_WEEKS = 6
#: the weeks whose position against the centre line gives a runs signal its direction
RUN_WINDOW = 8
IMPROVEMENT = "special_cause_improvement"
CONCERN = "special_cause_concern"
#: rules that a single week can break (ids of :data:`pxlib.spc.rules.RULE_IDS`); every other
#: rule is a pattern that must be sustained
SINGLE_WEEK_RULES = ("outside", "astronomical")
#: z of the recent weeks against the baseline weeks that a pattern needs to count (two-sided 5 %)
Z_SUSTAINED = 1.96
#: z that the recent level needs on its own, with no rule flagging a pattern (the 3-sigma rule
#: applied to the last RUN_WINDOW weeks pooled)
Z_LEVEL = 3.0
#: the words of each pattern: the pattern rules by id, the phase's Anhøj runs signal
#: ("runs") and, where the run rules were left out, the recent level ("level")
PATTERN_WORDS = {
    "runs": "the Anhøj run rules",
    "long_run": "a run longer than chance allows (Anhøj)",
    "shift": "a shift (MDC)",
    "trend": "a trend (MDC)",
    "two_of_three": "two of three weeks close to a limit (MDC)",
    "ihi_shift": "a shift (IHI)",
    "ihi_trend": "a trend (IHI)",
    "level": "the recent level; most weeks are at 100 %, so the run rules are not used",
}


def _side_word(side: int) -> str:
    return "above" if side > 0 else "below"


def week_words(x: object) -> str:
    return pd.Timestamp(x).strftime("%d %b %Y") if isinstance(x, pd.Timestamp) else str(x)


def change_point(valued: pd.DataFrame) -> Any:
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
    s1, n1 = pooled(recent, multiply)
    s0, n0 = pooled(reference, multiply)
    if n1 <= 0 or n0 <= 0:
        return float("nan"), float("nan"), float("nan")
    p1, p0, p = s1 / n1, s0 / n0, (s1 + s0) / (n1 + n0)
    se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n0))
    z = (p1 - p0) / se if se > 0 else 0.0
    return float(z), p1 * multiply, p0 * multiply


def single_weeks(rules: pd.Series) -> pd.Series:
    """Per point: whether a rule that a single week can break fired there (``rules`` holds
    the rule ids of each point, :meth:`pxlib.spc.result.SPCResult.rules_at`)."""
    return rules.map(lambda fired: any(r in SINGLE_WEEK_RULES for r in fired)).astype(bool)


def _patterns_in(rules: pd.Series) -> list[str]:
    """The pattern rules fired at these points, in order of first appearance."""
    return list(dict.fromkeys(r for fired in rules for r in fired if r in PATTERN_WORDS))


def find_evidence(
    cur: pd.DataFrame,
    summary_row: pd.Series,
    fmt: Callable[[float], str],
    multiply: float,
    rules: pd.Series,
) -> list[dict]:
    """Evidence of change in the current phase: [{side, words, since}], side +1 higher / -1 lower.

    ``cur`` holds the phase's points and ``rules`` the ids of the rules fired at each
    (:meth:`pxlib.spc.result.SPCResult.rules_at`, under the points' index).

    A week outside the limits among the last :data:`RECENT_WEEKS` counts on its
    own. A pattern (the phase's Anhøj runs signal, or recent weeks flagged by a
    run or trend rule) counts when it is sustained and beyond chance: at least
    three in four of the last :data:`RUN_WINDOW` weeks lie on one side of the
    centre line, and their pooled share differs from the phase's baseline weeks
    by a two-proportion z of at least :data:`Z_SUSTAINED` (:func:`level_test`),
    which allows for the uncertainty of the baseline itself. With no rule
    flagging a pattern, the recent level counts when that z reaches
    :data:`Z_LEVEL` (the 3-sigma rule on the last weeks pooled): a slow climb
    the run rules miss. Where the engine left the run rules out (most weeks at
    100 %), the recent level stands in for them at :data:`Z_SUSTAINED`.
    """
    out: list[dict] = []
    valued = cur[np.isfinite(cur["y"].to_numpy(float))]
    recent = valued.tail(RECENT_WEEKS)
    recent_rules = rules.loc[recent.index]
    single = recent[single_weeks(recent_rules).to_numpy()]
    for side in (1, -1):
        hits = single[np.sign(single["y"] - single["cl"]).to_numpy() == side]
        if len(hits):
            out.append(
                {
                    "side": side,
                    "words": f"{len(hits)} of the last {len(recent)} weeks "
                    f"{plural(len(hits), 'was')} {_side_word(side)} the process limits",
                    "since": hits["x"].iloc[0],
                    "kind": "single",
                }
            )
    patterns = _patterns_in(recent_rules)
    if bool(summary_row.get("runs_signal", False)) and "long_run" not in patterns:
        patterns.insert(0, "runs")
    if runs_rules_off(str(summary_row.get("warning", "") or "")):
        patterns.append("level")
    window = valued[valued["include"].astype(bool)].tail(RUN_WINDOW)
    if len(window) < 4:
        return out
    reference = valued[valued["baseline"].astype(bool) & ~valued.index.isin(window.index)]
    if len(reference) < 4:
        reference = valued[~valued.index.isin(window.index)]
    if len(reference) < 4:
        return out
    sides = np.sign(window["y"] - window["cl"]).to_numpy()
    frac = float((sides > 0).mean())
    side = 1 if frac >= 0.75 else -1 if frac <= 0.25 else 0
    z, p_recent, p_ref = level_test(window, reference, multiply)
    needed = Z_SUSTAINED if patterns else Z_LEVEL
    if side and np.isfinite(z) and z * side >= needed:
        names = ", ".join(PATTERN_WORDS.get(r, r) for r in patterns) or (
            f"the recent level, {Z_LEVEL:g} standard errors from the baseline"
        )
        since = change_point(valued)
        out.append(
            {
                "side": side,
                "words": (
                    f"a sustained change since about {week_words(since)} ({names}): "
                    f"{int((sides == side).sum())} of the last {len(window)} weeks "
                    f"{plural(int((sides == side).sum()), 'is')} {_side_word(side)} the centre line of "
                    f"{fmt(float(window['cl'].iloc[-1]))}, and together they average "
                    f"{fmt(p_recent)} against {fmt(p_ref)} in the baseline weeks, more than "
                    "chance explains"
                ),
                "since": since,
                "kind": "pattern",
            }
        )
    return out


def phase_shift(
    pts: pd.DataFrame,
    last: pd.Series,
    summ: pd.DataFrame,
    confirmed: pd.DataFrame,
    fmt: Callable[[float], str],
    multiply: float,
    direction: int = 0,
) -> dict | None:
    """Evidence that the current phase sits at another level than the phase before it.

    The current phase's weeks pooled against the previous phase's, by
    :func:`level_test`; it counts when the z reaches :data:`Z_SUSTAINED`. The
    words name the adopted cycle the data confirmed, when there is one
    (:mod:`pxlib.workbook.baseline`); a confirmed shift is on the better side
    (``direction``) by construction, whatever the phase did later.
    """
    phase = int(last["phase"])
    current = pts[(pts["phase"] == phase) & np.isfinite(pts["y"].to_numpy(float))]
    before = pts[(pts["phase"] == phase - 1) & np.isfinite(pts["y"].to_numpy(float))]
    z, p_now, p_before = level_test(current, before, multiply)
    c = confirmed.iloc[-1] if len(confirmed) else None
    is_confirmed = c is not None and c["status"] == "confirmed"
    if is_confirmed and direction:
        side = direction  # confirmed by the plan: a run on the better side, beyond chance
    elif not np.isfinite(z) or abs(z) < Z_SUSTAINED:
        return None
    else:
        side = int(np.sign(z))
    earlier = fmt(float(summ[summ["phase"] == phase - 1]["cl"].iloc[0]))
    start = week_words(current["x"].iloc[0]) if len(current) else "?"
    if is_confirmed:
        words = (
            f"a sustained shift after cycle {c['cycle_id']}, from {week_words(c['effect_from'])}: "
            f"{int(c['run_length'])} weeks in a "
            f"row {_side_word(side)} the centre line of {earlier} before it (chance allows "
            f"{int(c['run_needed']) - 1}); the new phase averages {fmt(p_now)}"
        )
    elif c is not None:
        words = (
            f"the phase after adopted cycle {c['cycle_id']} (from {start}) averages "
            f"{fmt(p_now)} against {fmt(p_before)} before it, more than chance explains"
        )
    else:
        words = (
            f"the current phase (from {start}) averages {fmt(p_now)} against {fmt(p_before)} "
            "in the phase before, more than chance explains"
        )
    since = current["x"].iloc[0] if len(current) else None
    return {"side": side, "words": words, "since": since, "kind": "shift"}


def limits_note(cur: pd.DataFrame, summary_row: pd.Series, multiply: float) -> str:
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


def pooled(frame: pd.DataFrame, multiply: float) -> tuple[float, float]:
    """(successes, denominator) pooled over weeks with a value: sum(p_i n_i), sum(n_i)."""
    n = frame["n"].to_numpy(float) if "n" in frame.columns else np.full(len(frame), np.nan)
    y = frame["y"].to_numpy(float) / multiply
    ok = np.isfinite(y) & np.isfinite(n) & (n > 0)
    return float((y[ok] * n[ok]).sum()), float(n[ok].sum())
