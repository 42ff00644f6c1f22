"""Case-mix adjusted comparison: a simulation with a planted truth, the model's properties,
the expected ranges, failures by name, and the funnel figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pxlib.errors import ColumnError, DataValidationError, DesignError
from pxlib.spc import funnel
from pxlib.survey.casemix import (
    CASEMIX_COLUMNS,
    MISSING_LEVEL,
    binomial_limits,
    casemix_adjust,
    casemix_alt_text,
    casemix_figure,
)
from pxlib.survey.design import DesignWarning

AGES = np.array(["16-34", "35-54", "55-74", "75+"])
AGE_EFFECT = np.array([-1.0, -0.3, 0.3, 0.9])
SEX_EFFECT = np.array([0.0, 0.3])
CANCER_EFFECT = np.array([0.0, -0.5, 0.4, 0.2, -0.8])
#: units with a real effect after case mix (log-odds)
PLANTED = {"U03": 0.8, "U07": -0.8}
#: units that differ only by case mix: far older or far younger patients
CASE_MIX_ONLY = {"U10": [0.02, 0.08, 0.3, 0.6], "U11": [0.6, 0.3, 0.08, 0.02]}


def simulate(seed: int = 5, units: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for u in range(units):
        name = f"U{u:02d}"
        n = int(rng.integers(300, 700))
        age = rng.choice(4, n, p=CASE_MIX_ONLY.get(name, [0.25] * 4))
        sex = rng.integers(0, 2, n)
        cancer = rng.integers(0, 5, n)
        logit = 1.2 + AGE_EFFECT[age] + SEX_EFFECT[sex] + CANCER_EFFECT[cancer]
        logit += PLANTED.get(name, 0.0)
        frames.append(
            pd.DataFrame(
                {
                    "trust": name,
                    "age_band": AGES[age],
                    "sex": np.array(["female", "male"])[sex],
                    "cancer_type": np.array(["A", "B", "C", "D", "E"])[cancer],
                    "positive": rng.random(n) < 1 / (1 + np.exp(-logit)),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


COVARIATES = ["age_band", "sex", "cancer_type"]


@pytest.fixture(scope="module")
def simulated():
    data = simulate()
    return data, casemix_adjust(data, "trust", "positive", COVARIATES)


def test_planted_effects_are_flagged_and_case_mix_alone_is_not(simulated):
    data, result = simulated
    units = result.units.set_index("unit")
    assert tuple(result.units.columns) == CASEMIX_COLUMNS
    assert units.loc["U03", "reading"] == "above expected range"
    assert units.loc["U07", "reading"] == "below expected range"
    others = units.drop(index=["U03", "U07"])
    assert (others["reading"] == "within expected range").all()
    # the test means something: the crude funnel flags the case-mix-only units
    crude = funnel(
        data.assign(y=data["positive"].astype(float), one=1.0), "trust", "y", "one"
    ).points.set_index("trust")
    assert crude.loc["U10", "signal"] and crude.loc["U11", "signal"]
    assert units.loc["U10", "observed_rate"] > units.loc["U11", "observed_rate"] + 0.15
    assert abs(units.loc["U10", "adjusted"] - units.loc["U11", "adjusted"]) < 0.03


def test_expected_counts_add_up_to_the_observed_total(simulated):
    data, result = simulated
    units = result.units
    assert units["expected"].sum() == pytest.approx(units["observed"].sum(), rel=1e-9)
    assert units["observed"].sum() == data["positive"].sum()
    assert units["n"].sum() == len(data) == result.n_respondents
    assert result.national_rate == pytest.approx(data["positive"].mean())
    assert result.converged
    # the ratio form: adjusted = O / E x national rate
    np.testing.assert_allclose(
        units["adjusted"], units["observed"] / units["expected"] * result.national_rate
    )


def test_collapsing_to_cells_gives_the_respondent_level_fit(simulated):
    import statsmodels.api as sm

    data, result = simulated
    x = pd.get_dummies(data[COVARIATES], dtype=float)
    coef = result.coefficients.set_index("term")
    # the same reference levels as pxlib's (each covariate's level without a term)
    drop = []
    for c in COVARIATES:
        levels = {t.split("=", 1)[1] for t in coef.index if t.startswith(c + "=")}
        drop += [f"{c}_{lv}" for lv in data[c].unique() if lv not in levels]
    x = sm.add_constant(x.drop(columns=drop))
    full = sm.Logit(data["positive"].astype(float), x).fit(disp=0)
    for term, value in coef["coef"].items():
        name = "const" if term == "(intercept)" else term.replace("=", "_", 1)
        assert value == pytest.approx(full.params[name], abs=1e-6)


def test_difference_method_flags_the_same_units(simulated):
    data, _ = simulated
    result = casemix_adjust(data, "trust", "positive", COVARIATES, method="difference")
    units = result.units.set_index("unit")
    flagged = set(units.index[units["reading"] != "within expected range"])
    assert flagged == {"U03", "U07"}
    np.testing.assert_allclose(
        units["adjusted"],
        result.national_rate + (units["observed"] - units["expected"]) / units["n"],
    )


def test_flag_at_95_flags_at_least_as_many(simulated):
    data, strict = simulated
    loose = casemix_adjust(data, "trust", "positive", COVARIATES, flag_at=0.95)
    assert (loose.units["reading"] != "within expected range").sum() >= (
        strict.units["reading"] != "within expected range"
    ).sum()
    u = loose.units
    assert (u["lower998"] <= u["lower95"]).all() and (u["upper95"] <= u["upper998"]).all()


def test_missing_outcomes_are_left_out_and_missing_covariates_are_a_level():
    data = simulate(units=8)
    data["positive"] = data["positive"].astype(object)
    data.loc[::7, "positive"] = None
    data["age_band"] = data["age_band"].astype(object)
    data.loc[::11, "age_band"] = None
    result = casemix_adjust(data, "trust", "positive", COVARIATES)
    assert result.n_missing_outcome == len(data.iloc[::7])
    assert result.n_respondents == len(data) - result.n_missing_outcome
    assert f"age_band={MISSING_LEVEL}" in set(result.coefficients["term"])


def test_continuous_covariates_and_no_covariates():
    data = simulate(units=8)
    data["age"] = data["age_band"].map({a: i for i, a in enumerate(AGES)}).astype(float)
    result = casemix_adjust(data, "trust", "positive", ["age", "sex"], continuous=["age"])
    assert "age" in set(result.coefficients["term"])
    assert result.units["expected"].sum() == pytest.approx(result.units["observed"].sum())
    crude = casemix_adjust(data, "trust", "positive", [])
    np.testing.assert_allclose(crude.units["adjusted"], crude.units["observed_rate"])


def test_binomial_limits_are_ordered_bounded_and_approach_the_normal_ones():
    n = np.array([5, 20, 100, 1000, 100_000])
    lo, hi = binomial_limits(0.85, n, 0.001), binomial_limits(0.85, n, 0.999)
    assert ((0 <= lo) & (lo <= 0.85) & (0.85 <= hi) & (hi <= 1)).all()
    assert (np.diff(hi) <= 0).all() and (np.diff(lo) >= 0).all()  # the funnel narrows
    z = stats.norm.ppf(0.999)
    normal = 0.85 + z * np.sqrt(0.85 * 0.15 / 100_000)
    assert hi[-1] == pytest.approx(normal, abs=2 / 100_000)
    # the interpolation: at a quantile that is exactly a CDF value the limit is r/n
    r = 60
    q = stats.binom.cdf(r, 100, 0.55)
    assert binomial_limits(0.55, [100], q)[0] == pytest.approx(r / 100)
    assert (binomial_limits(1.0, n, 0.001) == 1.0).all()


def test_failures_name_the_column_or_the_problem():
    data = simulate(units=4)
    with pytest.raises(ColumnError, match="'ethnicity'"):
        casemix_adjust(data, "trust", "positive", ["ethnicity"])
    bad = data.assign(positive=data["positive"].astype(int))
    bad.loc[3, "positive"] = 2
    with pytest.raises(DataValidationError, match=r"'positive'.*rows 3"):
        casemix_adjust(bad, "trust", "positive", COVARIATES)
    blank = data.copy()
    blank.loc[5, "trust"] = None
    with pytest.raises(DataValidationError, match=r"'trust' is blank in rows 5"):
        casemix_adjust(blank, "trust", "positive", COVARIATES)
    with pytest.raises(DesignError, match="method"):
        casemix_adjust(data, "trust", "positive", COVARIATES, method="direct")
    with pytest.raises(DesignError, match="covariates"):
        casemix_adjust(data, "trust", "positive", ["trust", "sex"])
    with pytest.raises(DesignError, match="continuous"):
        casemix_adjust(data, "trust", "positive", ["sex"], continuous=["age"])


def test_a_level_with_only_positive_answers_warns_and_still_adds_up():
    data = simulate(units=6)
    data["site"] = "main"
    data.loc[:4, "site"] = "tiny"
    data.loc[:4, "positive"] = True
    with pytest.warns(DesignWarning, match="only positive or only negative"):
        result = casemix_adjust(data, "trust", "positive", ["sex", "site"])
    assert result.units["expected"].sum() == pytest.approx(result.units["observed"].sum(), rel=1e-6)


def test_figure_draws_a_funnel_with_escaped_labels_and_alt_text(simulated):
    data, _ = simulated
    renamed = data.assign(trust=data["trust"].replace({"U03": "<b>Ward & Co</b>"}))
    result = casemix_adjust(renamed, "trust", "positive", COVARIATES)
    fig = casemix_figure(result, title="Adjusted <i>experience</i>")
    names = [t.name for t in fig.data]
    assert "99.8 % expected range" in names and "95 % expected range" in names
    assert "Above the expected range: better" in names
    assert "Below the expected range: worse" in names
    texts = [x for t in fig.data if t.text is not None for x in t.text]
    assert "&lt;b&gt;Ward &amp; Co&lt;/b&gt;" in texts and "<b>Ward & Co</b>" not in texts
    assert fig.layout.title.text == "Adjusted &lt;i&gt;experience&lt;/i&gt;"
    assert fig.layout.yaxis.tickformat == ".0%"
    neutral = result.figure(improvement="neutral")
    assert "Above the expected range" in [t.name for t in neutral.data]
    text = casemix_alt_text(result, what="experience of care")
    assert "experience of care" in text and "<b>Ward & Co</b>" in text and "U07" in text
    assert "28 units are within the 99.8 % expected range" in text
    assert result.alt_text() == casemix_alt_text(result)
    with pytest.raises(DesignError, match="improvement"):
        casemix_figure(result, improvement="up")
