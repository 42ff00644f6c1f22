"""The workshop's rule-set comparison, checked against expectations computed independently.

- The 3-sigma rule on independent normal data flags a point with probability
  alpha = 2 Phi(-3) = 0.0027 (ARL0 = 1/alpha = 370) and, after a shift d, has
  ARL = 1 / (Phi(d - 3) + Phi(-d - 3)) (Montgomery, *Introduction to Statistical Quality
  Control*): with limits frozen on a long baseline and unscreened moving ranges the
  simulation must agree within Monte-Carlo error.
- The Anhøj rules on a run chart: Anhøj & Olesen (2014, PLoS ONE 9: e113825) report a
  false-signal rate "around 5 %" whatever the number of points. The exact rate is the
  probability that the longest run exceeds round(log2 n) + 3 or the crossings fall
  below the 5 % binomial quantile; it is computed here by counting arrangements (a
  small dynamic programme, the joint distribution of crossings and longest run that
  the crossrun package of Wentzel-Larsen & Anhøj 2019 computes): for 24 points around
  their own median (12 above, 12 below, every arrangement equally likely) and around a
  known median (independent fair coin flips).
- Properties: the run length falls as the shift grows; results are seeded; the
  chart-per-truncation machinery agrees with a single chart where the rule is causal.
"""

from __future__ import annotations

import math
import warnings
from functools import cache

import numpy as np
import pandas as pd
import pytest

from pxlib.spc import chart
from pxlib.workbook import rule_sim, workshop

ALPHA = 0.0027  # 2 * Phi(-3), to the precision the literature quotes


def _exact_anhoej(longest_max: int, crossings_min: int, n: int, above: int | None = None) -> float:
    """P(longest run > longest_max or crossings < crossings_min) for ``n`` points that are
    independent fair coin flips (``above`` None) or a random arrangement of ``above``
    points above and ``n - above`` below the centre line (all equally likely)."""

    def step(last: int, run: int, cross: int, long: bool, side: int):
        r, c = (run + 1, cross) if side == last else (1, cross + (last >= 0))
        return min(r, longest_max + 1), c, long or r > longest_max

    @cache
    def arrangements(a: int, b: int, last: int, run: int, cross: int, long: bool) -> int:
        if a + b == 0:
            return int(long or cross < crossings_min)
        total = 0
        if a:
            total += arrangements(a - 1, b, 0, *step(last, run, cross, long, 0))
        if b:
            total += arrangements(a, b - 1, 1, *step(last, run, cross, long, 1))
        return total

    @cache
    def coin(k: int, last: int, run: int, cross: int, long: bool) -> float:
        if k == 0:
            return float(long or cross < crossings_min)
        return sum(0.5 * coin(k - 1, side, *step(last, run, cross, long, side)) for side in (0, 1))

    if above is None:
        return coin(n, -1, 0, 0, False)
    return arrangements(above, n - above, -1, 0, 0, False) / math.comb(n, above)


# spot values of the Anhøj limits for 24 useful points (../shared/methods/spc.md: 24: 8/8)
LONGEST_24, CROSSINGS_24 = 8, 8


def test_exact_expectations_by_hand():
    # 4 points, 2 above: 6 arrangements; longest run > 1 in all but ABAB and BABA
    assert _exact_anhoej(1, 0, 4, above=2) == pytest.approx(4 / 6)
    # 3 coin flips: longest run > 2 only for AAA and BBB
    assert _exact_anhoej(2, 0, 3) == pytest.approx(2 / 8)


def test_three_sigma_false_signal_per_point_is_0_0027():
    sims, n = 500, 1000
    rates = rule_sim.false_signal_rates(
        lengths=(n,), sims=sims, seed=11, rule_sets=["sigma"], screen_mr=False
    )
    rate = float(rates["point_rate"].iloc[0])
    tol = 4 * math.sqrt(ALPHA * (1 - ALPHA) / (sims * n))
    assert abs(rate - ALPHA) < tol, (rate, tol)
    assert 320 < 1 / rate < 430  # ARL0 about 370


def test_screening_moving_ranges_makes_the_3_sigma_rule_fire_more_often():
    kw = {"lengths": (500,), "sims": 400, "seed": 12, "rule_sets": ["sigma"]}
    screened = rule_sim.false_signal_rates(**kw)["point_rate"].iloc[0]
    raw = rule_sim.false_signal_rates(**kw, screen_mr=False)["point_rate"].iloc[0]
    assert screened > 1.1 * raw


