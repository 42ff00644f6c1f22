"""Step 2 of a chart: the data's columns become arrays, one point per group and x.

:func:`read_columns` reads x, y, n, the groups and a phase-label column as arrays
(checked by :mod:`pxlib.spc.validate`; rows without an x are left out, with a note);
:func:`subgroups` sorts them by group and x and combines the rows sharing an x
(:func:`combine_rows`: sums for p, pp, u, up and c, one subgroup for xbar and s, else
the mean, as qicharts2's ``qic.agg``), and with regular dates as x makes absent
periods gaps (:func:`fill_date_gaps`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pxlib.errors import ChartError
from pxlib.spc.segments import seg_nanmedian
from pxlib.spc.validate import check_finite, check_values, factorize_x, numeric


@dataclass
class Columns:
    """The data as arrays (rows without an x left out), in the data's row order."""

    gid: np.ndarray  # group code per row
    labels: pd.DataFrame  # the group values, one row per group code
    xs: pd.Series  # x per row
    yv: np.ndarray
    nv: np.ndarray | None
    label_v: np.ndarray | None  # phase labels per row, when ``phases`` names a column
    row_index: pd.Index  # the data's index of each row (for messages)


def read_columns(
    data: pd.DataFrame,
    x: str,
    y: str,
    n: str | None,
    by_cols: list[str],
    phases: Sequence[Any] | dict | str | None,
    kind: str,
    notes: list[str],
) -> Columns:
    """The chart's columns as arrays: y and n as floats (a row missing one of them is
    missing in both), checked for the values ``kind`` cannot take; rows with no x are
    left out and counted in ``notes``."""
    if len(data) == 0:
        raise ChartError(f"data has no rows: nothing to chart in '{y}' against '{x}'")
    gid, group_labels = group_codes(data, by_cols)
    xs = data[x]
    x_na = xs.isna().to_numpy()
    yv = numeric(data, y, "y")
    nv = numeric(data, n, "n") if n is not None else None
    check_finite(yv, data.index, "y", y)
    if nv is not None and n is not None:  # nv is None exactly when n is
        check_finite(nv, data.index, "n", n)
    label_v = data[phases].to_numpy() if isinstance(phases, str) else None
    if x_na.any():
        notes.append(f"{int(x_na.sum())} rows with a missing '{x}' were left out")
        keep = ~x_na
        gid, yv = gid[keep], yv[keep]
        xs = xs[keep]
        nv = nv[keep] if nv is not None else None
        label_v = label_v[keep] if label_v is not None else None
        row_index = data.index[keep]
    else:
        row_index = data.index
    if nv is not None:
        missing = ~np.isfinite(yv) | ~np.isfinite(nv)
        yv = np.where(missing, np.nan, yv)
        nv = np.where(missing, np.nan, nv)
    check_values(kind, yv, nv, gid, group_labels, by_cols, xs, row_index, y, n)
    return Columns(gid, group_labels, xs, yv, nv, label_v, row_index)


def subgroups(
    cols: Columns, x: str, kind: str, agg: str | None, fill_gaps: bool
) -> tuple[dict[str, np.ndarray], pd.Index]:
    """One point per (group, x), sorted by group then x (:func:`combine_rows`), with
    absent periods of regular dates inserted as gaps when ``fill_gaps`` (not for t and g
    charts, whose x is an event sequence); and the sorted unique x values."""
    xcode, xuniq = factorize_x(cols.xs, x)
    order = np.lexsort((xcode, cols.gid))
    gid, xcode, yv = cols.gid[order], xcode[order], cols.yv[order]
    nv = cols.nv[order] if cols.nv is not None else None
    label_v = cols.label_v[order] if cols.label_v is not None else None
    sub = combine_rows(kind, gid, xcode, yv, nv, label_v, agg)
    if fill_gaps and kind not in ("t", "g") and isinstance(xuniq, pd.DatetimeIndex):
        sub, xuniq = fill_date_gaps(sub, xuniq)
    if len(sub["gid"]) == 0:
        raise ChartError(f"no rows with a value of '{x}' to chart")
    return sub, xuniq


