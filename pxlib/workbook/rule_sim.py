"""Rule sets compared by simulation: false signals, and how fast each sees a shift.

Used by the training notebook (00) through :mod:`pxlib.workbook.workshop`. Every
number comes from many simulated series charted with :func:`pxlib.spc.chart` itself,
thousands of series as the groups of one call, so the rules are exactly those
the workbook applies; the same draws serve every rule set (common random numbers),
and every draw comes from a seeded generator.

The process
    Independent N(0, 1) values, one a week: a stable process measured in standard
    deviations (SD). A shift of size ``d`` moves the mean by ``d`` SD.

Rule sets (:data:`RULE_SETS`)
    the Anhøj rules on a run chart (longest run and crossings, qicharts2); the IHI
    run-chart rules (shift of 6, trend of 5, runs table, astronomical point); the 3-sigma
    rule alone on an I chart (the chart's ``sigma_signal``); the Anhøj rules with the
    3-sigma rule on an I chart (qicharts2's control charts); Making Data Count on an
    XmR chart (outside the limits, shift of 7, trend of 7, two of three beyond 2 sigma,
    NHSRplotthedots). A series "signals" when any point is flagged by its rule set
    (any row of its ``signals``, which includes the phase-wide crossings and runs
    tests), in either direction.

False-signal rate per series (:func:`false_signal_rates`)
    ``sims`` stable series of ``n`` points, each charted once with its centre line and
    limits from all ``n`` points, as a team charting its first ``n`` weeks would: the
    share of series with at least one flagged point, with the Monte-Carlo standard
    error sqrt(r (1 - r) / sims), and the share of points flagged.

Run length after a shift (:func:`run_lengths`, :func:`arl_table`)
    ``baseline`` stable points, on which the centre line and limits are frozen
    (``freeze``), then points shifted by ``d``. The chart is recomputed as it stood
    after each new point t = 1 .. ``horizon`` (every truncation is one group), because
    a run rule flags the earlier points of a run only once the run is long enough:
    the run length is the first t at which one of the new points is flagged. Series
    with no signal within the horizon are censored at it, and the average run length
    (ARL) is estimated as points watched / signals, sum(min(T, H)) / #(T <= H): the
    maximum-likelihood estimate for a geometric run length (the 3-sigma rule with
    known limits) and the plain mean when every series signalled. Its standard error
    is sd(T) / sqrt(sims) when all signalled, else ARL / sqrt(#signals).

What to expect (the checks in ``tests/workbook/test_workshop_simulation.py``)
    The 3-sigma rule with known limits flags a stable point with probability
    alpha = 2 Phi(-3) = 0.0027 (ARL0 = 1 / alpha = 370) and after a shift ``d`` has
    ARL = 1 / (Phi(d - 3) + Phi(-d - 3)) (Montgomery, *Introduction to Statistical
    Quality Control*, the ARL of the Shewhart chart): 43.9 for 1 SD, 6.3 for 2 SD, 2.0
    for 3 SD. The Anhøj rules keep the false-signal rate of a run chart "around 5 %"
    whatever the number of points (Anhøj & Olesen 2014, *PLoS ONE* 9: e113825); the
    exact rate follows from the joint distribution of the number of crossings and the
    longest run (Wentzel-Larsen & Anhøj 2019, *PLoS ONE* 14: e0223233, R package
    crossrun): 3.1 % for 24 points around their own median, 6.6 % around a known
    median. Screening the moving ranges (``screen_mr``, on by default as in both
    reference packages) shrinks sigma a little, so on normal data the 3-sigma rule
    fires about a quarter more often than 0.0027.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.errors import ChartWarning

if TYPE_CHECKING:
    import plotly.graph_objects as go


@dataclasses.dataclass(frozen=True)
class RuleSet:
    """A rule set as the workbook applies it: chart ``kind`` and ``rules`` of
    :func:`pxlib.spc.chart`; ``sigma_only`` counts the 3-sigma rule alone."""

    label: str
    kind: str
    rules: str
    sigma_only: bool = False


RULE_SETS: dict[str, RuleSet] = {
    "anhoej_run": RuleSet("Anhøj rules, run chart", "run", "anhoej"),
    "ihi_run": RuleSet("IHI rules, run chart", "run", "ihi"),
    "sigma": RuleSet("3-sigma rule alone, I chart", "i", "anhoej", sigma_only=True),
    "anhoej_i": RuleSet("Anhøj rules and 3-sigma, I chart", "i", "anhoej"),
    "mdc": RuleSet("Making Data Count, XmR chart", "xmr", "mdc"),
}
"""The rule sets compared, by key."""


def _sets(keys: Sequence[str] | None) -> dict[str, RuleSet]:
    keys = list(RULE_SETS) if keys is None else list(keys)
    unknown = [k for k in keys if k not in RULE_SETS]
    if unknown:
        raise ValueError(f"unknown rule sets {unknown}; choose from {list(RULE_SETS)}")
    return {k: RULE_SETS[k] for k in keys}


def _flags(frame: pd.DataFrame, by: list[str], sets: dict[str, RuleSet], **options):
    """Per rule set, a boolean array over the rows of the chart's points (in ``frame``
    order: group then x): is the point flagged? One chart call per (kind, rules)."""
    from pxlib.spc import chart

    results = {}
    out = {}
    for key, rs in sets.items():
        spec = (rs.kind, rs.rules)
        if spec not in results:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ChartWarning)
                results[spec] = chart(
                    frame, "x", "y", kind=rs.kind, by=by, rules=rs.rules, fill_gaps=False, **options
                )
        result = results[spec]
        if rs.sigma_only:
            out[key] = result.points["sigma_signal"].to_numpy() != 0
        else:
            out[key] = result.flagged().to_numpy()
    keys = next(iter(results.values())).points[[*by, "x"]] if results else frame[[*by, "x"]]
    return keys.reset_index(drop=True), out


def false_signal_rates(
    lengths: Sequence[int] = (12, 24, 52),
    *,
    sims: int = 1000,
    seed: int = 2026,
    rule_sets: Sequence[str] | None = None,
    screen_mr: bool = True,
) -> pd.DataFrame:
    """How often each rule set signals on a stable process of ``n`` points.

    One row per rule set and length: ``key``, ``rules`` (label), ``n_points``,
    ``sims``, ``false_signal_rate`` (share of series with a flagged point), ``se``
    (its Monte-Carlo standard error) and ``point_rate`` (share of points flagged).
    """
    if sims < 1 or not lengths or min(lengths) < 2:
        raise ValueError("sims must be at least 1 and every length at least 2")
    sets = _sets(rule_sets)
    rng = np.random.default_rng(seed)
    parts = []
    for n in lengths:
        y = rng.normal(size=(sims, int(n)))
        parts.append(
            pd.DataFrame(
                {
                    "length": int(n),
                    "sim": np.repeat(np.arange(sims), n),
                    "x": np.tile(np.arange(n), sims),
                    "y": y.ravel(),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    keys, flags = _flags(frame, ["length", "sim"], sets, screen_mr=screen_mr)
    rows = []
    for key, flagged in flags.items():
        f = keys.assign(flag=flagged)
        per_series = f.groupby(["length", "sim"], sort=True)["flag"].any()
        per_point = f.groupby("length", sort=True)["flag"].mean()
        rate = per_series.groupby(level="length").mean()
        for n, r in rate.items():
            rows.append(
                {
                    "key": key,
                    "rules": sets[key].label,
                    "n_points": int(n),
                    "sims": sims,
                    "false_signal_rate": float(r),
                    "se": float(np.sqrt(r * (1 - r) / sims)),
                    "point_rate": float(per_point[n]),
                }
            )
    return pd.DataFrame(rows)


def _truncations(values: np.ndarray, baseline: int, horizon: int) -> pd.DataFrame:
    """Every series of ``values`` (shape: shifts x sims x (baseline + horizon)) as it
    stood after each new point t = 1..horizon, as rows (shift index, sim, t, x, y)."""
    n_shift, sims, _ = values.shape
    t = np.arange(1, horizon + 1)
    lengths = baseline + t
    per_series = int(lengths.sum())
    n_series = n_shift * sims
    x = np.tile(np.concatenate([np.arange(k) for k in lengths]), n_series)
    series = np.repeat(np.arange(n_series), per_series)
    return pd.DataFrame(
        {
            "shift_i": series // sims,
            "sim": series % sims,
            "t": np.tile(np.repeat(t, lengths), n_series),
            "x": x,
            "y": values.reshape(n_series, -1)[series, x],
        }
    )


def run_lengths(
    shifts: Sequence[float] = (1.0, 1.5, 2.0, 3.0),
    *,
    baseline: int = 12,
    horizon: int = 26,
    sims: int = 100,
    seed: int = 2026,
    rule_sets: Sequence[str] | None = None,
    screen_mr: bool = True,
) -> pd.DataFrame:
    """Points after a shift until each rule set first signals, per simulated series.

    ``baseline`` stable points (limits frozen on them), then ``horizon`` points
    shifted by each of ``shifts`` SD; charted as seen after every new point (see the
    module docstring). One row per rule set, shift and series: ``key``, ``rules``,
    ``shift``, ``sim``, ``run_length`` (1 = the first new point; missing when no
    signal within ``horizon``).
    """
    if baseline < 2 or horizon < 1 or sims < 1:
        raise ValueError("baseline must be at least 2, horizon and sims at least 1")
    sets = _sets(rule_sets)
    shifts = [float(d) for d in shifts]
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(len(shifts), sims, baseline + horizon))
    values[:, :, baseline:] += np.asarray(shifts)[:, None, None]
    frame = _truncations(values, baseline, horizon)
    keys, flags = _flags(frame, ["shift_i", "sim", "t"], sets, freeze=baseline, screen_mr=screen_mr)
    new_point = keys["x"].to_numpy() >= baseline
    full = pd.MultiIndex.from_product([range(len(shifts)), range(sims)], names=["shift_i", "sim"])
    rows = []
    for key, flagged in flags.items():
        hit = keys[flagged & new_point]
        first = hit.groupby(["shift_i", "sim"])["t"].min().reindex(full)
        rows.append(
            pd.DataFrame(
                {
                    "key": key,
                    "rules": sets[key].label,
                    "shift": np.asarray(shifts)[full.get_level_values("shift_i")],
                    "sim": full.get_level_values("sim"),
                    "run_length": first.to_numpy(dtype=float),
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    out.attrs["horizon"] = horizon
    out.attrs["baseline"] = baseline
    return out


def arl_table(lengths: pd.DataFrame, horizon: int | None = None) -> pd.DataFrame:
    """Average run length per rule set and shift from :func:`run_lengths`.

    Columns: ``key``, ``rules``, ``shift``, ``sims``, ``detected_share`` (signalled
    within the horizon), ``arl`` (points watched / signals, see the module docstring;
    missing when none signalled), ``se``, ``median`` (missing when half or more
    did not signal) and ``note`` (why a figure is missing, else empty).
    """
    horizon = int(lengths.attrs.get("horizon", 0) if horizon is None else horizon)
    if horizon < 1:
        raise ValueError("the horizon of the simulation is needed (run_lengths keeps it)")
    rows = []
    for (key, label, d), g in lengths.groupby(["key", "rules", "shift"], sort=False):
        t = g["run_length"].to_numpy(dtype=float)
        seen = np.isfinite(t)
        events = int(seen.sum())
        watched = float(np.where(seen, t, horizon).sum())
        arl = watched / events if events else np.nan
        if events == len(t):
            se = float(np.std(t, ddof=1) / np.sqrt(len(t))) if len(t) > 1 else np.nan
        else:
            se = arl / np.sqrt(events) if events else np.nan
        median = float(np.median(np.where(seen, t, np.inf)))
        rows.append(
            {
                "key": key,
                "rules": label,
                "shift": float(d),
                "sims": len(t),
                "detected_share": events / len(t),
                "arl": arl,
                "se": se,
                "median": median if np.isfinite(median) else np.nan,
                "note": ""
                if np.isfinite(median)
                else f"half or more did not signal within {fmt.count(horizon, 'week')}",
            }
        )
    return pd.DataFrame(rows)


def shewhart_arl(shift: float, k: float = 3.0) -> float:
    """ARL of the k-sigma rule with known limits after a shift of ``shift`` SD:
    1 / (Phi(shift - k) + Phi(-shift - k)) (370.4 with no shift)."""
    from scipy.stats import norm

    return float(1.0 / (norm.cdf(shift - k) + norm.cdf(-shift - k)))


def sd_points(share: float, n: float) -> float:
    """One standard deviation of a weekly share from ``n`` patients, in percentage points:
    100 sqrt(p (1 - p) / n) (binomial)."""
    return float(100 * np.sqrt(share * (1 - share) / n))


def comparison_figure(rates: pd.DataFrame, arl: pd.DataFrame) -> go.Figure:
    """Two panels: false signals on a stable process by its length, and average weeks to
    the first signal by shift size, one line per rule set (Monte-Carlo error bars)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from pxlib.spc.theme import TEMPLATE

    colours = ("#005EB8", "#41B6E6", "#DE1B1B", "#361475", "#FAB428")
    dashes = ("solid", "dash", "dot", "dashdot", "longdash")
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            "False signals on a stable process",
            "Average weeks to the first signal after a shift",
        ),
        horizontal_spacing=0.12,
    )
    for i, (key, g) in enumerate(rates.groupby("key", sort=False)):
        style = {"color": colours[i % 5], "dash": dashes[i % 5]}
        label = str(g["rules"].iloc[0])
        fig.add_trace(
            go.Scatter(
                x=g["n_points"],
                y=100 * g["false_signal_rate"],
                error_y={"type": "data", "array": 200 * g["se"], "visible": True},
                mode="lines+markers",
                name=label,
                legendgroup=key,
                line=style,
                hovertemplate="%{x} points: %{y:.1f}% of series<extra>" + label + "</extra>",
            ),
            row=1,
            col=1,
        )
        a = arl[arl["key"] == key]
        fig.add_trace(
            go.Scatter(
                x=a["shift"],
                y=a["arl"],
                error_y={"type": "data", "array": 2 * a["se"], "visible": True},
                mode="lines+markers",
                name=label,
                legendgroup=key,
                showlegend=False,
                line=style,
                hovertemplate="shift %{x} SD: %{y:.1f} weeks<extra>" + label + "</extra>",
            ),
            row=1,
            col=2,
        )
    fig.update_xaxes(title_text="Points in the series", row=1, col=1)
    fig.update_yaxes(title_text="% of series with a signal", rangemode="tozero", row=1, col=1)
    fig.update_xaxes(title_text="Shift (standard deviations)", row=1, col=2)
    ticks = [1, 2, 3, 5, 10, 20, 30, 50, 100]
    fig.update_yaxes(
        title_text="Weeks (log scale)", type="log", tickvals=ticks, ticktext=ticks, row=1, col=2
    )
    fig.update_layout(
        template=TEMPLATE,
        height=430,
        legend={"orientation": "h", "y": -0.25},
        margin={"t": 60, "b": 40},
    )
    return fig


def comparison_alt(rates: pd.DataFrame, arl: pd.DataFrame) -> str:
    """The figure of :func:`comparison_figure` in words (alt text)."""
    parts = []
    for key, g in rates.groupby("key", sort=False):
        a = arl[arl["key"] == key].sort_values("shift")
        false = ", ".join(
            f"{fmt.percent(r.false_signal_rate, 1)} of {r.n_points}-point series"
            for r in g.itertuples()
        )
        weeks = ", ".join(
            f"{fmt.number(r.arl, 1)} weeks for {fmt.number(r.shift)} SD" for r in a.itertuples()
        )
        parts.append(f"{g['rules'].iloc[0]}: false signals in {false}; {weeks}")
    return (
        "Two line charts. Left: the share of simulated stable series with a false signal, "
        "by series length; right: the average weeks to the first signal by shift size. "
        + "; ".join(parts)
        + "."
    )
