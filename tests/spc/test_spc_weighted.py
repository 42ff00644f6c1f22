"""Weighted survey proportions on a p chart (Kish effective sample size), and funnels."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from pxlib.errors import ChartError, ChartWarning
from pxlib.spc import FunnelResult, chart, funnel, weighted_counts


def simulate(seed=7, units=20, weeks=100, respondents=60, sigma=0.9, p=0.8):
    """In-control weighted survey: answers independent of (very unequal) weights."""
    rng = np.random.default_rng(seed)
    k = units * weeks * respondents
    return pd.DataFrame(
        {
            "unit": np.repeat(np.arange(units), weeks * respondents),
            "week": np.tile(np.repeat(np.arange(weeks), respondents), units),
            "yes": rng.binomial(1, p, size=k),
            "w": rng.lognormal(0.0, sigma, size=k),
        }
    )


def false_alarm_rate(df, y, n):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChartWarning)
        res = chart(df, "week", y, n, kind="p", by="unit")
    return res.points["sigma_signal"].mean()


def test_kish_counts_by_hand():
    df = pd.DataFrame({"week": [1, 1, 1, 2], "yes": [1, 0, 1, 1], "w": [1.0, 2.0, 3.0, 2.0]})
    out = weighted_counts(df, "week", "yes", "w")
    n_eff = 6.0**2 / (1 + 4 + 9)
    assert out["n"].iloc[0] == pytest.approx(n_eff)
    assert out["p"].iloc[0] == pytest.approx(4 / 6)
    assert out["y"].iloc[0] == pytest.approx(4 / 6 * n_eff)
    assert out["deff"].iloc[0] == pytest.approx(3 / n_eff)
    assert out["n"].iloc[1] == pytest.approx(1.0)


def test_kish_counts_by_group_and_a_week_of_zero_weights():
    df = pd.DataFrame(
        {
            "unit": ["b", "a", "a", "b", "a"],
            "week": [1, 1, 1, 1, 2],
            "yes": [1, 0, 1, 0, 1],
            "w": [2.0, 1.0, 1.0, 2.0, 0.0],
        }
    )
    out = weighted_counts(df, "week", "yes", "w", by="unit").set_index(["unit", "week"])
    assert out.loc[("a", 1), "n"] == pytest.approx(2.0)  # (1 + 1)^2 / (1 + 1)
    assert out.loc[("b", 1), "n"] == pytest.approx(2.0)  # (2 + 2)^2 / (4 + 4)
    assert np.isnan(out.loc[("a", 2), "n"]) and np.isnan(out.loc[("a", 2), "p"])


def test_weighted_p_chart_keeps_false_alarm_rate_near_nominal():
    """3-sigma false alarms on in-control weighted data: the Kish-ESS p chart stays near
    the nominal 0.27 % (binomial skew allowed), the naive chart (n = respondents) raises
    several times as many."""
    raw = simulate()
    kish = weighted_counts(raw, "week", "yes", "w", by="unit")
    naive = kish.assign(y=kish["p"] * kish["respondents"], n=kish["respondents"].astype(float))
    assert kish["deff"].mean() > 1.8  # the weights really are unequal
    rate_kish = false_alarm_rate(kish, "y", "n")
    rate_naive = false_alarm_rate(naive, "y", "n")
    assert rate_kish < 0.01
    assert rate_naive > 3 * max(rate_kish, 0.002)


def test_weighted_counts_are_non_integer_and_chartable():
    kish = weighted_counts(simulate(units=2, weeks=20), "week", "yes", "w", by="unit")
    assert (kish["y"] % 1 != 0).any() and (kish["n"] % 1 != 0).any()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChartWarning)
        res = chart(kish, "week", "y", "n", kind="p", by="unit", multiply=100)
    assert res.percent
    assert res.points["ucl"].max() <= 100


# ------------------------------------------------------------------------ funnel


def units_frame():
    rng = np.random.default_rng(11)
    n = rng.integers(50, 5000, size=40)
    y = rng.binomial(n, rng.beta(40, 160, size=40))
    return pd.DataFrame({"trust": [f"T{i:02d}" for i in range(40)], "y": y, "n": n})


def test_funnel_p_by_hand():
    df = units_frame()
    res = funnel(df, "trust", "y", "n", kind="p")
    assert isinstance(res, FunnelResult)
    cl = df["y"].sum() / df["n"].sum()
    sd = np.sqrt(cl * (1 - cl) / df["n"])
    pts = res.points
    np.testing.assert_allclose(pts["ucl"], np.minimum(cl + 3 * sd, 1))
    np.testing.assert_allclose(pts["lcl_2s"], np.maximum(cl - 2 * sd, 0))
    p = df["y"] / df["n"]
    assert pts["signal"].tolist() == ((p > cl + 3 * sd) | (p < cl - 3 * sd)).tolist()
    lo, hi = res.limits(df["n"].to_numpy())
    np.testing.assert_allclose(hi, pts["ucl"])


def test_funnel_overdispersion_uses_sd_of_z():
    df = units_frame()
    base = funnel(df, "trust", "y", "n", kind="p")
    od = funnel(df, "trust", "y", "n", kind="p", overdispersion=True)
    sz = np.std(base.points["z"], ddof=1)
    assert od.sigma_z == pytest.approx(sz)
    cl = base.points["cl"].iloc[0]
    np.testing.assert_allclose(od.points["ucl"] - cl, (base.points["ucl"] - cl) * sz, rtol=1e-12)
    assert od.points["signal"].sum() <= base.points["signal"].sum()


def test_funnel_u_and_errors():
    df = units_frame()
    u = funnel(df, "trust", "y", "n", kind="u", multiply=1000)
    cl = df["y"].sum() / df["n"].sum()
    np.testing.assert_allclose(u.points["ucl"], 1000 * (cl + 3 * np.sqrt(cl / df["n"])))
    bad = df.copy()
    bad.loc[3, "y"] = bad.loc[3, "n"] + 1
    with pytest.raises(ChartError, match="T03"):
        funnel(bad, "trust", "y", "n")
    with pytest.raises(ChartError, match="kind"):
        funnel(df, "trust", "y", "n", kind="c")


def test_weighted_counts_never_drops_rows_without_a_period_or_group():
    import pandas as pd
    import pytest

    from pxlib.errors import ChartError
    from pxlib.spc import weighted_counts

    data = pd.DataFrame(
        {"week": [1, 1, None], "unit": ["A", "A", "A"], "a": [1, 0, 1], "w": [1.0, 2.0, 1.0]}
    )
    with pytest.raises(ChartError, match=r"1 row\(s\) have no value in 'week'"):
        weighted_counts(data, "week", "a", "w", by="unit")
    data.loc[2, "week"] = 1
    out = weighted_counts(data, "week", "a", "w", by="unit")
    assert out["respondents"].tolist() == [3]
