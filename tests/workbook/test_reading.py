"""One reading per unit (pxlib.workbook.reading): signal, reliability with its bound, verdict.

Expectations are hand-checked (Wilson's formula written out here, the IHI levels
as Nolan et al. 2004 state them) or planted truths of simulations.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from pxlib.spc import chart
from pxlib.workbook import reading
from pxlib.workbook.baseline import chart_units

Z95 = 1.6448536269514722  # one-sided 95 %


def _weekly(shares, n=400, unit="U", start="2025-09-01") -> pd.DataFrame:
    weeks = pd.date_range(start, periods=len(shares), freq="W-MON")
    return pd.DataFrame(
        {"unit": unit, "week": weeks, "y": np.round(np.array(shares) * n), "n": float(n)}
    )


def _chart(data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return chart(data, "week", "y", "n", kind="p", by="unit", **kw)


def wilson_lower(x: float, n: float, z: float = Z95) -> float:
    """Wilson (1927) score bound, written out: (p + z²/2n - z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    p = x / n
    return (p + z * z / (2 * n) - z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (
        1 + z * z / n
    )


def test_lower_bound_is_wilsons_one_sided_95_percent_bound():
    lo, hi = reading.lower_bound(177, 180)
    assert lo == pytest.approx(wilson_lower(177, 180), abs=1e-9)
    # by hand: p = 0.98333, z² = 2.7055; (0.98333 + 0.007515 - 0.017403) / 1.015031 = 0.95903
    assert lo == pytest.approx(0.95903, abs=1e-5)  # 177 of 180 = 98.3 %: at least 95.9 %
    assert hi > 177 / 180
    lo_all, _ = reading.lower_bound(30, 30)  # every answer yes: the bound is below 100 %
    assert 0.9 < lo_all < 1


@pytest.mark.parametrize(
    "share, words",
    [
        (0.70, "chaotic"),
        (0.85, "level 1"),
        (0.92, "between IHI levels 1 and 2"),
        (0.96, "level 2"),
        (0.997, "level 3"),
    ],
)
def test_ihi_levels_as_nolan_2004_state_them(share, words):
    assert words in reading.ihi_level(share)


@pytest.mark.filterwarnings("ignore::pxlib.errors.ChartWarning")
def test_reliable_improving_and_not_yet():
    rng = np.random.default_rng(5)
    high = _weekly(list(0.98 + rng.normal(0, 0.004, 30)), unit="High")
    better = _weekly([0.66] * 15 + [0.88] * 15, unit="Better")
    low = _weekly(list(0.70 + rng.normal(0, 0.01, 30)), unit="Low")
    data = pd.concat([high, better, low], ignore_index=True)
    phases = {"Better": [pd.Timestamp("2025-09-01") + pd.Timedelta(weeks=15)]}
    res = _chart(data, phases=phases, multiply=100, improvement="increase", target=95)
    r = reading.read_units(res).set_index("unit")
    assert r.loc["High", "verdict"] == "reliable"
    assert r.loc["High", "ci_low"] >= 95
    assert r.loc["Better", "verdict"] == "improving"
    assert r.loc["Better", "signal"] == "improvement"
    assert "88%" in r.loc["Better", "evidence"] and "66%" in r.loc["Better", "evidence"]
    assert r.loc["Low", "verdict"] == "not yet reliable"
    assert set(r["verdict"]) <= set(reading.VERDICTS)
    assert r["next_step"].str.len().gt(20).all()


@pytest.mark.filterwarnings("ignore::pxlib.errors.ChartWarning")
def test_too_few_weeks_is_not_reliable_yet():
    res = _chart(_weekly([0.99] * 8), multiply=100, improvement="increase", target=95)
    r = reading.read_units(res).iloc[0]
    assert r["verdict"] == "not yet reliable"
    assert "12 weeks are needed" in r["reliability"]


def test_average_above_target_without_the_evidence_is_not_reliable():
    # 96 % over 12 weeks of 15 patients: 173 of 180, a lower bound of 92.6 % < 95 %
    data = _weekly([0.96] * 12, n=15)
    data["y"] = [15, 14, 15, 14, 14, 15, 14, 15, 14, 14, 15, 14]  # 173 of 180
    res = _chart(data, multiply=100, improvement="increase", target=95)
    r = reading.read_units(res).iloc[0]
    assert wilson_lower(173, 180) < 0.95 < 173 / 180
    assert r["verdict"] == "not yet reliable"
    assert "does not yet rule out chance" in r["reliability"]


def test_a_proportion_chart_reads_95_percent_not_1_percent():
    data = _weekly([0.80] * 20, n=20)
    res = _chart(data, multiply=1, improvement="increase", target=0.95)
    r = reading.read_units(res).iloc[0]
    assert "95% target" in r["reliability"] and "80.0%" in r["reliability"]
    assert " 1%" not in r["reliability"]


def test_lower_is_better_a_rise_is_a_concern():
    data = _weekly([0.20] * 20 + [0.40] * 12, n=60)
    res = chart_units(
        data, freeze={"U": 20}, phases={}, kind="p", multiply=100, improvement="decrease",
        target=25,
    )  # fmt: skip
    r = reading.read_units(res).iloc[0]
    assert r["signal"] == "concern" and r["verdict"] == "deteriorating"
    assert r["variation_type"] == "special_cause_concern"


def test_the_shown_chart_agrees_with_the_reading():
    # a stable unit whose frozen baseline happens to sit low: runs above it that the
    # level test does not confirm are not painted as special cause
    rng = np.random.default_rng(3)
    n = rng.integers(10, 21, 52)
    y = rng.binomial(n, 0.8)
    data = pd.DataFrame(
        {"unit": "U", "week": pd.date_range("2025-09-01", periods=52, freq="W-MON"), "y": y, "n": n}
    )
    res = chart_units(data, freeze={"U": 20}, phases={}, kind="p", multiply=100,
                      improvement="increase", target=95, limits="auto")  # fmt: skip
    r = reading.read_units(res)
    shown = reading.consistent_result(res, r)
    last = shown.summary.iloc[-1]
    assert last["variation_type"] == r["variation_type"].iloc[0]
    if r["signal"].iloc[0] == "none":
        pattern_only = shown.points["special_cause"].astype(str).str.len().gt(0) & ~shown.points[
            "special_cause"
        ].astype(str).str.contains("outside limits")
        assert not pattern_only.any()
        assert not bool(last["runs_signal"])


def _simulated_reliable_share(p: float, weeks: int, units: int = 300, seed: int = 1) -> float:
    """Share of simulated units at true share p, 15 a week, read reliable against 95 %."""
    rng = np.random.default_rng(seed)
    n = np.full((units, weeks), 15)
    y = rng.binomial(n, p)
    data = pd.DataFrame(
        {
            "unit": np.repeat([f"u{i:03d}" for i in range(units)], weeks),
            "week": np.tile(pd.date_range("2025-09-01", periods=weeks, freq="W-MON"), units),
            "y": y.ravel(),
            "n": n.ravel(),
        }
    )
    res = _chart(data, multiply=100, improvement="increase", target=95, limits="auto")
    return float((reading.read_units(res)["verdict"] == "reliable").mean())


def test_simulated_reliability_calls():
    """A unit truly at 98.5 % is mostly called reliable after 26 weeks; one at 90 % never is."""
    at_12 = _simulated_reliable_share(0.985, 12)
    at_26 = _simulated_reliable_share(0.985, 26)
    wrong = _simulated_reliable_share(0.90, 26, seed=2)
    assert at_26 >= 0.9 and at_12 >= 0.5 and at_26 > at_12
    assert wrong <= 0.05


if __name__ == "__main__":  # prints the rates quoted in the closing note
    for p, w in ((0.985, 12), (0.985, 26), (0.95, 26), (0.90, 12), (0.90, 26)):
        print(f"true {p:.1%}, {w} weeks of 15: reliable in {_simulated_reliable_share(p, w):.1%}")


def test_simulated_stable_98_5_percent_rarely_reads_as_a_concern():
    """At 98.5 % x 15 a week, stable: concern weeks at most 1 in 200 on the chart people see,
    and a concern reading for at most about 6 in 200 units (a concern in any of the last 6 weeks)."""
    rng = np.random.default_rng(7)
    units, weeks = 300, 52
    n = np.full((units, weeks), 15)
    data = pd.DataFrame(
        {
            "unit": np.repeat([f"u{i:03d}" for i in range(units)], weeks),
            "week": np.tile(pd.date_range("2025-09-01", periods=weeks, freq="W-MON"), units),
            "y": rng.binomial(n, 0.985).ravel(),
            "n": n.ravel(),
        }
    )
    res = chart_units(data, freeze={u: 20 for u in data["unit"].unique()}, phases={}, kind="p",
                      multiply=100, improvement="increase", target=95, limits="auto")  # fmt: skip
    r = reading.read_units(res)
    shown = reading.consistent_result(res, r)
    concern_weeks = float((shown.points["point_type"] == "special_cause_concern").mean())
    assert concern_weeks <= 1 / 200
    # a concern week among the last 6 counts: at most about 6 x 1/200 of units
    assert float(r["signal"].isin(["concern", "both"]).mean()) <= 0.04


def _weekly_counts(shares, n=20, unit="One", seed=1):
    rng = np.random.default_rng(seed)
    y = rng.binomial(n, np.asarray(shares))
    return pd.DataFrame(
        {
            "unit": unit,
            "week": pd.date_range("2025-09-01", periods=len(shares), freq="W-MON"),
            "y": y.astype(float),
            "n": float(n),
            "n_respondents": n,
        }
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_short_step_with_every_point_flagged_does_not_crash(seed):
    from pxlib.workbook.steps import read_weekly

    weekly = _weekly_counts([0.6] * 15 + [0.9] * 15, seed=seed)
    plan, shown, readings = read_weekly(weekly, None)
    assert readings["signal"].iloc[0] == "improvement"
    assert shown.summary["variation_type"].iloc[-1] == readings["variation_type"].iloc[0]


def test_a_phase_resting_on_too_few_answers_shows_no_share():
    from pxlib.workbook.steps import read_weekly

    weekly = _weekly_counts([0.9, 0.9], n=4)
    _, _, readings = read_weekly(weekly, None)
    r = readings.iloc[0]
    assert np.isnan(r["estimate"]) and np.isnan(r["ci_low"])
    assert "fewer than 10 answers: not shown" in r["reliability"]
    assert "%" not in r["reliability"]


def test_a_run_chart_reads_in_percent():
    from pxlib.workbook.steps import read_weekly

    _, shown, readings = read_weekly(_weekly_counts([0.8] * 30), None, kind="run")
    assert shown.spec.percent
    assert "95% target" in readings["reliability"].iloc[0]


def test_with_phases_adopted_an_adopted_cycle_explains_the_improvement():
    from pxlib.workbook.steps import read_weekly

    weekly = _weekly_counts([0.6] * 20 + [0.9] * 20)
    log = pd.DataFrame(
        {
            "unit": ["One"],
            "cycle_id": ["C1"],
            "start_date": [pd.Timestamp("2025-12-22")],
            "end_date": [pd.Timestamp("2026-01-16")],
            "decision": ["adopt"],
        }
    )
    plan, _, readings = read_weekly(weekly, log, phases="adopted")
    r = readings.iloc[0]
    assert plan.phases == {"One": [pd.Timestamp("2026-01-19")]}
    assert r["verdict"] == "improving" and "C1" in r["evidence"]
    assert "no adopted PDSA cycle explains it" not in r["next_step"]


def test_lower_is_better_gives_the_ihi_level_of_its_failures():
    data = _weekly([0.02] * 30, n=400)
    res = _chart(data, multiply=100, improvement="decrease", target=5)
    r = reading.read_units(res).iloc[0]
    assert r["verdict"] == "reliable"
    assert "level 2" in r["reliability"] and "chaotic" not in r["reliability"]


def test_two_adopted_cycles_ending_in_the_same_week_are_judged_together():
    from pxlib.workbook.steps import read_weekly

    weekly = _weekly_counts([0.6] * 20 + [0.9] * 20)
    log = pd.DataFrame(
        {
            "unit": ["One", "One"],
            "cycle_id": ["C1", "C2"],
            "start_date": [pd.Timestamp("2025-12-22")] * 2,
            "end_date": [pd.Timestamp("2026-01-16"), pd.Timestamp("2026-01-15")],
            "decision": ["adopt", "adopt"],
        }
    )
    plan, _, readings = read_weekly(weekly, log)
    assert plan.cycles["status"].tolist() == ["confirmed", "confirmed"]
    assert "No change yet" not in readings["reason"].iloc[0]
