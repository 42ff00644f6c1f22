"""Sampling plans: how precise n patients a week are, and how fast a chart sees a change.

Two questions a team asks when it decides how many patients to ask each week:

- **How precise is one week?** :func:`ci_width` gives the width of the 95 %
  Wilson score interval (Wilson 1927) for a share ``p`` from ``n`` patients:
  centre (p + z²/2n)/(1 + z²/n), half-width z·√(p(1−p)/n + z²/4n²)/(1 + z²/n).
  With a design effect ``deff`` (weighting), n is replaced by the effective
  sample size n/deff (Kish 1965).
- **How many weeks until the chart shows a real change?**
  :func:`weeks_to_detect` simulates it with pxlib's own chart and rules:
  ``baseline_weeks`` weeks at the current share, then the share moves up by
  ``shift``; each simulated series is charted with :func:`pxlib.spc.chart`
  (limits frozen from the baseline weeks) as it would have been seen after each
  week of new data, and the detection week is the first week at which a
  special-cause improvement appears among the weeks after the change. Charting
  every truncation, not the whole series once, matters: a run rule flags all
  points of a run, including those before the run was long enough to see.
- **Which patients, on which days?** :func:`sampling_schedule` spreads the
  week's n over all seven days in proportion to the discharges expected each
  day (largest-remainder rounding, so the days add up to n exactly), with
  every k-th patient to ask and who asks. "The first 15 patients from Monday"
  never reaches a weekend discharge, which is where PDSA cycle ZA1-2 found the
  Always Event was missed.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from pxlib.errors import ChartWarning
from pxlib.survey.ci import wilson_interval


def ci_width(
    p: float,
    n_per_week: Sequence[int] | int,
    *,
    weeks: int = 1,
    deff: float = 1.0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Width of the 95 % Wilson interval for a share ``p`` from n patients a week.

    One row per ``n_per_week``: ``n_per_week``, ``weeks``, ``effective_n``
    (n × weeks / deff), ``ci_low``, ``ci_high``, ``width`` (high − low) and
    ``plus_minus`` (half the width), all as proportions.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"p must be a proportion between 0 and 1, not {p}")
    if deff <= 0:
        raise ValueError("deff must be positive")
    ns = np.atleast_1d(np.asarray(n_per_week, dtype=float))
    if (ns <= 0).any():
        raise ValueError("n_per_week must be positive")
    n = ns * weeks / deff
    lo, hi = wilson_interval(np.full_like(n, p), n, level=level)
    return pd.DataFrame(
        {
            "n_per_week": ns.astype(int),
            "weeks": weeks,
            "effective_n": n,
            "ci_low": lo,
            "ci_high": hi,
            "width": hi - lo,
            "plus_minus": (hi - lo) / 2,
        }
    )


def simulate_series(
    p0: float,
    p1: float,
    n: int,
    baseline_weeks: int,
    after_weeks: int,
    sims: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Binomial counts, shape (sims, baseline_weeks + after_weeks): p0 then p1."""
    p = np.r_[np.full(baseline_weeks, p0), np.full(after_weeks, p1)]
    return rng.binomial(n, p, size=(sims, p.size))


