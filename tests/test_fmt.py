"""pxlib.fmt: numbers, percentages, dates and counted words as people read them."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from pxlib import fmt
from pxlib.spc import chart


@pytest.mark.parametrize(
    ("value", "expected"),
    [(52.0, "52"), (np.float64(27.0), "27"), (0.912345, "0.912"), (1234.56, "1,234.6"),
     (106, "106"), (float("nan"), "–"), (None, "–"), (np.inf, "–"), ("x", "–")],
)  # fmt: skip
def test_numbers_never_show_a_float_repr(value, expected):
    assert fmt.number(value) == expected


def test_percent_plural_count_and_date():
    assert fmt.percent(0.953) == "95%" and fmt.percent(96.3, 1, share=False) == "96.3%"
    assert [fmt.count(n, "week") for n in (0, 1, 2)] == ["0 weeks", "1 week", "2 weeks"]
    assert fmt.plural(1, "was") == "was" and fmt.plural(6, "was") == "were"
    assert fmt.date("2026-01-05T00:00:00") == "05 Jan 2026"
    assert fmt.date(pd.Timestamp("2026-03-04")) == "04 Mar 2026" and fmt.date(pd.NaT) == "–"


@pytest.mark.parametrize(("gaps", "words"), [(1, "1 absent period is shown as a gap"),
                                              (2, "2 absent periods are shown as gaps")])  # fmt: skip
def test_chart_caveats_count_in_good_english(gaps, words):
    weeks = pd.date_range("2025-01-06", periods=30, freq="W-MON").delete(list(range(5, 5 + gaps)))
    data = pd.DataFrame({"x": weeks, "y": np.arange(len(weeks), dtype=float) % 7})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = chart(data, x="x", y="y", kind="run")
    assert words in result.summary["warning"].iloc[0]
