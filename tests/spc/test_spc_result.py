"""SPCResult.with_points and stack_results keep the tidy signals frame in step with
the points, and figures read their rule words from that frame."""

from __future__ import annotations

import dataclasses
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


def _random_charts():
    """Charts of every rule set on series with shifts, trends, ties and gaps."""
    rng = np.random.default_rng(2026)
    weeks = pd.date_range("2025-01-06", periods=40, freq="W-MON")
    for seed in range(12):
        level = np.where(np.arange(40) >= rng.integers(10, 30), rng.normal(0, 2), 0.0)
        trend = np.arange(40) * rng.choice([0.0, 0.15, -0.15])
        y = np.round(10 + level + trend + rng.normal(0, 1, 40), int(seed % 3))
        y[rng.integers(0, 40, 2)] = np.nan
        data = pd.DataFrame({"week": weeks, "y": y, "unit": f"U{seed % 3}"})
        for rules in (["mdc"], ["anhoej"], ["ihi"], ["anhoej", "mdc", "ihi"]):
            for kind in ("i", "run"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    yield chart(data, "week", "y", kind=kind, by="unit", rules=rules)


def test_rules_at_names_each_point_with_the_rules_its_special_cause_text_lists():
    # two outputs of the engine that must agree: the tidy signals frame and the text
    from pxlib.spc.rules import LABEL_OF_ID

    seen = set()
    for res in _random_charts():
        text = res.points["special_cause"].astype(str).tolist()
        at = res.rules_at()
        assert at.index.equals(res.points.index)
        assert ["; ".join(LABEL_OF_ID[r] for r in rules) for rules in at] == text
        assert res.flagged().tolist() == [t != "" for t in text]
        outside = res.flagged(["outside", "astronomical"]).tolist()
        assert outside == [("outside limits" in t or "astronomical" in t) for t in text]
        seen.update(r for rules in at for r in rules)
    assert {"outside", "shift", "trend", "long_run", "crossings", "ihi_shift"} <= seen


def test_rules_at_and_flagged_need_the_engines_signals_frame():
    res = _chart(_three_units())
    hand_built = dataclasses.replace(res, signals=None)
    with pytest.raises(ValueError, match="signals frame"):
        hand_built.rules_at()
    with pytest.raises(ValueError, match="signals frame"):
        hand_built.flagged()


def test_rules_at_follows_the_rows_that_with_points_keeps():
    res = _chart(_three_units())
    kept = res.points[res.points["unit"] != "A"].iloc[::-1]
    moved = res.with_points(kept)
    assert moved.rules_at().tolist() == res.rules_at().loc[kept.index].tolist()
