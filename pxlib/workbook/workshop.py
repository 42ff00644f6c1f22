"""The training workshop's simulations (notebook 00).

- :func:`simulate_process`: a weekly share with a planted change (a shift, a
  trend, or none) for a team to watch the chart rules at work;
- :func:`rule_detection`: for each rule set, the week at which the chart, as
  seen at the time, first shows the change, and any false alarms before it;
- :func:`weighting_example`: why weighting changes a percentage, from the
  sample's respondents and population margins;
- :func:`sample_verdicts`: the verdicts for named sample units (the workbook's
  known-answer check on the synthetic sample).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from pxlib.errors import ChartWarning

CHANGES = ("shift", "trend", "none")
RULE_NAMES = {
    "anhoej": "Anhøj (run rules and 3-sigma)",
    "mdc": "Making Data Count",
    "ihi": "IHI run-chart rules",
}


def simulate_process(
    *,
    weeks: int = 30,
    p: float = 0.75,
    n: int = 20,
    change: str = "shift",
    size: float = 0.15,
    start: int = 16,
    seed: int = 1,
) -> pd.DataFrame:
    """Weekly binomial counts of ``n`` patients with a planted change.

    ``change``: "shift" (the share moves by ``size`` from week ``start`` on),
    "trend" (it rises by ``size`` spread evenly over the weeks from ``start``
    to the end) or "none". Columns: ``week`` (1..weeks), ``y`` (patients for
    whom it happened), ``n``, ``true_share``.
    """
    if change not in CHANGES:
        raise ValueError(f"change must be one of {CHANGES}, not {change!r}")
    if not 1 <= start <= weeks:
        raise ValueError(f"start must be a week between 1 and {weeks}")
    week = np.arange(1, weeks + 1)
    true = np.full(weeks, float(p))
    if change == "shift":
        true[week >= start] += size
    elif change == "trend":
        steps = np.clip(week - start + 1, 0, None) / max(weeks - start + 1, 1)
        true += size * steps
    true = np.clip(true, 0, 1)
    rng = np.random.default_rng(seed)
    y = rng.binomial(n, true)
    return pd.DataFrame({"week": week, "y": y.astype(float), "n": float(n), "true_share": true})


def chart_process(sim: pd.DataFrame, *, kind: str = "run", rules="anhoej"):
    """The chart of a simulated process in percent (improvement = increase)."""
    from pxlib.spc import chart

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChartWarning)
        return chart(
            sim,
            "week",
            "y",
            "n",
            kind=kind,
            rules=rules,
            multiply=100,
            improvement="increase",
            y_label="Simulated: patients for whom it happened (%)",
        )


def rule_detection(
    sim: pd.DataFrame,
    *,
    start: int,
    kind: str = "run",
    rule_sets: Sequence[str] = ("anhoej", "mdc", "ihi"),
) -> pd.DataFrame:
    """For each rule set: when the chart, as seen week by week, first shows the change.

    The series is charted as it stood at the end of every week (one chart per
    week seen, all in one call), so a run rule counts only when the run is long
    enough. Columns: ``rules``, ``first_seen`` (week number, or missing when not
    within the data), ``weeks_after_change`` (``first_seen - start``),
    ``rules_fired`` (at that week), ``false_alarms`` (weeks before the change
    flagged as special cause when the whole series is charted).
    """
    from pxlib.spc import chart

    weeks = int(sim["week"].max())
    ends = np.arange(int(sim["week"].min()) + 1, weeks + 1)
    stacked = pd.concat([sim[sim["week"] <= e].assign(seen=e) for e in ends], ignore_index=True)
    rows = []
    for rs in rule_sets:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ChartWarning)
            res = chart(
                stacked, "week", "y", "n", kind=kind, by="seen", rules=rs, improvement="increase"
            )
            whole = chart(sim, "week", "y", "n", kind=kind, rules=rs, improvement="increase")
        pts = res.points
        hit = pts[(pts["x"] >= start) & (pts["point_type"] == "special_cause_improvement")]
        first = int(hit["seen"].min()) if len(hit) else None
        fired = ""
        if first is not None:
            at = hit[hit["seen"] == first]
            fired = "; ".join(
                dict.fromkeys(r for s in at["special_cause"] for r in str(s).split("; ") if r)
            )
        wp = whole.points
        false = int(((wp["x"] < start) & (wp["point_type"] != "common_cause")).sum())
        rows.append(
            {
                "rules": RULE_NAMES.get(rs, rs),
                "first_seen": first,
                "weeks_after_change": None if first is None else first - start,
                "rules_fired": fired,
                "false_alarms": false,
            }
        )
    return pd.DataFrame(rows)


def weighting_example(
    data, *, group: str = "age_band", measure_type: str = "outcome"
) -> pd.DataFrame:
    """Respondents against the eligible patients, and the share per level of ``group``.

    One row per level: ``level``, ``respondents_share`` (of respondents),
    ``population_share`` (of the units' eligible patients, from the ``eligible``
    margins; catchment margins describe another population), ``share`` (unweighted share for
    whom it happened) and ``n_respondents``; plus an attribute-free summary in
    :func:`weighted_vs_unweighted`.
    """
    from pxlib.workbook import measures

    t = measures.weekly_share(data, measure_type=measure_type, by=(group,), weighted=False)
    margins = measures.eligible_margins(data.margins)
    pop = margins[margins["variable"] == group].groupby("level")["population"].sum()
    out = pd.DataFrame(
        {
            "level": t[group].astype(str),
            "n_respondents": t["n_respondents"].to_numpy(),
            "respondents_share": (t["n_respondents"] / t["n_respondents"].sum()).to_numpy(),
            "population_share": t[group]
            .astype(str)
            .map(pop / pop.sum() if pop.sum() else pop)
            .to_numpy(),
            "share": t["share"].to_numpy(),
        }
    )
    return out


def weighted_vs_unweighted(data, *, measure_type: str = "outcome") -> pd.DataFrame:
    """The organisation's share, unweighted and weighted to its units' eligible patients (95 % CIs)."""
    from pxlib.workbook import measures

    rows = []
    for label, w in (
        ("unweighted (respondents as they came)", False),
        ("weighted to the eligible patients", True),
    ):
        t = measures.weekly_share(data, measure_type=measure_type, by=("org_code",), weighted=w)
        r = t.iloc[0]
        rows.append(
            {
                "estimate": label,
                "n_respondents": int(r["n_respondents"]),
                "share": r["share"],
                "ci_low": r["ci_low"],
                "ci_high": r["ci_high"],
            }
        )
    return pd.DataFrame(rows)


def sample_verdicts(
    data_dir, cases: Sequence[tuple[str, str]], *, target: float = 0.95
) -> list[str]:
    """'<trust> <unit>: <verdict>' for each (trust, unit) of ``cases`` (the sample's known answers)."""
    from pxlib.data import load_data_dir
    from pxlib.errors import DataValidationError
    from pxlib.workbook import steps

    lines = []
    for trust in dict.fromkeys(t for t, _ in cases):
        try:
            data = load_data_dir(data_dir, trust)
            v = steps.reliability(data, target=target).verdicts.set_index("unit")["verdict"]
        except DataValidationError:
            v = pd.Series(dtype=object)
        lines += [f"{trust} {u}: {v.get(u, 'no data')}" for t, u in cases if t == trust]
    return lines
