"""pxlib.spc.limits: one function per chart kind, checked against textbook figures
(Montgomery, *Introduction to Statistical Quality Control*, 6th ed.) and against the
formulas' own properties, called directly rather than through ``chart``."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from pxlib.errors import ChartError
from pxlib.spc import exact, limits
from pxlib.spc.limits import LIMITS, Subgroups, compute_limits, funnel_limits

# Montgomery example 7.1: nonconforming orange-juice cans in 30 samples of 50;
# p-bar = 0.2313, UCL = 0.4102, LCL = 0.0524.
OJ = [12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22,
      8, 10, 5, 13, 11, 20, 18, 24, 15, 9, 12, 7, 13, 9, 6]  # fmt: skip
# Montgomery example 7.3: nonconformities on 26 samples of 100 printed circuit boards;
# c-bar = 19.85, UCL = 33.22, LCL = 6.48.
PCB = [21, 24, 16, 12, 15, 5, 28, 20, 31, 25, 20, 24, 16,
       19, 10, 17, 13, 22, 18, 39, 30, 24, 16, 19, 17, 15]  # fmt: skip
# Montgomery example 7.5: nonconformities in 20 samples of 5 personal computers;
# u-bar = 1.93, UCL = 3.79, LCL = 0.07.
PC = [10, 12, 8, 14, 10, 16, 11, 7, 10, 15, 9, 5, 7, 11, 12, 6, 8, 10, 7, 5]


def one_phase(kind, y, n=None, y_len=None, y_sd=None, **options):
    """Subgroups of one segment, every point in the baseline."""
    y = np.asarray(y, dtype=float)
    m = len(y)
    nan = np.full(m, np.nan)
    n = nan if n is None else np.asarray(n, dtype=float)
    y_sum = y * n if np.isfinite(n).all() else y
    return Subgroups(
        kind=kind,
        y=y,
        y_sum=y_sum,
        n=n,
        y_len=nan if y_len is None else np.asarray(y_len, dtype=float),
        y_sd=nan if y_sd is None else np.asarray(y_sd, dtype=float),
        seg=np.zeros(m, dtype=np.int64),
        nseg=1,
        base=np.ones(m, dtype=bool),
        cl_fixed=np.array([np.nan]),
        **options,
    )


def test_one_function_per_kind_each_with_its_formula_and_source():
    assert set(LIMITS) == set(limits.KINDS)
    for kind, fn in LIMITS.items():
        doc = inspect.getdoc(fn)
        assert doc, kind
        # a formula and where it comes from
        assert "cl" in doc or "mean" in doc or "median" in doc, kind
        assert any(s in doc for s in ("qicharts2", "Montgomery", "NHSRplotthedots", "Laney")), kind


def test_p_chart_montgomery_orange_juice():
    lines = LIMITS["p"](one_phase("p", np.array(OJ) / 50, n=np.full(30, 50.0)))
    assert lines.cl[0] == pytest.approx(0.2313, abs=1e-4)
    assert lines.ucl[0] == pytest.approx(0.4102, abs=1e-4)
    assert lines.lcl[0] == pytest.approx(0.0524, abs=1e-4)
    assert lines.exact is None


def test_c_chart_montgomery_circuit_boards():
    lines = LIMITS["c"](one_phase("c", PCB))
    assert lines.cl[0] == pytest.approx(19.85, abs=0.005)
    # the book rounds c-bar to 19.85 before adding 3 sqrt(c-bar): 33.22 and 6.48
    assert lines.ucl[0] == pytest.approx(33.22, abs=0.015)
    assert lines.lcl[0] == pytest.approx(6.48, abs=0.015)


def test_u_chart_montgomery_personal_computers():
    lines = LIMITS["u"](one_phase("u", np.array(PC) / 5, n=np.full(20, 5.0)))
    assert lines.cl[0] == pytest.approx(1.93, abs=1e-9)
    assert lines.ucl[0] == pytest.approx(3.79, abs=0.005)
    assert lines.lcl[0] == pytest.approx(0.07, abs=0.005)


def test_individuals_chart_uses_e2_of_2_66():
    y = [10.0, 12, 11, 13, 12]  # moving ranges 2, 1, 2, 1: AMR 1.5
    lines = LIMITS["i"](one_phase("i", y, screen_mr=False))
    # Montgomery: x-bar +/- 3 MR-bar / d2, 3 / d2 = 2.66 for ranges of two
    assert lines.cl[0] == pytest.approx(11.6)
    assert lines.ucl[0] == pytest.approx(11.6 + 2.66 * 1.5, abs=0.002)
    assert lines.lcl[0] == pytest.approx(11.6 - 2.66 * 1.5, abs=0.002)
    assert lines.spread[0] == pytest.approx(1.5)


def test_xmr_is_exactly_mean_plus_minus_2_66_amr():
    y = [10.0, 12, 11, 13, 12]
    lines = LIMITS["xmr"](one_phase("xmr", y, screen_mr=False))
    assert lines.ucl[0] == pytest.approx(11.6 + 2.66 * 1.5, rel=1e-12)
    assert lines.ucl_2s[0] == pytest.approx(11.6 + 2 / 3 * 2.66 * 1.5, rel=1e-12)


def test_moving_range_chart_d4():
    lines = LIMITS["mr"](one_phase("mr", [10.0, 12, 11, 13, 12]))
    assert np.isnan(lines.y[0]) and list(lines.y[1:]) == [2, 1, 2, 1]
    assert lines.cl[0] == pytest.approx(1.5)
    assert lines.ucl[0] == pytest.approx(3.267 * 1.5)  # D4 for n = 2
    assert lines.lcl[0] == 0


def test_xbar_and_s_with_subgroups_of_five():
    # equal subgroups of 5 with s = 2 each: sigma-hat = s-bar = 2 (Montgomery 6.3)
    means = [20.0, 21, 19, 20, 22, 18]
    d = one_phase("xbar", means, y_len=np.full(6, 5.0), y_sd=np.full(6, 2.0))
    xbar = LIMITS["xbar"](d)
    assert xbar.cl[0] == pytest.approx(20.0)
    assert xbar.ucl[0] == pytest.approx(20 + 1.427 * 2, abs=0.002)  # A3(5) = 1.427
    s = LIMITS["s"](Subgroups(**{**d.__dict__, "kind": "s"}))
    assert s.cl[0] == pytest.approx(2.0)
    assert s.ucl[0] == pytest.approx(2.089 * 2, abs=0.002)  # B4(5) = 2.089
    assert s.lcl[0] == 0  # B3(5) = 0


def test_pooled_sigma_with_unequal_subgroups():
    d = one_phase("s", [5.0, 5.0], y_len=[3.0, 5.0], y_sd=[1.0, 2.0])
    pooled = np.sqrt((2 * 1**2 + 4 * 2**2) / (2 + 4))
    assert LIMITS["s"](d).cl[0] == pytest.approx(pooled)


def test_g_chart_limits_from_the_mean_centre_from_the_median():
    y = [1.0, 2, 3, 10]
    lines = LIMITS["g"](one_phase("g", y))
    m = 4.0
    assert lines.ucl[0] == pytest.approx(m + 3 * np.sqrt(m * (m + 1)))
    assert lines.lcl[0] == 0
    assert lines.cl[0] == pytest.approx(2.5)


def test_t_chart_back_transforms_an_individuals_chart():
    y = np.array([5.0, 9, 3, 12, 7, 6, 10])
    t = LIMITS["t"](one_phase("t", y, screen_mr=False))
    i = LIMITS["i"](one_phase("i", y ** (1 / 3.6), screen_mr=False))
    assert t.cl[0] == pytest.approx(i.cl[0] ** 3.6)
    assert t.ucl[0] == pytest.approx(i.ucl[0] ** 3.6)
    assert t.lcl[0] == pytest.approx(max(i.lcl[0], 0) ** 3.6)


def test_run_chart_has_a_median_and_no_limits():
    lines = LIMITS["run"](one_phase("run", [3.0, 1, 2, 10]))
    assert lines.cl[0] == 2.5
    assert np.isnan(lines.ucl).all() and np.isnan(lines.lcl).all()


def test_laney_p_prime_widens_with_overdispersion():
    rng = np.random.default_rng(3)
    n = np.full(40, 2000.0)
    p = np.clip(0.3 + rng.normal(0, 0.03, 40), 0, 1)  # far more spread than the binomial
    d = one_phase("pp", p, n=n)
    pp = LIMITS["pp"](d)
    plain = LIMITS["p"](Subgroups(**{**d.__dict__, "kind": "p"}))
    assert pp.spread[0] > 3  # sigma_z
    assert (pp.ucl - pp.cl)[0] == pytest.approx((plain.ucl - plain.cl)[0] * pp.spread[0])


def test_every_two_sigma_line_lies_between_the_centre_and_the_limit():
    rng = np.random.default_rng(7)
    y = rng.uniform(0.2, 0.8, 20)
    n = np.full(20, 40.0)
    for kind in limits.KINDS:
        if kind == "run":
            continue
        d = one_phase(
            kind, y * (10 if kind in ("c", "g", "t") else 1), n=n, y_len=np.full(20, 4.0),
            y_sd=np.full(20, 0.1),
        )  # fmt: skip
        if kind not in limits.NEEDS_N:
            d = Subgroups(**{**d.__dict__, "n": np.full(20, np.nan)})
        lines = LIMITS[kind](d)
        with np.errstate(invalid="ignore"):
            assert (lines.ucl_2s <= lines.ucl + 1e-12).all(), kind
            assert (lines.lcl_2s >= lines.lcl - 1e-12).all(), kind
            assert (lines.cl <= lines.ucl_2s + 1e-12).all(), kind


def test_a_fixed_centre_line_is_kept():
    d = one_phase("c", PCB)
    d = Subgroups(**{**d.__dict__, "cl_fixed": np.array([25.0])})
    lines = LIMITS["c"](d)
    assert lines.cl[0] == 25
    assert lines.ucl[0] == pytest.approx(25 + 3 * 5)


def test_exact_limits_where_asked_and_within_zero_and_one():
    n = np.full(20, 15.0)
    y = np.full(20, 14 / 15)
    d = one_phase("p", y, n=n, limits="exact")
    lines = LIMITS["p"](d)
    assert lines.exact.tolist() == [True]
    assert 0 <= lines.lcl[0] < lines.cl[0] <= lines.ucl[0] <= 1
    # 3-sigma tail probability of the normal lines (Montgomery's probability limits)
    assert exact.ALPHA_3SIGMA == pytest.approx(0.00135, abs=1e-5)


def test_compute_limits_dispatches_and_refuses_unknown_kinds():
    d = one_phase("c", PCB)
    args = {k: v for k, v in d.__dict__.items() if k != "kind"}
    direct = compute_limits("c", **args)
    assert direct.ucl[0] == LIMITS["c"](d).ucl[0]
    with pytest.raises(ChartError, match="unknown chart kind"):
        compute_limits("zz", **args)


def test_funnel_limits_narrow_as_n_grows_and_stay_in_range():
    n = np.array([10.0, 100, 1000, 10000])
    lo, hi = funnel_limits(0.9, n, kind="p")
    assert (np.diff(hi) < 0).all() and (np.diff(lo) > 0).all()
    assert hi[0] == 1.0  # cut at 100 %
    # Spiegelhalter 2005: p +/- 3 sqrt(p(1 - p)/n)
    assert hi[-1] == pytest.approx(0.9 + 3 * np.sqrt(0.9 * 0.1 / 10000))
    lo_u, _ = funnel_limits(2.0, np.array([1.0]), kind="u")
    assert lo_u[0] == 0.0
    lo100, hi100 = funnel_limits(90.0, n, kind="p", multiply=100)
    assert np.allclose(hi100, hi * 100) and np.allclose(lo100, lo * 100)
    lo_z, hi_z = funnel_limits(0.5, np.array([100.0]), kind="p", sigma_z=2.0)
    assert hi_z[0] - 0.5 == pytest.approx(2 * 3 * np.sqrt(0.25 / 100))
