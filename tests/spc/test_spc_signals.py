"""pxlib.spc.signals.apply_rules called directly (step 5 of ``chart``), on hand-built
values, lines and segments (built the way ``chart`` calls it): point types by
NHSRplotthedots' precedence, the ``special_cause`` text and the tidy signals frame
(its columns, and its rows in rule precedence, then +1 before -1, then point)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pxlib.spc import rules as R
from pxlib.spc.limits import Lines
from pxlib.spc.phases import Segments
from pxlib.spc.signals import SIGNAL_ASCENDING, SIGNAL_COLUMNS, SIGNAL_ORDER, apply_rules

COMMON, IMPROVEMENT, CONCERN, HIGH, LOW = range(5)  # rules.POINT_TYPES codes


def verdict(
    y,
    *,
    cl=0.0,
    sigma=1.0,
    rules=("mdc",),
    kind="i",
    direction=0,
    seg=None,
    include=None,
    shift=7,
    trend=7,
    centre_line="break",
):
    """apply_rules on values ``y`` with constant lines cl +/- 2 and 3 ``sigma``."""
    y = np.asarray(y, dtype=float)
    m = len(y)
    seg = np.zeros(m, dtype=np.int64) if seg is None else np.asarray(seg)
    nseg = int(seg.max()) + 1
    first = np.concatenate(([0], np.flatnonzero(np.diff(seg)) + 1))
    include = np.ones(m, dtype=bool) if include is None else np.asarray(include)
    sg = Segments(
        phase=np.ones(m, dtype=np.int64),
        seg=seg,
        nseg=nseg,
        first=first,
        baseline=np.ones(m, dtype=bool),
        include=include,
        cl_fixed=np.full(nseg, np.nan),
    )
    c = np.full(m, float(cl))
    drawn = {
        "cl": c,
        "lcl": c - 3 * sigma,
        "ucl": c + 3 * sigma,
        "lcl_2s": c - 2 * sigma,
        "ucl_2s": c + 2 * sigma,
    }
    lines = Lines(y=y, spread=np.full(nseg, sigma), **drawn)
    return apply_rules(
        kind,
        list(rules),
        y,
        drawn,
        lines,
        np.full(m, np.nan),
        sg,
        direction=direction,
        shift=shift,
        trend=trend,
        centre_line=centre_line,
        screen_mr=True,
        multiply=1.0,
    )


def rows(v, rule=None):
    """The signals frame as (point, rule, direction, run, run_length) tuples."""
    f = v.signals if rule is None else v.signals[v.signals["rule"] == rule]
    return list(
        zip(
            f["point"].tolist(),
            f["rule"].astype(str).tolist(),
            f["direction"].tolist(),
            f["run"].tolist(),
            f["run_length"].tolist(),
            strict=True,
        )
    )


def test_nothing_fires_on_quiet_data_and_the_frame_keeps_its_columns():
    v = verdict([0.5, -0.5, 0.5, -0.5, 0.5, -0.5], sigma=10)
    assert (v.code == COMMON).all()
    assert not v.mixed.any() and not v.close.any() and not v.sig_dir.any()
    assert list(v.special) == [""] * 6
    assert tuple(v.signals.columns) == SIGNAL_COLUMNS
    assert len(v.signals) == 0
    assert list(v.signals["rule"].cat.categories) == [
        R.RULE_IDS[r] for r in (*R.DIRECTIONAL, R.CROSSINGS, R.IHI_RUNS)
    ]


def test_points_outside_the_limits_and_close_to_them():
    # sigma 1 around 0: 3.5 above the upper limit, -3.2 below the lower, 2.5 beyond the
    # upper 2-sigma line only (close), 3 exactly on the upper limit (not outside: strict)
    v = verdict([0, 3.5, 0, -3.2, 2.5, 0, 3.0, 0], rules=("anhoej",))
    assert v.sig_dir.tolist() == [0, 1, 0, -1, 0, 0, 0, 0]
    assert v.close.tolist() == [False, False, False, False, True, False, True, False]
    assert v.code.tolist() == [COMMON, HIGH, COMMON, LOW] + [COMMON] * 4
    assert rows(v) == [(1, "outside", 1, 0, 1), (3, "outside", -1, 1, 1)]
    assert v.special[1] == "outside limits"


def test_improvement_turns_high_and_low_into_improvement_and_concern():
    y = [0, 3.5, 0, -3.2, 0]
    assert verdict(y, rules=("anhoej",), direction=1).code.tolist() == [0, 1, 0, 2, 0]
    assert verdict(y, rules=("anhoej",), direction=-1).code.tolist() == [0, 2, 0, 1, 0]


def test_a_rising_trend_below_the_line_takes_precedence_over_the_shift():
    # -7 .. -1 then 2: points 0-7 rise (a trend of 8); points 0-6 are 7 below the
    # centre line (a shift); 1 and 2 after it fall then rise again
    y = [-7, -6, -5, -4, -3, -2, -1, 2, 1, 2]
    v = verdict(y, sigma=100)
    # the trend (rising: high) outranks the shift (low), and points 0-6 are mixed
    assert v.code.tolist() == [HIGH] * 8 + [COMMON] * 2
    assert v.mixed.tolist() == [True] * 7 + [False] * 3
    assert v.special[0] == "trend; shift" and v.special[7] == "trend"
    trend_rows = [(p, "trend", 1, 0, 8) for p in range(8)]
    shift_rows = [(p, "shift", -1, 1, 7) for p in range(7)]
    assert rows(v) == trend_rows + shift_rows  # rule precedence first
    assert verdict(y, sigma=100, direction=-1).code.tolist() == [CONCERN] * 8 + [COMMON] * 2


def test_a_peak_shared_by_two_trends_has_a_row_for_each_and_takes_the_right_hand_trend():
    # 1..7 rises over points 0-6, 7..1 falls over points 6-12: the peak (point 6) is in both.
    # The centre line 4 breaks every run on either side (no shift).
    y = [1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1]
    v = verdict(y, cl=4, sigma=100)
    up = [(p, "trend", 1, 0, 7) for p in range(7)]
    down = [(p, "trend", -1, 1, 7) for p in range(6, 13)]
    assert rows(v) == up + down  # +1 rows before -1 rows
    assert (v.signals["point"] == 6).sum() == 2
    # NHSRplotthedots labels the peak by the trend on its right (falling)
    assert v.code.tolist() == [HIGH] * 6 + [LOW] * 7
    assert np.flatnonzero(v.mixed).tolist() == [6]


def test_two_of_three_close_to_the_limits_on_one_side():
    # 2.5 and 2.6 are beyond the 2-sigma line (2), with 0.5 all three above 0
    v = verdict([-0.5, 2.5, 2.6, 0.5, -0.5, 0.5], sigma=1)
    assert v.code.tolist() == [COMMON, HIGH, HIGH, COMMON, COMMON, COMMON]
    # consecutive flagged points on one side form one pattern of 2
    assert rows(v) == [(1, "two_of_three", 1, 0, 2), (2, "two_of_three", 1, 0, 2)]


def test_two_close_points_on_opposite_sides_are_no_signal():
    v = verdict([0.5, 2.5, -2.5, 0.5, -0.5], sigma=1)
    assert not (v.signals["rule"] == "two_of_three").any()
    assert v.close.tolist() == [False, True, True, False, False]


def test_a_point_on_the_centre_line_breaks_the_mdc_shift_unless_skipped():
    y = [1, 1, 1, 0, 1, 1, 1, 1]  # 3 above, one on the line (0), 4 above
    broken = verdict(y, sigma=100, centre_line="break")
    assert not (broken.signals["rule"] == "shift").any()
    skipped = verdict(y, sigma=100, centre_line="skip")
    assert rows(skipped, "shift") == [(p, "shift", 1, 0, 7) for p in (0, 1, 2, 4, 5, 6, 7)]
    assert skipped.code[3] == COMMON


def test_an_excluded_point_neither_counts_nor_breaks_a_shift():
    y = [-1] * 8
    include = [True, True, True, False, True, True, True, True]
    v = verdict(y, sigma=100, include=include, shift=8)
    assert not (v.signals["rule"] == "shift").any()  # 7 useful points, not 8
    v = verdict(y, sigma=100, include=include, shift=7)
    assert [r[0] for r in rows(v, "shift")] == [0, 1, 2, 4, 5, 6, 7]


def test_patterns_stop_at_segment_boundaries_and_runs_are_numbered_across_the_frame():
    # two segments of 7 points below the line: one shift in each, numbered 0 and 1
    v = verdict([-1] * 14, sigma=100, seg=[0] * 7 + [1] * 7, trend=99)
    assert rows(v, "shift") == [(p, "shift", -1, p // 7, 7) for p in range(14)]
    v = verdict([-1] * 14, sigma=100, seg=[0] * 6 + [1] * 8)
    assert [r[0] for r in rows(v, "shift")] == list(range(6, 14))  # 6 is too few


def test_anhoej_longest_run_colours_its_points_and_too_few_crossings_none():
    # cl 0: 8 above then 2 below. n_useful 10: longest-run limit 6, fewest crossings 2
    # (tests/spc/test_spc_rules.py); longest run 8 > 6 and 1 crossing < 2
    y = [1] * 8 + [-1] * 2
    v = verdict(y, sigma=100, rules=("anhoej",))
    assert v.stats["runs_signal"].tolist() == [True]
    assert v.stats["crossings_signal"].tolist() == [True]
    assert v.code.tolist() == [HIGH] * 8 + [COMMON] * 2
    assert rows(v, "long_run") == [(p, "long_run", 1, 0, 8) for p in range(8)]
    # too few crossings: a property of the phase, on each point with a value, direction 0
    assert rows(v, "crossings") == [(p, "crossings", 0, 1, 10) for p in range(10)]
    assert v.special[9] == "too few crossings (Anhøj)"
    assert v.special[0] == "longest run (Anhøj); too few crossings (Anhøj)"


def test_an_mr_chart_never_signals_runs():
    v = verdict([1] * 8 + [-1] * 2, sigma=100, rules=("anhoej",), kind="mr")
    assert v.stats["runs_signal"].tolist() == [False]
    assert not v.signals["rule"].isin(["long_run", "crossings"]).any()
    assert (v.code == COMMON).all()


def test_ihi_shift_of_six_and_trend_of_five_with_ties_skipped():
    # 6 below the centre line, then 6 above (two IHI shifts of 6); the values after
    # the first six, 1, 2, 2, 3, 4, 5: with the tie skipped the rises chain into a trend
    # (IHI trend 5) from the last -1 on
    y = [-1] * 6 + [1, 2, 2, 3, 4, 5]
    v = verdict(y, sigma=100, rules=("ihi",))
    above = [(p, "ihi_shift", 1, 0, 6) for p in range(6, 12)]
    below = [(p, "ihi_shift", -1, 1, 6) for p in range(6)]
    assert rows(v, "ihi_shift") == above + below
    assert [r[0] for r in rows(v, "ihi_trend")] == list(range(5, 12))  # -1 -> 1 rises too
    assert v.code[:5].tolist() == [LOW] * 5


def test_the_frame_is_sorted_by_rule_precedence_then_direction_then_point():
    y = [-7, -6, -5, -4, -3, -2, -1, 2, 1, 2, 3.5, -3.2] + [1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2]
    v = verdict(y, sigma=1.5, rules=("mdc", "anhoej", "ihi"))
    f = v.signals
    assert len(f) > 20
    assert set(f["rule"].astype(str)) >= {"outside", "trend", "shift", "ihi_shift"}
    expected = f.sort_values(SIGNAL_ORDER, ascending=SIGNAL_ASCENDING, kind="stable")
    pd.testing.assert_frame_equal(f, expected.reset_index(drop=True))
    # each (rule, point, direction) once; runs numbered in frame order from 0
    assert not f.duplicated(["rule", "point", "direction"]).any()
    assert f["run"].is_monotonic_increasing and f["run"].iloc[0] == 0


def test_every_point_named_in_special_cause_has_a_row_and_no_other():
    y = [-7, -6, -5, -4, -3, -2, -1, 2, 1, 2, 3.5, -3.2, 0.1, 0.2]
    v = verdict(y, sigma=1.5, rules=("mdc",))
    named = {i for i, text in enumerate(v.special) if text}
    assert set(v.signals["point"]) == named
