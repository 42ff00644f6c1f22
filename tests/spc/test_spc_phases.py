"""pxlib.spc.phases called directly (step 3 of ``chart``): phase numbers, segments,
baseline, exclusions and fixed centre lines for hand-built points (two groups of
x = 1..5, sorted by group then x, as :func:`pxlib.spc.aggregate.subgroups` gives them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pxlib.errors import ChartError, ChartWarning
from pxlib.spc.phases import fixed_cl, membership, phase_numbers, segments

# group A: x = 1..5 (points 0-4); group B: x = 1..5 (points 5-9)
G = np.repeat([0, 1], 5)
XC = np.tile(np.arange(5), 2)
XUNIQ = pd.Index([1, 2, 3, 4, 5])
LABELS = pd.DataFrame({"ward": ["A", "B"]})
BY = ["ward"]


def sub(label=None):
    out = {"gid": G, "xcode": XC}
    if label is not None:
        out["label"] = np.asarray(label, dtype=object)
    return out


def run_segments(phases=None, freeze=None, exclude=None, cl=None, multiply=1.0, label=None):
    notes: list[str] = []
    sg = segments(
        sub(label),
        XUNIQ,
        LABELS,
        BY,
        phases=phases,
        freeze=freeze,
        exclude=exclude,
        cl=cl,
        multiply=multiply,
        notes=notes,
    )
    return sg, notes


def test_without_options_each_group_is_one_segment_all_baseline_all_included():
    sg, notes = run_segments()
    assert sg.phase.tolist() == [1] * 10
    assert sg.seg.tolist() == [0] * 5 + [1] * 5
    assert sg.nseg == 2
    assert sg.first.tolist() == [0, 5]
    assert sg.baseline.all() and sg.include.all()
    assert np.isnan(sg.cl_fixed).all()
    assert notes == []


def test_a_list_of_phase_starts_applies_to_every_group():
    # a new phase at the first x >= 3 in each group: x 1-2 phase 1, x 3-5 phase 2
    sg, _ = run_segments(phases=[3])
    assert sg.phase.tolist() == [1, 1, 2, 2, 2] * 2
    assert sg.seg.tolist() == [0, 0, 1, 1, 1, 2, 2, 3, 3, 3]
    assert sg.first.tolist() == [0, 2, 5, 7]


def test_a_phase_start_between_x_values_starts_at_the_next_x():
    sg, _ = run_segments(phases=[2.5])  # first x >= 2.5 is 3
    assert sg.phase.tolist() == [1, 1, 2, 2, 2] * 2


def test_phases_per_group_as_a_dict():
    # A: new phases at x 2 and 4; B: none given, one phase
    sg, _ = run_segments(phases={"A": [2, 4]})
    assert sg.phase.tolist() == [1, 2, 2, 3, 3] + [1] * 5
    assert sg.nseg == 4


def test_a_phase_label_column_starts_a_phase_wherever_the_label_changes():
    label = ["a", "a", "b", "b", "a", "b", "b", "b", "c", "c"]
    sg, _ = run_segments(phases="stage", label=label)
    # A: a a | b b | a -> 1 1 2 2 3; B starts afresh: b b b | c c -> 1 1 1 2 2
    assert sg.phase.tolist() == [1, 1, 2, 2, 3, 1, 1, 1, 2, 2]


def test_phase_numbers_restart_in_each_group():
    # the label does not change between group A's last point and B's first: still phase 1
    label = np.array(["a", "a", "a", "a", "b", "b", "b", "b", "b", "b"], dtype=object)
    out = phase_numbers("stage", G, XC, XUNIQ, label, LABELS, BY, {})
    assert out.tolist() == [1, 1, 1, 1, 2, 1, 1, 1, 1, 1]


def test_freeze_makes_the_first_points_of_each_phase_the_baseline():
    sg, _ = run_segments(phases=[3], freeze=2)
    # phases of 2 and 3 points per group: the first 2 of each are baseline
    assert sg.baseline.tolist() == [True, True, True, True, False] * 2


def test_exclude_marks_points_by_x_and_notes_values_that_are_no_x():
    sg, notes = run_segments(exclude=[2, 5, 9])
    assert sg.include.tolist() == [True, False, True, True, False] * 2
    assert notes == ["exclude: 1 value(s) are not x values of the data"]


def test_exclude_per_group():
    sg, _ = run_segments(exclude={"B": [1]})
    assert np.flatnonzero(~sg.include).tolist() == [5]


def test_membership_matches_exact_x_only():
    notes: list[str] = []
    out = membership([1.5, 4], "exclude", G, XC, XUNIQ, LABELS, BY, notes, {})
    assert np.flatnonzero(out).tolist() == [3, 8]  # x = 4 in each group; 1.5 is no x
    assert len(notes) == 1
    assert not membership(None, "exclude", G, XC, XUNIQ, LABELS, BY, [], {}).any()


def test_membership_with_dates_given_as_text():
    xuniq = pd.DatetimeIndex(pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15"]))
    g = np.zeros(3, dtype=np.int64)
    xc = np.arange(3)
    labels = pd.DataFrame(index=[0])
    out = membership(["2024-01-08"], "exclude", g, xc, xuniq, labels, [], [], {})
    assert out.tolist() == [False, True, False]


def test_a_dict_key_naming_no_group_is_warned_about_and_ignored():
    with pytest.warns(ChartWarning, match="exclude: no group 'Z' in the data"):
        sg, _ = run_segments(exclude={"Z": [1]})
    assert sg.include.all()


def test_fixed_cl_is_in_the_units_before_multiply_for_every_segment():
    seg_gid = np.array([0, 0, 1, 1])  # four segments, two per group
    out = fixed_cl(50.0, seg_gid, LABELS, BY, 100.0, 4, {})
    assert out.tolist() == [0.5] * 4  # 50 % / 100
    out = fixed_cl({"B": 20}, seg_gid, LABELS, BY, 100.0, 4, {})
    np.testing.assert_array_equal(out, [np.nan, np.nan, 0.2, 0.2])
    assert np.isnan(fixed_cl(None, seg_gid, LABELS, BY, 1.0, 4, {})).all()


def test_fixed_cl_refuses_what_is_not_a_number_naming_the_group():
    seg_gid = np.array([0, 1])
    with pytest.raises(
        ChartError, match="cl must be a number or a dict of numbers per group, not 'x'"
    ):
        fixed_cl("x", seg_gid, LABELS, BY, 1.0, 2, {})
    with pytest.raises(ChartError, match="cl for group 'A' must be a number, not None"):
        fixed_cl({"A": None}, seg_gid, LABELS, BY, 1.0, 2, {})


def test_segments_give_the_fixed_cl_per_segment():
    sg, _ = run_segments(phases=[3], cl={"A": 3.0}, multiply=1.0)
    np.testing.assert_array_equal(sg.cl_fixed, [3.0, 3.0, np.nan, np.nan])


def test_phases_that_cannot_be_compared_with_x_are_refused():
    with pytest.raises(
        ChartError,
        match=r"phases values \[.*\] cannot be compared with the x values \(x holds numbers\)",
    ):
        run_segments(phases=["soon"])


def test_a_dict_of_phases_without_groups_is_refused():
    g = np.zeros(3, dtype=np.int64)
    with pytest.raises(ChartError, match="phases is a dict but the chart has no groups"):
        phase_numbers({"A": [2]}, g, np.arange(3), XUNIQ[:3], None, pd.DataFrame(index=[0]), [], {})
