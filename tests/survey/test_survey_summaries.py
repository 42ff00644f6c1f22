"""The workbook's survey summaries: unit-week shares, top box, FFT scores."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pxlib.errors import ColumnError, PxlibWarning, WeightingWarning
from pxlib.survey import Design
from pxlib.survey.summaries import (
    always_event_share,
    fft_scores,
    top_box,
    weights_from_margins,
)

AGES = ["16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"]


def _respondents(n=1500, seed=0, orgs=("ZZ1", "ZZ2")):
    rng = np.random.default_rng(seed)
    org = rng.choice(list(orgs), n)
    unit = np.array([f"{o}-W{rng.integers(1, 4)}" for o in org])
    date = pd.Timestamp("2025-01-06") + pd.to_timedelta(rng.integers(0, 56, n), unit="D")
    week = (date - pd.to_timedelta(date.day_of_week, unit="D")).normalize()
    age = rng.choice(AGES, n, p=[0.03, 0.05, 0.08, 0.12, 0.17, 0.25, 0.30])
    sex = rng.choice(["Female", "Male"], n)
    p = np.where(np.isin(age, AGES[5:]), 0.8, 0.5)
    happened = (rng.random(n) < p).astype(float)
    happened[rng.random(n) < 0.05] = np.nan
    df = pd.DataFrame(
        {
            "org_code": org,
            "unit": unit,
            "respondent_id": [f"R{i}" for i in range(n)],
            "response_date": date,
            "week": week,
            "happened": happened,
            "age_band": age,
            "sex": sex,
        }
    )
    rows = []
    for o in orgs:
        for a in AGES:
            rows.append((o, "age_band", a, 50_000 / 7))
        rows += [(o, "sex", "Female", 26_000), (o, "sex", "Male", 24_000)]
    margins = pd.DataFrame(rows, columns=["org_code", "variable", "level", "population"])
    return df, margins


def test_unweighted_share_counts_and_wilson():
    df, _ = _respondents()
    out = always_event_share(df)
    assert list(out.columns[:2]) == ["unit", "week"]
    assert {"n_respondents", "n_happened", "share", "ci_low", "ci_high", "ess", "weighted"} <= set(
        out.columns
    )
    g = df.groupby(["unit", "week"])["happened"]
    exp_n = g.count().to_numpy()
    exp_k = g.sum().to_numpy()
    np.testing.assert_array_equal(out.n_respondents, exp_n)
    np.testing.assert_array_equal(out.n_happened, exp_k)
    np.testing.assert_allclose(out.share, exp_k / exp_n)
    np.testing.assert_allclose(out.ess, exp_n)  # equal weights: ESS = n
    assert not out.weighted.any()
    # a whole organisation: Wilson with n_eff = n - 1 (the linearised variance
    # is p(1-p)/(n-1)) and t(n-1)
    # (rows without an answer removed: they are part of the design otherwise)
    r = always_event_share(df.dropna(subset=["happened"]), by="org_code").iloc[0]
    n, p = r.n_respondents, r.share
    neff, t = n - 1, stats.t.ppf(0.975, n - 1)
    centre = (p + t**2 / (2 * neff)) / (1 + t**2 / neff)
    assert (r.ci_low + r.ci_high) / 2 == pytest.approx(centre, rel=1e-10)


def test_weights_are_made_per_organisation_and_reproduce_its_margins():
    df, m = _respondents()
    w = weights_from_margins(df, m)
    for org in ("ZZ1", "ZZ2"):
        sel = df.org_code == org
        got = w[sel].groupby(df.age_band[sel]).sum()
        for a in AGES:
            assert got[a] == pytest.approx(50_000 / 7, rel=1e-6)
        assert w[sel & (df.sex == "Female")].sum() == pytest.approx(26_000, rel=1e-6)


def test_unit_weeks_are_domains_of_the_organisation_design():
    df, m = _respondents()
    out = always_event_share(df, margins=m, ci_method="logit")
    assert out.weighted.all()
    w = weights_from_margins(df, m)
    # the share is the domain ratio with the organisation's weights...
    key = df.unit + "|" + df.week.astype(str)
    first = out.iloc[0]
    sel = ((df.unit == first.unit) & (df.week == first.week) & df.happened.notna()).to_numpy()
    assert first.share == pytest.approx(np.average(df.happened[sel], weights=w[sel]), rel=1e-10)
    assert first.ess == pytest.approx(w[sel].sum() ** 2 / (w[sel] ** 2).sum(), rel=1e-10)
    # ...and not a unit-week raked on its own, which would make its own
    # weighted age mix equal the population's
    assert key.nunique() == len(out)
    # the SE is a domain SE of the raked design, which a plain weighted
    # design (no calibration residuals) does not reproduce
    plain = (
        Design(df.assign(w=w.to_numpy()), "w", strata="org_code")
        .by(["unit", "week"])
        .proportion("happened", method="logit")
    )
    np.testing.assert_allclose(out.share, plain.estimate, rtol=1e-10)
    assert not np.allclose(out.se, plain.se, rtol=1e-6)
    # y = share * ess and n = ess are usable for a weighted p chart
    assert ((out.share * out.ess) <= out.ess + 1e-9).all()


def test_sparse_cells_are_collapsed_with_a_warning_not_an_error():
    df, m = _respondents(n=400)
    # only two respondents aged 16-24 in ZZ1: too few to weight
    z = df.index[(df.org_code == "ZZ1") & (df.age_band == "16-24")]
    df.loc[z[2:], "age_band"] = "25-34"
    df.loc[df.index[:3], "sex"] = np.nan  # missing attribute
    with pytest.warns(WeightingWarning, match="16-24 with 25-34"):
        out = always_event_share(df, margins=m)
    assert out.weighted.all()
    with pytest.warns(WeightingWarning):
        w = weights_from_margins(df, m)
    assert np.isfinite(w).all() and (w > 0).all()


def test_organisation_without_margins_is_unweighted():
    df, m = _respondents(orgs=("ZZ1", "ZZ2", "ZZ3"))
    with pytest.warns(WeightingWarning, match="ZZ3: no population margins"):
        out = always_event_share(df, margins=m[m.org_code != "ZZ3"])
    assert not out[out.unit.str.startswith("ZZ3")].weighted.any()
    assert out[out.unit.str.startswith("ZZ1")].weighted.all()


def test_missing_outcome_column_is_named():
    df, _ = _respondents(n=50)
    with pytest.raises(ColumnError, match="'happened'"):
        always_event_share(df.drop(columns="happened"))


def test_top_box():
    df = pd.DataFrame(
        {
            "org_code": "ZZ1",
            "unit": ["a"] * 6 + ["b"] * 4,
            "q": [
                "Strongly agree",
                "Agree",
                "Disagree",
                "Don't know",
                None,
                "Agree",
                "Disagree",
                "Disagree",
                "Strongly agree",
                "Neither",
            ],
        }
    )
    out = top_box(df, "q", ["Strongly agree", "Agree"], by="unit").set_index("unit")
    assert out.loc["a", "n_respondents"] == 4 and out.loc["a", "n_top"] == 3
    assert out.loc["a", "share"] == pytest.approx(0.75)
    assert out.loc["b", "share"] == pytest.approx(0.25)


def test_fft_scores_hand_checked():
    df = pd.DataFrame(
        {
            "ward": ["A", "A", "B", "C"],
            "1 Very Good SUM": [10, 5, 0, 0],
            "2 Good SUM": [5, 0, 1, 0],
            "3 Neither Good nor Poor SUM": [1, 0, 0, 0],
            "4 Poor SUM": [1, 1, 0, 0],
            "5 Very Poor SUM": [0, 1, 0, 0],
            "6 Dont Know SUM": [3, 0, 1, 0],
            "Total Responses": [20, 7, 2, 0],
        }
    )
    out = fft_scores(df)
    assert out.prop_positive.iloc[0] == pytest.approx(15 / 20)
    assert out.pct_negative.iloc[1] == pytest.approx(100 * 2 / 7)
    assert np.isnan(out.prop_positive.iloc[3])  # no responses: NaN, not 0
    g = fft_scores(df, by="ward").set_index("ward")
    assert g.loc["A", "prop_positive"] == pytest.approx(20 / 27)
    assert g.loc["A", "total_responses"] == 27
    bad = df.assign(**{"Total Responses": [21, 7, 2, 0]})
    with pytest.warns(PxlibWarning, match="1 row"):
        fft_scores(bad)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fft_scores(df)


def test_design_weights_are_honoured_in_the_summaries():
    df, m = _respondents(n=600)
    rng = np.random.default_rng(4)
    df["dw"] = rng.choice([1.0, 3.0], len(df))
    w = weights_from_margins(df, m, base_weights="dw")
    w1 = weights_from_margins(df, m)
    assert not np.allclose(w, w1)
    # still on the margins
    sel = df.org_code == "ZZ1"
    assert w[sel & (df.sex == "Female")].sum() == pytest.approx(26_000, rel=1e-6)
    # within a cell of the margins' cross the design ratio 3:1 survives raking
    cell = sel & (df.sex == "Male") & (df.age_band == "75+")
    ratio = (w / df.dw)[cell]
    assert ratio.max() == pytest.approx(ratio.min(), rel=1e-9)
    # unweighted summary with design weights only: the design-weighted share
    out = always_event_share(df, by="org_code", base_weights="dw").set_index("org_code")
    ok = sel & df.happened.notna()
    assert out.loc["ZZ1", "share"] == pytest.approx(
        np.average(df.happened[ok], weights=df.dw[ok]), rel=1e-12
    )
