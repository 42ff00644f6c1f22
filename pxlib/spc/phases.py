"""Step 3 of a chart: phases, segments, baseline, exclusions and fixed centre lines.

A *segment* is one group's phase (qicharts2's *part*, NHSRplotthedots' *rebase*):
every later step computes per segment. :func:`segments` numbers them and marks, per
point, its ``phase``, whether it is ``baseline`` (the first ``freeze`` points of its
phase) and whether it is included (not listed in ``exclude``); and gives each segment
the centre line fixed by ``cl``, if any. ``phases``, ``exclude`` and ``cl`` may be
given per group as a dict keyed by the ``by`` value (a tuple for several columns).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pxlib.errors import ChartError, ChartWarning
from pxlib.fmt import literal as _show
from pxlib.fmt import literals as _show_list
from pxlib.spc.segments import seg_first_index
from pxlib.spc.validate import is_number as _is_number


@dataclass
class Segments:
    """Per point: ``phase``, ``seg`` (segment number), ``baseline``, ``include``; per
    segment: ``first`` (index of its first point) and ``cl_fixed`` (NaN: computed)."""

    phase: np.ndarray
    seg: np.ndarray
    nseg: int
    first: np.ndarray
    baseline: np.ndarray
    include: np.ndarray
    cl_fixed: np.ndarray


def segments(
    sub: dict[str, np.ndarray],
    xuniq: pd.Index,
    labels: pd.DataFrame,
    by_cols: list[str],
    *,
    phases: Sequence[Any] | dict | str | None,
    freeze: int | None,
    exclude: Sequence[Any] | dict | None,
    cl: float | dict | None,
    multiply: float,
    notes: list[str],
) -> Segments:
    """Phases, segments, baseline and inclusion of the points ``sub`` (sorted by group
    and x; see the module docstring). Values of ``exclude`` that are no x of the data
    are counted in ``notes``; dict keys naming no group are warned about and ignored."""
    g, xc = sub["gid"], sub["xcode"]
    npts = len(g)
    memo: dict = {}
    phase = phase_numbers(phases, g, xc, xuniq, sub.get("label"), labels, by_cols, memo)
    new_seg = np.ones(npts, dtype=bool)
    new_seg[1:] = (g[1:] != g[:-1]) | (phase[1:] != phase[:-1])
    seg = np.cumsum(new_seg) - 1
    nseg = int(seg[-1]) + 1
    first = seg_first_index(seg, nseg)
    pos = np.arange(npts) - first[seg]
    baseline = pos < freeze if freeze is not None else np.ones(npts, dtype=bool)
    include = ~membership(exclude, "exclude", g, xc, xuniq, labels, by_cols, notes, memo)
    cl_fixed = fixed_cl(cl, g[first], labels, by_cols, multiply, nseg, memo)
    return Segments(phase, seg, nseg, first, baseline, include, cl_fixed)


def _locate(values, xuniq: pd.Index, what: str, memo: dict) -> tuple[np.ndarray, np.ndarray]:
    """Positions in the sorted unique x of the given x values (insertion points), and
    whether each value is exactly an x of the data. ``memo`` caches per call of ``chart``
    (the same dates are often given for many groups)."""
    vals = list(values)
    try:
        key = (what, tuple(vals))
        if key in memo:
            return memo[key]
    except TypeError:  # unhashable values
        key = None
    if not vals:
        out = (np.empty(0, dtype=np.int64), np.empty(0, dtype=bool))
    else:
        try:
            if isinstance(xuniq, pd.DatetimeIndex):
                arr = pd.DatetimeIndex(pd.to_datetime(vals)).astype(xuniq.dtype).to_numpy()
            elif pd.api.types.is_numeric_dtype(xuniq.dtype):
                arr = pd.to_numeric(pd.Series(vals)).to_numpy()
            else:
                arr = np.asarray(pd.Index(vals).astype(xuniq.dtype))
        except (ValueError, TypeError) as exc:
            raise ChartError(
                f"{what} values [{_show_list(vals)}] cannot be compared with the x values"
                f"{_x_kind_hint(xuniq)}"
            ) from exc
        xv = xuniq.to_numpy()
        pos = np.searchsorted(xv, arr, side="left")
        ok = pos < len(xv)
        exact = np.zeros(len(pos), dtype=bool)
        exact[ok] = xv[pos[ok]] == arr[ok]
        out = (pos, exact)
    if key is not None:
        memo[key] = out
    return out


def _x_kind_hint(xuniq: pd.Index) -> str:
    """What the x values are, for a message about values that do not compare with them."""
    if isinstance(xuniq, pd.DatetimeIndex):
        tz = f" in time zone {xuniq.tz}" if xuniq.tz is not None else " without a time zone"
        return f" (x holds dates{tz}: give dates the same way)"
    if pd.api.types.is_numeric_dtype(xuniq.dtype):
        return " (x holds numbers)"
    return ""


def _group_key_to_gid(
    key, labels: pd.DataFrame, by_cols: list[str], what: str, memo: dict
) -> int | None:
    """The group code of a ``phases``/``exclude``/``cl`` dict key (a value, or a tuple
    for several ``by`` columns), matched exactly or else as text; None (with a
    warning) when no group has it."""
    if not by_cols:
        if key in ("", None):
            return 0
        raise ChartError(f"{what} is a dict but the chart has no groups (by=None); give a list")
    kt = key if isinstance(key, tuple) else (key,)
    if len(kt) != len(by_cols):
        raise ChartError(f"{what} key {_show(key)} must give a value for each of {by_cols}")
    if "groups" not in memo:
        exact: dict = {}
        text: dict = {}
        cols = [labels[c].tolist() for c in by_cols]
        for i, row in enumerate(zip(*cols, strict=True)):
            exact.setdefault(row, i)
            text.setdefault(tuple(str(v) for v in row), i)
        memo["groups"] = (exact, text)
    exact, text = memo["groups"]
    try:
        found = exact.get(kt)
    except TypeError:  # an unhashable key
        found = None
    if found is None:
        found = text.get(tuple(str(v) for v in kt))
    if found is None:
        warnings.warn(
            f"{what}: no group {_show(key)} in the data (by={by_cols}); that entry was ignored",
            ChartWarning,
            stacklevel=5,
        )
    return found


def phase_numbers(
    phases: Sequence[Any] | dict | str | None,
    g: np.ndarray,
    xc: np.ndarray,
    xuniq: pd.Index,
    label: np.ndarray | None,
    labels: pd.DataFrame,
    by_cols: list[str],
    memo: dict,
) -> np.ndarray:
    """The phase of every point (from 1 in each group): a new phase at the first x >= each
    start given (per group with a dict), or wherever a label column changes."""
    npts = len(g)
    if phases is None:
        return np.ones(npts, dtype=np.int64)
    new = np.zeros(npts, dtype=bool)
    same = np.zeros(npts, dtype=bool)
    same[1:] = g[1:] == g[:-1]
    if isinstance(phases, str):
        lab = pd.Series(label).astype(str).to_numpy()
        new[1:] = lab[1:] != lab[:-1]
    elif isinstance(phases, dict):
        starts_of = {}
        for key, vals in phases.items():
            gi = _group_key_to_gid(key, labels, by_cols, "phases", memo)
            if gi is None:
                continue
            starts_of[gi] = np.unique(_locate(_listify(vals), xuniq, "phases", memo)[0])
        raw = np.zeros(npts, dtype=np.int64)
        for gi, st in starts_of.items():
            sel = _group_slice(g, gi)
            raw[sel] = np.searchsorted(st, xc[sel], side="right")
        new[1:] = raw[1:] != raw[:-1]
    else:
        st = np.unique(_locate(_listify(phases), xuniq, "phases", memo)[0])
        raw = np.searchsorted(st, xc, side="right")
        new[1:] = raw[1:] != raw[:-1]
    new &= same
    cum = np.cumsum(new)
    first = np.ones(npts, dtype=bool)
    first[1:] = ~same[1:]
    base = np.maximum.accumulate(np.where(first, cum, 0))
    return (cum - base + 1).astype(np.int64)


def _group_slice(g: np.ndarray, gi: int) -> slice:
    """The rows of group ``gi`` in the group-sorted code array ``g``."""
    return slice(int(np.searchsorted(g, gi, "left")), int(np.searchsorted(g, gi, "right")))


def _listify(v) -> list:
    if isinstance(v, str | bytes) or not hasattr(v, "__iter__"):
        return [v]
    return list(v)


def membership(
    spec: Sequence[Any] | dict | None,
    what: str,
    g: np.ndarray,
    xc: np.ndarray,
    xuniq: pd.Index,
    labels: pd.DataFrame,
    by_cols: list[str],
    notes: list[str],
    memo: dict,
) -> np.ndarray:
    """True for points whose x is listed in ``spec`` (a list, or a dict per group)."""
    npts = len(g)
    out = np.zeros(npts, dtype=bool)
    if spec is None:
        return out
    items: list[tuple[int | None, list]]  # (group, x values); group None: every group
    if isinstance(spec, dict):
        items = []
        for key, vals in spec.items():
            gi = _group_key_to_gid(key, labels, by_cols, what, memo)
            if gi is not None:
                items.append((gi, _listify(vals)))
    else:
        items = [(None, _listify(spec))]
    for gi, vals in items:
        pos, exact = _locate(vals, xuniq, what, memo)  # exact matches only
        if (~exact).any():
            notes.append(f"{what}: {int((~exact).sum())} value(s) are not x values of the data")
        if gi is None:
            out |= np.isin(xc, pos[exact])
        else:
            sel = _group_slice(g, gi)
            out[sel] |= np.isin(xc[sel], pos[exact])
    return out


def fixed_cl(
    cl: float | dict | None,
    seg_gid: np.ndarray,
    labels: pd.DataFrame,
    by_cols: list[str],
    multiply: float,
    nseg: int,
    memo: dict,
) -> np.ndarray:
    """Per segment: the given centre line in the units of y before ``multiply``, or NaN."""
    out = np.full(nseg, np.nan)
    if cl is None:
        return out
    if isinstance(cl, dict):
        for key, v in cl.items():
            if not _is_number(v):
                where = "" if key in ("", None) else f" for group {_show(key)}"
                raise ChartError(f"cl{where} must be a number, not {_show(v)}")
            gi = _group_key_to_gid(key, labels, by_cols, "cl", memo)
            if gi is not None:
                out[seg_gid == gi] = float(v) / multiply
        return out
    if not _is_number(cl):
        raise ChartError(f"cl must be a number or a dict of numbers per group, not {_show(cl)}")
    out[:] = float(cl) / multiply
    return out


__all__ = ["Segments", "fixed_cl", "membership", "phase_numbers", "segments"]
