"""Properties the SPC engine must keep whatever the data (hypothesis)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pxlib.errors import ChartWarning
from pxlib.spc import chart

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COLS = ["cl", "lcl", "ucl", "sigma_signal", "runs_signal", "longest_run", "n_crossings",
        "special_cause", "point_type"]  # fmt: skip


def run(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChartWarning)
        return chart(*args, **kwargs)


def frame_equal(a: pd.DataFrame, b: pd.DataFrame, cols=COLS, atol=1e-9):
    for c in cols:
        x, y = a[c].reset_index(drop=True), b[c].reset_index(drop=True)
        if pd.api.types.is_float_dtype(x):
            np.testing.assert_allclose(
                x.to_numpy(float), y.to_numpy(float), rtol=1e-9, atol=atol, err_msg=c
            )
        else:
            assert x.astype(str).tolist() == y.astype(str).tolist(), c


values = st.lists(
    st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 2)), min_size=3, max_size=40
)


@st.composite
def counts(draw, min_size=3, max_size=40):
    k = draw(st.integers(min_size, max_size))
    n = draw(st.lists(st.integers(1, 200), min_size=k, max_size=k))
    p = draw(st.floats(0.05, 0.95))
    y = [draw(st.integers(max(0, int(v * p) - 10), min(v, int(v * p) + 10))) for v in n]
    return y, n


def frame(y, n=None, groups=1):
    k = len(y)
    df = pd.DataFrame({"x": np.tile(np.arange(k // groups + 1), groups)[:k], "y": y})
    df["g"] = np.repeat(np.arange(groups), k // groups + 1)[:k]
    if n is not None:
        df["n"] = n
    return df


@SETTINGS
@given(counts(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(yn, rnd):
    y, n = yn
    df = frame(y, n, groups=2)
    idx = list(df.index)
    rnd.shuffle(idx)
    for kind in ("p", "pp", "u"):
        a = run(df, "x", "y", "n", kind=kind, by="g", rules=["anhoej", "mdc", "ihi"])
        b = run(df.loc[idx], "x", "y", "n", kind=kind, by="g", rules=["anhoej", "mdc", "ihi"])
        frame_equal(a.points, b.points)


@SETTINGS
@given(values, st.floats(-1000, 1000).map(lambda v: round(v, 1)))
def test_shifting_series_shifts_i_chart_limits(y, c):
    a = run(frame(y), "x", "y", kind="i").points
    b = run(frame([v + c for v in y]), "x", "y", kind="i").points
    for col in ("cl", "lcl", "ucl"):
        np.testing.assert_allclose(b[col], a[col] + c, atol=1e-6)
    assert a["runs_signal"].tolist() == b["runs_signal"].tolist()


@SETTINGS
@given(values, st.integers(1, 30))
def test_phase_split_leaves_other_phase_alone(y, k):
    df = frame(y)
    k = min(k, len(y) - 1)
    split = run(df, "x", "y", kind="i", phases=[k], rules=["anhoej", "mdc"]).points
    before = run(df[df.x < k], "x", "y", kind="i", rules=["anhoej", "mdc"]).points
    after = run(df[df.x >= k], "x", "y", kind="i", rules=["anhoej", "mdc"]).points
    frame_equal(split[split.x < k], before)
    frame_equal(split[split.x >= k], after)


@SETTINGS
@given(counts(min_size=5), st.integers(2, 50))
def test_laney_limits_invariant_to_scaling_counts(yn, k):
    y, n = yn
    a = run(frame(y, n), "x", "y", "n", kind="pp").points
    b = run(frame([v * k for v in y], [v * k for v in n]), "x", "y", "n", kind="pp").points
    np.testing.assert_allclose(a["cl"], b["cl"], rtol=1e-12)
    ok = np.isfinite(a["ucl"])
    np.testing.assert_allclose(a["ucl"][ok], b["ucl"][ok], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a["lcl"][ok], b["lcl"][ok], rtol=1e-9, atol=1e-12)


@SETTINGS
@given(counts(min_size=6, max_size=60))
def test_groups_equal_separate_charts(yn):
    """Vectorised over groups = one chart per group."""
    y, n = yn
    df = frame(y, n, groups=3)
    rules = ["anhoej", "mdc", "ihi"]
    together = run(df, "x", "y", "n", kind="p", by="g", rules=rules, improvement="increase").points
    for g, part in df.groupby("g"):
        alone = run(part, "x", "y", "n", kind="p", rules=rules, improvement="increase").points
        frame_equal(together[together.g == g], alone)


@SETTINGS
@given(values, st.sampled_from([2.0, 100.0, 0.5]))
def test_multiply_scales_everything(y, m):
    y = [abs(v) + 1 for v in y]
    a = run(frame(y), "x", "y", kind="c").points
    b = run(frame(y), "x", "y", kind="c", multiply=m).points
    for col in ("y", "cl", "lcl", "ucl"):
        np.testing.assert_allclose(b[col], a[col] * m, rtol=1e-12)
    assert a["sigma_signal"].tolist() == b["sigma_signal"].tolist()


@SETTINGS
@given(values)
def test_run_chart_runs_invariant_to_monotone_transform(y):
    a = run(frame(y), "x", "y", kind="run").points
    b = run(frame([np.exp(v / 25) for v in y]), "x", "y", kind="run").points
    frame_equal(a, b, cols=["runs_signal", "longest_run", "n_crossings", "n_crossings_min"])


@SETTINGS
@given(counts(min_size=4), st.data())
def test_missing_rows_equal_absent_rows_for_p(yn, data):
    y, n = yn
    k = data.draw(st.integers(1, len(y) - 2))
    df = frame(y, n)
    gap = df.copy()
    gap.loc[k, "y"] = np.nan
    a = run(gap, "x", "y", "n", kind="p", rules=["anhoej", "mdc"]).points.drop(index=k)
    b = run(df.drop(index=k), "x", "y", "n", kind="p", rules=["anhoej", "mdc"]).points
    frame_equal(a, b)


@SETTINGS
@given(values)
def test_limits_contain_centre_line(y):
    for kind in ("i", "xmr", "mr"):
        p = run(frame(y), "x", "y", kind=kind).points
        ok = p["lcl"].notna()
        assert (p["lcl"][ok] <= p["cl"][ok] + 1e-12).all()
        assert (p["ucl"][ok] >= p["cl"][ok] - 1e-12).all()
        assert (p["lcl_2s"][ok] >= p["lcl"][ok] - 1e-12).all()


@pytest.mark.parametrize("kind", ["run", "i", "xmr", "c", "g", "mr", "t"])
def test_every_kind_runs_every_rule_set(kind):
    rng = np.random.default_rng(1)
    y = rng.gamma(4, 2, size=40) + 0.5
    p = run(frame(y), "x", "y", kind=kind, rules=["anhoej", "mdc", "ihi"], improvement="increase")
    assert len(p.points) == 40
    assert set(p.points["point_type"].astype(str)) <= {
        "common_cause", "special_cause_improvement", "special_cause_concern"
    }  # fmt: skip


hostile = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.integers(-5, 200),
    st.just(np.nan),
)


@SETTINGS
@given(
    kind=st.sampled_from(
        ("run", "i", "mr", "xbar", "s", "t", "p", "pp", "c", "u", "up", "g", "xmr")
    ),
    y=st.lists(hostile, min_size=0, max_size=25),
    n=st.lists(
        st.one_of(st.integers(-2, 50), st.floats(allow_nan=True, allow_infinity=True)),
        min_size=25,
        max_size=25,
    ),
    dup=st.booleans(),
)
def test_any_data_gives_a_chart_or_a_chart_error(kind, y, n, dup):
    """Whatever the numbers (NaN, +/-inf, negatives, zeros, repeated x), chart() returns a
    result or raises a pxlib error: never a raw numpy/pandas exception."""
    from pxlib.errors import PxlibError
    from pxlib.spc.limits import NEEDS_N

    df = pd.DataFrame({"x": np.arange(len(y)) // (2 if dup else 1), "y": y})
    df["n"] = n[: len(y)]
    try:
        res = run(df, "x", "y", "n" if kind in NEEDS_N else None, kind=kind)
    except PxlibError:
        return
    assert np.isfinite(res.points["y"].to_numpy(float)[res.points["y"].notna().to_numpy()]).all()
