"""pxlib.spc.aggregate called directly (step 2 of ``chart``), on hand-made frames: the
columns read as arrays, group codes, rows sharing an x combined (sums, means, sd,
medians per group and x, worked out in the comments) and absent regular dates filled
as gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pxlib.errors import ChartError
from pxlib.spc.aggregate import (
    combine_rows,
    fill_date_gaps,
    group_codes,
    read_columns,
    subgroups,
)


def read(data, kind="p", n="n", by=(), phases=None, notes=None):
    return read_columns(
        data, "x", "y", n, list(by), phases, kind, notes if notes is not None else []
    )


def test_read_columns_gives_floats_and_leaves_out_rows_without_x_with_a_note():
    data = pd.DataFrame(
        {"x": [1, None, 3], "y": [1, 2, 3], "n": [10, 10, 10]}, index=["r1", "r2", "r3"]
    )
    notes: list[str] = []
    cols = read(data, notes=notes)
    assert cols.yv.tolist() == [1.0, 3.0]
    assert cols.nv is not None and cols.nv.tolist() == [10.0, 10.0]
    assert cols.row_index.tolist() == ["r1", "r3"]
    assert cols.xs.tolist() == [1, 3]
    assert notes == ["1 rows with a missing 'x' were left out"]


def test_read_columns_makes_a_row_missing_y_or_n_missing_in_both():
    data = pd.DataFrame({"x": [1, 2, 3], "y": [1, np.nan, 3], "n": [10, 10, np.nan]})
    cols = read(data)
    np.testing.assert_array_equal(cols.yv, [1.0, np.nan, np.nan])
    np.testing.assert_array_equal(cols.nv, [10.0, np.nan, np.nan])


def test_read_columns_keeps_the_phase_labels_and_the_groups():
    data = pd.DataFrame(
        {"x": [1, 2, 1], "y": [1.0, 2.0, 3.0], "ward": ["B", "B", "A"], "stage": ["a", "b", "a"]}
    )
    cols = read(data, kind="i", n=None, by=["ward"], phases="stage")
    assert cols.gid.tolist() == [1, 1, 0]  # A sorts before B
    assert cols.labels["ward"].tolist() == ["A", "B"]
    assert cols.label_v is not None and cols.label_v.tolist() == ["a", "b", "a"]
    assert cols.nv is None


def test_read_columns_refuses_an_empty_frame_and_values_the_kind_cannot_take():
    with pytest.raises(ChartError, match="data has no rows"):
        read(pd.DataFrame({"x": [], "y": [], "n": []}))
    too_many = pd.DataFrame({"x": [1, 2], "y": [3, 12], "n": [10, 10]}, index=[5, 6])
    with pytest.raises(ChartError, match=r"p chart, row 6, x=2: 'y' is larger than 'n'"):
        read(too_many)


def test_group_codes_for_one_column_follow_sorted_values():
    data = pd.DataFrame({"ward": ["C", "A", "C", "B"]})
    gid, labels = group_codes(data, ["ward"])
    assert gid.tolist() == [2, 0, 2, 1]
    assert labels["ward"].tolist() == ["A", "B", "C"]


def test_group_codes_for_several_columns_number_only_the_combinations_present():
    data = pd.DataFrame({"site": ["Y", "X", "Y", "X"], "ward": [2, 1, 1, 1]})
    gid, labels = group_codes(data, ["site", "ward"])
    # combinations present, sorted: (X, 1), (Y, 1), (Y, 2); (X, 2) absent gets no code
    assert labels.to_dict("list") == {"site": ["X", "Y", "Y"], "ward": [1, 1, 2]}
    assert gid.tolist() == [2, 0, 1, 0]


def test_group_codes_without_groups_are_all_zero():
    gid, labels = group_codes(pd.DataFrame({"y": [1, 2, 3]}), [])
    assert gid.tolist() == [0, 0, 0]
    assert len(labels) == 1


def rows(gid, xcode, yv, nv=None, label=None):
    return (
        np.asarray(gid),
        np.asarray(xcode),
        np.asarray(yv, dtype=float),
        None if nv is None else np.asarray(nv, dtype=float),
        None if label is None else np.asarray(label, dtype=object),
    )


def test_combine_rows_sums_counts_and_denominators_for_p():
    # group 0: x0 rows (2/10, 3/10) -> 5/20 = 0.25; x1 row 1/4 -> 0.25
    # group 1: x0 rows (0/5, 4/5) -> 4/10 = 0.4
    g, xc, yv, nv, _ = rows([0, 0, 0, 1, 1], [0, 0, 1, 0, 0], [2, 3, 1, 0, 4], [10, 10, 4, 5, 5])
    out = combine_rows("p", g, xc, yv, nv, None, None)
    assert out["gid"].tolist() == [0, 0, 1]
    assert out["xcode"].tolist() == [0, 1, 0]
    assert out["y_sum"].tolist() == [5.0, 1.0, 4.0]
    assert out["n"].tolist() == [20.0, 4.0, 10.0]
    assert out["y"].tolist() == [0.25, 0.25, 0.4]
    assert out["y_len"].tolist() == [2.0, 1.0, 2.0]
    assert out["zero_n"].tolist() == [False, False, False]


def test_combine_rows_takes_the_mean_for_i_and_the_sum_for_c():
    g, xc, yv, _, _ = rows([0, 0, 0, 0], [0, 0, 0, 1], [1, 2, 6, np.nan])
    i = combine_rows("i", g, xc, yv, None, None, None)
    c = combine_rows("c", g, xc, yv, None, None, None)
    # x0: mean (1 + 2 + 6)/3 = 3, sum 9; x1: only a missing value -> missing, y_len 0
    np.testing.assert_array_equal(i["y"], [3.0, np.nan])
    np.testing.assert_array_equal(c["y"], [9.0, np.nan])
    assert i["y_len"].tolist() == [3.0, 0.0]


def test_combine_rows_gives_xbar_the_subgroup_mean_and_s_its_standard_deviation():
    g, xc, yv, _, _ = rows([0, 0, 0, 0, 0], [0, 0, 0, 1, 1], [2, 4, 6, 5, 5])
    xbar = combine_rows("xbar", g, xc, yv, None, None, None)
    s = combine_rows("s", g, xc, yv, None, None, None)
    # x0: mean 4, sd sqrt(((2-4)^2 + 0 + (6-4)^2) / 2) = 2; x1: mean 5, sd 0
    assert xbar["y"].tolist() == [4.0, 5.0]
    assert s["y"].tolist() == [2.0, 0.0]
    assert s["y_sd"].tolist() == [2.0, 0.0]


def test_combine_rows_with_agg_overrides_the_kind():
    g, xc, yv, _, _ = rows([0, 0, 0, 0, 0], [0, 0, 0, 1, 1], [1, 2, 9, 4, 8])
    med = combine_rows("i", g, xc, yv, None, None, "median")
    tot = combine_rows("i", g, xc, yv, None, None, "sum")
    # x0 [1, 2, 9]: median 2, sum 12; x1 [4, 8]: median 6, sum 12
    assert med["y"].tolist() == [2.0, 6.0]
    assert tot["y"].tolist() == [12.0, 12.0]


def test_combine_rows_flags_zero_denominators_and_keeps_the_first_label():
    g, xc, yv, nv, lab = rows([0, 0, 0], [0, 0, 1], [0, 0, 1], [0, 0, 2], ["a", "a", "b"])
    out = combine_rows("p", g, xc, yv, nv, lab, None)
    np.testing.assert_array_equal(out["y"], [np.nan, 0.5])  # 0/0 is a gap
    assert out["zero_n"].tolist() == [True, False]
    assert out["label"].tolist() == ["a", "b"]


def test_combine_rows_with_one_row_per_x_keeps_the_values():
    g, xc, yv, nv, _ = rows([0, 0, 1], [0, 1, 0], [1, 2, 3], [4, 4, 4])
    out = combine_rows("u", g, xc, yv, nv, None, None)
    assert out["y"].tolist() == [0.25, 0.5, 0.75]
    assert out["y_sum"].tolist() == [1.0, 2.0, 3.0]


def weekly(dates, gid=None, y=None):
    xuniq = pd.DatetimeIndex(sorted(set(pd.to_datetime(dates))))
    xs = pd.DatetimeIndex(pd.to_datetime(dates))
    xcode = xuniq.get_indexer(xs)
    g = np.zeros(len(dates), dtype=np.int64) if gid is None else np.asarray(gid)
    yv = np.arange(1.0, len(dates) + 1) if y is None else np.asarray(y, dtype=float)
    sub = combine_rows("i", g, xcode, yv, None, None, None)
    return sub, xuniq


def test_fill_date_gaps_inserts_the_missing_weeks_as_gaps():
    # Mondays 1, 8, (15 and 22 absent), 29 January
    sub, xuniq = weekly(["2024-01-01", "2024-01-08", "2024-01-29"])
    out, new_x = fill_date_gaps(sub, xuniq)
    expected = pd.date_range("2024-01-01", "2024-01-29", freq="7D")
    assert list(new_x) == list(expected)
    assert out["xcode"].tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(out["y"], [1.0, 2.0, np.nan, np.nan, 3.0])
    assert out["inserted"].tolist() == [False, False, True, True, False]
    assert out["y_len"].tolist() == [1.0, 1.0, 0.0, 0.0, 1.0]


def test_fill_date_gaps_fills_months_only_inside_each_groups_span():
    # group 0: Jan, Feb, Apr (Mar absent); group 1: Mar, Apr
    dates = ["2024-01-01", "2024-02-01", "2024-04-01", "2024-03-01", "2024-04-01"]
    sub, xuniq = weekly(dates, gid=[0, 0, 0, 1, 1], y=[1, 2, 4, 3, 4])
    order = np.lexsort((sub["xcode"], sub["gid"]))
    sub = {k: v[order] for k, v in sub.items()}
    out, new_x = fill_date_gaps(sub, xuniq)
    assert list(new_x) == list(pd.date_range("2024-01-01", periods=4, freq="MS"))
    assert out["gid"].tolist() == [0, 0, 0, 0, 1, 1]
    assert out["xcode"].tolist() == [0, 1, 2, 3, 2, 3]  # no Jan/Feb added to group 1
    np.testing.assert_array_equal(out["y"], [1, 2, np.nan, 4, 3, 4])


def test_fill_date_gaps_leaves_irregular_dates_and_short_series_alone():
    # steps of 1, 3 and 7 days: the gcd is 1 day but 1-day spacing is not the most common
    sub, xuniq = weekly(["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-12", "2024-01-19"])
    out, new_x = fill_date_gaps(sub, xuniq)
    assert out is sub and new_x is xuniq
    sub, xuniq = weekly(["2024-01-01", "2024-01-15"])  # fewer than 3 dates
    out, _ = fill_date_gaps(sub, xuniq)
    assert out is sub


def test_subgroups_sorts_by_group_then_x_and_fills_gaps_unless_asked_not_to():
    data = pd.DataFrame(
        {
            "x": pd.to_datetime(["2024-01-29", "2024-01-01", "2024-01-08", "2024-01-08"]),
            "y": [5.0, 1.0, 2.0, 4.0],
        }
    )
    cols = read(data, kind="i", n=None)
    sub, xuniq = subgroups(cols, "x", "i", None, fill_gaps=True)
    # 1 Jan: 1; 8 Jan: mean(2, 4) = 3; 15 and 22 Jan gaps; 29 Jan: 5
    np.testing.assert_array_equal(sub["y"], [1.0, 3.0, np.nan, np.nan, 5.0])
    assert len(xuniq) == 5
    sub, xuniq = subgroups(cols, "x", "i", None, fill_gaps=False)
    assert sub["y"].tolist() == [1.0, 3.0, 5.0]
    assert "inserted" not in sub
    sub, _ = subgroups(cols, "x", "t", None, fill_gaps=True)  # an event sequence: no gaps
    assert sub["y"].tolist() == [1.0, 3.0, 5.0]
