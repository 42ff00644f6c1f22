"""Step 5 of a chart: which rules fire at which point, and what each point is.

:func:`apply_rules` runs the chosen rule sets of :mod:`pxlib.spc.rules` on every
segment at once and returns a :class:`Verdict`: per point the 3-sigma signal, the
"close to the limits" flag, the point type (NHSRplotthedots' precedence) and the
``special_cause`` text; per segment the Anhøj statistics and whether the run rules were
turned off (exact limits at a boundary, see :data:`BOUNDARY_SHARE`); and the tidy
``signals`` frame that drawing and reporting read instead of the text:

``point`` (row position in ``SPCResult.points``), ``rule``
(:data:`pxlib.spc.rules.RULE_IDS`, a categorical in order of precedence), ``direction``
(+1 above the centre line or rising, -1 below or falling, 0 for a property of the whole
phase), ``run`` (a number shared by the points of one pattern) and ``run_length`` (its
number of points); rows in order of rule precedence, then direction, then point. A peak
shared by a rising and a falling trend has a row for each. The pattern of a run rule
is the engine's run (shift, trend, Anhøj longest run); for a rule flagging single
points (outside limits, two of three, astronomical) consecutive flagged points on one
side; too few crossings and the IHI runs test cover the phase's points with a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pxlib.spc import rules as R
from pxlib.spc.exact import boundary_share
from pxlib.spc.ihi_runs import ihi_runs
from pxlib.spc.limits import Lines, compute_limits
from pxlib.spc.phases import Segments

IHI_SHIFT = 6
IHI_TREND = 5
#: with exact limits, the run rules are off in a phase where the mean chance of a point
#: at 100 % (0 % for shares below one half) exceeds this: the median point is then at the
#: boundary, above (below) the centre line, and runs about that line carry no information
BOUNDARY_SHARE = 0.5
SIGNAL_COLUMNS = ("point", "rule", "direction", "run", "run_length")
#: the order of the signals frame's rows: rule precedence, then +1 before -1, then point
SIGNAL_ORDER = ["rule", "direction", "point"]
SIGNAL_ASCENDING = [True, False, True]


@dataclass
class Verdict:
    """What the rules said (see the module docstring)."""

    sig_dir: np.ndarray  # per point: +1 above the upper limit, -1 below the lower, 0
    close: np.ndarray  # per point: beyond the 2-sigma line, inside the limits
    stats: dict[str, np.ndarray]  # per segment: Anhøj statistics (rules.anhoej)
    code: np.ndarray  # per point: index into rules.POINT_TYPES
    mixed: np.ndarray  # per point: in patterns of both directions
    special: pd.Categorical  # per point: the rules that fired, "; "-joined
    exact: np.ndarray  # per segment: exact binomial limits
    runs_off: np.ndarray  # per segment: the run rules were not applied
    signals: pd.DataFrame


def _right_direction(y, useful, seg) -> np.ndarray:
    """Sign of the step to the next useful point of the same segment (NHSRplotthedots
    labels a point at the junction of two trends by the trend on its right); a tie or
    the last point take -1, as NHSRplotthedots does."""
    out = np.zeros(len(y), dtype=np.int8)
    idx = np.flatnonzero(useful)
    if len(idx) > 1:
        d = np.sign(np.diff(y[idx]))
        same = seg[idx][1:] == seg[idx][:-1]
        out[idx[:-1]] = np.where(same & (d > 0), 1, -1)
    return out


def _astronomical(kind, sig_dir, yplot, sg: Segments, screen_mr, m, yo) -> np.ndarray:
    """IHI astronomical point: outside the chart's limits; a run chart has none, so an
    individuals chart on its values (cl +/- 3 AMR/1.128 from the baseline) decides."""
    if kind != "run":
        return sig_dir
    nan = np.full(len(yplot), np.nan)
    ind = compute_limits(
        "i",
        y=yplot,
        y_sum=nan,
        n=nan,
        y_len=nan,
        y_sd=nan,
        seg=sg.seg,
        nseg=sg.nseg,
        base=sg.baseline & sg.include,
        cl_fixed=np.full(sg.nseg, np.nan),
        screen_mr=screen_mr,
    )
    return R.sigma_signal(yo, ind.lcl * m, ind.ucl * m)


def _special_cause_text(directions, fired_seg, seg, has_value, npts) -> pd.Categorical:
    bits = np.zeros(npts, dtype=np.int64)
    order = list(R.DIRECTIONAL) + [R.CROSSINGS, R.IHI_RUNS]
    for rule in order:
        if rule in directions:
            hi, lo, _ = directions[rule]
            bits |= (hi | lo).astype(np.int64) << rule
        elif rule in fired_seg:
            bits |= (fired_seg[rule][seg] & has_value).astype(np.int64) << rule
    present = np.flatnonzero(np.bincount(bits, minlength=1))
    table = np.zeros(int(present[-1]) + 1 if len(present) else 1, dtype=np.int64)
    table[present] = np.arange(len(present))
    text = ["; ".join(R.RULE_LABELS[r] for r in order if (int(u) >> r) & 1) for u in present]
    return pd.Categorical.from_codes(table[bits], categories=text)  # type: ignore[call-overload]  # pandas-stubs: categories may be a list


def _dense(run: np.ndarray) -> np.ndarray:
    """0, 1, 2... for a non-decreasing array of run numbers."""
    new = np.ones(len(run), dtype=bool)
    new[1:] = run[1:] != run[:-1]
    return np.cumsum(new) - 1


def _signals_frame(directions, runs, fired_seg, seg, has_value) -> pd.DataFrame:
    """The tidy frame of every (point, rule, direction) that fired (module docstring):
    rows in order of rule precedence, then direction, then point."""
    parts: list[tuple[np.ndarray, int, int, np.ndarray, np.ndarray]] = []
    for rule in R.DIRECTIONAL:
        if rule not in directions:
            continue
        hi, lo, _ = directions[rule]
        for sign, mask in ((1, hi), (-1, lo)):
            found = runs[rule][sign]
            keep = mask[found.points]  # what later steps turned off is not kept
            if keep.any():
                parts.append((found.points[keep], rule, sign, found.run[keep], found.length[keep]))
    for rule in (R.CROSSINGS, R.IHI_RUNS):
        if rule in fired_seg:
            at = np.flatnonzero(fired_seg[rule][seg] & has_value)
            if len(at):
                size = np.bincount(seg[at], minlength=len(fired_seg[rule]))
                parts.append((at, rule, 0, seg[at], size[seg[at]]))
    order = list(R.DIRECTIONAL) + [R.CROSSINGS, R.IHI_RUNS]
    names = [R.RULE_IDS[r] for r in order]
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        cols: dict[str, Any] = dict.fromkeys(SIGNAL_COLUMNS, empty)
        cols["rule"] = pd.Categorical.from_codes(empty, categories=names)  # type: ignore[call-overload]  # pandas-stubs: categories may be a list
        cols["direction"] = empty.astype(np.int8)
        return pd.DataFrame(cols)
    seen = 0
    run_cols = []
    for part in parts:  # number the patterns across the frame
        dense = _dense(part[3])
        run_cols.append(dense + seen)
        seen += int(dense[-1]) + 1
    sizes = [len(p[0]) for p in parts]
    return pd.DataFrame(
        {
            "point": np.concatenate([p[0] for p in parts]).astype(np.int64),
            "rule": pd.Categorical.from_codes(  # type: ignore[call-overload]  # pandas-stubs: categories may be a list
                np.repeat([order.index(p[1]) for p in parts], sizes), categories=names
            ),
            "direction": np.repeat([p[2] for p in parts], sizes).astype(np.int8),
            "run": np.concatenate(run_cols).astype(np.int64),
            "run_length": np.concatenate([p[4] for p in parts]).astype(np.int64),
        }
    )


def apply_rules(
    kind: str,
    rule_set: list[str],
    yo: np.ndarray,
    drawn: dict[str, np.ndarray],
    lines: Lines,
    n: np.ndarray,
    sg: Segments,
    *,
    direction: int,
    shift: int,
    trend: int,
    centre_line: str,
    screen_mr: bool,
    multiply: float,
) -> Verdict:
    """Run the rule sets ``rule_set`` ("anhoej", "mdc", "ihi") on the plotted values
    ``yo`` and lines ``drawn`` (after ``multiply``) of every segment, and combine them
    into point types by ``direction`` (+1, -1, 0); see the module docstring and
    :mod:`pxlib.spc.rules` for each rule's source."""
    seg, nseg = sg.seg, sg.nseg
    npts = len(yo)
    clo, lclo, uclo = drawn["cl"], drawn["lcl"], drawn["ucl"]
    useful = sg.include & np.isfinite(yo)
    has_value = np.isfinite(yo)
    sig_dir = R.sigma_signal(yo, lclo, uclo)
    stats, long_dir, long_runs = R.anhoej(yo, clo, sg.include, seg, nseg, runs=True)
    if kind == "mr":
        stats["runs_signal"][:] = False
        stats["crossings_signal"][:] = False
        long_dir[:] = 0
    exact = lines.exact if lines.exact is not None else np.zeros(nseg, dtype=bool)
    runs_off = np.zeros(nseg, dtype=bool)  # per segment: run rules not applied
    if exact.any():
        runs_off = exact & (boundary_share(n, lines.cl, seg, nseg, useful) > BOUNDARY_SHARE)
    off = runs_off[seg]
    stats["runs_signal"] &= ~runs_off
    stats["crossings_signal"] &= ~runs_off
    long_dir[off] = 0
    close = R.close_to_limits(yo, drawn["lcl_2s"], drawn["ucl_2s"], sig_dir)
    directions: dict[int, tuple] = {}
    runs: dict[int, dict[int, R.Runs]] = {}
    fired_seg: dict[int, np.ndarray] = {}

    def add(rule, hi, lo, prefer=None, found_hi=None, found_lo=None):
        directions[rule] = (hi, lo, prefer)
        runs[rule] = {1: found_hi, -1: found_lo if found_lo is not None else found_hi}

    if "anhoej" in rule_set or "mdc" in rule_set:
        add(R.OUTSIDE, sig_dir > 0, sig_dir < 0, None, R.point_runs(sig_dir, has_value, seg))
    if "anhoej" in rule_set:
        add(R.LONG_RUN, long_dir > 0, long_dir < 0, None, long_runs)
        fired_seg[R.CROSSINGS] = stats["crossings_signal"]
    prefer = _right_direction(yo, useful, seg) if {"mdc", "ihi"} & set(rule_set) else None
    if "mdc" in rule_set:
        up, down, up_runs, down_runs = R.trend_rule(yo, useful, seg, trend, False, runs=True)
        add(R.TREND, up, down, prefer, up_runs, down_runs)
        t3 = R.two_of_three(yo, clo, close, useful, seg)
        add(R.TWO_OF_THREE, t3 > 0, t3 < 0, None, R.point_runs(t3, useful, seg))
        sh, sh_runs = R.shift_rule(yo, clo, useful, seg, shift, centre_line == "skip", runs=True)
        sh[off] = 0
        add(R.SHIFT, sh > 0, sh < 0, None, sh_runs)
    if "ihi" in rule_set:
        sh, sh_runs = R.shift_rule(yo, clo, useful, seg, IHI_SHIFT, True, runs=True)
        sh[off] = 0
        add(R.IHI_SHIFT, sh > 0, sh < 0, None, sh_runs)
        up, down, up_runs, down_runs = R.trend_rule(yo, useful, seg, IHI_TREND, True, runs=True)
        add(R.IHI_TREND, up, down, prefer, up_runs, down_runs)
        _, _, _, runs_sig = ihi_runs(yo, clo, useful, seg, nseg)
        fired_seg[R.IHI_RUNS] = runs_sig & ~runs_off
        yplot = lines.y
        astro = _astronomical(kind, sig_dir, yplot, sg, screen_mr, multiply, yo)
        add(R.ASTRONOMICAL, astro > 0, astro < 0, None, R.point_runs(astro, has_value, seg))
    code, mixed = R.point_types(directions, direction, npts)
    special = _special_cause_text(directions, fired_seg, seg, has_value, npts)
    frame = _signals_frame(directions, runs, fired_seg, seg, has_value)
    return Verdict(sig_dir, close, stats, code, mixed, special, exact, runs_off, frame)


__all__ = ["BOUNDARY_SHARE", "SIGNAL_COLUMNS", "Verdict", "apply_rules"]
