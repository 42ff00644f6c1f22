"""Exact binomial probability limits for p charts (``chart(..., limits="exact" | "auto")``),
and the run rules switched off where most points sit at 100 % (pxlib/spc/limits.py,
pxlib/spc/chart.py).

Expected limits are worked out here from the binomial probabilities themselves
(``math.comb``), not from scipy. ``python tests/spc/test_spc_exact_limits.py`` prints the
simulated false-alarm rates.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from pxlib.errors import ChartError
from pxlib.spc import chart

ALPHA3 = 0.0013498980316300933  # 1 - Phi(3)
ALPHA2 = 0.022750131948179195  # 1 - Phi(2)
RUN_RULES = ("longest run", "crossings", "shift", "runs (IHI)")


def cdf(k: int, n: int, p: float) -> float:
    """P(X <= k), X ~ Binomial(n, p), summed term by term."""
    return sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k + 1))


def quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return chart(*args, **kwargs)


def one_point(n: float, p: float, multiply: float = 1.0):
    """A p chart of a single point with a fixed centre line p: its limits are those at n."""
    df = pd.DataFrame({"x": [1], "y": [0.0], "n": [n]})
    res = quiet(df, "x", "y", "n", kind="p", cl=p * multiply, multiply=multiply, limits="exact")
    return res.points.iloc[0]


# ------------------------------------------------------------------ hand-checked limits


def test_98_5_percent_of_15_is_below_the_limit_from_3_failures():
    # P(X <= 12) = P(3 or more failures) is just under alpha3; P(X <= 13) is far above
    assert cdf(12, 15, 0.985) == pytest.approx(0.0013414, abs=1e-7)
    assert cdf(12, 15, 0.985) < ALPHA3 <= cdf(13, 15, 0.985)
    assert cdf(13, 15, 0.985) == pytest.approx(0.020752, abs=1e-6)
    pt = one_point(15, 0.985)
    assert 12 / 15 < pt["lcl"] <= 13 / 15  # y < lcl strictly: 12/15 is below, 13/15 is not
    assert pt["ucl"] == 1.0  # P(X >= 15) = 0.985^15 = 0.80: nothing is above
    # 2-sigma: P(X <= 13) = 0.0208 < alpha2 <= P(X <= 14)
    assert cdf(13, 15, 0.985) < ALPHA2 <= cdf(14, 15, 0.985)
    assert 13 / 15 < pt["lcl_2s"] <= 14 / 15
    assert pt["ucl_2s"] == 1.0


def test_the_strict_test_flags_3_failures_and_not_2():
    df = pd.DataFrame({"x": [1, 2, 3], "y": [12, 13, 15], "n": 15})
    res = quiet(df, "x", "y", "n", kind="p", cl=0.985, limits="exact")
    assert res.points["sigma_signal"].tolist() == [True, False, False]
    # the normal limit 0.985 - 3 sqrt(0.985 * 0.015 / 15) = 0.891 also flags 13/15
    normal = quiet(df, "x", "y", "n", kind="p", cl=0.985)
    assert normal.points["lcl"].iloc[0] == pytest.approx(0.985 - 3 * math.sqrt(0.985 * 0.015 / 15))
    assert normal.points["sigma_signal"].tolist() == [True, True, False]


@pytest.mark.parametrize(
    "n, p, k_lo, k_hi",
    [
        (15, 0.80, 7, 15),  # below iff x <= 6: P = 0.00078
        (20, 0.50, 4, 16),  # symmetric: P(X <= 3) = P(X >= 17) = 0.00129
        (50, 0.25, 4, 22),
        (15, 0.015, 0, 2),  # near 0 %: above iff 3 or more of 15
        (1, 0.5, 0, 1),
    ],
)
def test_limits_are_the_binomial_quantiles(n, p, k_lo, k_hi):
    # k_lo: the smallest k with P(X <= k) >= alpha; k_hi: the smallest with >= 1 - alpha
    assert (k_lo == 0 or cdf(k_lo - 1, n, p) < ALPHA3) and cdf(k_lo, n, p) >= ALPHA3
    assert cdf(k_hi - 1, n, p) < 1 - ALPHA3 <= cdf(k_hi, n, p)
    pt = one_point(n, p)
    # the drawn line lies between the last flagged and the first unflagged count
    assert (k_lo == 0 and pt["lcl"] == 0) or (k_lo - 1) / n < pt["lcl"] <= k_lo / n
    assert k_hi / n <= pt["ucl"] < (k_hi + 1) / n or (k_hi == n and pt["ucl"] == 1)
    # a point is beyond a limit exactly when its tail probability is below alpha
    assert ALPHA3 > 1 - cdf(k_hi, n, p)  # P(X >= k_hi + 1)
    assert k_hi == n or 1 - cdf(k_hi - 1, n, p) >= ALPHA3  # P(X >= k_hi)


def test_a_weighted_n_is_used_as_it_is_and_multiply_scales():
    # a non-whole effective n gives a limit between those of its whole neighbours
    lo14, lo146, lo15 = (one_point(n, 0.985)["lcl"] for n in (14, 14.6, 15))
    assert min(lo14, lo15) <= lo146 <= max(lo14, lo15)
    assert one_point(0.3, 0.5)["lcl"] == 0.0  # even no success at all is not unusual
    pt = one_point(15, 0.985, multiply=100)
    assert pt["lcl"] == pytest.approx(100 * one_point(15, 0.985)["lcl"])
    assert pt["ucl"] == 100


def test_one_heavily_weighted_failure_is_judged_on_the_effective_count():
    # a weighted week: 80 % of an effective 11.4 answers, i.e. 2.3 effective failures.
    # Rounded to 11 answers the limit would be 9/11 = 81.8 % (P(3+ failures of 11) <
    # alpha3 <= P(2+)), flagging it; judged on its own effective count it lies between
    # 2 failures (P = 0.0074 at n = 11) and 3 (P = 0.0003), nearer 2: not flagged.
    assert cdf(8, 11, 0.988) < ALPHA3 <= cdf(9, 11, 0.988)
    df = pd.DataFrame({"x": [1], "y": [0.80 * 11.416], "n": [11.416]})
    res = quiet(df, "x", "y", "n", kind="p", cl=0.988, limits="exact")
    assert res.points["lcl"].iloc[0] < 0.80 < 9 / 11
    assert not res.points["sigma_signal"].iloc[0]


def test_unequal_n_and_gaps_get_their_own_limits():
    df = pd.DataFrame({"x": range(1, 5), "y": [15, np.nan, 20, 0], "n": [15, np.nan, 20, 0]})
    pts = quiet(df, "x", "y", "n", kind="p", cl=0.985, limits="exact").points
    assert 12 / 15 < pts["lcl"].iloc[0] <= 13 / 15
    assert cdf(16, 20, 0.985) < ALPHA3 <= cdf(17, 20, 0.985)
    assert 16 / 20 < pts["lcl"].iloc[2] <= 17 / 20
    assert pts[["lcl", "ucl"]].iloc[[1, 3]].isna().all().all()  # no n, no limits


# ------------------------------------------------------------------ options


SMALL = pd.DataFrame(
    {
        "x": range(1, 13),
        "y": [14, 15, 15, 13, 15, 15, 15, 12, 15, 14, 14, 15],
        "n": [15, 15, 16, 15, 15, 15, 15, 15, 15, 15, 14, 16],
    }
)


def test_default_is_the_normal_approximation_unchanged():
    default = quiet(SMALL, "x", "y", "n", kind="p", multiply=100)
    normal = quiet(SMALL, "x", "y", "n", kind="p", multiply=100, limits="normal")
    pd.testing.assert_frame_equal(default.points, normal.points)
    pd.testing.assert_frame_equal(default.summary, normal.summary)
    # the output of pxlib before this option existed (cl = 172/181)
    pts = default.points
    assert pts["cl"].iloc[0] == pytest.approx(100 * 172 / 181)
    assert pts["lcl"].round(6).tolist()[:3] == [78.189934, 78.189934, 78.7246]
    assert pts["lcl"].round(6).iloc[10] == 77.598959
    assert pts["lcl_2s"].round(6).iloc[0] == 83.802497
    assert (pts["ucl"] == 100).all()
    assert not pts["sigma_signal"].any()
    assert default.summary["limits"].tolist() == ["normal"]
    assert default.spec.limits == "normal"
    exact = quiet(SMALL, "x", "y", "n", kind="p", multiply=100, limits="exact")
    assert exact.summary["limits"].tolist() == ["exact"]
    # P(X <= 10) = 0.0006 < alpha3 <= P(X <= 11) = 0.0054 at p = 172/181, n = 15
    assert cdf(10, 15, 172 / 181) < ALPHA3 <= cdf(11, 15, 172 / 181)
    assert 100 * 10 / 15 < exact.points["lcl"].iloc[0] <= 100 * 11 / 15


def test_auto_chooses_exact_where_the_rarer_outcome_is_expected_fewer_than_5_times():
    rng = np.random.default_rng(3)
    weeks = 30
    units = {"small": (15, 0.985), "medium": (100, 0.97), "large": (400, 0.5)}
    df = pd.concat(
        pd.DataFrame({"unit": u, "x": range(weeks), "y": rng.binomial(n, p, weeks), "n": n})
        for u, (n, p) in units.items()
    )
    res = quiet(df, "x", "y", "n", kind="p", by="unit", limits="auto")
    summ = res.summary.set_index("unit")
    for u, (n, _) in units.items():
        rarer = n * min(summ.loc[u, "cl"], 1 - summ.loc[u, "cl"])
        assert summ.loc[u, "limits"] == ("exact" if rarer < 5 else "normal"), u
    assert summ["limits"].to_dict() == {"large": "normal", "medium": "exact", "small": "exact"}
    assert res.spec.limits == "auto"


def test_phases_choose_separately():
    y = [15] * 14 + [8, 9, 7, 8, 9, 8, 7, 9, 8, 8, 9, 7, 8, 9]
    df = pd.DataFrame({"x": range(28), "y": y, "n": 15})
    summ = quiet(df, "x", "y", "n", kind="p", phases=[14], limits="auto").summary
    # phase 2: n-bar min(p, 1 - p) = 15 * (1 - 115/210) = 6.8: normal limits
    assert summ["limits"].tolist() == ["exact", "normal"]


@pytest.mark.parametrize("kind", ["i", "pp", "u", "run", "xmr"])
def test_exact_limits_are_for_p_charts_only(kind):
    df = pd.DataFrame({"x": range(5), "y": [1, 2, 3, 2, 1], "n": 10})
    n = None if kind in ("i", "run", "xmr") else "n"
    with pytest.raises(ChartError, match="p charts only"):
        chart(df, "x", "y", n, kind=kind, limits="exact")
    with pytest.raises(ChartError, match="limits must be"):
        chart(df, "x", "y", "n", kind="p", limits="binomial")


def test_summary_limits_column_for_other_kinds():
    df = pd.DataFrame({"x": range(14), "y": np.arange(14) % 5})
    assert quiet(df, "x", "y", kind="i").summary["limits"].tolist() == ["normal"]
    assert quiet(df, "x", "y", kind="run").summary["limits"].tolist() == [""]


# ------------------------------------------------------------------ run rules at the boundary


def test_run_rules_are_off_where_most_points_are_at_100_percent():
    # 40 weeks at 15/15 and 12 at 14/15: runs everywhere, all of them meaningless
    y = [15] * 20 + [14] * 6 + [15] * 20 + [14] * 6
    df = pd.DataFrame({"x": range(52), "y": y, "n": 15})
    rules = ["anhoej", "mdc", "ihi"]
    normal = quiet(df, "x", "y", "n", kind="p", rules=rules, improvement="increase")
    assert normal.summary["runs_signal"].iloc[0]
    assert normal.points["special_cause"].str.contains("shift").any()
    exact = quiet(df, "x", "y", "n", kind="p", rules=rules, improvement="increase", limits="exact")
    # mean P(X = 15) = cl^15 = (768/780)^15 = 0.79 > 1/2
    assert (768 / 780) ** 15 > 0.5
    summ = exact.summary.iloc[0]
    assert not summ["runs_signal"]
    assert "most points are at 100 %" in summ["warning"]
    assert "only the limits are used" in summ["warning"]
    assert not exact.points["runs_signal"].any()
    assert (exact.points["special_cause"] == "").all()
    assert (exact.points["point_type"] == "common_cause").all()
    # the statistics are still reported
    assert summ["longest_run"] == 20


def test_limits_and_trend_still_apply_where_run_rules_are_off():
    y = [15] * 45 + [9, 10, 11, 12, 13, 14, 15]
    df = pd.DataFrame({"x": range(52), "y": y, "n": 15})
    res = quiet(df, "x", "y", "n", kind="p", rules=["mdc"], limits="exact", improvement="increase")
    assert "most points are at 100 %" in res.summary["warning"].iloc[0]
    causes = res.points["special_cause"].astype(str)
    assert causes.iloc[45].startswith("outside limits")
    assert (causes.iloc[45:].str.contains("trend")).all()
    assert not causes.str.contains("shift").any()


def test_near_0_percent_the_warning_names_0_percent():
    y = [0] * 40 + [1] * 4
    df = pd.DataFrame({"x": range(44), "y": y, "n": 15})
    res = quiet(df, "x", "y", "n", kind="p", limits="auto")
    assert res.summary["limits"].iloc[0] == "exact"
    assert "most points are at 0 %" in res.summary["warning"].iloc[0]


def test_run_rules_stay_on_away_from_the_boundary():
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"x": range(52), "y": rng.binomial(15, 0.8, 52), "n": 15})
    res = quiet(df, "x", "y", "n", kind="p", limits="exact")
    assert "most points" not in res.summary["warning"].iloc[0]
    trend = np.r_[np.full(26, 9), np.full(26, 14)]  # a real shift is still found
    df["y"] = trend
    assert quiet(df, "x", "y", "n", kind="p", limits="exact").summary["runs_signal"].iloc[0]


# ------------------------------------------------------------------ simulations


def simulate(p: float, n: int, units: int, weeks: int, seed: int, **kwargs):
    """Stable p charts: ``units`` units, ``weeks`` weeks of Binomial(n, p) each."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(units), weeks),
            "x": np.tile(np.arange(weeks), units),
            "y": rng.binomial(n, p, units * weeks),
            "n": n,
        }
    )
    return quiet(df, "x", "y", "n", kind="p", by="unit", **kwargs)


