"""SPCResult.with_points and stack_results keep the tidy signals frame in step with
the points, and figures read their rule words from that frame."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from pxlib.spc import chart
from pxlib.spc.result import stack_results


def _three_units() -> pd.DataFrame:
    """Weekly values of three units: A shifts up after week 12, B trends down, C is flat."""
    rng = np.random.default_rng(11)
    weeks = pd.date_range("2025-01-06", periods=24, freq="W-MON")
    a = np.r_[rng.normal(10, 0.5, 12), rng.normal(12, 0.5, 12)]
    b = 14 - 0.3 * np.arange(24) + rng.normal(0, 0.1, 24)
    c = np.tile([9.0, 11.0], 12)
    return pd.DataFrame(
        {"unit": np.repeat(["A", "B", "C"], 24), "week": np.tile(weeks, 3), "y": np.r_[a, b, c]}
    )


def _chart(data: pd.DataFrame, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return chart(data, "week", "y", kind="i", by="unit", rules="mdc", **kw)


def _tagged(result) -> set[tuple]:
    """Each signal as (unit, week, rule, direction, run length): what it says, wherever its row."""
    pts = result.points
    s = result.signals
    return {
        (pts["unit"].iloc[p], pts["x"].iloc[p], str(r), int(d), int(n))
        for p, r, d, n in zip(s["point"], s["rule"], s["direction"], s["run_length"], strict=True)
    }


def test_with_points_moves_each_signal_with_its_row_and_drops_the_left_out():
    res = _chart(_three_units())
    assert len(res.signals) > 10  # a shift in A and a trend in B
    kept = res.points[res.points["unit"] != "A"].iloc[::-1]  # A left out, rows reversed
    shown = res.with_points(kept)
    assert shown.points.index.equals(pd.RangeIndex(len(kept)))
    expected = {t for t in _tagged(res) if t[0] != "A"}
    assert _tagged(shown) == expected and len(shown.signals) == len(expected)
    order = shown.signals.sort_values(["rule", "direction", "point"], ascending=[True, False, True])
    assert shown.signals.equals(order.reset_index(drop=True))


def test_with_points_cleared_takes_back_the_signals_of_those_rows():
    res = _chart(_three_units())
    pts = res.points.copy()
    cleared = (pts["unit"] == "B").to_numpy()
    shown = res.with_points(pts, cleared=cleared)
    assert {t[0] for t in _tagged(shown)} == {t[0] for t in _tagged(res)} - {"B"}
    with pytest.raises(ValueError, match="one flag per row"):
        res.with_points(pts, cleared=cleared[:-1])


def test_with_points_refuses_rows_that_are_not_the_results():
    res = _chart(_three_units())
    with pytest.raises(ValueError, match="index labels"):
        res.with_points(res.points.iloc[5:].reset_index(drop=True))


def test_stacked_charts_of_separate_units_signal_as_one_chart_of_all():
    data = _three_units()
    together = _chart(data)
    parts = [_chart(data[data["unit"] == u]) for u in ("A", "B", "C")]
    stacked = stack_results(parts)
    assert _tagged(stacked) == _tagged(together)
    # each pattern keeps its own run number across the parts
    runs = stacked.signals.groupby("run")["run_length"].agg(["first", "size"])
    assert (runs["first"] == runs["size"]).all()


def test_hovers_name_the_rules_from_the_signals_frame_not_the_text():
    res = _chart(_three_units())
    blank = res.points.assign(special_cause="")  # no rule text left in the points
    fig = res.with_points(blank).figure(group="A")
    hovers = " ".join(str(t) for tr in fig.data for t in (tr.text or ()) if t)
    expected = res.signals[res.points["unit"].to_numpy()[res.signals["point"]] == "A"]
    shift = expected[expected["rule"] == "shift"]
    assert len(shift) and f"{shift['run_length'].iloc[0]} points in a row above" in hovers
    assert set(re.findall(r"(\d+) points in a row", hovers)) == {
        str(n) for n in expected.loc[expected["rule"].isin(["shift", "trend"]), "run_length"]
    }
