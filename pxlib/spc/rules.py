"""Special-cause rules, vectorised over every group and phase at once.

Arrays are sorted by group, phase and x; ``seg`` numbers the (group, phase)
segments. Pattern rules look at the *useful* points of a phase, in x order:
included points with a value (a missing value is skipped, so it neither makes
nor breaks a run; it never counts as a zero).

Anhøj rules (qicharts2 semantics; Anhøj & Olesen 2014): points on the centre
line are dropped; longest run > round(log2 n) + 3 or number of crossings <
the 5 % quantile of Binomial(n - 1, 0.5) signals non-random variation.

Making Data Count rules (NHSRplotthedots 0.2.2): outside the limits; a trend of
``trend`` points rising or falling (ties break it); two of three points beyond
the 2-sigma line on one side with all three on that side; a shift of ``shift``
points on one side of the centre line (a point on the line breaks it, or is
skipped with ``centre_line="skip"``).

IHI run-chart rules (Provost & Murray 2011; Perla, Provost & Murray 2011): a
shift of 6 or more points on one side of the median (points on it skipped), a
trend of 5 or more points all rising or falling (tied neighbours skipped), too
few or too many runs, and an astronomical point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, overload

import numpy as np
from numpy.typing import ArrayLike

from pxlib.distributions import binom_ppf
from pxlib.spc.segments import seg_count, seg_first_index
from pxlib.spc.vocabulary import POINT_TYPES as VOCABULARY_POINT_TYPES

# --- rule identifiers, in NHSRplotthedots' order of precedence for labelling ---------
OUTSIDE = 0  # outside the control limits (3-sigma rule / MDC / astronomical)
TREND = 1  # MDC trend
TWO_OF_THREE = 2  # MDC two of three close to the limits
SHIFT = 3  # MDC shift
LONG_RUN = 4  # Anhøj: longest run too long
IHI_SHIFT = 5
IHI_TREND = 6
ASTRONOMICAL = 7
CROSSINGS = 8  # Anhøj: too few crossings (a property of the phase, no direction)
IHI_RUNS = 9  # IHI: too few / too many runs (no direction)

RULE_LABELS = {
    OUTSIDE: "outside limits",
    TREND: "trend",
    TWO_OF_THREE: "two of three close to limits",
    SHIFT: "shift",
    LONG_RUN: "longest run (Anhøj)",
    IHI_SHIFT: "shift (IHI)",
    IHI_TREND: "trend (IHI)",
    ASTRONOMICAL: "astronomical point (IHI)",
    CROSSINGS: "too few crossings (Anhøj)",
    IHI_RUNS: "too few or too many runs (IHI)",
}
#: each rule's name in ``SPCResult.signals['rule']``
RULE_IDS = {
    OUTSIDE: "outside",
    TREND: "trend",
    TWO_OF_THREE: "two_of_three",
    SHIFT: "shift",
    LONG_RUN: "long_run",
    IHI_SHIFT: "ihi_shift",
    IHI_TREND: "ihi_trend",
    ASTRONOMICAL: "astronomical",
    CROSSINGS: "crossings",
    IHI_RUNS: "ihi_runs",
}
#: each rule's label in ``special_cause`` by its id in ``signals``
LABEL_OF_ID = {RULE_IDS[rule]: label for rule, label in RULE_LABELS.items()}
#: rules whose points carry a direction, in order of precedence
DIRECTIONAL = (OUTSIDE, TREND, TWO_OF_THREE, SHIFT, LONG_RUN, IHI_SHIFT, IHI_TREND, ASTRONOMICAL)

_FUZZ = 1 - 64 * np.finfo(float).eps  # R's qbinom searches for P >= p * (1 - 64 eps)


@dataclass(frozen=True)
class Runs:
    """The patterns one rule found, over the points it flagged (ascending ``points``):
    each point's ``run`` (a number shared by the points of one pattern, increasing
    along the points) and the pattern's ``length`` (its number of points)."""

    points: np.ndarray
    run: np.ndarray
    length: np.ndarray

    @classmethod
    def none(cls, n: int = 0) -> Runs:
        empty = np.zeros(0, dtype=np.int64)
        return cls(empty, empty, empty)

    @classmethod
    def of(cls, n: int, points: np.ndarray, run_id: np.ndarray, run_len: np.ndarray) -> Runs:
        """Runs of the ``points`` (ascending indices), each in run ``run_id`` of
        ``run_len[run_id]`` points."""
        return cls(points, run_id, run_len[run_id])

    @classmethod
    def spans(cls, n: int, idx: np.ndarray, first: np.ndarray, last: np.ndarray) -> Runs:
        """Runs covering the points ``idx[first[k]:last[k] + 1]``, one per k (spans in
        ascending order that do not overlap)."""
        size = last - first + 1
        pos = np.repeat(first - np.cumsum(size) + size, size) + np.arange(int(size.sum()))
        return cls(idx[pos], np.repeat(np.arange(len(first)), size), np.repeat(size, size))


