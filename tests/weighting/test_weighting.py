"""pxlib.weighting: hand-checked cases, errors and the silent traps of the methods note."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from pxlib.errors import ColumnError, ConvergenceError, WeightingError, WeightingWarning
from pxlib.weighting import (
    calibrate,
    collapse_levels,
    collapse_sparse,
    design_effect,
    kish_ess,
    nonresponse_adjust,
    poststratify,
    rake,
    trim,
    weight_summary,
)


@pytest.fixture
def small():
    # 2 x 2 table with counts 10, 20 / 30, 40
    a = ["x"] * 30 + ["y"] * 70
    b = ["p"] * 10 + ["q"] * 20 + ["p"] * 30 + ["q"] * 40
    return pd.DataFrame({"a": a, "b": b})


def _margin_sums(df, w, var):
    return w.groupby(df[var]).sum()


def test_rake_reproduces_margins_and_is_one_post_stratification_when_one_margin(small):
    w = rake(small, {"a": {"x": 60, "y": 40}})
    # one margin: raking is post-stratification: x weights 60/30 = 2, y 40/70
    assert np.allclose(w[small.a == "x"], 2.0)
    assert np.allclose(w[small.a == "y"], 40 / 70)


def test_rake_two_margins_hand_checked(small):
    # IPF on the 2x2 table [[10, 20], [30, 40]] to rows (50, 50), columns (50, 50):
    # the fixed point has cross-product ratio equal to the sample's (10*40)/(20*30)
    w = rake(small, {"a": {"x": 50, "y": 50}, "b": {"p": 50, "q": 50}}, tol=1e-12)
    cell = w.groupby([small.a, small.b]).sum()
    t = cell.unstack().to_numpy()
    assert t.sum(axis=1) == pytest.approx([50, 50], rel=1e-10)
    assert t.sum(axis=0) == pytest.approx([50, 50], rel=1e-10)
    assert (t[0, 0] * t[1, 1]) / (t[0, 1] * t[1, 0]) == pytest.approx(400 / 600, rel=1e-9)
    # closed form for this case: t00 = 50 r/(1+r) with r the cross ratio's root
    r = np.sqrt(400 / 600)
    assert t[0, 0] == pytest.approx(50 * r / (1 + r), rel=1e-9)


def test_margins_as_shares_equal_margins_as_counts(small):
    counts = {"a": {"x": 60, "y": 40}, "b": {"p": 45, "q": 55}}
    shares = {"a": {"x": 0.6, "y": 0.4}, "b": {"p": 0.45, "q": 0.55}}
    w1 = rake(small, counts)
    w2 = rake(small, shares, total=100)
    np.testing.assert_allclose(w1, w2, rtol=1e-12)
    # shares alone scale to the sum of the base weights (here 100 respondents)
    np.testing.assert_allclose(rake(small, shares), w1, rtol=1e-12)
    # a mix: shares scaled by the count margin's total
    np.testing.assert_allclose(rake(small, {"a": counts["a"], "b": shares["b"]}), w1, rtol=1e-12)


def test_margins_as_long_table(small):
    long = pd.DataFrame(
        {
            "variable": ["a", "a", "b", "b"],
            "level": ["x", "y", "p", "q"],
            "population": [60, 40, 45, 55],
        }
    )
    np.testing.assert_allclose(
        rake(small, long), rake(small, {"a": {"x": 60, "y": 40}, "b": {"p": 45, "q": 55}})
    )


def test_trap_integer_coded_categories_are_labels_not_numbers():
    # age bands coded 1..7 as integers: each code is its own level
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"age": rng.integers(1, 8, 500)})
    target = {k: 100.0 * k for k in range(1, 8)}
    w = rake(df, {"age": target})
    got = w.groupby(df.age).sum()
    for k in range(1, 8):
        assert got[k] == pytest.approx(target[k], rel=1e-9)
    # keys given as text match integer codes as labels too
    w2 = rake(df, {"age": {str(k): v for k, v in target.items()}})
    np.testing.assert_allclose(w, w2)


def test_trap_design_weights_are_honoured(small):
    base = np.where(small.b == "p", 3.0, 1.0)
    w = rake(small, {"a": {"x": 60, "y": 40}}, base_weights=base)
    # within a level of a, weights keep the design ratio 3:1
    x = small.a == "x"
    assert w[x & (small.b == "p")].iloc[0] / w[x & (small.b == "q")].iloc[0] == pytest.approx(3.0)
    # and differ from raking without them
    assert not np.allclose(w, rake(small, {"a": {"x": 60, "y": 40}}))
    # a column name works as base weights
    s2 = small.assign(d=base)
    np.testing.assert_allclose(rake(s2, {"a": {"x": 60, "y": 40}}, "d"), w)


def test_trap_zero_weights_stay_zero_or_raise(small):
    base = np.ones(len(small))
    base[0] = 0.0
    with pytest.raises(WeightingError, match="exactly 0"):
        rake(small, {"a": {"x": 60, "y": 40}}, base_weights=base)
    w = rake(small, {"a": {"x": 60, "y": 40}}, base_weights=base, allow_zero=True)
    assert w.iloc[0] == 0.0
    assert w[small.a == "x"].sum() == pytest.approx(60)


def test_negative_and_missing_weights_raise(small):
    base = np.ones(len(small))
    base[3] = -1
    with pytest.raises(WeightingError, match="negative"):
        rake(small, {"a": {"x": 60, "y": 40}}, base_weights=base)
    base[3] = np.nan
    with pytest.raises(WeightingError, match="missing"):
        rake(small, {"a": {"x": 60, "y": 40}}, base_weights=base)


def test_errors_name_the_margin(small):
    with pytest.raises(WeightingError, match=r"'a'.*\['y'\].*no population"):
        rake(small, {"a": {"x": 60}})  # level in sample missing from margins
    with pytest.raises(WeightingError, match=r"'a'.*\['z'\].*no respondents"):
        rake(small, {"a": {"x": 60, "y": 30, "z": 10}})  # margin level absent
    with pytest.raises(WeightingError, match="inconsistent margin totals"):
        rake(small, {"a": {"x": 60, "y": 40}, "b": {"p": 50, "q": 60}})
    with pytest.raises(ColumnError, match="'c'"):
        rake(small, {"c": {"x": 1}})
    df = small.copy()
    df.loc[0, "a"] = None
    with pytest.raises(WeightingError, match="'a'.*no value"):
        rake(df, {"a": {"x": 60, "y": 40}})
    # empty cell: a level whose respondents all have weight 0
    base = np.where(small.a == "x", 0.0, 1.0)
    with pytest.raises(WeightingError, match="empty cell"):
        rake(small, {"a": {"x": 60, "y": 40}}, base_weights=base, allow_zero=True)


def test_non_convergence_raises_naming_margin_and_gap():
    # structural zero: no (x, q) and no (y, p) respondents but margins ask for a mix
    df = pd.DataFrame({"a": ["x"] * 5 + ["y"] * 5, "b": ["p"] * 5 + ["q"] * 5})
    with pytest.raises(ConvergenceError, match=r"margin '(a|b)' is still .* from its targets"):
        rake(df, {"a": {"x": 50, "y": 50}, "b": {"p": 30, "q": 70}}, max_iter=20)


def test_rake_stops_on_the_gap_to_targets():
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"a": rng.choice(list("abc"), 300), "b": rng.choice(list("uvw"), 300)})
    m = {"a": {"a": 100, "b": 150, "c": 50}, "b": {"u": 60, "v": 120, "w": 120}}
    for tol in (1e-3, 1e-8):
        w = rake(df, m, tol=tol)
        for v, tg in m.items():
            got = w.groupby(df[v]).sum()
            for k, t in tg.items():
                assert abs(got[k] - t) / t <= tol


def test_calibrate_reproduces_totals_and_honours_bounds():
    rng = np.random.default_rng(11)
    df = pd.DataFrame(
        {
            "a": rng.choice(list("xyz"), 400, p=[0.6, 0.3, 0.1]),
            "b": rng.choice(list("pq"), 400),
            "age": rng.normal(50, 10, 400),
        }
    )
    m = {"a": {"x": 450, "y": 400, "z": 150}, "b": {"p": 400, "q": 600}}
    d = np.full(400, 2.5)
    w = calibrate(df, m, d, method="linear")
    for v, tg in m.items():
        got = w.groupby(df[v]).sum()
        for k, t in tg.items():
            assert got[k] == pytest.approx(t, rel=1e-9)
    g = w.to_numpy() / d
    assert g.min() < 0.6 and g.max() > 1.9  # so the bounds below bind
    # bounds are honoured (the trap: a bounds option silently ignored)
    for method in ("linear", "raking", "logit"):
        wb = calibrate(df, m, d, method=method, bounds=(0.6, 1.9))
        gb = wb.to_numpy() / d
        assert gb.min() >= 0.6 - 1e-9 and gb.max() <= 1.9 + 1e-9
        for v, tg in m.items():
            got = wb.groupby(df[v]).sum()
            for k, t in tg.items():
                assert got[k] == pytest.approx(t, rel=1e-8)
    # numeric totals
    wn = calibrate(df, {"a": m["a"], "age": 50_500.0}, d, method="linear")
    assert (wn * df.age).sum() == pytest.approx(50_500.0, rel=1e-9)
    with pytest.raises(WeightingError, match="finite bounds"):
        calibrate(df, m, d, method="logit")
    with pytest.raises(ConvergenceError, match="did not converge"):
        calibrate(df, m, d, method="logit", bounds=(0.9, 1.1))


def test_calibrate_raking_equals_rake(small):
    m = {"a": {"x": 50, "y": 50}, "b": {"p": 45, "q": 55}}
    np.testing.assert_allclose(
        calibrate(small, m, method="raking"), rake(small, m, tol=1e-13), rtol=1e-9
    )


def test_poststratify_hand_checked(small):
    base = np.arange(1, 101, dtype=float)
    w = poststratify(small, "a", {"x": 300, "y": 700}, base_weights=base)
    x = small.a == "x"
    assert w[x].sum() == pytest.approx(300)
    assert w[~x].sum() == pytest.approx(700)
    # proportional to the base within class
    np.testing.assert_allclose(w[x] / base[x], 300 / base[x].sum())
    # crossed classes, tuple keys
    tot = {("x", "p"): 10, ("x", "q"): 20, ("y", "p"): 30, ("y", "q"): 40}
    wc = poststratify(small, ["a", "b"], tot)
    assert wc[(small.a == "y") & (small.b == "p")].sum() == pytest.approx(30)
    with pytest.raises(WeightingError, match="no respondents"):
        poststratify(small, "a", {"x": 1, "y": 2, "z": 3})
    with pytest.raises(WeightingError, match="no population total"):
        poststratify(small, "a", {"x": 1})


def test_trim_redistributes_equally():
    w = pd.Series([1.0, 2.0, 3.0, 10.0])
    t = trim(w, upper=6.0)
    # 4 removed from the big weight, 4/3 added to each of the other three
    np.testing.assert_allclose(t, [1 + 4 / 3, 2 + 4 / 3, 3 + 4 / 3, 6.0])
    assert t.sum() == pytest.approx(w.sum())
    t2 = trim(pd.Series([1.0, 1.0, 1.0, 9.0]), upper=3.0, strict=True)
    assert t2.max() <= 3.0 + 1e-12 and t2.sum() == pytest.approx(12.0)
    tl = trim(w, lower=1.5)
    np.testing.assert_allclose(tl, [1.5, 2 - 0.5 / 3, 3 - 0.5 / 3, 10 - 0.5 / 3])


def test_nonresponse_adjust_hand_checked():
    df = pd.DataFrame({"cls": list("aaaabb"), "resp": [1, 1, 0, 0, 1, 0]})
    w = nonresponse_adjust(df, "resp", "cls", base_weights=[1, 1, 2, 2, 3, 3])
    np.testing.assert_allclose(w, [3.0, 3.0, 0, 0, 6.0, 0])
    with pytest.raises(WeightingError, match="no respondents"):
        nonresponse_adjust(df.assign(resp=[1, 1, 1, 1, 0, 0]), "resp", "cls")


def test_kish_figures():
    w = np.array([1.0, 1.0, 2.0, 4.0])
    assert kish_ess(w) == pytest.approx(64 / 22)
    assert design_effect(w) == pytest.approx(4 * 22 / 64)
    assert kish_ess(np.ones(10)) == pytest.approx(10)
    s = weight_summary(w).iloc[0]
    assert s["ratio"] == 4.0 and s["ess"] == pytest.approx(64 / 22)
    assert s["deff"] == pytest.approx(1 + np.var(w) / np.mean(w) ** 2)


def test_collapse_rule_merges_adjacent_sparse_levels():
    pop = {"16-24": 10, "25-34": 10, "35-44": 10, "45-54": 10, "55+": 10}
    counts = {"16-24": 2, "25-34": 9, "35-44": 1, "45-54": 20, "55+": 30}
    mapping, new, merges = collapse_levels(counts, pop, 5)
    # 35-44 (1) merges with its sparser neighbour 25-34 (9 < 20); then 16-24 (2)
    # merges with its only neighbour "25-34+35-44"
    assert merges[0] == ("25-34", "35-44")
    assert mapping["16-24"] == mapping["25-34"] == mapping["35-44"] == "16-24+25-34+35-44"
    assert new["16-24+25-34+35-44"] == 30
    assert sum(new.values()) == 50


def test_collapse_sparse_warns_and_rakes():
    df = pd.DataFrame({"age": ["a"] * 2 + ["b"] * 40 + ["c"] * 40})
    with pytest.warns(WeightingWarning, match="merged a with b"):
        rec, m = collapse_sparse(df, {"age": {"a": 10, "b": 20, "c": 30}}, 5)
    assert m == {"age": {"a+b": 30.0, "c": 30.0}}
    w = rake(rec, m)
    assert w.sum() == pytest.approx(60)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        collapse_sparse(df, {"age": {"a": 10, "b": 20, "c": 30}}, 2)
