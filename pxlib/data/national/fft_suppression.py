"""NHS England's FFT suppression, reproduced from counts: :func:`fft_suppress`.

The rule as published: "an organisation or sub-unit with fewer than five responses is
suppressed with ``*``; secondary suppression stops deduction from totals" [T-IP
Notes!A45]. The mechanics, as the pipeline implements them to match the published VBA
output [FFT-sup; FFT-main step 9; FFT-README; national-data.md 1.5]:

1. **First level**: 0 < Total Responses < 5 (1-4). Zero responses are not flagged.
2. **Rank** units by Total Responses, smallest first, within their parent, leaving out
   units with no responses: ICBs nationally, trusts within their ICB, sites within their
   trust, wards within their site. Ward ties break by First Speciality, then Second
   Speciality, then Ward Name [FFT-SUP]; other ties by code, then name (the source does
   not say; unconfirmed). Text is compared case-blind, as Excel sorts.
3. **Second level**: where a group's rank-1 unit is first-level suppressed, its rank-2
   unit (if not first-level itself) is suppressed too.
4. **Cascade**: where a parent is suppressed (by any of these rules, applied from the
   ICBs down), its rank-1 and rank-2 children are suppressed.
5. **What is blanked**: on any flag the six answer counts and the mode columns; the
   percentages only on first-level suppression; ``Total Responses`` and ``Total
   Eligible`` stay visible. Threshold 5 [FFT-cfg].

The pipeline still differs from the VBA on some ward ties (about 75 % of sheets match
[FFT-SUP]); where the VBA's rule is unknown this follows the steps above. Whether a
cascade-suppressed parent cascades further (step 4 reads "suppressed (first or second
level)") is unconfirmed: here it does, since its counts are hidden all the same.

Ranking uses only ``Total Responses``, which stays visible, so the flags of a published
file can be re-derived from the file itself.

The ``mode`` level (ambulance ``Mode Org``) takes the flags of the same organisation at
the ``trust`` level (``PTS Org``) when that frame is given (unconfirmed against a
published file), else is ranked as a trust level.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from pxlib.data.national.fft_layouts import ANSWERS, MODES, PARENT, THRESHOLD, UNIT_KEYS
from pxlib.errors import ColumnError, DataValidationError
from pxlib.fmt import literal

__all__ = ["fft_suppress", "suppression_flags"]

_CONTEXT = ("setting", "period", "touchpoint")
_TIES = {
    "icb": ("icb_code", "icb_name"),
    "trust": ("org_code", "org_name"),
    "mode": ("org_code", "org_name"),
    "site": ("site_code", "site_name"),
    "ward": ("first_speciality", "second_speciality", "ward"),
}
REASONS = ("first", "second", "cascade")


def _context(frame: pd.DataFrame) -> list[str]:
    return [c for c in _CONTEXT if c in frame.columns]


def _group_keys(frame: pd.DataFrame, level: str) -> list[str]:
    parent = PARENT.get(level, "icb" if level == "mode" else None)
    keys = _context(frame) + (list(UNIT_KEYS[parent]) if parent else [])
    missing = [k for k in keys + ["total_responses"] if k not in frame.columns]
    if missing:
        raise ColumnError(f"fft_suppress: the {level!r} frame has no column {missing[0]!r}")
    return keys


def _ranks(frame: pd.DataFrame, level: str, threshold: int) -> tuple[np.ndarray, ...]:
    """(first-level, rank within parent (0 = no responses), rank-1 is first-level)."""
    n = frame["total_responses"].to_numpy(dtype=float)
    if np.isnan(n).any():
        i = int(np.flatnonzero(np.isnan(n))[0])
        raise DataValidationError(
            f"fft_suppress: the {level!r} frame has no Total Responses in row {i}; "
            "suppression ranks units by it"
        )
    first = (n > 0) & (n < threshold)
    group = _group_keys(frame, level)
    tmp = pd.DataFrame({f"g{i}": frame[k].to_numpy() for i, k in enumerate(group)})
    gcols = list(tmp.columns) or ["_all"]
    if not group:
        tmp["_all"] = 0
    tmp["_n"] = n
    ties = []
    for i, col in enumerate(_TIES[level]):
        if col in frame.columns:
            tmp[f"t{i}"] = frame[col].fillna("").astype(str).str.casefold().to_numpy()
            ties.append(f"t{i}")
    tmp["_first"] = first
    ranked = tmp[n > 0].sort_values([*gcols, "_n", *ties], kind="mergesort")
    grouped = ranked.groupby(gcols, sort=False, dropna=False)
    rank = np.zeros(len(frame), dtype=np.int64)
    rank[ranked.index.to_numpy()] = grouped.cumcount().to_numpy() + 1
    lead_first = np.zeros(len(frame), dtype=bool)
    lead_first[ranked.index.to_numpy()] = grouped["_first"].transform("first").to_numpy(bool)
    return first, rank, lead_first


def _parent_flags(frame: pd.DataFrame, level: str, parent_frame: pd.DataFrame) -> np.ndarray:
    parent = PARENT[level]
    keys = _context(frame) + list(UNIT_KEYS[parent])
    left = frame[keys].reset_index(drop=True)
    right = parent_frame[keys + ["suppressed"]]
    dup = right.duplicated(keys)
    if dup.any():
        raise DataValidationError(
            f"fft_suppress: the {parent!r} frame lists {literal(tuple(right.loc[dup, keys].iloc[0]))}"
            " more than once"
        )
    merged = left.merge(right, on=keys, how="left", validate="many_to_one")
    return merged["suppressed"].to_numpy(dtype=object)


def suppression_flags(
    frame: pd.DataFrame,
    level: str,
    parent: pd.DataFrame | None = None,
    *,
    threshold: int = THRESHOLD,
) -> np.ndarray:
    """Each row's suppression reason: "first", "second", "cascade" or "" (shown).

    ``parent`` is the parent level's frame with its ``suppressed`` flags already set
    (None at the top, or to skip the cascade). See the module docstring."""
    first, rank, lead_first = _ranks(frame, level, threshold)
    second = (rank == 2) & ~first & lead_first
    cascade = np.zeros(len(frame), dtype=bool)
    if parent is not None:
        flags = _parent_flags(frame, level, parent)
        small = (rank >= 1) & (rank <= 2)
        unmatched = small & pd.isna(flags)
        if unmatched.any():
            i = int(np.flatnonzero(unmatched)[0])
            keys = list(UNIT_KEYS[PARENT[level]])
            raise DataValidationError(
                f"fft_suppress: the {level!r} row {literal(tuple(frame[keys].iloc[i]))} has no "
                f"parent in the {PARENT[level]!r} frame"
            )
        cascade = small & (flags == True)  # noqa: E712 (object array of bools and NaN)
    return np.select([first, second, cascade], list(REASONS), "").astype(object)


def _apply(frame: pd.DataFrame, reason: np.ndarray) -> pd.DataFrame:
    out = frame.copy()
    hide = reason != ""
    blank = [c for c in (*ANSWERS, *MODES.values()) if c in out.columns]
    if hide.any():
        out.loc[hide, blank] = np.nan
        first = reason == "first"
        for col in ("pct_positive", "pct_negative"):
            if col in out.columns:
                out.loc[first, col] = np.nan
    out["suppressed"] = hide
    out["suppression"] = reason
    cols = list(out.columns)
    cols.remove("suppression")
    cols.insert(cols.index("suppressed") + 1, "suppression")
    return out[cols]


def fft_suppress(
    frames_by_level: Mapping[str, pd.DataFrame], *, threshold: int = THRESHOLD
) -> dict[str, pd.DataFrame]:
    """Apply NHS England's FFT suppression (module docstring; [FFT-sup]) to frames of
    counts, keyed by level as :func:`pxlib.data.national.read_fft` returns them.

    Returns new frames in which the answer and mode counts are NaN on any flag and the
    percentages NaN on first-level flags, ``suppressed`` (bool) says whether the row
    would show ``*``, and ``suppression`` gives the reason ("first", "second",
    "cascade" or ""). Groups are formed within ``setting``, ``period`` and
    ``touchpoint`` where those columns exist. A level's parent frame must be given too
    (the ``site`` frame for ``ward``...), since its flags cascade."""
    from pxlib.data.national.fft import FFTLevels

    unknown = [k for k in frames_by_level if k not in _TIES]
    if unknown:
        raise DataValidationError(
            f"fft_suppress: unknown level {literal(unknown[0])}; use icb, trust, site, ward, mode"
        )
    out: dict[str, pd.DataFrame] = {}
    for level in ("icb", "trust", "site", "ward"):
        if level not in frames_by_level:
            continue
        frame = frames_by_level[level].reset_index(drop=True)
        parent = PARENT[level]
        if parent is not None and parent not in out:
            raise DataValidationError(
                f"fft_suppress: the {parent!r} frame is needed to suppress the {level!r} frame "
                f"(a suppressed {parent} cascades to its smallest {level}s)"
            )
        reason = suppression_flags(frame, level, out.get(parent), threshold=threshold)
        out[level] = _apply(frame, reason)
    if "mode" in frames_by_level:
        frame = frames_by_level["mode"].reset_index(drop=True)
        if "trust" in out:
            keys = _context(frame) + ["org_code"]
            right = out["trust"][keys + ["suppression"]].drop_duplicates(keys)
            reason = frame[keys].merge(right, on=keys, how="left")["suppression"]
            reason = reason.fillna("").to_numpy(dtype=object)
        else:
            reason = suppression_flags(frame, "mode", threshold=threshold)
        out["mode"] = _apply(frame, reason)
    return FFTLevels(out)