def point_runs(direction: np.ndarray, mask: np.ndarray, seg: np.ndarray) -> Runs:
    """Runs of a rule that flags single points (outside limits, two of three, an
    astronomical point): consecutive points of ``mask`` in one segment flagged in the
    same ``direction`` (+1/-1; 0 unflagged) form one pattern."""
    hit = np.flatnonzero(direction)
    if not len(hit):
        return Runs.none()
    d = direction[hit]
    new = np.ones(len(hit), dtype=bool)
    if len(hit) > 1:
        rank = np.cumsum(mask)[hit]  # position among the mask's points
        new[1:] = (np.diff(rank) != 1) | (seg[hit][1:] != seg[hit][:-1]) | (d[1:] != d[:-1])
    run_id = np.cumsum(new) - 1
    return Runs.of(len(direction), hit, run_id, np.bincount(run_id))


def anhoej_limits(n_useful: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Longest-run limit round(log2 n) + 3 and minimum crossings qbinom(0.05, n - 1, 0.5)
    (R rounds half to even, as numpy does; R's qbinom searches for P >= p (1 - 64 eps));
    NaN where n is 0. One quantile per segment: linear in the number of points."""
    n = np.asarray(n_useful, dtype=float)
    with np.errstate(divide="ignore"):
        lr_max = np.where(n > 0, np.round(np.log2(np.where(n > 0, n, 1))) + 3, np.nan)
    cr_min = np.full(len(n), np.nan)
    pos = n > 0
    if pos.any():
        m = n[pos] - 1
        cr_min[pos] = np.where(m > 0, binom_ppf(0.05 * _FUZZ, np.maximum(m, 1), 0.5), 0.0)
    return lr_max, cr_min


def runs_of(key_seg: np.ndarray, key_val: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run ids of consecutive equal (segment, value) pairs, and each run's length."""
    m = len(key_seg)
    new = np.ones(m, dtype=bool)
    if m > 1:
        new[1:] = (key_seg[1:] != key_seg[:-1]) | (key_val[1:] != key_val[:-1])
    run_id = np.cumsum(new) - 1
    length = np.bincount(run_id) if m else np.zeros(0, dtype=int)
    return new, run_id, length


def sides(
    y: np.ndarray, cl: np.ndarray, mask: np.ndarray, seg: np.ndarray, skip_centre: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices, sides (+1 above, -1 below, 0 on) of ``cl`` and segments of the points
    in ``mask`` with a value and a centre line; points on the line are dropped when
    ``skip_centre``."""
    with np.errstate(invalid="ignore"):
        side = np.sign(y - cl)
    ok = mask & np.isfinite(side)
    if skip_centre:
        ok &= side != 0
    idx = np.flatnonzero(ok)
    return idx, side[idx], seg[idx]


@overload
def anhoej(
    y: np.ndarray,
    cl: np.ndarray,
    include: np.ndarray,
    seg: np.ndarray,
    nseg: int,
    runs: Literal[False] = False,
) -> tuple[dict[str, np.ndarray], np.ndarray]: ...
@overload
def anhoej(
    y: np.ndarray,
    cl: np.ndarray,
    include: np.ndarray,
    seg: np.ndarray,
    nseg: int,
    runs: Literal[True],
) -> tuple[dict[str, np.ndarray], np.ndarray, Runs]: ...
def anhoej(
    y: np.ndarray,
    cl: np.ndarray,
    include: np.ndarray,
    seg: np.ndarray,
    nseg: int,
    runs: bool = False,
) -> tuple[dict[str, np.ndarray], np.ndarray] | tuple[dict[str, np.ndarray], np.ndarray, Runs]:
    """Anhøj runs analysis per segment (Anhøj & Olesen 2014; qicharts2 0.8.1).

    Points on the centre line are dropped. A run is a stretch of consecutive points
    on one side; n_crossings = number of runs - 1. Signals: longest run >
    round(log2 n) + 3, or n_crossings < qbinom(0.05, n - 1, 0.5) (see
    :func:`anhoej_limits`).

    Returns ``(stats, long_dir)``: ``stats`` a dict of per-segment arrays
    (``n_useful``, ``longest_run``, ``longest_run_max``, ``n_crossings``,
    ``n_crossings_min``, ``runs_signal``, ``crossings_signal``) and ``long_dir``
    per point: +1/-1 for points in a run longer than the limit (above/below). With
    ``runs``, also the :class:`Runs` of those points.
    """
    idx, s, sg = sides(y, cl, include, seg)
    new, run_id, length = runs_of(sg, s)
    run_seg = sg[new]
    n_useful = seg_count(sg, nseg)
    n_runs = np.bincount(run_seg, minlength=nseg).astype(float)
    longest = np.full(nseg, np.nan)
    if len(length):
        first = seg_first_index(run_seg, nseg)
        has = n_runs > 0
        longest[has] = np.maximum.reduceat(length, first[has])
    lr_max, cr_min = anhoej_limits(n_useful)
    n_cross = np.where(n_useful > 0, np.maximum(n_runs - 1, 0), np.nan)
    with np.errstate(invalid="ignore"):
        long_sig = longest > lr_max
        cross_sig = n_cross < cr_min
    runs_signal = np.where(n_useful > 0, long_sig | cross_sig, False)
    long_dir = np.zeros(len(y), dtype=np.int8)
    in_long = np.zeros(len(idx), dtype=bool)
    if len(idx):
        in_long = length[run_id] > lr_max[sg]
        long_dir[idx[in_long]] = s[in_long].astype(np.int8)
    stats = {
        "n_useful": n_useful,
        "longest_run": longest,
        "longest_run_max": lr_max,
        "n_crossings": n_cross,
        "n_crossings_min": cr_min,
        "runs_signal": runs_signal.astype(bool),
        "crossings_signal": np.where(n_useful > 0, cross_sig, False).astype(bool),
    }
    if runs:
        return stats, long_dir, Runs.of(len(y), idx[in_long], run_id[in_long], length)
    return stats, long_dir


def sigma_signal(y: np.ndarray, lcl: np.ndarray, ucl: np.ndarray) -> np.ndarray:
    """Shewhart's 3-sigma rule: +1 above the upper limit, -1 below the lower limit
    (strictly, as qicharts2), else 0."""
    with np.errstate(invalid="ignore"):
        return (np.where(y > ucl, 1, 0) - np.where(y < lcl, 1, 0)).astype(np.int8)


def _spread_runs(points_idx, run_first, run_last, size):
    """Boolean mask over ``size`` points covering [run_first, run_last] (indices into
    ``points_idx``) for every run."""
    mark = np.zeros(len(points_idx) + 1, dtype=np.int64)
    np.add.at(mark, run_first, 1)
    np.add.at(mark, run_last + 1, -1)
    cover = np.cumsum(mark[:-1]) > 0
    out = np.zeros(size, dtype=bool)
    out[points_idx[cover]] = True
    return out


@overload
def shift_rule(
    y: np.ndarray,
    cl: np.ndarray,
    useful: np.ndarray,
    seg: np.ndarray,
    length: int,
    skip_centre: bool,
    runs: Literal[False] = False,
) -> np.ndarray: ...
@overload
def shift_rule(
    y: np.ndarray,
    cl: np.ndarray,
    useful: np.ndarray,
    seg: np.ndarray,
    length: int,
    skip_centre: bool,
    runs: Literal[True],
) -> tuple[np.ndarray, Runs]: ...
def shift_rule(
    y: np.ndarray,
    cl: np.ndarray,
    useful: np.ndarray,
    seg: np.ndarray,
    length: int,
    skip_centre: bool,
    runs: bool = False,
) -> np.ndarray | tuple[np.ndarray, Runs]:
    """+1/-1 for points in ``length`` or more consecutive useful points on one side
    of the centre line (a point on the line breaks the run unless ``skip_centre``):
    the MDC shift (NHSRplotthedots, ``length`` 7) and the IHI shift (6, Provost &
    Murray 2011). With ``runs``, also the :class:`Runs` of those points."""
    idx, s, sg = sides(y, cl, useful, seg, skip_centre)
    _, run_id, rl = runs_of(sg, s)
    out = np.zeros(len(y), dtype=np.int8)
    hit = np.zeros(len(idx), dtype=bool)
    if len(idx):
        hit = (rl[run_id] >= length) & (s != 0)
        out[idx[hit]] = s[hit].astype(np.int8)
    if runs:
        return out, Runs.of(len(y), idx[hit], run_id[hit], rl)
    return out


@overload
def trend_rule(
    y: np.ndarray,
    useful: np.ndarray,
    seg: np.ndarray,
    length: int,
    skip_ties: bool,
    runs: Literal[False] = False,
) -> tuple[np.ndarray, np.ndarray]: ...
@overload
def trend_rule(
    y: np.ndarray,
    useful: np.ndarray,
    seg: np.ndarray,
    length: int,
    skip_ties: bool,
    runs: Literal[True],
) -> tuple[np.ndarray, np.ndarray, Runs, Runs]: ...
def trend_rule(
    y: np.ndarray,
    useful: np.ndarray,
    seg: np.ndarray,
    length: int,
    skip_ties: bool,
    runs: bool = False,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, Runs, Runs]:
    """Masks (up, down) of points in ``length`` or more useful points each strictly
    higher (lower) than the one before. A tie breaks the trend (MDC) or is skipped
    (IHI, ``skip_ties``). MDC: ``length`` 7 (NHSRplotthedots); IHI: 5 (Provost &
    Murray 2011). With ``runs``, also the :class:`Runs` of the rising and of the
    falling points (a peak between two trends is in one of each)."""
    n = len(y)
    up = np.zeros(n, dtype=bool)
    down = np.zeros(n, dtype=bool)
    idx = np.flatnonzero(useful & np.isfinite(y))
    found = {1: Runs.none(), -1: Runs.none()}

    def done():
        return (up, down, found[1], found[-1]) if runs else (up, down)

    if len(idx) < 2:
        return done()
    sg = seg[idx]
    d = np.sign(np.diff(y[idx]))
    # diff j joins useful points j and j+1; a diff across a phase boundary is no diff
    valid = sg[1:] == sg[:-1]
    if skip_ties:
        valid &= d != 0
    dj = np.flatnonzero(valid)
    dv = d[dj]
    dseg = sg[dj]
    if not len(dj):
        return done()
    # consecutive diffs continue a run only if adjacent (MDC) or adjacent after skipping ties
    new, _, rl = runs_of(dseg, dv)
    starts = np.flatnonzero(new)
    ends = np.concatenate((starts[1:] - 1, [len(dj) - 1]))
    val = dv[starts]
    good = (rl >= length - 1) & (val != 0)
    for target, sign in ((up, 1), (down, -1)):
        sel = good & (val == sign)
        if sel.any():
            first_pt = dj[starts[sel]]  # the point before the first rise/fall
            last_pt = dj[ends[sel]] + 1
            target |= _spread_runs(idx, first_pt, last_pt, n)
            if runs:
                found[sign] = Runs.spans(n, idx, first_pt, last_pt)
    return done()


def two_of_three(
    y: np.ndarray, cl: np.ndarray, close: np.ndarray, useful: np.ndarray, seg: np.ndarray
) -> np.ndarray:
    """+1/-1 for points close to the limits that are part of a window of three
    consecutive useful points with at least two close and all three on the same side
    of the centre line (NHSRplotthedots)."""
    n = len(y)
    out = np.zeros(n, dtype=np.int8)
    idx = np.flatnonzero(useful & np.isfinite(y))
    m = len(idx)
    if m < 3:
        return out
    with np.errstate(invalid="ignore"):
        side = np.sign(y[idx] - cl[idx])
    side = np.where(np.isfinite(side), side, 0)
    c = close[idx].astype(int)
    sg = seg[idx]
    w_ok = (sg[:-2] == sg[2:]) & (c[:-2] + c[1:-1] + c[2:] >= 2)
    ssum = side[:-2] + side[1:-1] + side[2:]
    w_ok &= np.abs(ssum) == 3
    hit = np.zeros(m, dtype=bool)
    hit[:-2] |= w_ok
    hit[1:-1] |= w_ok
    hit[2:] |= w_ok
    hit &= c.astype(bool)
    out[idx[hit]] = side[hit].astype(np.int8)
    return out


def close_to_limits(
    y: np.ndarray, lcl2: np.ndarray, ucl2: np.ndarray, outside: np.ndarray
) -> np.ndarray:
    """Beyond the 2-sigma line (cl +/- 2 sigma) but not outside the 3-sigma limits
    (NHSRplotthedots' "close to the limits")."""
    with np.errstate(invalid="ignore"):
        return ((y > ucl2) | (y < lcl2)) & (outside == 0)


# --- combining rules into point types -------------------------------------------------

#: the point types, indexed by the codes :func:`point_types` returns (words and colours:
#: :mod:`pxlib.spc.vocabulary`)
POINT_TYPES = np.array(VOCABULARY_POINT_TYPES, dtype=object)


def point_types(
    directions: dict[int, tuple], improvement: int, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Point type codes (index into :data:`POINT_TYPES`) and the mixed-signal flag.

    ``directions`` maps a rule id to ``(high, low, prefer)``: boolean masks of points in a
    pattern pointing up (above the centre line, rising) or down, and for points in both
    (a peak between a rising and a falling trend) the direction that labels the point
    (NHSRplotthedots takes the trend on the point's right), or None. The first rule in
    :data:`DIRECTIONAL` order decides the label (NHSRplotthedots' precedence: outside
    limits, trend, two of three, shift); ``mixed`` is true where the point belongs to
    patterns in both directions.
    """
    label = np.zeros(n, dtype=np.int8)  # +1 high, -1 low, 0 none
    any_hi = np.zeros(n, dtype=bool)
    any_lo = np.zeros(n, dtype=bool)
    for rule in reversed(DIRECTIONAL):
        if rule not in directions:
            continue
        hi, lo, prefer = directions[rule]
        this = np.where(hi, 1, np.where(lo, -1, 0))
        if prefer is not None:
            this = np.where(hi & lo, prefer, this)
        label = np.where(this != 0, this, label).astype(np.int8)
        any_hi |= hi
        any_lo |= lo
    if improvement == 0:
        code = np.where(label > 0, 3, np.where(label < 0, 4, 0))
    else:
        oriented = label * improvement
        code = np.where(oriented > 0, 1, np.where(oriented < 0, 2, 0))
    return code.astype(np.int8), any_hi & any_lo


def assurance(
    target: float | None, lcl: np.ndarray, ucl: np.ndarray, improvement: int
) -> np.ndarray:
    """NHSRplotthedots' assurance icon from a phase's limits: target above the upper
    limit fails consistently when higher is better (passes when lower is better),
    target below the lower limit the reverse, otherwise inconsistent. Empty without a
    target, a direction, or limits."""
    n = len(lcl)
    if target is None or improvement == 0:
        return np.full(n, "", dtype=object)
    with np.errstate(invalid="ignore"):
        above = target > ucl
        below = target < lcl
    up = improvement > 0
    out = np.where(
        above,
        "consistent_fail" if up else "consistent_pass",
        np.where(below, "consistent_pass" if up else "consistent_fail", "inconsistent"),
    ).astype(object)
    out[~(np.isfinite(lcl) | np.isfinite(ucl))] = ""
    return out
