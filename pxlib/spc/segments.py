"""Segment operations: sums, means, medians and moving ranges over contiguous
segments (one segment = one group and phase) of a sorted array, without a
Python loop over segments."""

from __future__ import annotations

import numpy as np

from pxlib.spc.constants import D4


def seg_sum(
    values: np.ndarray, seg: np.ndarray, nseg: int, mask: np.ndarray | None = None
) -> np.ndarray:
    """Sum of ``values`` per segment (NaN-free input expected where ``mask`` is true)."""
    if mask is not None:
        return np.bincount(seg[mask], weights=values[mask], minlength=nseg)
    return np.bincount(seg, weights=values, minlength=nseg)


def seg_count(seg: np.ndarray, nseg: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Number of elements per segment (where ``mask`` is true)."""
    if mask is not None:
        seg = seg[mask]
    return np.bincount(seg, minlength=nseg).astype(float)


def seg_nanmean(
    values: np.ndarray, seg: np.ndarray, nseg: int, mask: np.ndarray | None = None
) -> np.ndarray:
    """Mean of the finite ``values`` per segment; NaN for a segment with none."""
    ok = np.isfinite(values)
    if mask is not None:
        ok &= mask
    total = seg_sum(values, seg, nseg, ok)
    count = seg_count(seg, nseg, ok)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)


def seg_nanmedian(
    values: np.ndarray, seg: np.ndarray, nseg: int, mask: np.ndarray | None = None
) -> np.ndarray:
    """Median of the finite ``values`` per segment (mean of the two middle values
    for an even count, as R's ``median``); NaN for a segment with none."""
    ok = np.isfinite(values)
    if mask is not None:
        ok &= mask
    v = values[ok]
    s = seg[ok]
    order = np.lexsort((v, s))
    v = v[order]
    s = s[order]
    count = np.bincount(s, minlength=nseg)
    start = seg_first_index(s, nseg)
    out = np.full(nseg, np.nan)
    has = count > 0
    lo = start[has] + (count[has] - 1) // 2
    hi = start[has] + count[has] // 2
    out[has] = (v[lo] + v[hi]) / 2.0
    return out


def seg_min_max(
    values: np.ndarray, seg: np.ndarray, nseg: int, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest of ``values`` per segment where ``mask`` is true
    (+inf and -inf for a segment with none)."""
    lo = np.full(nseg, np.inf)
    hi = np.full(nseg, -np.inf)
    np.minimum.at(lo, seg[mask], values[mask])
    np.maximum.at(hi, seg[mask], values[mask])
    return lo, hi


def seg_first_index(seg: np.ndarray, nseg: int) -> np.ndarray:
    """Index of each segment's first element in a segment-sorted array."""
    count = np.bincount(seg, minlength=nseg)
    return np.concatenate(([0], np.cumsum(count)[:-1]))


def moving_ranges(values: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|difference| between consecutive elements of the same segment.

    Returns ``(mr, mr_seg)`` for the pairs (i-1, i) with i >= 1; pairs that cross
    a segment boundary are NaN. NaN values give NaN ranges to both neighbours.
    """
    if len(values) < 2:
        return np.empty(0), np.empty(0, dtype=seg.dtype)
    mr = np.abs(np.diff(values))
    same = seg[1:] == seg[:-1]
    mr = np.where(same, mr, np.nan)
    return mr, seg[1:]


def average_moving_range(
    values: np.ndarray, seg: np.ndarray, nseg: int, mask: np.ndarray, screen: bool
) -> np.ndarray:
    """Average moving range per segment over the elements where ``mask`` is true.

    Masked-out elements are dropped first, so a range spans them (qicharts2's
    treatment of excluded points); a NaN value has no range to either neighbour.
    With ``screen``, ranges >= 3.267 * AMR are dropped and the average recomputed
    once (Nelson 1982; qicharts2 and NHSRplotthedots both screen this way).
    """
    idx = np.flatnonzero(mask)
    mr, mseg = moving_ranges(values[idx], seg[idx])
    amr = seg_nanmean(mr, mseg, nseg)
    if screen and len(mr):
        with np.errstate(invalid="ignore"):
            keep = mr < D4 * amr[mseg]
        amr = seg_nanmean(np.where(keep, mr, np.nan), mseg, nseg)
    return amr
