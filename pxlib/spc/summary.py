"""Step 6 of a chart: the tables a result carries.

:func:`points_frame` assembles ``SPCResult.points`` (one row per x per group) and
:func:`summary_frame` ``SPCResult.summary`` (one row per group and phase: its limits,
counts, Anhøj statistics, icons, and every caveat in words). The columns are listed in
``design.md`` and in :mod:`pxlib.spc.chart`'s docstring.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pxlib.spc import rules as R
from pxlib.spc.constants import TRIAL_LIMIT_POINTS
from pxlib.spc.phases import Segments
from pxlib.spc.segments import seg_count, seg_min_max
from pxlib.spc.signals import Verdict

MIN_USEFUL_RUNS = 10  # below this the Anhøj and IHI run rules have little power
#: kinds whose sigma comes from moving ranges (no limits from fewer than 2 baseline values)
MR_KINDS = ("i", "t", "xmr", "pp", "up", "mr")
RUNS_OFF_NOTE = (
    "most points are at {}, so runs above and below the centre line say nothing; "
    "only the limits are used"
)


def runs_rules_off(warning: str) -> bool:
    """Whether a phase's ``warning`` says the run rules were left out (:data:`RUNS_OFF_NOTE`)."""
    before, after = RUNS_OFF_NOTE.split("{}")
    return before in warning and after in warning


def _empty_code(cat: pd.Categorical) -> int:
    cats = list(cat.categories)
    return cats.index("") if "" in cats else -2


def _int_col(v: np.ndarray) -> pd.arrays.IntegerArray:
    v = np.asarray(v, dtype=float)
    mask = ~np.isfinite(v)
    return pd.arrays.IntegerArray(np.where(mask, 0, v).astype(np.int64), mask)


def by_frame(by_cols: list[str], labels: pd.DataFrame, gid_per_row: np.ndarray) -> dict[str, Any]:
    return {c: labels[c].take(gid_per_row).reset_index(drop=True) for c in by_cols}


def runs_columns(stats: dict, at: slice | np.ndarray) -> dict[str, Any]:
    """The Anhøj statistics columns, per segment (``at`` = slice(None)) or per point
    (``at`` = the points' segment numbers)."""
    cols: dict[str, Any] = {"runs_signal": stats["runs_signal"][at]}
    for k in ("longest_run", "longest_run_max", "n_crossings", "n_crossings_min"):
        cols[k] = _int_col(stats[k][at])
    return cols


def points_frame(
    by_cols: list[str],
    labels: pd.DataFrame,
    sub: dict[str, np.ndarray],
    xuniq: pd.Index,
    yo: np.ndarray,
    drawn: dict[str, np.ndarray],
    sg: Segments,
    verdict: Verdict,
) -> pd.DataFrame:
    """``SPCResult.points``: the ``by`` columns, x, y, n, the drawn lines, phase,
    baseline, include, the signals and point types, one row per point."""
    return pd.DataFrame(
        {
            **by_frame(by_cols, labels, sub["gid"]),
            "x": xuniq.take(sub["xcode"]),
            "y": yo,
            "n": sub["n"],
            **drawn,
            "phase": sg.phase,
            "baseline": sg.baseline,
            "include": sg.include,
            "sigma_signal": verdict.sig_dir != 0,
            **runs_columns(verdict.stats, sg.seg),
            "special_cause": verdict.special,
            "point_type": pd.Categorical.from_codes(  # type: ignore[call-overload]  # pandas-stubs: categories may be a list
                verdict.code, categories=list(R.POINT_TYPES)
            ),
            "mixed_signal": verdict.mixed,
            "close_to_limits": verdict.close,
        },
        copy=False,
    )


def limits_used(
    kind: str, verdict: Verdict, cl: np.ndarray, sg: Segments
) -> tuple[np.ndarray, np.ndarray]:
    """Per segment: how its limits were set ("exact", "normal"; empty for a run chart)
    and the note saying the run rules were off, if they were."""
    used = np.where(verdict.exact, "exact", "normal" if kind != "run" else "").astype(object)
    top = cl[sg.first] >= 0.5
    runs_note = np.where(
        verdict.runs_off,
        np.where(top, RUNS_OFF_NOTE.format("100 %"), RUNS_OFF_NOTE.format("0 %")),
        "",
    ).astype(object)
    return used, runs_note


