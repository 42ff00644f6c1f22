"""pxlib.spc.validate called directly (step 1 of ``chart``): each check returns the right
value for good options and raises the right exception, with a message naming the
option, column or row, for bad ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pxlib.errors import ChartError, ColumnError
from pxlib.spc import validate as V


def settings(**changes):
    """check_settings' arguments for a valid i chart, with ``changes``."""
    args = dict(
        kind="i",
        n=None,
        multiply=1.0,
        freeze=None,
        shift=7,
        trend=7,
        centre_line="break",
        agg=None,
    )
    args.update(changes)
    return args


def test_check_kind_lowers_case_and_names_the_choices():
    assert V.check_kind("XmR") == "xmr"
    assert V.check_kind("p") == "p"
    with pytest.raises(ChartError, match=r"unknown chart kind 'pie'.*run, i, mr"):
        V.check_kind("pie")
    with pytest.raises(ChartError, match="unknown chart kind"):
        V.check_kind(3)  # type: ignore[arg-type]


def test_check_rules_defaults_per_kind():
    assert V.check_rules(None, "xmr") == ["mdc"]
    assert V.check_rules(None, "i") == ["anhoej"]
    assert V.check_rules(None, "run") == ["anhoej"]


def test_check_rules_ignores_case_and_drops_repeats():
    assert V.check_rules("ANHOEJ", "i") == ["anhoej"]
    assert V.check_rules(["MDC", "ihi", "mdc"], "run") == ["mdc", "ihi"]
    assert V.check_rules("Anhøj", "run") == ["anhoej"]  # the Danish spelling (was refused)


def test_check_rules_refuses_unknown_and_empty_rule_sets():
    with pytest.raises(ChartError, match=r"unknown rule set 'nelson'.*anhoej, mdc, ihi"):
        V.check_rules(["mdc", "nelson"], "i")
    with pytest.raises(ChartError, match="rules is empty"):
        V.check_rules([], "i")


def test_check_columns_accepts_a_frame_with_every_named_column():
    data = pd.DataFrame({"week": [1], "k": [2], "pts": [3], "ward": ["A"], "stage": ["a"]})
    V.check_columns(data, "week", "k", "pts", ["ward"], "stage")  # no error


def test_check_columns_names_the_missing_column_and_its_role():
    data = pd.DataFrame({"week": [1], "k": [2]})
    with pytest.raises(
        ColumnError, match=r"n column 'pts' is not in the data \(columns: week, k\)"
    ):
        V.check_columns(data, "week", "k", "pts", [], None)
    with pytest.raises(ColumnError, match="by column 'ward'"):
        V.check_columns(data, "week", "k", None, ["ward"], None)
    with pytest.raises(ColumnError, match="phases column 'stage'"):
        V.check_columns(data, "week", "k", None, [], "stage")


def test_check_columns_refuses_a_duplicated_column_a_non_frame_and_reserved_by_names():
    data = pd.DataFrame([[1, 2, 3]], columns=["week", "k", "k"])
    with pytest.raises(ColumnError, match="y column 'k' appears 2 times"):
        V.check_columns(data, "week", "k", None, [], None)
    with pytest.raises(ChartError, match="data must be a pandas DataFrame, not dict"):
        V.check_columns({"week": [1]}, "week", "k", None, [], None)
    clash = pd.DataFrame({"week": [1], "k": [2], "phase": [1]})
    with pytest.raises(ChartError, match=r"\['phase'\] share a name with a result column"):
        V.check_columns(clash, "week", "k", None, ["phase"], None)


def test_check_settings_accepts_valid_settings():
    V.check_settings(**settings())
    V.check_settings(**settings(kind="p", n="pts", freeze=12, shift=6, trend=5, agg="sum"))
    V.check_settings(**settings(centre_line="skip", freeze=np.int64(3)))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "p"}, "a p chart needs a denominator"),
        ({"kind": "c", "n": "pts"}, r"a c chart takes no denominator n \(use a u chart"),
        ({"kind": "xbar", "n": "pts"}, "a xbar chart takes no denominator n"),
        ({"multiply": 0}, "multiply must be a positive number, not 0"),
        ({"freeze": 0}, "freeze must be a whole number of points >= 1, not 0"),
        ({"freeze": True}, "freeze must be a whole number"),
        ({"freeze": 2.5}, "freeze must be a whole number"),
        ({"shift": 1}, "shift must be a whole number of points >= 2, not 1"),
        ({"trend": "7"}, "trend must be a whole number of points >= 2, not '7'"),
        ({"centre_line": "ignore"}, "centre_line must be 'break' or 'skip', not 'ignore'"),
        ({"agg": "max"}, "agg must be 'mean', 'sum' or 'median', not 'max'"),
    ],
)
def test_check_settings_names_the_bad_setting(changes, message):
    with pytest.raises(ChartError, match=message):
        V.check_settings(**settings(**changes))


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "100", None, True])
def test_check_multiply_refuses_what_is_not_a_positive_number(bad):
    if bad is True:  # a bool is a number to Python: True = 1 is accepted
        V.check_multiply(bad)
        return
    with pytest.raises(ChartError, match="multiply must be a positive number"):
        V.check_multiply(bad)


