"""Properties every weighting must satisfy (hypothesis)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pxlib.survey import Design
from pxlib.weighting import calibrate, poststratify, rake

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def survey(draw):
    k = draw(st.integers(1, 3))
    sizes = [draw(st.integers(2, 4)) for _ in range(k)]
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    # every cell of the cross at least once, then random extra respondents
    cells = list(itertools.product(*[range(s) for s in sizes]))
    extra = rng.integers(0, len(cells), draw(st.integers(0, 150)))
    rows = cells + [cells[i] for i in extra]
    df = pd.DataFrame(rows, columns=[f"v{i}" for i in range(k)]).astype(str)
    base = rng.uniform(0.5, 5.0, len(df))
    N = float(draw(st.integers(1_000, 100_000)))
    margins = {}
    for i, s in enumerate(sizes):
        share = rng.dirichlet(np.ones(s) * 2) * 0.9 + 0.1 / s
        margins[f"v{i}"] = {str(j): N * share[j] for j in range(s)}
    df["y"] = rng.normal(10, 3, len(df))
    return df, base, margins


@SETTINGS
@given(survey())
def test_raked_weights_reproduce_the_margins(data):
    df, base, margins = data
    w = rake(df, margins, base_weights=base, tol=1e-10, max_iter=2000)
    for v, tg in margins.items():
        got = w.groupby(df[v]).sum()
        for k, t in tg.items():
            assert got[k] == pytest.approx(t, rel=1e-9)
    assert (w > 0).all()


@SETTINGS
@given(survey(), st.sampled_from(["linear", "raking"]))
def test_calibrated_weights_reproduce_the_margins(data, method):
    df, base, margins = data
    w = calibrate(df, margins, base_weights=base, method=method)
    for v, tg in margins.items():
        got = w.groupby(df[v]).sum()
        for k, t in tg.items():
            assert got[k] == pytest.approx(t, rel=1e-8)


@SETTINGS
@given(survey())
def test_weighting_to_the_samples_own_totals_changes_nothing(data):
    df, base, margins = data
    own = {v: pd.Series(base).groupby(df[v].to_numpy()).sum().to_dict() for v in margins}
    np.testing.assert_allclose(rake(df, own, base_weights=base, tol=1e-12), base, rtol=1e-9)
    for method in ("linear", "raking"):
        np.testing.assert_allclose(
            calibrate(df, own, base_weights=base, method=method), base, rtol=1e-9
        )
    v = next(iter(margins))
    np.testing.assert_allclose(poststratify(df, v, own[v], base_weights=base), base, rtol=1e-12)


@SETTINGS
@given(survey(), st.floats(0.01, 1000))
def test_scaling_base_weights_scales_totals_not_means(data, c):
    df, base, margins = data
    d1, d2 = Design(df, base), Design(df, base * c)
    assert d2.total("y").estimate == pytest.approx(c * d1.total("y").estimate, rel=1e-9)
    assert d2.total("y").se == pytest.approx(c * d1.total("y").se, rel=1e-9)
    assert d2.mean("y").estimate == pytest.approx(d1.mean("y").estimate, rel=1e-12)
    assert d2.mean("y").se == pytest.approx(d1.mean("y").se, rel=1e-9)
    # raking to shares: the weights do not depend on the scale of the base weights'
    shares = {v: {k: t / sum(tg.values()) for k, t in tg.items()} for v, tg in margins.items()}
    w1 = rake(df, shares, base_weights=base, tol=1e-12, max_iter=2000, total=1000.0)
    w2 = rake(df, shares, base_weights=base * c, tol=1e-12, max_iter=2000, total=1000.0)
    np.testing.assert_allclose(w1, w2, rtol=1e-8)
