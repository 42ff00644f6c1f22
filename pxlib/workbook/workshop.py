"""The training workshop's simulations, exercises and answer sheet (notebook 00).

- :func:`simulate_process`: a weekly share with a planted change (a shift, a
  trend, or none) for a team to watch the chart rules at work;
- :func:`rule_detection`: for each rule set, the week at which the chart, as
  seen at the time, first shows the change, and any false alarms before it;
- :func:`false_signal_rates`, :func:`run_lengths`, :func:`arl_table`,
  :func:`comparison_figure`: the rule sets compared over many simulated series
  (:mod:`pxlib.workbook.rule_sim`, where the method and its sources are);
- :func:`exercises`: questions whose answers are read from the very chart
  results and tables the notebook shows, so they cannot disagree with them;
  :func:`answer_sheet` writes them as the facilitator's HTML answer sheet;
- :func:`weighting_example`: why weighting changes a percentage, from the
  sample's respondents and population margins;
- :func:`sample_verdicts`: the verdicts for named sample units (the workbook's
  known-answer check on the synthetic sample).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.errors import ChartWarning
from pxlib.escape import html_text
from pxlib.spc.rules import LABEL_OF_ID
from pxlib.workbook.rule_sim import (
    RULE_SETS,
    arl_table,
    comparison_alt,
    comparison_figure,
    false_signal_rates,
    run_lengths,
    sd_points,
    shewhart_arl,
)

if TYPE_CHECKING:
    from pxlib.data.folder import WorkbookData
    from pxlib.spc.result import SPCResult

__all__ = [
    "CHANGES",
    "RULE_NAMES",
    "RULE_SETS",
    "Exercise",
    "answer_sheet",
    "arl_table",
    "chart_process",
    "comparison_alt",
    "comparison_figure",
    "exercises",
    "false_signal_rates",
    "rule_detection",
    "run_lengths",
    "sample_verdicts",
    "sd_points",
    "shewhart_arl",
    "signal_words",
    "simulate_process",
    "weighted_vs_unweighted",
    "weighting_example",
]

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


def chart_process(
    sim: pd.DataFrame, *, kind: str = "run", rules: str | Sequence[str] | None = "anhoej"
) -> SPCResult:
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
            at = res.rules_at().loc[hit.index[hit["seen"] == first]]
            fired = "; ".join(dict.fromkeys(LABEL_OF_ID[r] for rules in at for r in rules))
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
    data: WorkbookData, *, group: str = "age_band", measure_type: str = "outcome"
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


def weighted_vs_unweighted(data: WorkbookData, *, measure_type: str = "outcome") -> pd.DataFrame:
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
    data_dir: str | Path, cases: Sequence[tuple[str, str]], *, target: float = 0.95
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


# --- exercises, answered from the charts and tables shown ---------------------------------------


@dataclasses.dataclass(frozen=True)
class Exercise:
    """A question and its answer, the answer read from the results the notebook shows."""

    question: str
    answer: str


def _when(x) -> str:
    if isinstance(x, dt.date | pd.Timestamp | np.datetime64):
        return f"the week of {fmt.date(x)}"
    return f"week {fmt.number(x)}"


def signal_words(result: SPCResult, group: object | None = None) -> str:
    """What a chart's own rules flag, in words: which points, which rules, which side.

    Read from ``result.rules_at()`` (the rules fired at each point) and
    ``result.summary`` (the Anhøj statistics) of one group (the first when ``group``
    is None).
    """
    pts, summ, fired = result.points, result.summary, result.rules_at()
    if result.by:
        col = result.by[0]
        group = pts[col].iloc[0] if group is None else group
        pts, summ = pts[pts[col] == group], summ[summ[col] == group]
    fired = fired.loc[pts.index]
    flagged = pts[fired.map(len).to_numpy() > 0]
    if flagged.empty:
        return "No point is flagged: by its own rules the chart shows only common-cause variation."
    fired = fired.loc[flagged.index]
    last = summ.iloc[-1] if len(summ) else None
    words = []
    for rule in dict.fromkeys(r for rules in fired for r in rules):
        at = flagged[[rule in rules for rules in fired]]
        label = LABEL_OF_ID[rule]
        side = "above" if 2 * int((at["y"] > at["cl"]).sum()) > len(at) else "below"
        span = f"from {_when(at['x'].iloc[0])} to {_when(at['x'].iloc[-1])}"
        if rule == "crossings" and last is not None:
            words.append(
                f"{label}, the line crosses the centre line "
                f"{fmt.count(last['n_crossings'], 'time')}, fewer than the "
                f"{fmt.number(last['n_crossings_min'])} chance gives (a property of the whole series)"
            )
        elif rule in ("crossings", "ihi_runs"):
            words.append(f"{label}, a property of the whole series")
        elif rule == "long_run" and last is not None:
            words.append(
                f"{label}, a run of {fmt.count(last['longest_run'], 'point')} {side} the centre "
                f"line, longer than the {fmt.number(last['longest_run_max'])} chance allows, {span}"
            )
        else:
            words.append(
                f"{label}: {fmt.count(len(at), 'point')}, mostly {side} the centre line, {span}"
            )
    return "The chart's own rules fire: " + "; ".join(words) + "."


def _pick(table: pd.DataFrame, col: str, best: str) -> pd.Series:
    t = table.dropna(subset=[col])
    return t.loc[t[col].idxmin() if best == "min" else t[col].idxmax()]


def exercises(
    *,
    example: SPCResult | None = None,
    example_unit: str = "",
    stable: SPCResult | None = None,
    rates: pd.DataFrame | None = None,
    arl: pd.DataFrame | None = None,
    weighting: pd.DataFrame | None = None,
    ages: pd.DataFrame | None = None,
    series_length: int | None = None,
    shift: float = 1.0,
    share: float | None = None,
    patients_per_week: float | None = None,
) -> list[Exercise]:
    """The workshop's exercises, each answered from a result the notebook displays.

    ``example``: the run chart of ``example_unit`` shown; ``stable``: the p chart of
    the simulated stable process shown; ``rates`` / ``arl``: the tables of
    :func:`false_signal_rates` / :func:`arl_table` shown; ``weighting``:
    :func:`weighted_vs_unweighted`; ``ages``: :func:`weighting_example`.
    ``series_length``: the series length the false-alarm question uses (default the
    one nearest 24); ``shift``: the shift size the speed question uses, put in
    percentage points when ``share`` and ``patients_per_week`` are given
    (:func:`~pxlib.workbook.rule_sim.sd_points`). An input left out leaves its
    exercise out.
    """
    out: list[Exercise] = []
    if example is not None:
        out.append(
            Exercise(
                f"Look at the run chart of {example_unit or 'the example unit'}. Does any rule "
                "signal, and what does the pattern say about the process?",
                signal_words(example)
                + " A run on one side of the median, or too few crossings, means the level "
                "has moved: read the dates against the PDSA cycles marked on the chart.",
            )
        )
    if stable is not None:
        words = signal_words(stable)
        false = not words.startswith("No point")
        out.append(
            Exercise(
                "The p chart of a simulated stable process had no change planted. Does the "
                "chart show special-cause variation?",
                words
                + (
                    " Nothing was changed, so this is a false alarm: every rule set raises "
                    "some on stable processes (see the table of false signals)."
                    if false
                    else " That is what a stable process usually shows."
                ),
            )
        )
        lo, hi = stable.points["lcl"].min(), stable.points["ucl"].max()
        n = stable.points["n"].median()
        out.append(
            Exercise(
                f"A ward asks {fmt.count(n, 'patient')} a week. It had 100% one week and 70% the "
                "next. Is that a special cause?",
                f"Not by itself. On the stable process's p chart, with {fmt.count(n, 'patient')} "
                f"a week, chance alone keeps weeks between "
                f"{fmt.percent(lo, share=False)} and {fmt.percent(hi, share=False)} "
                "(the process limits): both weeks fall inside them, so the swing is "
                "common-cause variation unless a pattern rule fires."
                if lo <= 70 and hi >= 100
                else f"Possibly: the stable process's limits run from {fmt.percent(lo, share=False)} "
                f"to {fmt.percent(hi, share=False)}, and a week outside them is a special cause.",
            )
        )
    if rates is not None and len(rates):
        lengths = sorted(rates["n_points"].unique())
        n = series_length or min(lengths, key=lambda k: abs(k - 24))
        at = rates[rates["n_points"] == n]
        most, least = _pick(at, "false_signal_rate", "max"), _pick(at, "false_signal_rate", "min")
        out.append(
            Exercise(
                f"On stable processes of {fmt.count(n, 'week')} (no change at all), which rule set "
                "raises a false signal most often, and which least?",
                f"Most: {most['rules']}, in {fmt.percent(most['false_signal_rate'])} of "
                f"{fmt.number(most['sims'])} simulated series. Least: {least['rules']}, in "
                f"{fmt.percent(least['false_signal_rate'])}. More rules mean more chances to "
                "fire by chance; longer series too.",
            )
        )
    if arl is not None and len(arl):
        at = arl[np.isclose(arl["shift"], shift)]
        if len(at):
            fast, slow = _pick(at, "arl", "min"), _pick(at, "arl", "max")
            cost = ""
            if rates is not None and len(rates):
                mine = rates[rates["key"] == fast["key"]].sort_values("n_points")
                if len(mine):
                    r = mine.iloc[min(1, len(mine) - 1)]
                    cost = (
                        f" The price: it also signals in {fmt.percent(r['false_signal_rate'])} of "
                        f"stable {fmt.number(r['n_points'])}-week series."
                    )
            size = fmt.count(shift, "standard deviation")
            if share is not None and patients_per_week:
                pts = shift * sd_points(share, patients_per_week)
                size += (
                    f" (about {fmt.number(pts, 0)} percentage points for a share of "
                    f"{fmt.percent(share)} from {fmt.count(patients_per_week, 'patient')} a week)"
                )
            out.append(
                Exercise(
                    f"A real change of {size} starts. About how many weeks does each rule set "
                    "need to see it, and which is fastest?",
                    f"Fastest: {fast['rules']}, {fmt.number(fast['arl'], 1)} weeks on average "
                    f"({fmt.percent(fast['detected_share'])} of series signalled within the "
                    f"weeks simulated). Slowest: {slow['rules']}, {fmt.number(slow['arl'], 1)} "
                    f"weeks ({fmt.percent(slow['detected_share'])} signalled)." + cost,
                )
            )
    if weighting is not None and len(weighting) == 2:
        raw, wtd = (float(v) for v in weighting["share"])
        way = "lower" if wtd < raw else ("higher" if wtd > raw else "the same")
        why = ""
        if ages is not None and len(ages):
            gap = ages["population_share"] - ages["respondents_share"]
            g = ages.loc[gap.idxmax()]
            rel = "less" if g["share"] < raw else "more"
            why = (
                f" The {g['level']} age band is {fmt.percent(g['population_share'])} of the "
                f"patients but {fmt.percent(g['respondents_share'])} of respondents, and reports "
                f"it {rel} often ({fmt.percent(g['share'])}); weighting gives it its population "
                "share."
            )
        out.append(
            Exercise(
                "Is the weighted share lower or higher than the unweighted one, and why?",
                f"{way.capitalize()}: {fmt.percent(wtd)} weighted against {fmt.percent(raw)} "
                "unweighted." + why,
            )
        )
    return out


def answer_sheet(
    items: Sequence[Exercise],
    path: str | Path,
    *,
    title: str = "Workshop answer sheet",
    made: Mapping[str, object] | None = None,
) -> Path:
    """Write the facilitator's answer sheet: a self-contained HTML page (no scripts, no
    network, printable), every text escaped. ``made`` (e.g. the notebook's
    parameters) is listed under "How this sheet was made" with the pxlib version."""
    from pxlib import __version__

    how = {"pxlib version": __version__, **dict(made or {})}
    rows = "".join(
        f"<li><p class='q'>{html_text(e.question)}</p><p class='a'>{html_text(e.answer)}</p></li>"
        for e in items
    )
    made_rows = "".join(
        f"<tr><th>{html_text(k)}</th><td>{html_text(v)}</td></tr>" for k, v in how.items()
    )
    page = (
        "<!DOCTYPE html><html lang='en-GB'><head><meta charset='utf-8'>"
        f"<title>{html_text(title)}</title><style>"
        "body{font-family:Arial,sans-serif;max-width:46em;margin:2em auto;color:#231f20}"
        "h1{color:#005EB8}.q{font-weight:bold}.a{margin-left:1em}"
        "table{border-collapse:collapse}th,td{text-align:left;padding:2px 8px}"
        "@page{size:A4;margin:15mm}</style></head><body>"
        f"<h1>{html_text(title)}</h1><p>For the facilitator: the answers are read from the "
        "same charts and tables the workshop shows.</p>"
        f"<ol>{rows}</ol><h2>How this sheet was made</h2><table>{made_rows}</table>"
        "</body></html>\n"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
