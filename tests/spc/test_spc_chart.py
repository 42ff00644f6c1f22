"""Hand-checked SPC cases, rule behaviour, missing data and bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from pxlib.errors import ChartError, ChartWarning, ColumnError
from pxlib.spc import SPCResult, chart
from pxlib.spc.constants import a3, b3, b4, c4
from pxlib.spc.ihi_runs import runs_bounds
from pxlib.spc.rules import anhoej_limits

# Montgomery, Introduction to Statistical Quality Control, orange-juice cans
# (Table 6.1 / 7.1): nonconforming cans in 30 samples of 50.
OJ = [12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22,
      8, 10, 5, 13, 11, 20, 18, 24, 15, 9, 12, 7, 13, 9, 6]  # fmt: skip
# The MDC "deviations" example: one large deviation inflates the moving ranges.
DEVIATIONS = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]

POINT_COLUMNS = [
    "x", "y", "n", "cl", "lcl", "ucl", "phase", "baseline", "include", "sigma_signal",
    "runs_signal", "longest_run", "longest_run_max", "n_crossings", "n_crossings_min",
    "special_cause", "point_type", "mixed_signal",
]  # fmt: skip
SUMMARY_COLUMNS = [
    "phase", "n_points", "cl", "lcl", "ucl", "runs_signal", "longest_run", "longest_run_max",
    "n_crossings", "n_crossings_min", "variation_type", "assurance_type", "trial_limits", "warning",
]  # fmt: skip


def quiet(*args, **kwargs) -> SPCResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChartWarning)
        return chart(*args, **kwargs)


def series(values, start="2024-01-01", freq="MS", **extra) -> pd.DataFrame:
    return pd.DataFrame(
        {"x": pd.date_range(start, periods=len(values), freq=freq), "y": values, **extra}
    )


# --------------------------------------------------------------- hand-checked figures


def test_orange_juice_p_chart():
    df = pd.DataFrame({"sample": range(1, 31), "count": OJ, "size": 50})
    res = chart(df, "sample", "count", "size", kind="p")
    pts = res.points
    assert pts["cl"].iloc[0] == pytest.approx(347 / 1500)
    assert round(pts["cl"].iloc[0], 4) == 0.2313
    assert round(pts["lcl"].iloc[0], 4) == 0.0524
    assert round(pts["ucl"].iloc[0], 4) == 0.4102
    # samples 15 and 23 are the two out-of-control points in Montgomery's example
    assert pts.loc[pts["sigma_signal"], "x"].tolist() == [15, 23]
    assert res.percent


@pytest.mark.parametrize("screen, lo, hi", [(True, -0.7156, 4.6044), (False, -3.0626, 6.9515)])
def test_mdc_deviations_screening(screen, lo, hi):
    res = quiet(series(DEVIATIONS), "x", "y", kind="xmr", screen_mr=screen, improvement="increase")
    assert round(res.summary["lcl"].iloc[0], 4) == lo
    assert round(res.summary["ucl"].iloc[0], 4) == hi
    assert res.summary["cl"].iloc[0] == pytest.approx(np.mean(DEVIATIONS))
    if screen:  # the 10 is outside the screened limits only
        assert res.points["point_type"].tolist()[4] == "special_cause_improvement"


@pytest.mark.parametrize(
    "n, limit, minimum",
    [(10, 6, 2), (12, 7, 3), (14, 7, 4), (17, 7, 5), (19, 7, 6), (22, 7, 7), (23, 8, 7),
     (24, 8, 8), (27, 8, 9), (29, 8, 10), (30, 8, 10), (40, 8, 14), (50, 9, 19),
     (60, 9, 23), (100, 10, 41)],
)  # fmt: skip
def test_anhoej_thresholds_table(n, limit, minimum):
    lr, cr = anhoej_limits([n])
    assert lr[0] == limit
    assert cr[0] == minimum


def test_constants_match_montgomery_tables():
    # Montgomery appendix VI: c4(5) = 0.9400, A3(5) = 1.427, B3(6) = 0.030, B4(5) = 2.089
    assert round(float(c4(5)), 4) == 0.9400
    assert round(float(a3(5)), 3) == 1.427
    assert round(float(b3(6)), 3) == 0.030
    assert round(float(b4(5)), 3) == 2.089
    assert np.isnan(c4(1))


def test_runs_bounds_swed_eisenhart():
    # Swed & Eisenhart (1943), alpha = 0.025 each tail: n1 = n2 = 10 -> R <= 6 or R >= 16;
    # n1 = n2 = 5 -> R <= 2 or R >= 10.
    assert runs_bounds(10, 10) == (7.0, 15.0)
    assert runs_bounds(5, 5) == (3.0, 9.0)


def test_i_chart_by_hand():
    y = [10.0, 12.0, 11.0, 13.0, 12.0, 14.0]
    res = quiet(series(y), "x", "y", kind="i", screen_mr=False)
    mr = np.abs(np.diff(y)).mean()
    cl = np.mean(y)
    p = res.points
    assert p["cl"].iloc[0] == pytest.approx(cl)
    assert p["ucl"].iloc[0] == pytest.approx(cl + 3 * mr / 1.128)
    assert p["lcl"].iloc[0] == pytest.approx(cl - 3 * mr / 1.128)
    assert p["ucl_2s"].iloc[0] == pytest.approx(cl + 2 * mr / 1.128)


def test_c_u_g_by_hand():
    y = [4.0, 9.0, 1.0, 0.0, 6.0]
    c = quiet(series(y), "x", "y", kind="c").points
    assert c["cl"].iloc[0] == pytest.approx(4.0)
    assert c["ucl"].iloc[0] == pytest.approx(4 + 3 * 2)
    assert c["lcl"].iloc[0] == 0.0  # 4 - 6 < 0
    g = quiet(series(y), "x", "y", kind="g").points
    m = 4.0
    assert g["cl"].iloc[0] == pytest.approx(4.0)  # the median shown
    assert g["ucl"].iloc[0] == pytest.approx(m + 3 * np.sqrt(m * (m + 1)))
    u = quiet(series(y, n=[2.0, 3.0, 1.0, 2.0, 2.0]), "x", "y", "n", kind="u").points
    assert u["cl"].iloc[0] == pytest.approx(20 / 10)
    assert u["ucl"].iloc[1] == pytest.approx(2 + 3 * np.sqrt(2 / 3))


def test_xbar_and_s_from_subgroups():
    rng = np.random.default_rng(0)
    vals = rng.normal(10, 1, size=(20, 5))
    df = pd.DataFrame({"x": np.repeat(np.arange(20), 5), "y": vals.ravel()})
    s = vals.std(axis=1, ddof=1)
    xb = quiet(df, "x", "y", kind="xbar").points
    assert xb["y"].to_numpy() == pytest.approx(vals.mean(axis=1))
    assert xb["ucl"].iloc[0] == pytest.approx(vals.mean() + float(a3(5)) * s.mean())
    sc = quiet(df, "x", "y", kind="s").points
    assert sc["y"].to_numpy() == pytest.approx(s)
    assert sc["ucl"].iloc[0] == pytest.approx(float(b4(5)) * s.mean())
    assert sc["lcl"].iloc[0] == 0.0


def test_mr_chart_runs_signal_always_false():
    y = [1.0] * 3 + list(range(20))
    res = quiet(series(y), "x", "y", kind="mr")
    assert np.isnan(res.points["y"].iloc[0])
    assert not res.points["runs_signal"].any()
    assert res.points["ucl"].iloc[0] == pytest.approx(3.267 * np.nanmean(np.abs(np.diff(y))))


def test_t_chart_back_transforms():
    y = [5.0, 20.0, 3.0, 40.0, 12.0, 8.0, 30.0, 2.0]
    res = quiet(series(y), "x", "y", kind="t")
    z = np.array(y) ** (1 / 3.6)
    assert res.points["cl"].iloc[0] == pytest.approx(z.mean() ** 3.6)
    assert res.points["y"].to_numpy() == pytest.approx(y)
    assert (res.points["lcl"] >= 0).all()


def test_columns_are_public_contract():
    res = quiet(
        series(OJ, unit=["a"] * 15 + ["b"] * 15),
        "x",
        "y",
        kind="c",
        by="unit",
        phases=["2025-01-01"],
    )
    assert list(res.points.columns[:1]) == ["unit"]
    for c in POINT_COLUMNS:
        assert c in res.points.columns
    for c in ["unit", *SUMMARY_COLUMNS]:
        assert c in res.summary.columns
    assert res.points["phase"].min() == 1


# ----------------------------------------------------------------------- options


def test_phases_freeze_exclude_cl_multiply():
    y = [10, 12, 11, 13, 12, 14, 11, 30, 31, 29, 32, 30, 31, 33]
    df = series(y)
    res = quiet(df, "x", "y", kind="i", phases=[df["x"][7]], freeze=4, exclude=[df["x"][1]])
    p = res.points
    assert p["phase"].tolist() == [1] * 7 + [2] * 7
    assert p["baseline"].tolist() == ([True] * 4 + [False] * 3) * 2
    assert p["include"].tolist() == [True, False] + [True] * 12
    # phase 1 baseline = points 0, 2, 3 (1 is excluded); the moving range spans the gap
    base = np.array([10, 11, 13.0])
    assert p["cl"].iloc[0] == pytest.approx(base.mean())
    assert p["ucl"].iloc[0] == pytest.approx(base.mean() + 3 * np.abs(np.diff(base)).mean() / 1.128)
    assert p["cl"].iloc[7] == pytest.approx(np.mean(y[7:11]))
    fixed = quiet(df, "x", "y", kind="i", cl=20.0, multiply=2)
    assert (fixed.points["cl"] == 20.0).all()
    assert fixed.points["y"].tolist() == [2 * v for v in y]


def test_phase_dict_and_column_and_by_tuple():
    df = pd.concat(
        [series(np.arange(12.0), unit="a", ward="w1"), series(np.arange(12.0), unit="b", ward="w1")]
    )
    res = quiet(
        df, "x", "y", kind="i", by=["unit", "ward"], phases={("a", "w1"): [df["x"].iloc[6]]}
    )
    s = res.summary
    assert s[["unit", "phase"]].values.tolist() == [["a", 1], ["a", 2], ["b", 1]]
    df["label"] = np.where(df["x"] >= df["x"].iloc[4], "after", "before")
    res = quiet(df, "x", "y", kind="i", by="unit", phases="label")
    assert res.summary["phase"].tolist() == [1, 2, 1, 2]


def test_rows_sharing_x_are_aggregated():
    df = pd.DataFrame({"x": [1, 1, 2, 2, 3], "y": [1, 2, 0, 1, 3], "n": [5, 5, 4, 6, 10]})
    res = quiet(df, "x", "y", "n", kind="p")
    assert res.points["y"].tolist() == pytest.approx([0.3, 0.1, 0.3])
    assert res.points["n"].tolist() == [10, 10, 10]
    c = quiet(df, "x", "y", kind="c")
    assert c.points["y"].tolist() == [3, 1, 3]


# ---------------------------------------------------------------- rule behaviour


def test_mdc_rules_on_p_chart_shift_and_trend():
    # 7 points above the centre line then 8 below: two shifts, no limit breaches
    counts = [60] * 7 + [40] * 8
    df = series(counts, n=[100] * 15)
    res = quiet(df, "x", "y", "n", kind="p", rules="mdc", improvement="increase")
    pt = res.points["point_type"].tolist()
    assert pt[:7] == ["special_cause_improvement"] * 7
    assert pt[7:] == ["special_cause_concern"] * 8
    assert "shift" in res.points["special_cause"].iloc[0]
    six = quiet(
        series([60] * 6 + [40] * 9, n=[100] * 15), "x", "y", "n", kind="p", rules="mdc", shift=6
    )
    assert six.points["point_type"].iloc[0] == "special_cause_neutral_high"


def test_mdc_trend_and_mixed_signal():
    y = [0, 1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1.0]
    res = quiet(series(y), "x", "y", kind="run", rules="mdc", improvement="increase")
    p = res.points
    assert p["point_type"].iloc[:7].eq("special_cause_improvement").all()
    assert p["point_type"].iloc[8:].eq("special_cause_concern").all()
    # the peak belongs to the rising and the falling trend: labelled by the trend on its
    # right (NHSRplotthedots), flagged as mixed
    assert p["point_type"].iloc[7] == "special_cause_concern"
    assert p["mixed_signal"].iloc[7]
    assert p["mixed_signal"].sum() >= 1
    tie = quiet(series([0, 1, 2, 2, 3, 4, 5, 6.0]), "x", "y", kind="run", rules="mdc", trend=6)
    assert not tie.points["special_cause"].str.contains("trend").any()


def test_two_of_three():
    # baseline mean 0, AMR 4/3: limits +/-3.547, "close" beyond +/-2.364
    base = [0.0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0]
    y = base + [2.6, 0.5, 2.7] + base
    res = quiet(series(y), "x", "y", kind="xmr", freeze=16, improvement="decrease")
    p = res.points
    close = p["close_to_limits"].to_numpy()
    assert close[16] and close[18] and not close[17]
    assert p["point_type"].iloc[16] == "special_cause_concern"
    assert p["point_type"].iloc[17] == "common_cause"
    assert "two of three" in p["special_cause"].iloc[18]


def test_ihi_rules():
    y = [5, 6, 5, 6, 5, 6, 5, 9, 9, 9, 9, 9, 9, 1, 2, 3, 3, 4, 5, 6.0]
    res = quiet(series(y), "x", "y", kind="run", rules="ihi")
    sc = res.points["special_cause"]
    assert sc.iloc[7:13].str.contains("shift (IHI)", regex=False).all()
    # 1, 2, 3, 3, 4: five points rising with a tie skipped
    assert sc.iloc[13:18].str.contains("trend (IHI)", regex=False).all()


def test_anhoej_point_types_and_summary_icons():
    y = [50] * 3 + [70] * 10 + [50] * 3
    df = series(y, n=[100] * 16)
    res = quiet(df, "x", "y", "n", kind="p", improvement="decrease", target=0.4)
    assert res.points["runs_signal"].all()
    assert (res.points["point_type"].iloc[3:13] == "special_cause_concern").all()
    s = res.summary.iloc[0]
    assert s["variation_type"] == "common_cause"
    lim = res.points.iloc[-1]
    expected = "consistent_fail" if 0.4 < lim["lcl"] else "inconsistent"
    assert s["assurance_type"] == expected


# ------------------------------------------------------------------ missing data


def test_missing_value_is_a_gap_not_zero():
    counts = [30.0] * 6 + [np.nan] + [30.0] * 6
    df = series(counts, n=[100] * 13)
    res = quiet(df, "x", "y", "n", kind="p", rules=["anhoej", "mdc"])
    p = res.points
    assert np.isnan(p["y"].iloc[6])
    assert not p["sigma_signal"].iloc[6]
    assert p["special_cause"].iloc[6] == ""
    assert p["cl"].iloc[0] == pytest.approx(0.3)
    # the same as leaving the row out, for limits and run statistics
    ref = quiet(df.drop(index=6), "x", "y", "n", kind="p", fill_gaps=False)
    kept = p.drop(index=6).reset_index(drop=True)
    for c in ("cl", "lcl", "ucl", "longest_run", "n_crossings"):
        assert kept[c].tolist() == ref.points[c].tolist()


def test_missing_week_does_not_make_a_false_trend():
    # an i chart of a trending-looking series with a missing week treated as zero would
    # break the pattern; as a gap the moving ranges skip it and no signal is invented
    y = [5.0, 5.3, 5.1, 4.8, np.nan, 4.9, 5.2, 5.1, 4.9, 5.0, 5.2, 4.8, 5.1]
    res = quiet(series(y, freq="7D"), "x", "y", kind="i", rules=["anhoej", "mdc", "ihi"])
    assert (res.points["special_cause"] == "").all()
    assert not res.points["sigma_signal"].any()
    as_zero = quiet(series(np.nan_to_num(y), freq="7D"), "x", "y", kind="i")
    assert as_zero.points["sigma_signal"].iloc[4]  # what a zero would have done


def test_absent_weeks_become_gaps():
    df = series([3.0, 4, 5, 4, 3, 4, 5, 4], freq="7D").drop(index=[3])
    res = quiet(df, "x", "y", kind="i")
    assert len(res.points) == 8
    assert np.isnan(res.points["y"].iloc[3])
    assert "absent" in res.summary["warning"].iloc[0]
    off = quiet(df, "x", "y", kind="i", fill_gaps=False)
    assert len(off.points) == 7


def test_zero_denominator_with_zero_count_is_a_gap():
    df = series([3.0, 0.0, 4.0, 5.0], n=[10.0, 0.0, 10.0, 10.0])
    res = quiet(df, "x", "y", "n", kind="p")
    assert np.isnan(res.points["y"].iloc[1])
    assert "zero denominator" in res.summary["warning"].iloc[0]


# ------------------------------------------------------------------- warnings


def test_trial_limits_and_caveats_are_stated():
    with pytest.warns(ChartWarning):
        res = chart(series([1.0, 2, 3, 2, 1]), "x", "y", kind="i")
    s = res.summary.iloc[0]
    assert "trial limits" in s["trial_limits"]
    assert "too few" in s["warning"]
    one = quiet(series([1.0, 2, 3, 2, 1, 5]), "x", "y", kind="i", phases=[series([0] * 6)["x"][5]])
    assert "no limits" in one.summary["warning"].iloc[1]
    assert np.isnan(one.summary["ucl"].iloc[1])
    flat = quiet(series([4.0] * 15), "x", "y", kind="i")
    assert "every baseline value is the same" in flat.summary["warning"].iloc[0]


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "kwargs, y, n, match",
    [
        ({"kind": "p"}, [1, 12, 3], [10, 10, 10], "larger than"),
        ({"kind": "c"}, [1, -2, 3], None, "negative"),
        ({"kind": "u"}, [1, 2, 3], [1, 0, 1], "zero"),
        ({"kind": "t"}, [1, 0, 3], None, "positive"),
        ({"kind": "p"}, [1, 2, 3], None, "denominator"),
        ({"kind": "c"}, [1, 2, 3], [1, 1, 1], "no denominator"),
        ({"kind": "bogus"}, [1, 2, 3], None, "unknown chart kind"),
        ({"kind": "i", "rules": "nelson"}, [1, 2, 3], None, "unknown rule set"),
        ({"kind": "i", "multiply": -1}, [1, 2, 3], None, "multiply"),
        ({"kind": "i", "freeze": 0}, [1, 2, 3], None, "freeze"),
        ({"kind": "i", "improvement": "up"}, [1, 2, 3], None, "improvement"),
    ],
)
def test_bad_input_raises_chart_error(kwargs, y, n, match):
    df = series(y, unit="ward 7")
    if n is not None:
        df["n"] = n
    with pytest.raises(ChartError, match=match):
        chart(df, "x", "y", "n" if n is not None else None, by="unit", **kwargs)


def test_error_names_group_and_x():
    df = series([1, 12, 3], n=[10, 10, 10], unit="ward 7")
    with pytest.raises(ChartError) as info:
        chart(df, "x", "y", "n", kind="p", by="unit")
    msg = str(info.value)
    assert "ward 7" in msg and "2024-02-01" in msg and "row 1" in msg


def test_missing_column_and_non_numeric():
    with pytest.raises(ColumnError, match="'nope'"):
        chart(series([1, 2]), "x", "nope")
    df = series([1, 2, 3])
    df["y"] = ["1", "two", "3"]
    with pytest.raises(ChartError, match="numeric"):
        chart(df, "x", "y", kind="i")


def test_absent_months_and_quarters_become_gaps():
    months = series(np.arange(12.0)).drop(index=[4, 5])
    res = quiet(months, "x", "y", kind="i")
    assert len(res.points) == 12
    assert res.points["x"].iloc[4] == pd.Timestamp("2024-05-01")
    assert res.points["y"].iloc[4:6].isna().all()
    quarters = series(np.arange(8.0), freq="QS").drop(index=[3])
    res = quiet(quarters, "x", "y", kind="c")
    assert res.points["x"].iloc[3] == pd.Timestamp("2024-10-01")
    assert np.isnan(res.points["y"].iloc[3])


def test_by_column_may_not_shadow_result_columns():
    df = series([1.0, 2.0, 3.0], phase="a")
    with pytest.raises(ChartError, match="rename"):
        chart(df, "x", "y", kind="i", by="phase")


def test_unknown_group_in_dict_is_reported():
    df = series(np.arange(14.0), unit="a")
    with pytest.warns(ChartWarning, match="no group 'b'"):
        chart(df, "x", "y", kind="i", by="unit", exclude={"b": [df["x"][2]]})


def test_ihi_too_many_runs():
    y = [1.0, 3.0] * 10  # 20 points, 20 runs: more than chance allows (upper 15)
    res = quiet(series(y), "x", "y", kind="run", rules="ihi")
    assert res.points["special_cause"].str.contains("too many runs", regex=False).all()
    assert (res.points["point_type"] == "common_cause").all()  # a phase property


def test_centre_line_break_or_skip():
    # seven points above the mean, but the fourth of eight sits exactly on it
    y = [5.0] * 3 + [3.0] + [5.0] * 4 + [1.0] * 7 + [3.0]
    mean = np.mean(y)
    assert mean == 3.0
    brk = quiet(series(y), "x", "y", kind="xmr", rules="mdc", screen_mr=False)
    skp = quiet(series(y), "x", "y", kind="xmr", rules="mdc", screen_mr=False, centre_line="skip")
    assert not brk.points["special_cause"].iloc[:3].str.contains("shift").any()
    assert skp.points["special_cause"].iloc[:3].str.contains("shift").all()


def test_trend_outranks_shift_and_marks_mixed():
    # above the mean throughout, but falling for seven points: trend (concern) wins
    y = [0.0] * 10 + [20, 19, 18, 17, 16, 15, 14] + [0.0] * 3
    res = quiet(series(y), "x", "y", kind="run", rules="mdc", improvement="increase", trend=7)
    p = res.points.iloc[10:17]
    assert (p["point_type"] == "special_cause_concern").all()
    assert p["special_cause"].str.contains("shift").all()
    assert p["mixed_signal"].all()


def test_anhoej_thresholds_for_a_million_points():
    """One binomial quantile per phase, not a table of every run length up to n.

    For m = n - 1 = 1,000,000 the 5 % quantile of Binomial(m, 1/2) is, by the normal
    approximation, m/2 - 1.6449 sqrt(m)/2 = 499,177.6 (within one of the exact value)."""
    from pxlib.spc.rules import anhoej_limits

    lr_max, cr_min = anhoej_limits([1_000_001])
    assert lr_max[0] == round(math.log2(1_000_001)) + 3 == 23
    assert abs(cr_min[0] - 499_177.6) <= 1.5