def rates(res) -> tuple[float, float]:
    """Shares of points below the lower and above the upper limit."""
    pts = res.points
    return float((pts["y"] < pts["lcl"]).mean()), float((pts["y"] > pts["ucl"]).mean())


def tolerance(alpha: float, points: int) -> float:
    """The nominal rate plus 3 binomial standard errors of a simulated rate."""
    return alpha + 3 * math.sqrt(alpha * (1 - alpha) / points)


def test_simulated_98_5_percent_of_15_exact_at_most_1_week_in_200():
    res = simulate(0.985, 15, 200, 52, seed=11, limits="exact")
    below, above = rates(res)
    assert below <= 1 / 200
    assert above == 0.0


def test_simulated_98_5_percent_of_15_normal_alarms_in_about_2_percent_of_weeks():
    # the bug: P(X <= 13) = 2.1 % at the true p; about 1.8 % with p-bar estimated
    res = simulate(0.985, 15, 200, 52, seed=11)
    below, _ = rates(res)
    assert 0.012 < below < 0.03
    # and the run rules fire for most stable units
    assert res.summary["runs_signal"].mean() > 0.6


def test_simulated_98_5_percent_of_15_exact_run_rules_off_and_silent():
    res = simulate(0.985, 15, 200, 52, seed=11, limits="exact", rules=["anhoej", "mdc", "ihi"])
    summ = res.summary
    off = summ["warning"].str.contains("most points are at 100 %")
    assert off.mean() > 0.95
    assert not summ.loc[off, "runs_signal"].any()
    in_off = res.points["unit"].isin(summ.loc[off, "unit"])
    causes = res.points.loc[in_off, "special_cause"].astype(str)
    for rule in RUN_RULES:
        assert not causes.str.contains(rule, regex=False).any(), rule


