"""pxlib.spc.segments called directly: every vectorised segment operation against the
same statistic computed independently per segment (pandas groupby, numpy on each
slice, or by hand), with NaNs, one-point segments, empty segments and empty masks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pxlib.spc import segments as S

# segment sizes 3, 1, 0 (empty), 4: nseg = 4
SEG = np.array([0, 0, 0, 1, 3, 3, 3, 3])
VALUES = np.array([1.0, 2.0, 6.0, 5.0, 4.0, np.nan, 2.0, 9.0])
NSEG = 4


def by_hand(fn, values, seg, nseg, mask=None):
    """``fn`` applied to each segment's values alone (NaN for none)."""
    keep = np.ones(len(values), dtype=bool) if mask is None else mask
    out = []
    for k in range(nseg):
        v = values[(seg == k) & keep]
        out.append(fn(v))
    return np.array(out, dtype=float)


def random_case(seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 8, size=12)
    seg = np.repeat(np.arange(len(sizes)), sizes)
    values = rng.normal(size=len(seg)).round(2)
    values[rng.random(len(seg)) < 0.2] = np.nan
    mask = rng.random(len(seg)) < 0.7
    return values, seg, len(sizes), mask


def test_seg_sum_worked_by_hand():
    finite = np.nan_to_num(VALUES)
    # 1 + 2 + 6 = 9; 5; nothing; 4 + 2 + 9 = 15 (NaN given as 0 here)
    assert S.seg_sum(finite, SEG, NSEG).tolist() == [9.0, 5.0, 0.0, 15.0]
    mask = np.array([True, False, True, False, False, False, True, True])
    assert S.seg_sum(finite, SEG, NSEG, mask).tolist() == [7.0, 0.0, 0.0, 11.0]


def test_seg_count_with_and_without_a_mask():
    assert S.seg_count(SEG, NSEG).tolist() == [3, 1, 0, 4]
    assert S.seg_count(SEG, NSEG, np.zeros(8, dtype=bool)).tolist() == [0, 0, 0, 0]
    assert S.seg_count(SEG, NSEG).dtype == float


def test_seg_nanmean_skips_nan_and_is_nan_for_a_segment_without_values():
    out = S.seg_nanmean(VALUES, SEG, NSEG)
    # 9/3 = 3; 5; empty -> NaN; (4 + 2 + 9)/3 = 5 (the NaN skipped)
    np.testing.assert_array_equal(out, [3.0, 5.0, np.nan, 5.0])
    out = S.seg_nanmean(VALUES, SEG, NSEG, np.zeros(8, dtype=bool))
    assert np.isnan(out).all()


def test_seg_nanmedian_odd_even_and_one_point_segments():
    out = S.seg_nanmedian(VALUES, SEG, NSEG)
    # [1, 2, 6] -> 2; [5] -> 5; [] -> NaN; [4, 2, 9] (NaN skipped) -> 4
    np.testing.assert_array_equal(out, [2.0, 5.0, np.nan, 4.0])
    mask = np.array([True, True, False, True, True, True, True, False])
    # [1, 2] -> 1.5 (mean of the middle two, as R); [5]; []; [4, 2] -> 3
    np.testing.assert_array_equal(S.seg_nanmedian(VALUES, SEG, NSEG, mask), [1.5, 5, np.nan, 3])


