"""pxlib.spc.rules called directly: the Anhøj limits against the published table and an
independent binomial quantile, and each rule function on arrays small enough to check
on paper (expected values worked out in the comments), plus the property that a rule
over several segments at once equals the rule on each segment alone."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from pxlib.spc import rules as R


def one_seg(m: int) -> np.ndarray:
    return np.zeros(m, dtype=np.int64)


def on(m: int) -> np.ndarray:
    return np.ones(m, dtype=bool)


# --- anhoej_limits ----------------------------------------------------------------


# /work/shared/methods/spc.md, "Spot values (n_useful: limit / minimum)" (Anhøj & Olesen
# 2014's table, as qicharts2 computes it); n=20 -> 7/6 from the brief.
ANHOEJ_TABLE = {
    10: (6, 2), 12: (7, 3), 14: (7, 4), 17: (7, 5), 19: (7, 6), 20: (7, 6), 22: (7, 7),
    23: (8, 7), 24: (8, 8), 27: (8, 9), 29: (8, 10), 30: (8, 10), 40: (8, 14), 50: (9, 19),
    60: (9, 23), 100: (10, 41),
}  # fmt: skip


def test_anhoej_limits_match_the_published_table():
    n = np.array(sorted(ANHOEJ_TABLE), dtype=float)
    lr_max, cr_min = R.anhoej_limits(n)
    assert lr_max.tolist() == [ANHOEJ_TABLE[k][0] for k in sorted(ANHOEJ_TABLE)]
    assert cr_min.tolist() == [ANHOEJ_TABLE[k][1] for k in sorted(ANHOEJ_TABLE)]


def test_anhoej_limits_equal_log2_rule_and_scipy_binomial_quantile_for_n_2_to_300():
    n = np.arange(2, 301)
    lr_max, cr_min = R.anhoej_limits(n)
    # round half to even (R and numpy): log2(n) is never exactly k + 1/2 for whole n,
    # so Python's round gives the same integers
    assert lr_max.tolist() == [round(math.log2(k)) + 3 for k in n]
    assert cr_min.tolist() == binom.ppf(0.05, n - 1, 0.5).tolist()


def test_anhoej_limits_worked_by_hand_for_n_10():
    # Binomial(9, 0.5): P(X <= 1) = (1 + 9) / 512 = 0.0195 < 0.05 and
    # P(X <= 2) = (1 + 9 + 36) / 512 = 0.0898 >= 0.05, so the 5 % quantile is 2;
    # log2(10) = 3.32 rounds to 3, + 3 = 6
    lr_max, cr_min = R.anhoej_limits([10])
    assert (lr_max[0], cr_min[0]) == (6, 2)


def test_anhoej_limits_are_nan_for_no_useful_point_and_zero_crossings_for_one():
    # n = 1: round(log2 1) + 3 = 3, and a single point has n - 1 = 0 crossings to expect
    lr_max, cr_min = R.anhoej_limits([0, 1])
    assert np.isnan(lr_max[0]) and np.isnan(cr_min[0])
    assert (lr_max[1], cr_min[1]) == (3, 0)


# --- sides, runs_of, sigma_signal, point_runs --------------------------------------


def test_sides_drop_missing_values_masked_points_and_optionally_the_centre_line():
    y = np.array([3.0, 1.0, 2.0, np.nan, 5.0, 0.0])
    cl = np.full(6, 2.0)
    mask = np.array([True, True, True, True, True, False])
    seg = np.array([0, 0, 0, 1, 1, 1])
    idx, side, sg = R.sides(y, cl, mask, seg)
    # 3 > 2 above, 1 < 2 below, 2 on the line (dropped), NaN dropped, 5 above, 0 masked
    assert idx.tolist() == [0, 1, 4]
    assert side.tolist() == [1, -1, 1]
    assert sg.tolist() == [0, 0, 1]
    idx, side, _ = R.sides(y, cl, mask, seg, skip_centre=False)
    assert idx.tolist() == [0, 1, 2, 4]
    assert side.tolist() == [1, -1, 0, 1]


def test_runs_of_numbers_consecutive_equal_pairs_within_a_segment():
    key_seg = np.array([0, 0, 0, 1, 1, 1])
    key_val = np.array([1, 1, -1, -1, -1, 1])
    new, run_id, length = R.runs_of(key_seg, key_val)
    # runs: (0,+1) x2 | (0,-1) x1 | (1,-1) x2 (new segment starts a run) | (1,+1) x1
    assert new.tolist() == [True, False, True, True, False, True]
    assert run_id.tolist() == [0, 0, 1, 2, 2, 3]
    assert length.tolist() == [2, 1, 2, 1]
    new, run_id, length = R.runs_of(np.zeros(0, dtype=int), np.zeros(0))
    assert len(new) == len(run_id) == len(length) == 0


def test_sigma_signal_is_strict_and_silent_without_limits():
    y = np.array([10.0, 10.5, -1.0, -1.5, 4.0, 99.0])
    lcl = np.array([-1.0, -1.0, -1.0, -1.0, -1.0, np.nan])
    ucl = np.array([10.0, 10.0, 10.0, 10.0, 10.0, np.nan])
    # on a limit is not beyond it; NaN limits never signal
    assert R.sigma_signal(y, lcl, ucl).tolist() == [0, 1, 0, -1, 0, 0]


def test_point_runs_join_consecutive_flagged_points_of_one_side_and_segment():
    direction = np.array([1, 1, 0, 1, -1, -1, 1, 1], dtype=np.int8)
    mask = on(8)
    seg = np.array([0, 0, 0, 0, 0, 0, 0, 1])
    found = R.point_runs(direction, mask, seg)
    # {0,1} above | {3} above (2 unflagged between) | {4,5} below | {6} | {7} (new segment)
    assert found.points.tolist() == [0, 1, 3, 4, 5, 6, 7]
    assert found.run.tolist() == [0, 0, 1, 2, 2, 3, 4]
    assert found.length.tolist() == [2, 2, 1, 2, 2, 1, 1]


def test_point_runs_count_positions_among_the_mask_so_a_skipped_point_does_not_break():
    direction = np.array([1, 0, 1], dtype=np.int8)
    mask = np.array([True, False, True])  # point 1 is not useful: 0 and 2 are neighbours
    found = R.point_runs(direction, mask, one_seg(3))
    assert found.run.tolist() == [0, 0]
    assert found.length.tolist() == [2, 2]
    assert len(R.point_runs(np.zeros(3, dtype=np.int8), mask, one_seg(3)).points) == 0


# --- shift_rule -----------------------------------------------------------------------


def test_shift_of_seven_above_the_line():
    y = np.array([5, 6, 7, 5, 6, 7, 5, 1], dtype=float)
    cl = np.full(8, 4.0)
    # points 0-6 above 4 (7 points), point 7 below
    out = R.shift_rule(y, cl, on(8), one_seg(8), 7, skip_centre=False)
    assert out.tolist() == [1, 1, 1, 1, 1, 1, 1, 0]
    out = R.shift_rule(y, cl, on(8), one_seg(8), 8, skip_centre=False)
    assert not out.any()


def test_a_point_on_the_centre_line_breaks_a_shift_or_is_skipped_without_counting():
    # 4 above, one on the line, 3 above: with "break" two runs of 4 and 3 (no shift of 7);
    # with "skip" one run of 7 points above, the point on the line neither counts nor flags
    y = np.array([5, 5, 5, 5, 4, 5, 5, 5], dtype=float)
    cl = np.full(8, 4.0)
    assert not R.shift_rule(y, cl, on(8), one_seg(8), 7, skip_centre=False).any()
    out, runs = R.shift_rule(y, cl, on(8), one_seg(8), 7, skip_centre=True, runs=True)
    assert out.tolist() == [1, 1, 1, 1, 0, 1, 1, 1]
    assert runs.points.tolist() == [0, 1, 2, 3, 5, 6, 7]
    assert runs.length.tolist() == [7] * 7
    # skipped, it does not count: 4 + 3 points make no shift of 8
    assert not R.shift_rule(y, cl, on(8), one_seg(8), 8, skip_centre=True).any()


def test_a_missing_value_neither_breaks_nor_counts_in_a_shift():
    # 3 below, NaN, 3 below: one run of 6 useful points (not 7)
    y = np.array([1, 1, 1, np.nan, 1, 1, 1], dtype=float)
    cl = np.full(7, 2.0)
    out = R.shift_rule(y, cl, on(7), one_seg(7), 6, skip_centre=False)
    assert out.tolist() == [-1, -1, -1, 0, -1, -1, -1]
    assert not R.shift_rule(y, cl, on(7), one_seg(7), 7, skip_centre=False).any()


def test_a_shift_does_not_run_across_a_segment_boundary():
    y = np.full(8, 5.0)
    cl = np.full(8, 4.0)
    seg = np.array([0, 0, 0, 0, 1, 1, 1, 1])  # 4 + 4 above, never 7 in one segment
    assert not R.shift_rule(y, cl, on(8), seg, 7, skip_centre=False).any()
    assert R.shift_rule(y, cl, on(8), seg, 4, skip_centre=False).tolist() == [1] * 8


# --- trend_rule -----------------------------------------------------------------------


def test_trend_of_strictly_rising_points():
    y = np.array([1, 2, 3, 4, 5, 4], dtype=float)
    up, down = R.trend_rule(y, on(6), one_seg(6), 5, skip_ties=False)
    # 1..5 rise over 5 points; the last fall (5 -> 4) is 2 points only
    assert up.tolist() == [True] * 5 + [False]
    assert not down.any()
    up, _ = R.trend_rule(y, on(6), one_seg(6), 6, skip_ties=False)
    assert not up.any()


def test_a_tie_breaks_a_trend_unless_ties_are_skipped():
    y = np.array([1, 2, 3, 3, 4, 5, 6], dtype=float)
    # steps + + 0 + + +: with ties breaking, rising runs of 3 points (0-2) and 4 (3-6);
    # neither reaches 5. Skipping the tie, the five rises chain: points 0-6 all rising.
    up, down = R.trend_rule(y, on(7), one_seg(7), 5, skip_ties=False)
    assert not up.any() and not down.any()
    up, down = R.trend_rule(y, on(7), one_seg(7), 5, skip_ties=True)
    assert up.all() and not down.any()


def test_a_peak_between_two_trends_is_in_both_and_in_one_run_of_each():
    y = np.array([1, 2, 3, 4, 5, 4, 3, 2, 1], dtype=float)
    up, down, up_runs, down_runs = R.trend_rule(y, on(9), one_seg(9), 5, False, runs=True)
    assert np.flatnonzero(up).tolist() == [0, 1, 2, 3, 4]
    assert np.flatnonzero(down).tolist() == [4, 5, 6, 7, 8]
    assert up_runs.points.tolist() == [0, 1, 2, 3, 4]
    assert down_runs.points.tolist() == [4, 5, 6, 7, 8]
    assert up_runs.length.tolist() == down_runs.length.tolist() == [5] * 5


def test_a_missing_value_is_skipped_by_a_trend():
    y = np.array([1, 2, np.nan, 3, 4, 5], dtype=float)
    # the useful points 1, 2, 3, 4, 5 rise: a trend of 5 that leaves the gap unflagged
    up, _ = R.trend_rule(y, on(6), one_seg(6), 5, skip_ties=False)
    assert up.tolist() == [True, True, False, True, True, True]


# --- anhoej ---------------------------------------------------------------------------


def test_anhoej_worked_by_hand():
    # cl 0; signs + + + - 0 - + + + + + + + + (the 0 is on the line and dropped)
    y = np.array([1, 1, 1, -1, 0, -1, 1, 1, 1, 1, 1, 1, 1, 1], dtype=float)
    m = len(y)
    stats, long_dir = R.anhoej(y, np.zeros(m), on(m), one_seg(m), 1)
    # 13 useful points in runs of 3, 2, 8: longest 8, 2 crossings;
    # limits for 13: round(log2 13 = 3.70) + 3 = 7; Binomial(12, .5): P(X<=2) = 79/4096
    # = 0.019, P(X<=3) = 299/4096 = 0.073, so at least 3 crossings
    assert stats["n_useful"].tolist() == [13]
    assert stats["longest_run"].tolist() == [8]
    assert stats["longest_run_max"].tolist() == [7]
    assert stats["n_crossings"].tolist() == [2]
    assert stats["n_crossings_min"].tolist() == [3]
    assert stats["runs_signal"].tolist() == [True]
    assert stats["crossings_signal"].tolist() == [True]
    # the run of 8 (points 6-13) is longer than 7: those points take its side
    assert long_dir.tolist() == [0] * 6 + [1] * 8


def test_anhoej_of_a_segment_with_no_useful_point():
    y = np.array([1.0, -1.0, np.nan, np.nan])
    seg = np.array([0, 0, 1, 1])
    stats, long_dir = R.anhoej(y, np.zeros(4), on(4), seg, 2)
    assert stats["n_useful"].tolist() == [2, 0]
    assert np.isnan(stats["longest_run"][1]) and np.isnan(stats["n_crossings"][1])
    assert stats["runs_signal"].tolist() == [False, False]
    assert not long_dir.any()


def random_segments(rng, sizes):
    seg = np.repeat(np.arange(len(sizes)), sizes)
    y = rng.normal(size=len(seg)).round(1)
    y[rng.random(len(seg)) < 0.1] = np.nan
    y[: min(3, len(y))] += 3.0  # a run to find in the first segment
    cl = np.repeat(rng.normal(scale=0.3, size=len(sizes)).round(1), sizes)
    include = rng.random(len(seg)) > 0.1
    return y, cl, include, seg


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_anhoej_over_several_segments_equals_each_segment_alone(seed):
    rng = np.random.default_rng(seed)
    sizes = [1, 12, 30, 5, 24, 60]
    y, cl, include, seg = random_segments(rng, sizes)
    stats, long_dir = R.anhoej(y, cl, include, seg, len(sizes))
    for k in range(len(sizes)):
        at = seg == k
        alone, alone_dir = R.anhoej(y[at], cl[at], include[at], one_seg(int(at.sum())), 1)
        for key, v in alone.items():
            np.testing.assert_array_equal(stats[key][k : k + 1], v, err_msg=key)
        np.testing.assert_array_equal(long_dir[at], alone_dir)


@pytest.mark.parametrize("seed", [3, 4])
def test_shift_and_trend_over_several_segments_equal_each_segment_alone(seed):
    rng = np.random.default_rng(seed)
    sizes = [9, 2, 15, 20]
    y, cl, include, seg = random_segments(rng, sizes)
    y = np.where(np.isfinite(y), np.cumsum(np.nan_to_num(y)), np.nan)  # trends to find
    useful = include & np.isfinite(y)
    shift = R.shift_rule(y, cl, useful, seg, 4, skip_centre=True)
    up, down = R.trend_rule(y, useful, seg, 4, skip_ties=False)
    for k in range(len(sizes)):
        at = seg == k
        s0 = one_seg(int(at.sum()))
        np.testing.assert_array_equal(
            shift[at], R.shift_rule(y[at], cl[at], useful[at], s0, 4, True)
        )
        u, d = R.trend_rule(y[at], useful[at], s0, 4, False)
        np.testing.assert_array_equal(up[at], u)
        np.testing.assert_array_equal(down[at], d)
