"""pxlib.survey.logistic: the case-mix model's IRLS fit against statsmodels' GLM (the
reference), the likelihood's score equations, a planted truth, and separation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.genmod.api import GLM, families

from pxlib.survey.casemix import _design
from pxlib.survey.logistic import fit_logistic


def _cells(seed: int, n: int = 3000, continuous: bool = False, all_positive: str = ""):
    """Covariate cells of simulated answers with planted log-odds: 0.8 + 0.4 [band b]
    - 0.7 [band c] + 0.2 [sex M] (+ 0.01 per year of age from 50); band a and sex F are
    the most common, so they are the model's reference levels."""
    rng = np.random.default_rng(seed)
    d = pd.DataFrame(
        {
            "band": rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.2, 0.2, 0.2]),
            "sex": rng.choice(["F", "M"], n, p=[0.6, 0.4]),
            "age": rng.normal(50, 15, n).round(),
        }
    )
    lp = 0.8 + 0.4 * (d.band == "b") - 0.7 * (d.band == "c") + 0.2 * (d.sex == "M")
    if continuous:
        lp = lp + 0.01 * (d.age - 50)
    d["positive"] = rng.random(n) < 1 / (1 + np.exp(-lp))
    if all_positive:
        d.loc[d["band"] == all_positive, "positive"] = True
    covariates = ["band", "sex", "age"] if continuous else ["band", "sex"]
    cell, x, terms = _design(d, covariates, ["age"] if continuous else [])
    y = d["positive"].to_numpy(float)
    return np.bincount(cell, weights=y), np.bincount(cell).astype(float), x, terms


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("continuous", [False, True])
def test_irls_gives_statsmodels_glm_coefficients_errors_and_fitted_values(seed, continuous):
    successes, trials, x, _ = _cells(seed, continuous=continuous)
    ref = GLM(np.column_stack([successes, trials - successes]), x, family=families.Binomial()).fit()
    fit = fit_logistic(successes, trials, x)
    assert fit.converged and not fit.separated
    np.testing.assert_allclose(fit.params, ref.params, rtol=0, atol=1e-9)
    np.testing.assert_allclose(fit.bse, ref.bse, rtol=1e-5)
    np.testing.assert_allclose(fit.fitted, ref.predict(x), rtol=0, atol=1e-10)


def test_the_fit_solves_the_score_equations_and_recovers_the_planted_effects():
    successes, trials, x, terms = _cells(7, n=200_000)
    fit = fit_logistic(successes, trials, x)
    score = x.T @ (successes - trials * fit.fitted)  # X'(y - n mu) = 0 at the maximum
    assert np.abs(score).max() < 1e-6 * trials.sum()
    planted = {"(intercept)": 0.8, "band=b": 0.4, "band=c": -0.7, "sex=M": 0.2}
    for term, coef, se in zip(terms, fit.params, fit.bse, strict=True):
        assert abs(coef - planted.get(term, 0.0)) < 4 * se, term


def test_a_level_with_only_positive_answers_is_reported_as_separated():
    successes, trials, x, terms = _cells(5, all_positive="d")
    fit = fit_logistic(successes, trials, x)
    assert fit.separated
    d = terms.index("band=d")
    assert fit.params[d] > 10 and fit.bse[d] > 100  # no finite estimate: it grew until it stopped
    # the intercept's score equation still holds: expected positives add up to the observed
    assert (trials * fit.fitted).sum() == pytest.approx(successes.sum(), rel=1e-6)
