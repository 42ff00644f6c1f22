"""pxlib.distributions against scipy.stats: the same numbers, without importing scipy.stats in pxlib."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pxlib.distributions import binom_cdf, binom_ppf, norm_ppf, norm_sf, t_ppf

FUZZ = 1 - 64 * np.finfo(float).eps  # the Anhøj crossings quantile asks for 0.05 * FUZZ


@pytest.mark.parametrize("q", [0.05 * FUZZ, 0.001, 0.05, 0.3, 0.95])
@pytest.mark.parametrize("p", [0.1, 0.37, 0.5, 0.9])
def test_binomial_quantile_matches_scipy(q, p):
    n = np.arange(1, 3001)
    assert np.array_equal(binom_ppf(q, n, p), stats.binom.ppf(q, n, p))


def test_binomial_quantile_is_the_smallest_k_reaching_q_for_large_n():
    n = np.unique(np.random.default_rng(7).integers(1, 10**7, 300)).astype(float)
    k = binom_ppf(0.05 * FUZZ, n, 0.5)
    assert np.array_equal(k, stats.binom.ppf(0.05 * FUZZ, n, 0.5))
    assert (stats.binom.cdf(k, n, 0.5) >= 0.05 * FUZZ).all()
    assert (stats.binom.cdf(k - 1, n, 0.5) < 0.05 * FUZZ).all()


def test_binomial_distribution_function_matches_scipy_below_inside_and_beyond_n():
    rng = np.random.default_rng(11)
    n = rng.integers(1, 2000, 4000).astype(float)
    p = rng.random(4000)
    k = np.floor(rng.random(4000) * (n + 4)) - 2.5  # negative, fractional, above n
    assert np.array_equal(binom_cdf(k, n, p), stats.binom.cdf(k, n, p))
    assert binom_cdf(-1, 10, 0.3) == 0 and binom_cdf(10, 10, 0.3) == 1


def test_normal_and_t_match_scipy():
    x = np.linspace(-8, 8, 801)
    q = np.linspace(0.0005, 0.9995, 1999)
    assert np.array_equal(norm_sf(x), stats.norm.sf(x))
    assert np.array_equal(norm_ppf(q), stats.norm.ppf(q))
    df = np.array([1, 1.5, 2, 3, 7.25, 30, 1000, 1e6])
    for level in (0.9, 0.95, 0.975, 0.995):
        assert np.allclose(t_ppf(level, df), stats.t.ppf(level, df), rtol=1e-14, atol=0)
    assert t_ppf(0.975, np.inf) == stats.norm.ppf(0.975)


def test_the_workbook_does_not_import_scipy_stats():
    """Every notebook kernel of a batch would pay about a second for it."""
    import subprocess
    import sys

    code = (
        "import sys, pxlib.workbook.display, pxlib.workbook.steps, pxlib.report, pxlib.survey,"
        " pxlib.survey.casemix;"
        "print('scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
