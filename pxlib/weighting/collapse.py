"""Collapsing weighting cells too sparse to weight.

Rule (documented; applied by :func:`collapse_sparse` and the workbook's survey
summaries): the levels of each margin are taken **in the order the margins
list them** (age bands youngest to oldest, deprivation quintiles 1 to 5, ...).
While some level has fewer than ``min_count`` respondents, the sparsest such
level (the first in order on a tie) is merged with its neighbour in that order
that has fewer respondents (the previous one on a tie; the only one at either
end). The merged level is labelled ``"a+b"`` and its population is the sum. A
margin left with a single level carries no information and is dropped. Every
merge is reported with a :class:`pxlib.errors.WeightingWarning`; nothing stops.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from pxlib.errors import WeightingWarning

from ._margins import check_frame, check_number, column, margins_to_dict


def map_unique(series: pd.Series, func: Callable[..., Any], na_value: Any = np.nan) -> pd.Series:
    """``series.map(func)`` evaluated once per distinct value (object dtype)."""
    obj = series.astype(object)
    table = {u: func(u) for u in pd.unique(obj.dropna())}
    out = obj.map(table)
    return out.where(obj.notna(), na_value).astype(object)


def collapse_levels(
    counts: dict, population: dict, min_count: int
) -> tuple[dict, dict, list[tuple[str, str]]]:
    """Merge sparse adjacent levels.

    ``counts``: respondents per level; ``population``: {level: population} in
    margin order. Returns (old level -> new label, new {label: population},
    merges as (a, b) pairs).
    """
    groups = [[lev] for lev in population]
    cnt = [float(counts.get(lev, 0)) for lev in population]
    pop = [float(population[lev]) for lev in population]
    merges = []
    while len(groups) > 1:
        arr = np.asarray(cnt)
        sparse = np.flatnonzero(arr < min_count)
        if sparse.size == 0:
            break
        i = int(sparse[np.argmin(arr[sparse])])
        if i == 0:
            j = 1
        elif i == len(groups) - 1:
            j = i - 1
        else:
            j = i - 1 if cnt[i - 1] <= cnt[i + 1] else i + 1
        a, b = sorted((i, j))
        merges.append(("+".join(map(str, groups[a])), "+".join(map(str, groups[b]))))
        groups[a] = groups[a] + groups[b]
        cnt[a] += cnt[b]
        pop[a] += pop[b]
        del groups[b], cnt[b], pop[b]
    mapping, new_pop = {}, {}
    for g, p in zip(groups, pop, strict=True):
        label = "+".join(map(str, g)) if len(g) > 1 else g[0]
        new_pop[label] = p
        for lev in g:
            mapping[lev] = label
    return mapping, new_pop, merges


def collapse_sparse(
    df: pd.DataFrame, margins: pd.DataFrame | dict, min_count: int = 5, *, context: str = ""
) -> tuple[pd.DataFrame, dict]:
    """Apply the collapsing rule to every margin.

    Returns ``(recoded, margins)``: a DataFrame with the margin columns recoded
    to the merged labels (object dtype; other columns untouched) and the new
    margins. Margins reduced to one level are dropped. Warns for every change.
    """
    check_frame(df)
    check_number(min_count, "min_count", minimum=0)
    md = margins_to_dict(margins)
    out = df.copy()
    new: dict = {}
    where = f" ({context})" if context else ""
    for v, pop in md.items():
        col = column(df, v, "margin")
        text = {str(k): k for k in pop}
        vals = map_unique(col, lambda x, t=text: t.get(str(x), x))
        counts = vals.value_counts(dropna=True).to_dict()
        mapping, newpop, merges = collapse_levels(counts, pop, min_count)
        if merges:
            pairs = ", ".join(f"{a} with {b}" for a, b in merges)
            warnings.warn(
                f"margin {v!r}{where}: fewer than {min_count} respondents in some levels; "
                f"merged {pairs}",
                WeightingWarning,
                stacklevel=2,
            )
        if len(newpop) <= 1:
            warnings.warn(
                f"margin {v!r}{where}: a single level is left after merging sparse levels; "
                "this margin is not used for weighting",
                WeightingWarning,
                stacklevel=2,
            )
            continue
        out[v] = map_unique(vals, lambda x, m=mapping: m.get(x, x))
        new[v] = newpop
    return out, new