@pytest.mark.parametrize("shift", [2.0, 3.0])
def test_three_sigma_arl_after_a_shift_matches_theory(shift):
    lengths = rule_sim.run_lengths(
        shifts=(shift,),
        baseline=200,
        horizon=12,
        sims=200,
        seed=13,
        rule_sets=["sigma"],
        screen_mr=False,
    )
    row = rule_sim.arl_table(lengths).iloc[0]
    expected = rule_sim.shewhart_arl(shift)
    assert abs(row["arl"] - expected) < 3 * row["se"] + 0.05 * expected, (row.to_dict(), expected)


def test_shewhart_arl_formula():
    assert rule_sim.shewhart_arl(0) == pytest.approx(370.4, abs=0.1)
    assert rule_sim.shewhart_arl(1) == pytest.approx(43.9, abs=0.1)
    assert rule_sim.shewhart_arl(3) == pytest.approx(2.0, abs=0.01)


def test_anhoej_run_chart_false_signals_match_the_exact_rate():
    sims = 8000
    rates = rule_sim.false_signal_rates(lengths=(24,), sims=sims, seed=14, rule_sets=["anhoej_run"])
    rate = float(rates["false_signal_rate"].iloc[0])
    exact = _exact_anhoej(LONGEST_24, CROSSINGS_24, 24, above=12)
    assert exact == pytest.approx(0.0306, abs=0.0005)
    assert abs(rate - exact) < 3 * math.sqrt(exact * (1 - exact) / sims), (rate, exact)
    assert 0.02 <= rate <= 0.10  # "around 5 %" (Anhøj & Olesen 2014)


