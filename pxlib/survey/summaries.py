"""Survey summaries the Always Events workbook shows.

Weights are made **where the margins describe a population**: one organisation
(``org_code``) over the whole analysis period, raked to that organisation's
population margins. Each unit-week figure is then a **domain estimate** of that
design (Lumley 2010 s.2.3): the whole organisation's design with the domain
indicator, never a unit-week raked on its own.

Rules applied by :func:`weights_from_margins` (each change is reported with a
:class:`pxlib.errors.WeightingWarning`, never an error that stops a notebook):

1. An organisation without margins keeps its design weights (1 unless
   ``base_weights`` names a column; its rows are ``weighted=False``).
2. A margin whose column is absent from the data is skipped.
3. Respondents whose value is missing, or is a level the margins do not list,
   form their own ``"(missing)"`` level, whose target is the population size
   times the unweighted share of respondents in it; the listed levels share the
   rest of the population in their margin proportions. Their weights are thus
   adjusted on the other margins only.
4. Sparse levels (fewer than ``min_cell`` respondents) are merged with an
   adjacent level, as :func:`pxlib.weighting.collapse_sparse` documents (age
   bands with their neighbour in the order the margins list them).
5. If raking still does not converge, that organisation is left unweighted.

Variance: the organisation is a stratum; the raking enters the variance through
the calibration residuals (``Design.rake``'s default).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import sparse

from pxlib.data.schemas import FFT_ANSWER_COLUMNS
from pxlib.errors import (
    ColumnError,
    ConvergenceError,
    PxlibWarning,
    WeightingError,
    WeightingWarning,
)
from pxlib.weighting._margins import margins_to_dict, model_matrix
from pxlib.weighting.collapse import collapse_sparse, map_unique
from pxlib.weighting.raking import rake_fit

from .design import Design, make_step

MISSING = "(missing)"
FFT_COLUMNS = list(FFT_ANSWER_COLUMNS)
FFT_TOTAL = "Total Responses"


def _margins_long(margins) -> pd.DataFrame:
    if not isinstance(margins, pd.DataFrame):
        raise ColumnError(
            "population margins must be a table with columns org_code, variable, level, population"
        )
    need = {"org_code", "variable", "level", "population"}
    if not need <= set(margins.columns):
        raise ColumnError(
            f"population margins need columns {sorted(need)}; missing "
            f"{sorted(need - set(margins.columns))}"
        )
    return margins


def _org_margins(sub: pd.DataFrame, m_org: pd.DataFrame, org, min_cell: int):
    """Margins for one organisation after rules 2-4; returns (recoded frame, margins)."""
    md = margins_to_dict(m_org[["variable", "level", "population"]])
    usable = {}
    for v, pop in md.items():
        if v not in sub.columns:
            warnings.warn(
                f"organisation {org}: margin {v!r} has no column in the data; not used",
                WeightingWarning,
                stacklevel=3,
            )
            continue
        usable[v] = pop
    if not usable:
        return sub, {}
    recoded, collapsed = collapse_sparse(sub, usable, min_cell, context=f"organisation {org}")
    out = recoded.copy()
    final = {}
    for v, pop in collapsed.items():
        text = {str(k): k for k in pop}
        vals = map_unique(out[v], lambda x, t=text: t.get(str(x), MISSING), MISSING)
        share_missing = float((vals == MISSING).mean())
        N = float(sum(pop.values()))
        if share_missing > 0:
            nbad = int((sub[v].notna() & (vals == MISSING)).sum())
            if nbad:
                warnings.warn(
                    f"organisation {org}: {nbad} respondent(s) have a {v!r} level the margins "
                    "do not list; treated as missing for weighting",
                    WeightingWarning,
                    stacklevel=3,
                )
            if share_missing >= 1:
                continue
            scaled = {k: p * (1 - share_missing) for k, p in pop.items()}
            scaled[MISSING] = N * share_missing
            pop = scaled
        out[v] = vals.astype(object)
        final[v] = pop
    return out, final


def _base(df: pd.DataFrame, base_weights) -> np.ndarray:
    if base_weights is None:
        return np.ones(len(df))
    if base_weights not in df.columns:
        raise ColumnError(f"design weight column {base_weights!r} is not in the respondent data")
    w = pd.to_numeric(df[base_weights], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        raise WeightingError(
            f"design weight column {base_weights!r}: {int(bad.sum())} row(s) are missing, "
            "zero or negative"
        )
    return w


def _weigh(
    df: pd.DataFrame,
    margins,
    org_col: str,
    min_cell: int,
    tol: float,
    max_iter: int,
    base_weights=None,
):
    """Weights, a weighted flag per row, and the calibration step for the variance."""
    n = len(df)
    base = _base(df, base_weights)
    w = base.copy()
    weighted = np.zeros(n, dtype=bool)
    if margins is None:
        return w, weighted, None, base
    m = _margins_long(margins)
    if org_col not in df.columns:
        raise ColumnError(f"respondent data need an {org_col!r} column to match the margins")
    unit = np.zeros(n, dtype=np.int64)
    blocks, offset = [], 0
    pos = np.arange(n)
    orgs = pd.factorize(df[org_col])[1]
    by_org = {k: g for k, g in m.groupby(m["org_code"].astype(str))}
    for org in orgs:
        rows = pos[(df[org_col] == org).to_numpy()]
        m_org = by_org.get(str(org))
        if m_org is None:
            warnings.warn(
                f"organisation {org}: no population margins; its results are unweighted",
                WeightingWarning,
                stacklevel=3,
            )
            continue
        sub = df.iloc[rows]
        recoded, final = _org_margins(sub, m_org, org, min_cell)
        if not final:
            warnings.warn(
                f"organisation {org}: no usable margin; its results are unweighted",
                WeightingWarning,
                stacklevel=3,
            )
            continue
        try:
            fit = rake_fit(
                recoded, final, None if base_weights is None else base[rows], tol, max_iter
            )
        except ConvergenceError as exc:
            warnings.warn(
                f"organisation {org}: {exc}; its results are unweighted",
                WeightingWarning,
                stacklevel=3,
            )
            continue
        X = model_matrix(fit.cells.level_codes, fit.cells.sizes)
        X = X[:, np.any(X != 0, axis=0)]
        w[rows] = fit.weights
        weighted[rows] = True
        unit[rows] = offset + fit.cells.row_cell
        offset += X.shape[0]
        blocks.append(X)
    if not blocks:
        return w, weighted, None, base
    # unweighted rows point at one extra unit with an empty model row
    unit[~weighted] = offset
    Xall = sparse.block_diag(blocks + [np.zeros((1, 0))], format="csr")
    return w, weighted, (unit, Xall), base


def weights_from_margins(
    df: pd.DataFrame,
    margins: pd.DataFrame,
    *,
    org_col: str = "org_code",
    min_cell: int = 5,
    tol: float = 1e-6,
    max_iter: int = 100,
    base_weights: str | None = None,
) -> pd.Series:
    """Rake each organisation's respondents to its population margins.

    ``margins``: long table ``org_code, variable, level, population``. The rules
    for missing values, unlisted and sparse levels are in the module docstring.
    Returns weights aligned with ``df.index`` (1 for organisations without
    margins), summing to each weighted organisation's population.
    ``base_weights``: a column of design weights to start from (default 1).
    """
    w, _, _, _ = _weigh(df, margins, org_col, min_cell, tol, max_iter, base_weights)
    return pd.Series(w, index=df.index, name="weight")


def _design(df, margins, org_col, min_cell, tol, max_iter, base_weights=None):
    w, weighted, cal, base = _weigh(df, margins, org_col, min_cell, tol, max_iter, base_weights)
    strata = org_col if org_col in df.columns else None
    d = Design(df, weights=w, strata=strata, lonely_psu="certainty")
    if cal is not None:
        unit, X = cal
        step = make_step(unit, X, base)
        d = d._new(w, step, {"step": "rake", "detail": "organisation margins"})
    return d, weighted


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
) -> pd.DataFrame:
    by = [by] if isinstance(by, str) else list(by)
    for c in by:
        if c not in df.columns:
            raise ColumnError(f"grouping column {c!r} is not in the respondent data")
    work = df.copy(deep=False)
    work["_y_"] = indicator
    d, weighted = _design(work, margins, org_col, min_cell, tol, max_iter, base_weights)
    res = d.by(by).proportion("_y_", method=ci_method, level=level)
    grp = work.assign(_hit_=(indicator == 1).astype(float), _wt_=weighted).groupby(
        by, sort=True, dropna=True, observed=True
    )
    hits = grp["_hit_"].sum().to_numpy()
    wflag = grp["_wt_"].all().to_numpy()
    out = res[by].copy()
    out["n_respondents"] = res["n"].to_numpy()
    out[count_name] = hits.astype(np.int64)
    out["share"] = res["estimate"].to_numpy()
    out["se"] = res["se"].to_numpy()
    out["ci_low"] = res["ci_low"].to_numpy()
    out["ci_high"] = res["ci_high"].to_numpy()
    out["ess"] = res["ess"].to_numpy()
    out["weighted"] = wflag
    return out


def always_event_share(
    df: pd.DataFrame,
    by=("unit", "week"),
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
) -> pd.DataFrame:
    """Share of respondents for whom the Always Event happened, per domain.

    ``happened`` is 1.0 / 0.0, or NaN when the answer leaves the denominator.
    Returns one row per ``by`` group: ``n_respondents`` (unweighted, with an
    answer), ``n_happened``, ``share`` (weighted when ``margins`` are given),
    ``se`` (linearised), ``ci_low``/``ci_high`` (``ci_method``: wilson, logit,
    likelihood, beta, asin, mean, xlogit; t quantiles with the domain's degrees
    of freedom, at least 1), ``ess`` (Kish effective sample size of the domain)
    and ``weighted`` (raked to the organisation's margins). ``base_weights``
    names a column of design weights that raking starts from (default 1). For a
    weighted p chart use ``y = share * ess`` and ``n = ess``.
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
    )


def top_box(
    df: pd.DataFrame,
    item: str,
    top_levels,
    by=("unit", "week"),
    *,
    exclude=("Don't know", "Dont know", "Not applicable"),
    margins: pd.DataFrame | None = None,
    ci_method: str = "wilson",
    level: float = 0.95,
    org_col: str = "org_code",
    min_cell: int = 5,
    base_weights: str | None = None,
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
    )


def fft_scores(df: pd.DataFrame, by=None) -> pd.DataFrame:
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