@pytest.mark.parametrize("p", [0.8, 0.985])
def test_simulated_exact_limits_keep_the_nominal_rate_each_side(p):
    # the centre line is the true p, so this checks the limits alone; 2000 x 52 weeks
    res = simulate(p, 15, 2000, 52, seed=7, limits="exact", cl=p)
    below, above = rates(res)
    tol = tolerance(ALPHA3, len(res.points))  # 0.00135 + 0.00034
    assert below <= tol
    assert above <= tol


def main() -> None:
    """Print the simulated false-alarm rates (200 units x 52 weeks, p-bar estimated per
    unit; and 2000 x 52 with the true p as centre line)."""
    print("rate of points outside the limits, stable process, n = 15 a week")
    for p in (0.985, 0.80):
        for limits in ("normal", "exact"):
            res = simulate(p, 15, 200, 52, seed=11, limits=limits, rules=["anhoej", "mdc", "ihi"])
            below, above = rates(res)
            known = rates(simulate(p, 15, 2000, 52, seed=7, limits=limits, cl=p))
            runs = res.summary["runs_signal"].mean()
            print(
                f"p = {p:.3f} {limits:>6}: below {below:.4%}, above {above:.4%} "
                f"(true p as cl: below {known[0]:.4%}, above {known[1]:.4%}); "
                f"units with a runs signal {runs:.1%}"
            )
    print(f"nominal each side: {ALPHA3:.4%}")


if __name__ == "__main__":
    main()


def test_a_baseline_without_failures_does_not_make_every_failure_a_signal():
    # 20 weeks of 15 with no failure: p-bar = 100 %, which says nothing about how rare
    # failures are. The limits use the Jeffreys estimate 300.5 / 301 = 99.83 %, under
    # which one failure in 15 (P(X <= 14) = 1 - 0.9983^15 = 2.5 %) is not unusual.
    df = pd.DataFrame({"x": range(1, 23), "y": [15] * 20 + [14, 15], "n": 15})
    res = quiet(df, "x", "y", "n", kind="p", freeze=20, limits="exact")
    assert res.points["cl"].iloc[0] == 1.0  # the centre line stays as observed
    assert ALPHA3 < 1 - (300.5 / 301) ** 15
    assert not res.points["sigma_signal"].iloc[20]
    assert res.points["lcl"].iloc[20] < 14 / 15