def test_anhoej_rules_around_a_known_median_match_the_exact_rate():
    from pxlib.spc import chart

    sims = 6000
    y = np.random.default_rng(15).normal(size=(sims, 24))
    frame = pd.DataFrame(
        {"g": np.repeat(np.arange(sims), 24), "x": np.tile(np.arange(24), sims), "y": y.ravel()}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pts = chart(frame, "x", "y", kind="run", by="g", cl=0.0, fill_gaps=False).points
    rate = (pts["special_cause"].astype(str) != "").groupby(pts["g"]).any().mean()
    exact = _exact_anhoej(LONGEST_24, CROSSINGS_24, 24)
    assert exact == pytest.approx(0.0662, abs=0.0005)
    assert abs(rate - exact) < 3 * math.sqrt(exact * (1 - exact) / sims), (rate, exact)


def test_arl_falls_as_the_shift_grows():
    arl = rule_sim.arl_table(rule_sim.run_lengths(shifts=(1.0, 2.0, 3.0), sims=80, seed=16))
    for key, g in arl.groupby("key"):
        g = g.sort_values("shift")
        assert g["arl"].is_monotonic_decreasing, (key, g["arl"].tolist())
        assert g["detected_share"].is_monotonic_increasing, key
    assert set(arl["key"]) == set(rule_sim.RULE_SETS)


def test_false_signals_grow_with_the_length_for_more_rules():
    rates = rule_sim.false_signal_rates(lengths=(12, 52), sims=600, seed=17)
    wide = rates.pivot(index="key", columns="n_points", values="false_signal_rate")
    for key in ("ihi_run", "sigma", "mdc"):
        assert wide.loc[key, 52] > wide.loc[key, 12]
    assert (wide[52] >= wide.loc["anhoej_run", 52]).all()  # the Anhøj run chart fewest


def test_seeded_and_one_draw_for_every_rule_set():
    a = rule_sim.run_lengths(shifts=(2.0,), sims=20, seed=3)
    b = rule_sim.run_lengths(shifts=(2.0,), sims=20, seed=3)
    c = rule_sim.run_lengths(shifts=(2.0,), sims=20, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not a["run_length"].equals(c["run_length"])
    r1 = rule_sim.false_signal_rates(lengths=(24,), sims=50, seed=3)
    r2 = rule_sim.false_signal_rates(lengths=(24,), sims=50, seed=3)
    pd.testing.assert_frame_equal(r1, r2)


def test_truncations_agree_with_one_chart_for_a_causal_rule():
    """With limits frozen on the baseline, the 3-sigma rule at a point does not depend on
    later points: the first flagged new point of one whole chart is the run length."""
    from pxlib.spc import chart

    baseline, horizon, sims, shift, seed = 15, 10, 40, 1.5, 21
    lengths = rule_sim.run_lengths(
        shifts=(shift,),
        baseline=baseline,
        horizon=horizon,
        sims=sims,
        seed=seed,
        rule_sets=["sigma"],
    )
    values = np.random.default_rng(seed).normal(size=(1, sims, baseline + horizon))
    values[:, :, baseline:] += shift
    n = baseline + horizon
    frame = pd.DataFrame(
        {
            "sim": np.repeat(np.arange(sims), n),
            "x": np.tile(np.arange(n), sims),
            "y": values.ravel(),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pts = chart(frame, "x", "y", kind="i", by="sim", freeze=baseline, fill_gaps=False).points
    hit = pts[(pts["sigma_signal"] != 0) & (pts["x"] >= baseline)]
    first = (hit.groupby("sim")["x"].min() - baseline + 1).reindex(range(sims)).to_numpy(float)
    np.testing.assert_array_equal(lengths["run_length"].to_numpy(), first)


def test_arl_with_censoring_by_hand():
    lengths = pd.DataFrame(
        {"key": "k", "rules": "K", "shift": 1.0, "sim": [0, 1, 2], "run_length": [1.0, 3.0, np.nan]}
    )
    row = rule_sim.arl_table(lengths, horizon=5).iloc[0]
    assert row["arl"] == pytest.approx((1 + 3 + 5) / 2)  # weeks watched / signals
    assert row["detected_share"] == pytest.approx(2 / 3)
    assert row["median"] == 3
    full = lengths.assign(run_length=[1.0, 3.0, 5.0])
    row = rule_sim.arl_table(full, horizon=5).iloc[0]
    assert row["arl"] == pytest.approx(3) and row["se"] == pytest.approx(2 / math.sqrt(3))


def test_figure_and_its_words_come_from_the_tables():
    rates = rule_sim.false_signal_rates(lengths=(12, 24), sims=100, seed=5)
    arl = rule_sim.arl_table(rule_sim.run_lengths(shifts=(1.0, 3.0), sims=30, seed=5))
    fig = rule_sim.comparison_figure(rates, arl)
    assert len(fig.data) == 2 * len(rule_sim.RULE_SETS)
    text = rule_sim.comparison_alt(rates, arl)
    for label in rates["rules"].unique():
        assert label in text


# --- exercises agree with the charts they ask about -------------------------------------------


def _stable(seed: int):
    sim = workshop.simulate_process(weeks=30, change="none", n=20, seed=seed)
    return workshop.chart_process(sim, kind="p")


def test_the_stable_process_answer_reads_the_chart_shown():
    for seed in range(1, 30):
        chart_ = _stable(seed)
        fired = set(
            r for s in chart_.points["special_cause"].astype(str) for r in s.split("; ") if r
        )
        stable = next(
            e
            for e in workshop.exercises(stable=chart_)
            if "stable process had no change" in e.question
        )
        if fired:
            assert "false alarm" in stable.answer
            assert all(r in stable.answer for r in fired)
        else:
            assert stable.answer.startswith("No point is flagged")
    # the workshop's default seed: a false alarm (too few crossings) that the old text missed
    assert "too few crossings" in workshop.signal_words(_stable(7))


def test_table_answers_name_what_the_tables_say():
    rates = rule_sim.false_signal_rates(lengths=(12, 24), sims=200, seed=8)
    arl = rule_sim.arl_table(rule_sim.run_lengths(shifts=(1.0,), sims=40, seed=8))
    items = workshop.exercises(rates=rates, arl=arl, share=0.75, patients_per_week=20)
    false, speed = items
    at24 = rates[rates["n_points"] == 24]
    most = at24.loc[at24["false_signal_rate"].idxmax()]
    assert f"Most: {most['rules']}" in false.answer
    fastest = arl.loc[arl["arl"].idxmin()]
    assert f"Fastest: {fastest['rules']}" in speed.answer
    assert "about 10 percentage points" in speed.question  # 100 sqrt(.75 .25 / 20) = 9.7


def test_answer_sheet_is_escaped_and_offline(tmp_path):
    items = [workshop.Exercise("Is <b>this</b> safe?", "Yes & <script>alert(1)</script>")]
    path = workshop.answer_sheet(items, tmp_path / "sheet" / "answers.html", made={"seed": 7})
    html = path.read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;this&lt;/b&gt;" in html
    assert "http" not in html  # nothing loaded from a network
    assert "seed" in html and "pxlib version" in html


def test_signal_words_count_each_rule_at_its_own_points():
    # weeks 5-13 rise 1, 2, ..., 7, 10, 11 (9 points: the MDC trend, and the IHI trend); weeks
    # 17-21 rise 20-24 (5 points: the IHI trend only). Weeks 5-11 (values 1-7) lie below the
    # median of 10: 7 points, the MDC shift. "trend" must not count the "trend (IHI)" points
    y = [
        10,
        11,
        10,
        11,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        10,
        11,
        10,
        11,
        10,
        20,
        21,
        22,
        23,
        24,
        10,
        11,
        10,
        11,
        10,
    ]
    data = pd.DataFrame({"x": np.arange(1, len(y) + 1), "y": np.array(y, dtype=float)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = chart(data, "x", "y", kind="run", rules=["mdc", "ihi"])
    words = workshop.signal_words(res)
    assert "trend: 9 points, mostly below the centre line, from week 5 to week 13" in words
    assert "shift: 7 points, mostly below the centre line, from week 5 to week 11" in words