def weeks_to_detect(
    baseline: float,
    shift: float,
    n_per_week: Sequence[int] | int,
    *,
    kind: str = "p",
    rules: str | Sequence[str] = "anhoej",
    baseline_weeks: int = 12,
    max_weeks: int = 20,
    sims: int = 100,
    seed: int = 2025,
) -> pd.DataFrame:
    """Weeks of data the chart needs to show a shift of ``shift`` after a change, by simulation.

    For each ``n_per_week``: ``sims`` series of ``baseline_weeks`` weeks at
    ``baseline`` then ``max_weeks`` weeks at ``baseline + shift`` (binomial
    counts of n patients), charted with :func:`pxlib.spc.chart` (``kind``,
    ``rules``, ``improvement="increase"``, ``freeze=baseline_weeks``) after
    each week of new data. Returns one row per n: ``n_per_week``,
    ``median_weeks`` and ``weeks_80`` (weeks by which half / 80 % of the
    simulated teams saw a special-cause improvement; NaN when fewer did within
    ``max_weeks``), ``detected_share`` (share of simulations detecting within
    ``max_weeks``) and ``false_alarm_share`` (share showing an improvement signal
    in the baseline weeks alone, before any change).
    """
    from pxlib.spc import chart

    if not 0 < baseline < 1 or not 0 < baseline + shift <= 1:
        raise ValueError("baseline and baseline + shift must be proportions in (0, 1]")
    if baseline_weeks < 2 or max_weeks < 1 or sims < 1:
        raise ValueError("baseline_weeks must be at least 2, max_weeks and sims at least 1")
    rng = np.random.default_rng(seed)
    rows = []
    for n in np.atleast_1d(np.asarray(n_per_week, dtype=int)):
        counts = simulate_series(
            baseline, baseline + shift, int(n), baseline_weeks, max_weeks, sims, rng
        )
        # one series per (simulation, truncation): truncation t = baseline + t weeks seen
        trunc = np.arange(0, max_weeks + 1)
        lengths = baseline_weeks + trunc
        sim_idx = np.repeat(np.arange(sims), lengths.sum())
        t_idx = np.tile(np.repeat(trunc, lengths), sims)
        week = np.tile(np.concatenate([np.arange(L) for L in lengths]), sims)
        y = counts[sim_idx, week]
        frame = pd.DataFrame(
            {"sim": sim_idx, "t": t_idx, "week": week, "y": y.astype(float), "n": float(n)}
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ChartWarning)
            res = chart(
                frame,
                "week",
                "y",
                "n",
                kind=kind,
                by=["sim", "t"],
                freeze=baseline_weeks,
                rules=rules,
                improvement="increase",
                fill_gaps=False,
            )
        pts = res.points
        improve = pts["point_type"].to_numpy() == "special_cause_improvement"
        after = pts["x"].to_numpy() >= baseline_weeks
        flagged = pts.loc[improve & after, ["sim", "t"]].drop_duplicates()
        first = flagged.groupby("sim")["t"].min().reindex(range(sims))
        base_only = pts[(pts["t"] == 0) & improve]
        false_alarm = base_only["sim"].nunique() / sims
        detected = first.notna().mean()
        q = first.fillna(np.inf).to_numpy(float)
        med = float(np.quantile(q, 0.5, method="inverted_cdf"))
        q80 = float(np.quantile(q, 0.8, method="inverted_cdf"))
        rows.append(
            {
                "n_per_week": int(n),
                "median_weeks": med if np.isfinite(med) else np.nan,
                "weeks_80": q80 if np.isfinite(q80) else np.nan,
                "detected_share": float(detected),
                "false_alarm_share": float(false_alarm),
            }
        )
    return pd.DataFrame(rows)


def recommend_n(
    detect: pd.DataFrame,
    widths: pd.DataFrame,
    *,
    within_weeks: int = 8,
) -> dict:
    """The smallest n a week whose chart sees the shift within ``within_weeks`` for 80 % of teams.

    Returns {``n_per_week``, ``weeks_80``, ``plus_minus``, ``reason``}; when no n
    tried is fast enough, the largest n tried, with a reason saying so.
    """
    table = detect.merge(widths[["n_per_week", "plus_minus"]], on="n_per_week", how="left")
    ok = table[table["weeks_80"] <= within_weeks].sort_values("n_per_week")
    if len(ok):
        best = ok.iloc[0]
        reason = (
            f"With {int(best.n_per_week)} patients a week, 80% of simulated teams would see the "
            f"change on the chart within {best.weeks_80:.0f} weeks, and one week's share is "
            f"known to about ±{best.plus_minus:.0%}."
        )
    else:
        best = table.sort_values("n_per_week").iloc[-1]
        reason = (
            f"None of the sample sizes tried shows the change within {within_weeks} weeks for "
            f"80% of teams; the largest tried, {int(best.n_per_week)} a week, is suggested: consider "
            "a bigger change or a longer test."
        )
    return {
        "n_per_week": int(best.n_per_week),
        "weeks_80": float(best.weeks_80) if pd.notna(best.weeks_80) else None,
        "plus_minus": float(best.plus_minus) if pd.notna(best.plus_minus) else None,
        "reason": reason,
    }


#: the days of a sampling week, Monday first (ISO weeks, as the charts use)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: who asks when the team names no one: never the person who gave the care
DEFAULT_ASKER = "A trained volunteer or patient partner, or staff who did not care for the patient"


def _per_day(values: Mapping[str, object] | Sequence[object] | object, what: str) -> list:
    """One value per day of :data:`DAYS` from a mapping by day name, a 7-long sequence or a scalar."""
    if isinstance(values, Mapping):
        known = {d.lower(): d for d in DAYS}
        short = {d[:3].lower(): d for d in DAYS}
        by_day = {}
        for key, value in values.items():
            day = known.get(str(key).strip().lower()) or short.get(str(key).strip().lower()[:3])
            if day is None:
                raise ValueError(f"{what}: {key!r} is not a day of the week (Monday ... Sunday)")
            by_day[day] = value
        missing = [d for d in DAYS if d not in by_day]
        if missing:
            raise ValueError(f"{what}: no value for {', '.join(missing)}")
        return [by_day[d] for d in DAYS]
    if isinstance(values, Sequence) and not isinstance(values, str):
        if len(values) != len(DAYS):
            raise ValueError(f"{what}: give 7 values, Monday to Sunday, not {len(values)}")
        return list(values)
    return [values] * len(DAYS)