def group_codes(data: pd.DataFrame, by_cols: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer group codes (sorted by the group values) and the group value table."""
    if not by_cols:
        return np.zeros(len(data), dtype=np.int64), pd.DataFrame(index=[0])
    codes = []
    uniques = []
    for c in by_cols:
        try:
            k, u = pd.factorize(data[c], sort=True, use_na_sentinel=False)
        except TypeError as exc:
            raise ChartError(
                f"by column '{c}' holds values that cannot be group labels (such as lists, "
                "or dates with and without a time zone); give text, numbers or dates"
            ) from exc
        codes.append(k.astype(np.int64))
        uniques.append(u)
    if len(by_cols) == 1:
        gid = codes[0]
        labels = pd.DataFrame({by_cols[0]: uniques[0]})
        used = np.unique(gid)
        if len(used) < len(labels):
            remap = np.full(len(labels), -1)
            remap[used] = np.arange(len(used))
            gid = remap[gid]
            labels = labels.iloc[used].reset_index(drop=True)
        return gid, labels
    dims = tuple(len(u) for u in uniques)
    flat = np.ravel_multi_index(codes, dims)
    gid, ufl = pd.factorize(flat, sort=True)
    parts = np.unravel_index(np.asarray(ufl), dims)
    labels = pd.DataFrame({c: uniques[i].take(parts[i]) for i, c in enumerate(by_cols)})
    return gid.astype(np.int64), labels


def combine_rows(
    kind: str,
    gid: np.ndarray,
    xcode: np.ndarray,
    yv: np.ndarray,
    nv: np.ndarray | None,
    label_v: np.ndarray | None,
    agg: str | None,
) -> dict[str, np.ndarray]:
    """One row per (group, x): sums, counts, mean and sd of y, sum of n, plotted y."""
    npts = len(gid)
    new = np.ones(npts, dtype=bool)
    if npts > 1:
        new[1:] = (gid[1:] != gid[:-1]) | (xcode[1:] != xcode[:-1])
    fin = np.isfinite(yv)
    if new.all():
        y_sum = yv.copy()
        y_len = fin.astype(float)
        y_mean = yv.copy()
        y_sd = np.full(npts, np.nan)
        n_sum = nv.copy() if nv is not None else np.full(npts, np.nan)
        y_med: np.ndarray | None = yv
        out = {"gid": gid, "xcode": xcode}
        if label_v is not None:
            out["label"] = label_v
    else:
        starts = np.flatnonzero(new)
        sub_id = np.cumsum(new) - 1
        y0 = np.where(fin, yv, 0.0)
        y_len = np.add.reduceat(fin.astype(float), starts)
        y_sum = np.add.reduceat(y0, starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            y_mean = np.where(y_len > 0, y_sum / y_len, np.nan)
            dev = np.where(fin, (yv - y_mean[sub_id]) ** 2, 0.0)
            y_sd = np.where(y_len > 1, np.sqrt(np.add.reduceat(dev, starts) / (y_len - 1)), np.nan)
        y_sum = np.where(y_len > 0, y_sum, np.nan)
        if nv is not None:
            nfin = np.isfinite(nv)
            n_sum = np.add.reduceat(np.where(nfin, nv, 0.0), starts)
            n_sum = np.where(np.add.reduceat(nfin.astype(float), starts) > 0, n_sum, np.nan)
        else:
            n_sum = np.full(len(starts), np.nan)
        y_med = seg_nanmedian(yv, sub_id, len(starts)) if agg == "median" else None
        out = {"gid": gid[starts], "xcode": xcode[starts]}
        if label_v is not None:
            out["label"] = label_v[starts]
    with np.errstate(invalid="ignore", divide="ignore"):
        if nv is not None and kind not in ("xbar", "s", "c"):
            y: np.ndarray | None = np.where(
                n_sum > 0, y_sum / np.where(n_sum > 0, n_sum, 1), np.nan
            )
        elif kind == "xbar":
            y = y_mean
        elif kind == "s":
            y = y_sd
        else:
            how = agg or ("sum" if kind == "c" else "mean")
            y = {"sum": y_sum, "mean": y_mean, "median": y_med}[how]
    out.update(
        y=np.asarray(y, dtype=float),
        y_sum=y_sum,
        y_len=y_len,
        y_sd=y_sd,
        n=n_sum,
        zero_n=(n_sum == 0) if nv is not None else np.zeros(len(out["gid"]), dtype=bool),
    )
    return out


def fill_date_gaps(
    sub: dict[str, np.ndarray], xuniq: pd.DatetimeIndex
) -> tuple[dict[str, np.ndarray], pd.DatetimeIndex]:
    """Insert missing points for absent periods of regular dates inside each group's span."""
    dates = pd.DatetimeIndex(xuniq)
    if len(dates) < 3 or not (dates == dates.normalize()).all():
        return sub, xuniq
    if (dates.day == 1).all():
        months = np.asarray(dates.year * 12 + dates.month - 1, dtype=np.int64)
        step = int(np.gcd.reduce(np.diff(months)))
        origin = int(months[0])
        per = (months - origin) // step

        def to_dates(p):
            mm = origin + p * step
            return pd.to_datetime(
                pd.DataFrame({"year": mm // 12, "month": mm % 12 + 1, "day": 1})
            ).astype(dates.dtype)
    else:
        days = np.asarray((dates - dates[0]).days, dtype=np.int64)
        step = int(np.gcd.reduce(np.diff(days)))
        per = days // step
        d0 = dates[0]

        def to_dates(p):
            return pd.DatetimeIndex(d0 + pd.to_timedelta(p * step, unit="D")).astype(dates.dtype)

    g = sub["gid"]
    p = per[sub["xcode"]]
    same = g[1:] == g[:-1]
    spacing = np.diff(p)  # in steps
    # regular: within the groups, the most common spacing is the step itself (the union
    # of several groups' dates, e.g. weekly on different weekdays, may be finer than any)
    if not same.any() or np.bincount(spacing[same]).argmax() != 1:
        return sub, xuniq
    jump = np.where(same, spacing - 1, 0)
    if not (jump > 0).any():
        return sub, xuniq
    at = np.flatnonzero(jump > 0)
    counts = jump[at]
    total = int(counts.sum())
    if total > 10 * len(g) + 1000:
        return sub, xuniq  # not a regular series after all
    rep = np.repeat(at, counts)
    offs = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    new_p = p[rep] + offs
    new_g = g[rep]
    all_p = np.union1d(per, new_p)
    new_xuniq = pd.DatetimeIndex(to_dates(all_p))
    xcode_old = np.searchsorted(all_p, p)
    xcode_new = np.searchsorted(all_p, new_p)
    gid = np.concatenate((g, new_g))
    xcode = np.concatenate((xcode_old, xcode_new))
    order = np.lexsort((xcode, gid))
    k = len(new_g)
    out = {"gid": gid[order], "xcode": xcode[order]}
    for key in ("y", "y_sum", "y_sd", "n"):
        out[key] = np.concatenate((sub[key], np.full(k, np.nan)))[order]
    out["y_len"] = np.concatenate((sub["y_len"], np.zeros(k)))[order]
    out["zero_n"] = np.concatenate((sub["zero_n"], np.zeros(k, dtype=bool)))[order]
    inserted = np.concatenate((np.zeros(len(g), dtype=bool), np.ones(k, dtype=bool)))[order]
    if "label" in sub:
        lab = pd.Series(np.concatenate((sub["label"], np.full(k, None, dtype=object)))[order])
        out["label"] = lab.groupby(out["gid"]).ffill().to_numpy()
    out["inserted"] = inserted
    return out, new_xuniq


__all__ = ["Columns", "combine_rows", "fill_date_gaps", "group_codes", "read_columns", "subgroups"]
