"""A binomial GLM with the logit link, fitted by iteratively reweighted least squares.

The case-mix model of :mod:`pxlib.survey.casemix` is one logistic regression on
covariate cells: ``successes`` out of ``trials`` in each cell, design matrix ``x``.
:func:`fit_logistic` maximises the binomial likelihood by Fisher scoring, which for the
canonical logit link is Newton's method written as weighted least squares (Nelder and
Wedderburn 1972; McCullagh and Nelder 1989, *Generalized Linear Models*, 2nd ed.,
section 2.5):

- start from the empirical logit: mu = (y + 0.5) / (n + 1), eta = logit(mu);
- repeat: weights w = n mu (1 - mu), working response z = eta + (y - n mu) / w,
  beta = (X'WX)^+ X'Wz (the pseudo-inverse, so that an aliased column does not stop the
  fit), eta = X beta, mu = 1 / (1 + exp(-eta));
- stop when the deviance D = 2 sum[y log(y / n mu) + (n - y) log((n - y) / (n - n mu))]
  changes by no more than 1e-8 (at most 100 steps).

The standard errors are the square roots of the diagonal of (X'WX)^+ with the weights of
the last step (the binomial dispersion is 1). The stopping rule and the covariance are
those of ``statsmodels``' ``GLM(..., family=Binomial()).fit()`` (which starts from
(p + 0.5) / 2 instead, so it may take a step more or fewer to the same maximum);
``tests/survey/test_logistic.py`` checks the fit against it.

A covariate level whose answers are all positive (or all negative) has no finite
estimate: its coefficient grows at every step until the deviance stops changing, and
the fitted probability of its cells reaches 0 or 1 (within :data:`SEPARATED`);
``separated`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

#: a fitted probability this close to 0 or 1 means a level with only one kind of answer
SEPARATED = 1e-8
TOLERANCE = 1e-8
MAX_STEPS = 100


@dataclass(frozen=True)
class LogisticFit:
    """Coefficients, their standard errors, the fitted probability of each cell, and how
    the fit ended (``converged`` within :data:`MAX_STEPS`; ``separated``: a cell's fitted
    probability at 0 or 1)."""

    params: np.ndarray
    bse: np.ndarray
    fitted: np.ndarray
    converged: bool
    separated: bool


def _deviance(successes: np.ndarray, trials: np.ndarray, mu: np.ndarray) -> float:
    """Binomial deviance, with 0 log 0 = 0 (``scipy.special.xlogy``)."""
    failures = trials - successes
    expected = trials * mu
    return float(
        2
        * np.sum(
            special.xlogy(successes, successes)
            - special.xlogy(successes, expected)
            + special.xlogy(failures, failures)
            - special.xlogy(failures, trials - expected)
        )
    )


def fit_logistic(successes: np.ndarray, trials: np.ndarray, x: np.ndarray) -> LogisticFit:
    """Maximum-likelihood logistic regression of ``successes`` out of ``trials`` (one per
    row of ``x``) by IRLS (module docstring)."""
    y = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    x = np.asarray(x, dtype=float)
    mu = (y + 0.5) / (n + 1)
    eta = special.logit(mu)
    deviance = _deviance(y, n, mu)
    converged = False
    params = np.zeros(x.shape[1])
    covariance = np.full((x.shape[1], x.shape[1]), np.nan)
    steps = 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        while steps < MAX_STEPS:
            steps += 1
            w = n * mu * (1 - mu)
            z = eta + np.where(w > 0, (y - n * mu) / w, 0.0)
            xtw = x.T * w
            covariance = np.linalg.pinv(xtw @ x)  # (X'WX)^+
            params = covariance @ (xtw @ z)
            eta = x @ params
            mu = special.expit(eta)
            previous, deviance = deviance, _deviance(y, n, mu)
            if abs(deviance - previous) <= TOLERANCE:
                converged = True
                break
    bse = np.sqrt(np.diag(covariance))
    separated = bool(np.any((mu < SEPARATED) | (mu > 1 - SEPARATED)))
    return LogisticFit(params, bse, mu, converged, separated)