def test_seg_nanmedian_does_not_need_sorted_values_within_a_segment():
    values = np.array([9.0, 1.0, 5.0, 3.0, 8.0, 2.0])
    seg = np.array([0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(S.seg_nanmedian(values, seg, 2), [5.0, 3.0])


def test_seg_min_max_with_infinities_for_empty_segments():
    mask = np.isfinite(VALUES)
    lo, hi = S.seg_min_max(VALUES, SEG, NSEG, mask)
    assert lo.tolist() == [1.0, 5.0, np.inf, 2.0]
    assert hi.tolist() == [6.0, 5.0, -np.inf, 9.0]
    lo, hi = S.seg_min_max(VALUES, SEG, NSEG, np.zeros(8, dtype=bool))
    assert (lo == np.inf).all() and (hi == -np.inf).all()


def test_seg_first_index_including_an_empty_segment():
    # segments of 3, 1, 0, 4 points start at 0, 3, 4 (empty: where it would start), 4
    assert S.seg_first_index(SEG, NSEG).tolist() == [0, 3, 4, 4]
    assert S.seg_first_index(np.array([0]), 1).tolist() == [0]


@pytest.mark.parametrize("seed", range(5))
def test_sums_counts_means_medians_equal_pandas_groupby(seed):
    values, seg, nseg, mask = random_case(seed)
    ok = mask & np.isfinite(values)
    frame = pd.DataFrame({"seg": seg[ok], "v": values[ok]})
    grouped = frame.groupby("seg")["v"]
    full = pd.RangeIndex(nseg)
    np.testing.assert_allclose(
        S.seg_sum(values, seg, nseg, ok), grouped.sum().reindex(full, fill_value=0.0)
    )
    np.testing.assert_array_equal(
        S.seg_count(seg, nseg, ok), grouped.size().reindex(full, fill_value=0)
    )
    np.testing.assert_allclose(S.seg_nanmean(values, seg, nseg, mask), grouped.mean().reindex(full))
    np.testing.assert_allclose(
        S.seg_nanmedian(values, seg, nseg, mask), grouped.median().reindex(full)
    )
    lo, hi = S.seg_min_max(values, seg, nseg, ok)
    np.testing.assert_array_equal(lo, grouped.min().reindex(full, fill_value=np.inf))
    np.testing.assert_array_equal(hi, grouped.max().reindex(full, fill_value=-np.inf))


def test_moving_ranges_are_nan_across_boundaries_and_next_to_missing_values():
    values = np.array([1.0, 4.0, 2.0, 10.0, np.nan, 7.0, 8.0])
    seg = np.array([0, 0, 0, 1, 1, 1, 1])
    mr, mseg = S.moving_ranges(values, seg)
    # |4-1| = 3, |2-4| = 2, 2 -> 10 crosses segments, 10/NaN, NaN/7, |8-7| = 1
    np.testing.assert_array_equal(mr, [3.0, 2.0, np.nan, np.nan, np.nan, 1.0])
    assert mseg.tolist() == [0, 0, 1, 1, 1, 1]


def test_moving_ranges_of_fewer_than_two_values_are_empty():
    for n in (0, 1):
        mr, mseg = S.moving_ranges(np.ones(n), np.zeros(n, dtype=np.int64))
        assert len(mr) == len(mseg) == 0


def test_average_moving_range_skips_masked_points_so_a_range_spans_them():
    values = np.array([1.0, 100.0, 3.0, 6.0])
    mask = np.array([True, False, True, True])  # 100 excluded
    # ranges of 1, 3, 6: 2 and 3, average 2.5
    amr = S.average_moving_range(values, np.zeros(4, dtype=int), 1, mask, screen=False)
    assert amr.tolist() == [2.5]


def test_average_moving_range_screens_ranges_of_3_267_amr_and_more():
    values = np.array([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 20], dtype=float)
    seg = np.zeros(11, dtype=int)
    mask = np.ones(11, dtype=bool)
    # nine ranges of 1 and one of 19: AMR 28/10 = 2.8; 19 >= 3.267 * 2.8 = 9.15 is dropped,
    # leaving nine ranges of 1: AMR 1
    assert S.average_moving_range(values, seg, 1, mask, screen=False).tolist() == [2.8]
    assert S.average_moving_range(values, seg, 1, mask, screen=True).tolist() == [1.0]


def test_average_moving_range_of_a_one_point_segment_is_nan():
    values = np.array([1.0, 2.0, 4.0, 7.0])
    seg = np.array([0, 1, 1, 1])
    amr = S.average_moving_range(values, seg, 2, np.ones(4, dtype=bool), screen=True)
    # segment 0 has no range; segment 1: |4-2| = 2, |7-4| = 3 -> 2.5 (3 < 3.267 * 2.5)
    np.testing.assert_array_equal(amr, [np.nan, 2.5])


@pytest.mark.parametrize("seed", range(4))
def test_average_moving_range_over_segments_equals_each_segment_alone(seed):
    values, seg, nseg, mask = random_case(seed)
    together = S.average_moving_range(values, seg, nseg, mask, screen=True)

    def alone(k):
        at = (seg == k) & mask
        v = values[at]
        mr = np.abs(np.diff(v))
        mr = mr[np.isfinite(mr)]
        if not len(mr):
            return np.nan
        amr = mr.mean()
        return mr[mr < 3.267 * amr].mean()

    np.testing.assert_allclose(together, [alone(k) for k in range(nseg)])
