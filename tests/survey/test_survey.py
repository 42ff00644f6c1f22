"""pxlib.survey: design-based estimates against textbook formulas and properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pxlib.errors import ColumnError, DesignError
from pxlib.survey import CI_METHODS, Design, proportion_ci


@pytest.fixture
def srs():
    rng = np.random.default_rng(5)
    n = 120
    return pd.DataFrame(
        {
            "y": rng.normal(50, 10, n),
            "x": rng.uniform(1, 5, n),
            "b": (rng.random(n) < 0.3).astype(float),
            "h": rng.choice(["s1", "s2", "s3"], n),
            "g": rng.choice(["u", "v", "w"], n),
            "c": rng.integers(0, 30, n),
        }
    )


def test_srs_mean_with_fpc_is_the_textbook_formula(srs):
    n, N = len(srs), 1000
    d = Design(srs, weights=np.full(n, N / n), fpc=N)
    e = d.mean("y")
    s2 = srs.y.var(ddof=1)
    assert e.estimate == pytest.approx(srs.y.mean())
    assert e.se == pytest.approx(np.sqrt((1 - n / N) * s2 / n), rel=1e-12)
    # same design with the sampling fraction as fpc
    assert Design(srs, np.full(n, N / n), fpc=n / N).mean("y").se == pytest.approx(e.se)
    t = d.total("y")
    assert t.se == pytest.approx(N * e.se, rel=1e-12)
    # R's normal interval on request, t with the design df by default
    en = d.mean("y", ddf=np.inf)
    assert en.ci_high - en.estimate == pytest.approx(stats.norm.ppf(0.975) * e.se)
    assert e.ci_high - e.estimate == pytest.approx(stats.t.ppf(0.975, n - 1) * e.se)
    assert e.df == n - 1


def test_stratified_mean_is_the_textbook_formula(srs):
    Nh = {"s1": 300.0, "s2": 500.0, "s3": 200.0}
    nh = srs.h.value_counts()
    w = srs.h.map(lambda h: Nh[h] / nh[h]).to_numpy()
    fpc = srs.h.map(Nh).to_numpy(dtype=float)
    d = Design(srs.assign(w=w, N=fpc), "w", strata="h", fpc="N")
    N = sum(Nh.values())
    var = 0.0
    for h, grp in srs.groupby("h"):
        Wh = Nh[h] / N
        var += Wh**2 * (1 - len(grp) / Nh[h]) * grp.y.var(ddof=1) / len(grp)
    est = sum(Nh[h] / N * grp.y.mean() for h, grp in srs.groupby("h"))
    e = d.mean("y")
    assert e.estimate == pytest.approx(est, rel=1e-12)
    assert e.se == pytest.approx(np.sqrt(var), rel=1e-10)
    assert e.df == len(srs) - 3


def test_one_stage_cluster_total_is_the_textbook_formula(srs):
    w = np.full(len(srs), 7.0)
    d = Design(srs, w, clusters="c")
    t = srs.assign(wy=w * srs.y).groupby("c").wy.sum()
    m = len(t)
    assert d.total("y").se == pytest.approx(np.sqrt(m / (m - 1) * ((t - t.mean()) ** 2).sum()))
    assert d.degf == m - 1


def test_ratio_is_the_textbook_formula(srs):
    d = Design(srs)
    e = d.ratio("y", "x")
    R = srs.y.sum() / srs.x.sum()
    n = len(srs)
    z = (srs.y - R * srs.x) / srs.x.sum()
    assert e.estimate == pytest.approx(R)
    assert e.se == pytest.approx(np.sqrt(n / (n - 1) * ((z - z.mean()) ** 2).sum()))


def test_domain_estimates_use_the_full_design(srs):
    d = Design(srs, weights=np.linspace(1, 3, len(srs)), strata="h")
    out = d.by("g").mean("y").set_index("g")
    n = len(srs)
    w = np.linspace(1, 3, n)
    for g in ("u", "v", "w"):
        dom = (srs.g == g).to_numpy()
        W = w[dom].sum()
        m = (w[dom] * srs.y[dom]).sum() / W
        u = np.where(dom, w * (srs.y - m) / W, 0.0)
        var = 0.0
        for _, idx in srs.groupby("h").groups.items():
            uh = u[srs.index.get_indexer(idx)]
            var += len(uh) / (len(uh) - 1) * ((uh - uh.mean()) ** 2).sum()
        assert out.loc[g, "estimate"] == pytest.approx(m, rel=1e-12)
        assert out.loc[g, "se"] == pytest.approx(np.sqrt(var), rel=1e-10)
        # not the subset's variance, which ignores the domain's random size
        sub = Design(srs[dom], w[dom], strata="h").mean("y").se
        assert out.loc[g, "se"] != pytest.approx(sub, rel=1e-6)


def test_domain_paths_agree(srs):
    """The sparse (uncalibrated) and dense (calibrated) domain paths give the same SE
    when the calibration changes nothing (weights already on their own totals)."""
    w = np.linspace(1, 3, len(srs))
    d = Design(srs, w, strata="h")
    own = pd.Series(w).groupby(srs.h.to_numpy()).sum().to_dict()
    # clusters = one respondent each forces the dense path
    dense = Design(srs.assign(id=np.arange(len(srs))), w, strata="h", clusters="id")
    a = d.by("g").proportion("b", method="beta")
    b = dense.by("g").proportion("b", method="beta")
    pd.testing.assert_frame_equal(a, b, rtol=1e-10)
    # post-stratifying on the strata to their own totals: estimates unchanged
    c = d.poststratify("h", own).by("g").mean("y")
    assert np.allclose(c.estimate, d.by("g").mean("y").estimate)


def test_poststratify_se_equals_calibration_on_one_variable(srs):
    tot = {"s1": 300, "s2": 500, "s3": 200}
    d0 = Design(srs, np.full(len(srs), 1000 / len(srs)))
    a = d0.poststratify("h", tot)
    b = d0.calibrate({"h": tot}, method="linear")
    np.testing.assert_allclose(a.weights, b.weights, rtol=1e-10)
    assert a.mean("y").se == pytest.approx(b.mean("y").se, rel=1e-10)
    # calibration on a variable related to y lowers the SE of its total
    assert a.total("y").se != pytest.approx(d0.total("y").se)


@pytest.mark.parametrize("method", CI_METHODS)
@pytest.mark.parametrize("value", [0.0, 1.0])
def test_trap_interval_never_collapses_when_everyone_agrees(srs, method, value):
    d = Design(srs.assign(b=value), np.linspace(1, 2, len(srs)))
    e = d.proportion("b", method=method)
    assert e.estimate == value
    assert e.ci_high - e.ci_low > 0.005
    assert e.ci_low <= value <= e.ci_high
    out = d.by("g").proportion("b", method=method)
    assert (out.ci_high - out.ci_low > 0.01).all()


def test_clopper_pearson_bound_when_everyone_agrees():
    # all 20 respondents say yes, equal weights: ESS 20, lower = (alpha/2)^(1/20)
    d = Design(pd.DataFrame({"b": np.ones(20)}))
    e = d.proportion("b", method="beta")
    assert e.ci_low == pytest.approx(0.025 ** (1 / 20), rel=1e-10)
    assert e.ci_high == 1.0


def test_wilson_is_the_score_interval_with_the_effective_n():
    n, k = 40, 13
    df = pd.DataFrame({"b": [1.0] * k + [0.0] * (n - k)})
    e = Design(df).proportion("b", method="wilson")
    p = k / n
    neff = n - 1  # the with-replacement linearised variance is p(1-p)/(n-1)
    t = stats.t.ppf(0.975, n - 1)
    centre = (p + t**2 / (2 * neff)) / (1 + t**2 / neff)
    half = t * np.sqrt(p * (1 - p) / neff + t**2 / (4 * neff**2)) / (1 + t**2 / neff)
    assert e.ci_low == pytest.approx(centre - half, rel=1e-10)
    assert e.ci_high == pytest.approx(centre + half, rel=1e-10)


def test_interval_methods_agree_for_large_samples():
    lo = {m: proportion_ci(0.3, 0.001, np.inf, m, ess=2e5)[0] for m in CI_METHODS}
    for m, v in lo.items():
        assert float(v) == pytest.approx(0.3 - 1.959964 * 0.001, abs=2e-5), m


def test_design_is_immutable_and_keeps_history(srs):
    d0 = Design(srs, np.ones(len(srs)))
    d1 = d0.poststratify("h", {"s1": 30, "s2": 50, "s3": 40})
    d2 = d1.trim(upper=1.2)
    assert np.all(d0.weights == 1.0)
    assert list(d2.history.step) == ["design", "poststratify", "trim"]
    assert {"min", "max", "ratio", "ess", "deff"} <= set(d2.history.columns)
    with pytest.raises(ValueError):
        d2._w[0] = 5.0
    assert d2.weights.max() <= 1.2 + 1e-12
    assert d2.weights.sum() == pytest.approx(120)
    s = d2.summary().iloc[0]
    assert s["n"] == len(srs)


def test_nonresponse_adjust_on_a_design():
    df = pd.DataFrame({"cls": list("aaaabb"), "resp": [1, 1, 0, 0, 1, 0], "y": [1.0] * 6})
    d = Design(df, [1, 1, 2, 2, 3, 3]).nonresponse_adjust("resp", "cls")
    np.testing.assert_allclose(d.weights, [3, 3, 0, 0, 6, 0])
    assert d.total("y").estimate == pytest.approx(12)


def test_design_errors_are_actionable(srs):
    d = Design(srs)
    with pytest.raises(DesignError, match="'y' must hold 0/1"):
        d.proportion("y")
    with pytest.raises(DesignError, match="'h' is not numeric"):
        d.mean("h")
    with pytest.raises(ColumnError, match="'nope'"):
        d.mean("nope")
    lonely = srs.assign(h2=np.where(np.arange(len(srs)) == 0, "solo", "rest"))
    with pytest.raises(DesignError, match="'solo' has a single PSU"):
        Design(lonely, strata="h2").mean("y")
    assert Design(lonely, strata="h2", lonely_psu="certainty").mean("y").se > 0
    assert Design(lonely, strata="h2", lonely_psu="adjust").mean("y").se > 0
    with pytest.raises(DesignError, match="unknown CI method"):
        d.proportion("b", method="exact")


def test_missing_values_leave_the_denominator(srs):
    df = srs.copy()
    df.loc[:9, "b"] = np.nan
    e = Design(df).proportion("b")
    assert e.n == len(df) - 10
    assert e.estimate == pytest.approx(df.b.mean())


@pytest.mark.parametrize("lonely", ["certainty", "adjust"])
def test_fast_domain_paths_equal_the_dense_path(srs, monkeypatch, lonely):
    from pxlib.survey.design import Domains

    df = srs.assign(h2=np.where(np.arange(len(srs)) == 0, "solo", srs.h))
    base = np.linspace(1, 3, len(srs))
    margins = {"h": {"s1": 300, "s2": 500, "s3": 200}, "g": {"u": 400, "v": 350, "w": 250}}
    designs = [
        Design(df, base, strata="h2", lonely_psu=lonely),
        Design(df, base, strata="h2", lonely_psu=lonely).rake(margins, tol=1e-12),
        Design(df, base, strata="h2", lonely_psu=lonely).calibrate(margins),
    ]
    for d in designs:
        fast = d.by(["g", "h"]).proportion("b", method="logit")
        total_fast = d.by("g").total("y")
        monkeypatch.setattr(Domains, "FAST", False)
        dense = d.by(["g", "h"]).proportion("b", method="logit")
        total_dense = d.by("g").total("y")
        monkeypatch.setattr(Domains, "FAST", True)
        pd.testing.assert_frame_equal(fast, dense, rtol=1e-9)
        pd.testing.assert_frame_equal(total_fast, total_dense, rtol=1e-9)


def test_unknown_options_are_rejected_not_ignored(srs):
    d = Design(srs)
    with pytest.raises(TypeError):
        d.rake({"h": {"s1": 1, "s2": 1, "s3": 1}}, bounds=(0.5, 2))
    with pytest.raises(TypeError):
        d.calibrate({"h": {"s1": 1, "s2": 1, "s3": 1}}, trim=(0.5, 2))


def test_variance_is_accurate_for_a_large_constant_offset():
    rng = np.random.default_rng(9)
    y = 1e9 + rng.normal(0, 1, 500)
    d = Design(pd.DataFrame({"y": y}))
    n = len(y)
    expected = np.sqrt(n / (n - 1) * ((y - y.mean()) ** 2).sum())
    assert d.total("y").se == pytest.approx(expected, rel=1e-6)


def test_wilson_interval_matches_newcombes_worked_values():
    # Newcombe (1998), Statistics in Medicine 17:857-872, table I, method 3 (Wilson score)
    from pxlib.survey.ci import wilson_interval

    k = np.array([81, 15, 0, 1])
    n = np.array([263, 148, 20, 29])
    lo, hi = wilson_interval(k / n, n)
    assert lo == pytest.approx([0.2553, 0.0624, 0.0, 0.0061], abs=5e-5)
    assert hi == pytest.approx([0.3662, 0.1605, 0.1611, 0.1718], abs=5e-5)
    lo, hi = wilson_interval([0.5, 0.5], [0, np.nan])
    assert np.isnan(lo).all() and np.isnan(hi).all()