def summary_frame(
    kind: str,
    points: pd.DataFrame,
    by_cols: list[str],
    seg: np.ndarray,
    seg_first: np.ndarray,
    stats: dict[str, np.ndarray],
    code: np.ndarray,
    target: float | None,
    direction: int,
    sub: dict[str, np.ndarray],
    notes: list[str],
    used: np.ndarray,
    runs_note: np.ndarray,
) -> tuple[pd.DataFrame, bool]:
    """One row per segment (group and phase) from the points table, and whether any
    segment carries a serious caveat."""
    nseg = len(seg_first)
    yo, clo, lclo, uclo = (points[c].to_numpy() for c in ("y", "cl", "lcl", "ucl"))
    baseline = points["baseline"].to_numpy()
    include = points["include"].to_numpy()
    special = points["special_cause"].array
    fin = np.isfinite(yo)
    n_points = seg_count(seg, nseg)
    n_values = seg_count(seg, nseg, fin)
    n_base = seg_count(seg, nseg, baseline & fin)
    last = np.concatenate((seg_first[1:] - 1, [len(seg) - 1]))
    # last point with a value (for icons); fall back to the last point
    last_valued = np.maximum.reduceat(np.where(fin, np.arange(len(seg)), -1), seg_first)
    last_val = np.where(last_valued >= 0, last_valued, last)
    # constant limits -> the value; varying -> the last point's
    lcl_s = lclo[last_val]
    ucl_s = uclo[last_val]
    cl_s = clo[seg_first]
    variation = R.POINT_TYPES[code[last_val]]
    variation = np.where(n_values > 0, variation, "")
    assurance_t = R.assurance(target, lcl_s, ucl_s, direction)
    n_special = seg_count(seg, nseg, np.asarray(special.codes) != _empty_code(special))

    has_limits = kind != "run"
    trial = np.full(nseg, "", dtype=object)
    if has_limits:
        few_points = n_points < TRIAL_LIMIT_POINTS
        trial[few_points] = [
            f"trial limits: {k} point{'' if k == 1 else 's'} in this phase (fewer than "
            f"{TRIAL_LIMIT_POINTS}); they will change as data arrive"
            for k in n_points[few_points].astype(int).tolist()
        ]
    warning = np.full(nseg, "", dtype=object)
    serious = np.zeros(nseg, dtype=bool)

    def counted(count: np.ndarray, many: str, one: str, prefix: str = "") -> np.ndarray:
        """ "3 points ..." or "1 point ...", per segment."""
        count = np.asarray(count).astype(np.int64)
        words = np.where(count == 1, one, many).astype(object)
        return prefix + count.astype(str).astype(object) + words

    def add(mask, text, flag=True):
        """Append ``text`` (one string, or one per segment) to the flagged segments."""
        nonlocal warning
        text = np.broadcast_to(np.asarray(text, dtype=object), (nseg,))
        joined = np.where(warning == "", text, warning + "; " + text)
        warning = np.where(mask, joined, warning)
        if flag:
            serious[mask] = True

    if has_limits:
        add(trial != "", trial)
        no_lim = ~(np.isfinite(lcl_s) | np.isfinite(ucl_s)) & (n_values > 0)
        if kind in MR_KINDS:
            add(
                no_lim & (n_base < 2),
                "no limits: fewer than 2 baseline values, so no moving range",
            )
        add(no_lim & (n_base == 0), "no limits: no baseline value in this phase")
        if kind in ("xbar", "s"):
            single = seg_count(seg, nseg, baseline & include & (sub["y_len"] > 1)) == 0
            add(
                no_lim & (n_base > 0) & single,
                (
                    "no limits: subgroups of one value have no within-subgroup spread "
                    "(use an i chart for single values)"
                ),
            )
        else:
            single = np.zeros(nseg, dtype=bool)
        if kind not in MR_KINDS:
            add(no_lim & (n_base == 1) & ~single, "no limits: only one baseline value")
        lo, hi = seg_min_max(yo, seg, nseg, baseline & include & fin)
        same = (n_base >= 2) & (lo == hi)
        add(
            no_lim & same,
            "no limits: every baseline value is the same, so there is no spread to set limits from",
        )
        add(
            no_lim & (n_base >= 2) & ~same & ~single,
            "no limits: the data give no estimate of spread",
        )
        flat = np.isfinite(lcl_s) & np.isfinite(ucl_s) & (lcl_s == ucl_s) & (n_values > 0)
        add(flat, "limits have no width: every baseline value is the same")
    few = (stats["n_useful"] < MIN_USEFUL_RUNS) & (n_values > 0)
    add(
        few,
        counted(
            stats["n_useful"],
            " useful points: too few for the run rules to be reliable",
            " useful point: too few for the run rules to be reliable",
            "only ",
        ),
    )
    add(n_values == 0, "no values in this phase")
    add(runs_note != "", runs_note, False)
    zero_n = seg_count(seg, nseg, sub["zero_n"])
    add(
        zero_n > 0,
        counted(
            zero_n,
            " points with a zero denominator are shown as gaps",
            " point with a zero denominator is shown as a gap",
        ),
        False,
    )
    if "inserted" in sub:
        ins = seg_count(seg, nseg, sub["inserted"])
        add(
            ins > 0,
            counted(ins, " absent periods are shown as gaps", " absent period is shown as a gap"),
            False,
        )
    excl = seg_count(seg, nseg, ~include)
    add(excl > 0, counted(excl, " excluded points", " excluded point"), False)
    for note in notes:
        add(np.ones(nseg, dtype=bool), note, False)

    cols: dict[str, Any] = {c: points[c].take(seg_first).reset_index(drop=True) for c in by_cols}
    cols["phase"] = points["phase"].to_numpy()[seg_first]
    cols["n_points"] = n_points.astype(np.int64)
    cols["n_values"] = n_values.astype(np.int64)
    cols["n_baseline"] = n_base.astype(np.int64)
    cols["cl"] = cl_s
    cols["lcl"] = lcl_s
    cols["ucl"] = ucl_s
    cols["limits"] = pd.array(used, dtype="str")
    cols.update(runs_columns(stats, slice(None)))
    cols["n_special_cause"] = n_special.astype(np.int64)
    cols["variation_type"] = pd.array(variation.astype(object), dtype="str")
    cols["assurance_type"] = pd.array(assurance_t, dtype="str")
    cols["trial_limits"] = pd.array(trial, dtype="str")
    cols["warning"] = pd.array(warning, dtype="str")
    df = pd.DataFrame(cols)
    any_warning = bool(serious.any())
    return df, any_warning


__all__ = ["points_frame", "summary_frame", "limits_used"]