def test_check_multiply_accepts_numpy_scalars():
    V.check_multiply(np.float64(100.0))
    V.check_multiply(np.int64(1))


def test_numeric_reads_numbers_nullable_integers_and_booleans_as_floats():
    data = pd.DataFrame(
        {
            "a": [1, 2, 3],
            "b": pd.array([1, None, 3], dtype="Int64"),
            "c": [True, False, True],
            "d": ["1.5", "2", None],
        }
    )
    np.testing.assert_array_equal(V.numeric(data, "a"), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(V.numeric(data, "b"), [1.0, np.nan, 3.0])
    np.testing.assert_array_equal(V.numeric(data, "c"), [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(V.numeric(data, "d"), [1.5, 2.0, np.nan])


def test_numeric_names_the_column_and_the_first_row_that_is_not_a_number():
    data = pd.DataFrame({"k": ["1", "two", "3", "four"]}, index=[10, 11, 12, 13])
    with pytest.raises(
        ChartError, match=r"y column 'k' must be numeric; row 11 is not a number \(2 such rows\)"
    ):
        V.numeric(data, "k", "y")


def test_numeric_refuses_dates_durations_and_complex_numbers():
    data = pd.DataFrame(
        {
            "when": pd.to_datetime(["2024-01-01"]),
            "gap": pd.to_timedelta(["1D"]),
            "z": [1 + 2j],
        }
    )
    with pytest.raises(ChartError, match="y column 'when' holds dates"):
        V.numeric(data, "when", "y")
    with pytest.raises(ChartError, match="column 'gap' holds durations"):
        V.numeric(data, "gap")
    with pytest.raises(ChartError, match="n column 'z' holds complex numbers"):
        V.numeric(data, "z", "n")


def test_check_finite_names_the_rows_with_infinite_values():
    v = np.array([1.0, np.inf, np.nan, -np.inf])
    with pytest.raises(ChartError, match=r"n column 'pts' has 2 infinite values \(rows 'b', 'd'\)"):
        V.check_finite(v, pd.Index(["a", "b", "c", "d"]), "n", "pts")
    with pytest.raises(ChartError, match=r"has 1 infinite value \(row 7\)"):
        V.check_finite(np.array([np.inf]), pd.Index([7]), "y", "k")
    V.check_finite(np.array([1.0, np.nan]), pd.Index([0, 1]), "y", "k")  # NaN is missing, fine


def test_factorize_x_gives_codes_in_sorted_order():
    codes, uniq = V.factorize_x(pd.Series([30, 10, 20, 10]), "week")
    assert codes.tolist() == [2, 0, 1, 0]
    assert uniq.tolist() == [10, 20, 30]
    codes, uniq = V.factorize_x(pd.Series(pd.to_datetime(["2024-02-01", "2024-01-01"])), "m")
    assert codes.tolist() == [1, 0]
    assert isinstance(uniq, pd.DatetimeIndex)


def test_factorize_x_names_the_column_it_cannot_sort():
    with pytest.raises(ChartError, match="x column 'week' holds values that cannot be sorted"):
        V.factorize_x(pd.Series([[1], [2]]), "week")  # lists: no order
    mixed = pd.Series(
        [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02", tz="UTC")], dtype=object
    )
    with pytest.raises(
        ChartError, match="x column 'when' mixes dates with and without a time zone"
    ):
        V.factorize_x(mixed, "when")


def test_float_values_make_missing_and_non_numbers_nan():
    s = pd.Series(["1", "x", None, "2.5"])
    np.testing.assert_array_equal(V.float_values(s), [1.0, np.nan, np.nan, 2.5])
    s = pd.Series(pd.array([1, None], dtype="Int64"))
    np.testing.assert_array_equal(V.float_values(s), [1.0, np.nan])
    assert V.float_values(s).dtype == float
