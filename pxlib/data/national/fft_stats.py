"""How NHS England computes the FFT figures from counts [national-data.md 1.4].

- % positive = (Very Good + Good) / Total Responses; % negative = (Poor + Very Poor) /
  Total Responses, where Total Responses is the sum of all six answers **including
  Don't Know**, so Don't Know is in the denominator [FFT-ref; FFT-proc; the inpatient
  template's ``=(G14+H14)/SUM(G14:L14)``]. No responses: no percentage.
- Aggregates (ICB, England) re-sum the counts and then divide; percentages are never
  averaged [FFT-proc].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pxlib.data.national.fft_layouts import (
    ANSWERS,
    COUNTS,
    IS1_CODE,
    LEVEL_KEYS,
    MODES,
    NEGATIVE,
    POSITIVE,
    output_columns,
)
from pxlib.errors import ColumnError, DataValidationError

CONTEXT = ("setting", "period", "touchpoint")


def percentages(counts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(% positive, % negative) as fractions from the six answer counts [FFT-ref].

    The denominator is the sum of the six answers (Don't Know included); NaN where it is
    0 or where any answer is missing (suppressed)."""
    values = counts[list(ANSWERS)].to_numpy(dtype=float)
    total = values.sum(axis=1)  # NaN where any answer is NaN
    positive = counts[list(POSITIVE)].to_numpy(dtype=float).sum(axis=1)
    negative = counts[list(NEGATIVE)].to_numpy(dtype=float).sum(axis=1)
    ok = total > 0
    safe = np.where(ok, total, 1.0)
    pos = np.where(ok, positive / safe, np.nan)
    neg = np.where(ok, negative / safe, np.nan)
    return pos, neg


def fft_aggregate(frame: pd.DataFrame, to: str) -> pd.DataFrame:
    """Re-sum a level's counts to a higher level (``to`` = "icb", "trust" or "site") and
    recompute the percentages from the summed counts, as NHS England builds its ICB and
    England rows [FFT-proc; national-data.md 1.4].

    Rows are grouped by ``setting``, ``period``, ``touchpoint`` (where present) and the
    codes of ``to``; names are taken from the first row of each group. The input must
    hold full counts: a suppressed row (``suppressed`` true) cannot be re-summed."""
    if to not in ("icb", "trust", "site"):
        raise DataValidationError(f"fft_aggregate: 'to' must be icb, trust or site, not {to!r}")
    keys = [k for k in LEVEL_KEYS[to] if k in frame.columns]
    missing = [k for k in LEVEL_KEYS[to] if not k.endswith("_name") and k not in frame.columns]
    if missing:
        raise ColumnError(f"fft_aggregate: column {missing[0]!r} is needed to sum to {to!r}")
    if "suppressed" in frame.columns and frame["suppressed"].any():
        n = int(frame["suppressed"].sum())
        raise DataValidationError(
            f"fft_aggregate: {n} suppressed rows have no counts to sum; aggregate full counts "
            "(a raw extract), not a published file"
        )
    context = [c for c in CONTEXT if c in frame.columns]
    codes = context + [k for k in keys if not k.endswith("_name")]
    names = [k for k in keys if k.endswith("_name")]
    sums = [c for c in (*COUNTS, *MODES.values()) if c in frame.columns]
    grouped = frame.groupby(codes, sort=False, dropna=False)
    out = grouped[sums].sum(min_count=1)
    if names:
        out = out.join(grouped[names].first())
    out = out.reset_index()
    out["pct_positive"], out["pct_negative"] = percentages(out.reindex(columns=list(ANSWERS)))
    out["suppressed"] = False
    out["independent_sector"] = out["icb_code"].eq(IS1_CODE)
    out["level"] = to
    modes = [c for c in MODES.values() if c in out.columns]
    columns = output_columns(to, modes, touchpoint="touchpoint" in frame.columns)
    return out.reindex(columns=[c for c in columns if c in out.columns or c in COUNTS])
