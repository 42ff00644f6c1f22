"""Regression tests for bugs found in the SPC engine clean-up (numpy scalars as options)."""

import warnings

import numpy as np
import pandas as pd
import pytest

from pxlib.spc import chart, funnel


@pytest.fixture
def data() -> pd.DataFrame:
    return pd.DataFrame({"x": range(20), "y": np.arange(20) % 5 + 1.0, "n": 10})


def _chart(df, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return chart(df, "x", "y", kind="i", improvement="increase", **kw)


@pytest.mark.parametrize("scalar", [np.int64(100), np.float32(100), np.int32(100)])
def test_numpy_multiply_scales_y(data, scalar):
    # a value read from a DataFrame is a numpy scalar; y is plotted times multiply
    res = _chart(data, multiply=scalar)
    np.testing.assert_allclose(res.points["y"], data["y"] * 100)


@pytest.mark.parametrize("scalar", [np.int64(3), np.float32(3)])
def test_numpy_cl_is_the_centre_line(data, scalar):
    res = _chart(data, cl=scalar)
    assert (res.points["cl"] == 3.0).all()


@pytest.mark.parametrize("scalar", [np.int64(100), np.float32(100)])
def test_numpy_target_gives_assurance(data, scalar):
    # values 1..5, mean 3: a target of 100 lies above the upper limit, so with
    # higher-is-better the process consistently fails it
    res = _chart(data, target=scalar)
    assert res.summary["assurance_type"].tolist() == ["consistent_fail"]


def test_numpy_multiply_in_funnel(data):
    res = funnel(data, "x", "y", "n", multiply=np.int64(100))
    np.testing.assert_allclose(res.points["y"], data["y"] / 10 * 100)


def test_weekly_groups_on_different_weekdays_get_no_gaps():
    # Two complete weekly series, one reported on Mondays and one on Tuesdays: no week
    # is absent in either, so no gap may be inserted (the union of their dates is one
    # day apart, which must not make each series look daily with six absent days a week).
    mondays = pd.date_range("2024-01-01", periods=20, freq="W-MON")
    y = np.tile([3.0, 4.0, 5.0, 4.0], 5)
    df = pd.concat(
        [
            pd.DataFrame({"unit": "A", "week": mondays, "y": y}),
            pd.DataFrame({"unit": "B", "week": mondays + pd.Timedelta(days=1), "y": y}),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = chart(df, "week", "y", kind="i", by="unit")
    assert res.points.groupby("unit")["y"].count().tolist() == [20, 20]
    assert len(res.points) == 40
    assert not res.summary["warning"].str.contains("absent").any()
    # moving ranges |diff| of 3,4,5,4,... are all 1: sigma = 1/1.128 around the mean 4
    np.testing.assert_allclose(res.summary["ucl"], 4 + 3 / 1.128)


def test_absent_week_in_one_of_two_groups_is_still_a_gap():
    mondays = pd.date_range("2024-01-01", periods=12, freq="W-MON")
    a = pd.DataFrame({"unit": "A", "week": mondays, "y": 1.0 + np.arange(12) % 3})
    b = a.assign(unit="B").drop(index=[5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = chart(pd.concat([a, b]), "week", "y", kind="i", by="unit")
    pts = res.points[res.points["unit"] == "B"]
    assert len(pts) == 12
    assert pts["y"].isna().tolist() == [i == 5 for i in range(12)]
