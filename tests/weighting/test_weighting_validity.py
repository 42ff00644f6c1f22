"""Weighting the Always Event measures validly: each unit to its own eligible patients,
the design built once over all weeks, problems that degrade instead of failing.

Expectations are hand-computed from the weights (Kish ESS, design effect, weighted
margins) or the ground truth planted in the sample (data/sample/README.md).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DIR

from pxlib.data import load_data_dir
from pxlib.data.sample import AGE_ELIGIBLE, TRUSTS
from pxlib.errors import WeightingWarning
from pxlib.survey.summaries import build_design, domain_shares
from pxlib.workbook import measures

SHARE_COLUMNS = ["n_respondents", "n_happened", "share", "ci_low", "ci_high", "ess", "weighted"]


def load(trust: str = "ZA1"):
    with warnings.catch_warnings():
        warnings.simplefilter("error", WeightingWarning)  # the sample weights cleanly
        return load_data_dir(SAMPLE_DIR, trust)


@pytest.fixture(scope="module")
def za1():
    return load("ZA1")


def test_a_unit_week_is_the_same_in_any_window(za1):
    # fails on the old code, which re-raked the rows of each window (up to 4-6 points apart)
    full = measures.weekly_share(za1).set_index(["unit", "week"])
    for start, end in (
        ("2026-01-05", "2026-03-30"),
        ("2025-09-01", "2025-10-27"),
        (None, "2026-05-04"),
    ):
        win = measures.weekly_share(za1, start=start, end=end).set_index(["unit", "week"])
        assert len(win) and len(win) < len(full)
        cols = ["n_respondents", "n_happened", "share", "ci_low", "ci_high", "ess", "y", "n"]
        pd.testing.assert_frame_equal(win[cols], full.loc[win.index, cols], check_exact=True)
    # a window's unit figure is the domain of the same design: its rows' weights, pooled
    md = measures.measure_design(za1, "AE1")
    rows = md.weighted.data
    w = md.weighted.weights.to_numpy()
    sel = (
        (rows["unit"] == "Ash Ward")
        & (rows["week"] >= pd.Timestamp("2026-01-05"))
        & rows["happened"].notna()
    ).to_numpy()
    ash = measures.weekly_share(za1, by=("unit",), start="2026-01-05").set_index("unit")
    assert ash.loc["Ash Ward", "share"] == pytest.approx(
        np.average(rows["happened"][sel], weights=w[sel]), rel=1e-12
    )


def test_each_unit_is_raked_to_its_own_eligible_patients(za1):
    md = measures.measure_design(za1, "AE1")
    rows, w = md.weighted.data, md.weighted.weights
    eligible = measures.eligible_margins(za1.margins)
    for unit in ("Ash Ward", "Beech Ward", "Cedar Ward"):
        mine = (rows["unit"] == unit).to_numpy()
        own = eligible[(eligible["unit"] == unit) & (eligible["variable"] == "age_band")]
        target = own.set_index("level")["population"] / own["population"].sum()
        got = w[mine].groupby(rows.loc[mine, "age_band"]).sum() / w[mine].sum()
        np.testing.assert_allclose(got[target.index], target, rtol=1e-6)
        # weights average 1 over the unit's respondents
        assert w[mine].mean() == pytest.approx(1.0, rel=1e-9)
    # the sample's units share one eligible age mix
    np.testing.assert_allclose(target.to_numpy(), AGE_ELIGIBLE, atol=1e-3)
    assert md.units["weighted"].all()
    assert set(md.units["variables"]) == {"age_band, sex"}


def test_catchment_margins_never_weight_a_unit_measure(za1):
    baseline = measures.weekly_share(za1)
    assert baseline["weighted"].all()
    # another catchment population changes nothing for the units...
    other = za1.margins.copy()
    catch = other["describes"] == "catchment"
    other.loc[catch & (other["level"] == "75+"), "population"] *= 5
    za1.margins = other
    try:
        pd.testing.assert_frame_equal(measures.weekly_share(za1), baseline)
        # ...and catchment margins alone leave every unit unweighted, with a warning
        za1.margins = other[catch].reset_index(drop=True)
        with pytest.warns(WeightingWarning, match="catchment population"):
            only = measures.weekly_share(za1)
        assert not only["weighted"].any()
        pd.testing.assert_frame_equal(only, measures.weekly_share(za1, weighted=False))
        summary = measures.weighting_summary(za1)
        assert (summary["population_used"] == "none").all()
        assert measures.weighting_note(summary) == (
            "Not weighted: the margins describe the trust's catchment population, not the "
            "patients leaving each unit; the figures are the respondents' own answers."
        )
    finally:
        za1.margins = load("ZA1").margins


def test_a_unit_without_eligible_margins_stays_unweighted():
    data = load("ZA1")
    data.margins = data.margins[data.margins["unit"] != "Beech Ward"].reset_index(drop=True)
    with pytest.warns(WeightingWarning, match="ZA1 Beech Ward: no population margins"):
        weekly = measures.weekly_share(data)
    by_unit = weekly.groupby("unit")["weighted"].agg(["all", "any"])
    assert by_unit.loc["Ash Ward", "all"] and by_unit.loc["Cedar Ward", "all"]
    assert not by_unit.loc["Beech Ward", "any"]
    beech = weekly[weekly["unit"] == "Beech Ward"]
    np.testing.assert_allclose(beech["ess"], beech["n_respondents"])  # weight 1
    # a figure pooling units is only "weighted" when all its answers are
    assert not measures.weekly_share(data, by=("org_code",))["weighted"].any()
    note = measures.weighting_note(measures.weighting_summary(data))
    assert note.startswith("Weighted to each unit's eligible patients (age band, sex): Ash Ward ")
    assert "Beech Ward not weighted (no margins of the unit's eligible patients)" in note


def test_an_unusable_margin_leaves_the_unit_unweighted_with_a_warning():
    data = load("ZA1")
    m = data.margins.copy()
    bad = (m["unit"] == "Ash Ward") & (m["variable"] == "age_band") & (m["level"] == "16-34")
    m.loc[bad, "population"] = 0  # respondents in a level with no population: cannot be raked
    data.margins = m
    with pytest.warns(WeightingWarning, match=r"ZA1 Ash Ward: margin 'age_band'.*unweighted"):
        weekly = measures.weekly_share(data)
    assert not weekly.loc[weekly["unit"] == "Ash Ward", "weighted"].any()
    assert weekly.loc[weekly["unit"] == "Cedar Ward", "weighted"].all()
    summary = measures.weighting_summary(data).set_index("unit")
    assert "age_band" in summary.loc["Ash Ward", "reason"]
    # a level nobody answered in is merged with its neighbour, not an error
    data = load("ZA1")
    extra = data.margins[data.margins["unit"] == "Cedar Ward"].iloc[[0]].assign(level="0-15")
    data.margins = pd.concat([extra, data.margins], ignore_index=True)
    with pytest.warns(WeightingWarning, match="Cedar Ward.*merged 0-15 with 16-34"):
        weekly = measures.weekly_share(data)
    assert weekly["weighted"].all()


def test_chart_inputs_use_the_kish_effective_sample(za1):
    weekly = measures.weekly_share(za1)
    np.testing.assert_allclose(weekly["y"], weekly["share"] * weekly["ess"])
    np.testing.assert_array_equal(weekly["n"], weekly["ess"])
    md = measures.measure_design(za1, "AE1")
    rows, w = md.weighted.data, md.weighted.weights.to_numpy()
    first = weekly.iloc[5]
    sel = ((rows["unit"] == first["unit"]) & (rows["week"] == first["week"])).to_numpy()
    sel = sel & rows["happened"].notna().to_numpy()
    assert first["ess"] == pytest.approx(w[sel].sum() ** 2 / (w[sel] ** 2).sum(), rel=1e-12)
    assert first["n_respondents"] == sel.sum()
    assert list(weekly.columns) == ["unit", "week", *SHARE_COLUMNS, "y", "n"]


def test_the_design_is_made_once_and_rebuilt_when_a_table_is_replaced(za1):
    md = measures.measure_design(za1, "AE1")
    measures.weekly_share(za1, by=("unit",), start="2026-01-05")
    measures.weekly_share(za1, by=("age_band",))
    assert measures.measure_design(za1, "AE1") is md
    data = load("ZA1")
    first = measures.measure_design(data, "AE1")
    data.margins = data.margins.copy()
    assert measures.measure_design(data, "AE1") is not first


def test_groups_across_units_are_domains_of_the_unit_designs(za1):
    md = measures.measure_design(za1, "AE1")
    rows, w = md.weighted.data, md.weighted.weights.to_numpy()
    ok = rows["happened"].notna().to_numpy()
    org = measures.weekly_share(za1, by=("org_code",)).iloc[0]
    assert org["share"] == pytest.approx(np.average(rows["happened"][ok], weights=w[ok]), rel=1e-12)
    assert org["weighted"]
    ages = measures.weekly_share(za1, by=("age_band",)).set_index("age_band")
    young = ok & (rows["age_band"] == "16-34").to_numpy()
    assert ages.loc["16-34", "share"] == pytest.approx(
        np.average(rows["happened"][young], weights=w[young]), rel=1e-12
    )


def test_weighting_summary_by_hand(za1):
    s = measures.weighting_summary(za1).set_index("unit")
    assert list(s.columns[:9]) == [
        "org_code",
        "n_respondents",
        "unweighted_share",
        "weighted_share",
        "design_effect",
        "ess",
        "weighted",
        "population_used",
        "variables",
    ]
    md = measures.measure_design(za1, "AE1")
    rows, w = md.weighted.data, md.weighted.weights.to_numpy()
    for unit, r in s.iterrows():
        sel = ((rows["unit"] == unit) & rows["happened"].notna()).to_numpy()
        n, ws = sel.sum(), w[sel]
        assert r["n_respondents"] == n
        assert r["design_effect"] == pytest.approx(n * (ws**2).sum() / ws.sum() ** 2, rel=1e-12)
        assert r["ess"] == pytest.approx(ws.sum() ** 2 / (ws**2).sum(), rel=1e-12)
        assert r["unweighted_share"] == pytest.approx(rows["happened"][sel].mean(), rel=1e-12)
        assert r["weighted_share"] == pytest.approx(np.average(rows["happened"][sel], weights=ws))
        assert r["population_used"] == "eligible patients of the unit"
    # the sample plants a modest design effect and a few points' difference
    assert s["design_effect"].between(1.05, 1.5).all()
    assert (s["unweighted_share"] - s["weighted_share"]).between(0.02, 0.06).all()
    note = measures.weighting_note(s.reset_index())
    ash = s.loc["Ash Ward"]
    assert note.startswith(
        "Weighted to each unit's eligible patients (age band, sex): Ash Ward "
        f"{100 * ash['weighted_share']:.0f}% weighted against "
        f"{100 * ash['unweighted_share']:.0f}% unweighted, design effect "
        f"{ash['design_effect']:.1f}; Beech Ward "
    )
    assert note.endswith(".") and note.count(".") == 4  # one sentence (and three decimals)


def test_weighted_share_recovers_the_planted_share():
    # the planted share is each unit's share among its eligible patients; respondents are
    # older, and older patients report the Always Event more often
    rows = []
    for trust in TRUSTS:
        s = measures.weighting_summary(load(trust.code)).set_index("unit")
        for plan in trust.units:
            if plan.pattern in ("stable", "reliable", "small"):
                r = s.loc[plan.unit]
                rows.append(
                    (r["n_respondents"], plan.base, r["weighted_share"], r["unweighted_share"])
                )
    n, planted, weighted, unweighted = (np.asarray(c, dtype=float) for c in zip(*rows, strict=True))
    truth = np.average(planted, weights=n)
    pooled_w, pooled_u = np.average(weighted, weights=n), np.average(unweighted, weights=n)
    assert abs(pooled_w - truth) < 0.01
    assert abs(pooled_w - truth) < abs(pooled_u - truth)
    assert 0.02 < pooled_u - pooled_w < 0.06
    assert np.mean(np.abs(weighted - planted)) < np.mean(np.abs(unweighted - planted))


def test_domain_shares_window_is_a_domain_not_a_subset():
    rng = np.random.default_rng(3)
    n = 600
    df = pd.DataFrame(
        {
            "org_code": "ZZ1",
            "unit": rng.choice(["A", "B"], n),
            "week": rng.integers(1, 9, n),
            "age_band": rng.choice(["young", "old"], n, p=[0.3, 0.7]),
        }
    )
    df["happened"] = (rng.random(n) < np.where(df["age_band"] == "old", 0.9, 0.6)).astype(float)
    m = pd.DataFrame(
        [("ZZ1", u, "age_band", a, p) for u in "AB" for a, p in (("young", 50), ("old", 50))],
        columns=["org_code", "unit", "variable", "level", "population"],
    )
    wd = build_design(df, m, unit_col="unit", scale="respondents")
    full = domain_shares(wd, "happened", ["unit", "week"]).set_index(["unit", "week"])
    win = domain_shares(wd, "happened", ["unit", "week"], within=(df["week"] >= 5).to_numpy())
    win = win.set_index(["unit", "week"])
    pd.testing.assert_frame_equal(win, full.loc[win.index], check_exact=True)
    # re-weighting the window's rows on their own would give other figures
    sub = build_design(df[df["week"] >= 5], m, unit_col="unit", scale="respondents")
    again = domain_shares(sub, "happened", ["unit", "week"]).set_index(["unit", "week"])
    assert not np.allclose(again["share"], win["share"], rtol=1e-9)


def test_a_bad_margin_row_leaves_its_unit_unweighted_and_says_why(sample_dir, tmp_path):
    """``population = ten`` on one of Ash Ward's eligible margins: the row is rejected, the
    unit's weighting is not used (its margins no longer add up), the other units are still
    weighted, and the weighting note says why Ash Ward is not."""
    import shutil

    from pxlib.workbook import measures

    folder = tmp_path / "data"
    shutil.copytree(sample_dir, folder)
    margins = pd.read_csv(folder / "margins.csv", dtype=str, keep_default_na=False)
    ash = margins.index[
        (margins["org_code"] == "ZA1")
        & (margins["unit"] == "Ash Ward")
        & (margins["describes"] == "eligible")
    ]
    margins.loc[ash[0], "population"] = "ten"
    margins.to_csv(folder / "margins.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_data_dir(folder, "ZA1")
        summary = measures.weighting_summary(data)
    by_unit = summary.set_index("unit")
    assert not by_unit.loc["Ash Ward", "weighted"]
    assert by_unit.loc["Ash Ward", "reason"] == measures.REJECTED_MARGINS_REASON
    assert by_unit.drop(index="Ash Ward")["weighted"].all()
    assert "Ash Ward" in measures.weighting_note(summary)