def _allocate(total: int, weights: np.ndarray, floor: np.ndarray, first: int = 0) -> np.ndarray:
    """Whole numbers >= ``floor`` adding up to ``total``, in proportion to ``weights``.

    Days whose share ``total`` x w / sum(w) falls below their floor are fixed at
    the floor and the rest shared again among the others; the shares are then
    rounded by the largest-remainder (Hamilton) method; equal remainders go to
    the days from index ``first`` onwards (wrapping round).
    """
    fixed = np.zeros(weights.size, dtype=bool)
    while True:
        free = ~fixed
        rest = total - int(floor[fixed].sum())
        w_free = weights[free].sum()
        quota = np.zeros(weights.size)
        if w_free > 0:
            quota[free] = rest * weights[free] / w_free
        low = free & (quota < floor)
        if not low.any():
            break
        fixed |= low
    out = np.where(fixed, floor, np.floor(quota)).astype(int)
    frac = np.where(fixed, -1.0, quota - np.floor(quota))
    rotation = (np.arange(weights.size) - first) % weights.size
    order = np.lexsort((rotation, -frac))
    out[order[: total - int(out.sum())]] += 1
    return out


def sampling_schedule(
    n_per_week: int,
    expected: Mapping[str, float] | Sequence[float] | float | None = None,
    *,
    who_asks: Mapping[str, str] | Sequence[str] | str = DEFAULT_ASKER,
    min_per_day: int = 1,
    week: int = 0,
) -> pd.DataFrame:
    """How many patients to ask on each day of the week, so weekends are sampled too.

    ``expected``: the patients expected to leave the unit each day (a mapping
    from day name, seven numbers Monday to Sunday, or one number a week, spread
    evenly); None when unknown (the week is split evenly). ``n_per_week`` is
    shared in proportion to the expected discharges, each day with discharges
    getting at least ``min_per_day``, and rounded by the largest-remainder
    method, so the days always add up to ``n_per_week``. Equal remainders go
    to the days from ``week`` mod 7 onwards (0 = Monday): a team asking fewer
    patients than there are days (``min_per_day=0``) passes the week number
    and so rotates the days that get one, weekends included.

    One row per day, Monday to Sunday: ``day``, ``expected`` (NaN when not
    given), ``ask`` (patients to ask), ``every_kth`` (ask every k-th patient
    leaving that day until ``ask`` have been asked: floor(expected / ask), at
    least 1; NaN when expected is unknown or nobody is asked) and ``who_asks``.
    """
    if isinstance(n_per_week, bool) or int(n_per_week) != n_per_week or n_per_week < 1:
        raise ValueError(
            f"n_per_week must be a whole number of patients, at least 1, not {n_per_week}"
        )
    if min_per_day < 0:
        raise ValueError("min_per_day must be 0 or more")
    n = int(n_per_week)
    if expected is None:
        exp = np.full(len(DAYS), np.nan)
        weights = np.ones(len(DAYS))
    else:
        if not isinstance(expected, Mapping | Sequence) or isinstance(expected, str):
            expected = float(expected) / len(DAYS)
        exp = np.asarray(_per_day(expected, "expected"), dtype=float)
        if not np.isfinite(exp).all() or (exp < 0).any() or exp.sum() <= 0:
            raise ValueError("expected discharges must be numbers >= 0, not all 0")
        weights = exp
    open_days = weights > 0
    floor = np.where(open_days, min_per_day, 0).astype(int)
    if floor.sum() > n:
        raise ValueError(
            f"{n} patients a week cannot cover the {int(open_days.sum())} days with discharges "
            f"at {min_per_day} a day: ask at least {int(floor.sum())} a week, or set min_per_day=0"
        )
    ask = _allocate(n, weights, floor, int(week) % len(DAYS))
    askers = [str(a) for a in _per_day(who_asks, "who_asks")]
    with np.errstate(divide="ignore", invalid="ignore"):
        kth = np.where(ask > 0, np.maximum(1, np.floor(exp / np.maximum(ask, 1))), np.nan)
    return pd.DataFrame(
        {"day": list(DAYS), "expected": exp, "ask": ask, "every_kth": kth, "who_asks": askers}
    )
