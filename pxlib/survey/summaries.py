"""Survey summaries the Always Events workbook shows: the share for whom an Always Event
happened, top-box scores and Friends and Family Test scores.

Every weighted figure here is a domain estimate of one design made once per weighting
group (:mod:`pxlib.survey.weighted_design`, whose docstring gives the weighting rules);
:func:`build_design`, :func:`domain_shares` and :func:`weights_from_margins` are
importable from here too.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from pxlib.data.schemas import FFT_ANSWER_COLUMNS
from pxlib.errors import ColumnError, PxlibWarning

from .weighted_design import (  # noqa: F401 (importable from here, as before)
    MISSING,
    SCALES,
    WeightedDesign,
    build_design,
    domain_shares,
    weights_from_margins,
)

FFT_COLUMNS = list(FFT_ANSWER_COLUMNS)
FFT_TOTAL = "Total Responses"


def _share_table(
    df,
    indicator,
    count_name,
    by,
    margins,
    ci_method,
    level,
    org_col,
    min_cell,
    tol,
    max_iter,
    base_weights=None,
    unit_col=None,
) -> pd.DataFrame:
    by = [by] if isinstance(by, str) else list(by)
    for c in by:
        if c not in df.columns:
            raise ColumnError(f"grouping column {c!r} is not in the respondent data")
    work = df.copy(deep=False)
    work["_y_"] = indicator
    wd = build_design(
        work,
        margins,
        org_col=org_col,
        unit_col=unit_col,
        min_cell=min_cell,
        tol=tol,
        max_iter=max_iter,
        base_weights=base_weights,
    )
    out = domain_shares(wd, "_y_", by, count_name=count_name, ci_method=ci_method, level=level)
    return out[
        [*by, "n_respondents", count_name, "share", "se", "ci_low", "ci_high", "ess", "weighted"]
    ]


def always_event_share(
    df: pd.DataFrame,
    by: str | Sequence[str] = ("unit", "week"),
    margins: pd.DataFrame | None = None,
    ci_method: str = "wilson",
    level: float = 0.95,
    *,
    outcome: str = "happened",
    org_col: str = "org_code",
    min_cell: int = 5,
    tol: float = 1e-6,
    max_iter: int = 100,
    base_weights: str | None = None,
    unit_col: str | None = None,
) -> pd.DataFrame:
    """Share of respondents for whom the Always Event happened, per domain.

    ``happened`` is 1.0 / 0.0, or NaN when the answer leaves the denominator.
    Returns one row per ``by`` group: ``n_respondents`` (unweighted, with an
    answer), ``n_happened``, ``share`` (weighted when ``margins`` are given),
    ``se`` (linearised), ``ci_low``/``ci_high`` (``ci_method``: wilson, logit,
    likelihood, beta, asin, mean, xlogit; t quantiles with the domain's degrees
    of freedom, at least 1), ``ess`` (Kish effective sample size of the domain)
    and ``weighted`` (raked to its group's margins). ``base_weights``
    names a column of design weights that raking starts from (default 1).
    ``margins`` are used as given (organisation rows; with ``unit_col``, each
    unit's rows): this is the general tool, e.g. for comparing with a national
    population survey on catchment margins. The workbook's unit measures use
    :func:`pxlib.workbook.measures.weekly_share`, which weights each unit to its
    eligible patients only. For a weighted p chart use ``y = share * ess`` and
    ``n = ess``.
    """
    if outcome not in df.columns:
        raise ColumnError(f"respondent data need an {outcome!r} column")
    y = pd.to_numeric(df[outcome], errors="coerce").to_numpy(dtype=float)
    return _share_table(
        df,
        y,
        "n_happened",
        by,
        margins,
        ci_method,
        level,
        org_col,
        min_cell,
        tol,
        max_iter,
        base_weights,
        unit_col,
    )


def top_box(
    df: pd.DataFrame,
    item: str,
    top_levels: str | Sequence[str],
    by: str | Sequence[str] = ("unit", "week"),
    *,
    exclude: Sequence[str] = ("Don't know", "Dont know", "Not applicable"),
    margins: pd.DataFrame | None = None,
    ci_method: str = "wilson",
    level: float = 0.95,
    org_col: str = "org_code",
    min_cell: int = 5,
    base_weights: str | None = None,
    unit_col: str | None = None,
) -> pd.DataFrame:
    """Likert top-box share: answers in ``top_levels`` over all valid answers.

    Missing answers and those in ``exclude`` leave the denominator. Columns as
    :func:`always_event_share`, with ``n_top`` for the count in the top box.
    """
    if item not in df.columns:
        raise ColumnError(f"respondent data have no {item!r} column")
    top = {str(x) for x in ([top_levels] if isinstance(top_levels, str) else top_levels)}
    excl = {str(x) for x in exclude}
    vals = df[item]
    text = vals.astype(str)
    valid = vals.notna() & ~text.isin(excl)
    y = np.where(valid, text.isin(top).astype(float), np.nan)
    return _share_table(
        df,
        y,
        "n_top",
        by,
        margins,
        ci_method,
        level,
        org_col,
        min_cell,
        1e-6,
        100,
        base_weights,
        unit_col,
    )


def fft_scores(df: pd.DataFrame, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Friends and Family Test % positive and % negative.

    % positive = (very good + good) / all responses; % negative = (poor + very
    poor) / all responses (NHS England's definition; "all responses" is
    ``Total Responses``, which includes "don't know"). With ``by``, counts are
    summed over each group first. Columns: the ``by`` columns, ``total_responses``,
    ``n_positive``, ``n_negative``, ``prop_positive``, ``prop_negative`` (0-1, as
    the published ``Prop_Pos``/``Prop_Neg``) and ``pct_positive``,
    ``pct_negative`` (0-100). A row with no responses gets NaN, never 0.
    """
    missing = [c for c in [*FFT_COLUMNS, FFT_TOTAL] if c not in df.columns]
    if missing:
        raise ColumnError(f"FFT data are missing columns {missing}")
    counts = df[[*FFT_COLUMNS, FFT_TOTAL]].apply(pd.to_numeric, errors="coerce")
    parts = counts[FFT_COLUMNS].sum(axis=1, min_count=1)
    off = (parts.notna() & counts[FFT_TOTAL].notna() & (parts != counts[FFT_TOTAL])).sum()
    if off:
        warnings.warn(
            f"FFT data: in {int(off)} row(s) 'Total Responses' differs from the sum of the six "
            "answer columns; 'Total Responses' is used as the denominator",
            PxlibWarning,
            stacklevel=2,
        )
    if by is not None:
        by = [by] if isinstance(by, str) else list(by)
        counts = (
            pd.concat([df[by], counts], axis=1)
            .groupby(by, sort=True, dropna=False)
            .sum(min_count=1)
        )
        counts = counts.reset_index()
        keys = counts[by]
    else:
        keys = pd.DataFrame(index=counts.index)
    total = counts[FFT_TOTAL].to_numpy(dtype=float)
    pos = (counts[FFT_COLUMNS[0]] + counts[FFT_COLUMNS[1]]).to_numpy(dtype=float)
    neg = (counts[FFT_COLUMNS[3]] + counts[FFT_COLUMNS[4]]).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pp = np.where(total > 0, pos / total, np.nan)
        pn = np.where(total > 0, neg / total, np.nan)
    out = keys.copy()
    out["total_responses"] = total
    out["n_positive"] = pos
    out["n_negative"] = neg
    out["prop_positive"] = pp
    out["prop_negative"] = pn
    out["pct_positive"] = 100 * pp
    out["pct_negative"] = 100 * pn
    return out
