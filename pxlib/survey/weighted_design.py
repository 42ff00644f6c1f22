"""Survey weights made once per weighting group, and the domain estimates read from them.

Weights are made **once, where the margins describe a population**: one
weighting group over the whole analysis period, raked to that group's margins.
A group is an organisation (``org_code``), or with ``unit_col`` one unit of an
organisation raked to the margins of that unit alone (its eligible patients).
Each unit-week, window or group figure is then a **domain estimate** of that
one design (Lumley 2010 s.2.3): the whole design with the domain indicator,
never a subset of rows raked on its own (:func:`build_design` makes the design,
:func:`domain_shares` reads it).

Rules applied by :func:`build_design` (each change is reported with a
:class:`pxlib.errors.WeightingWarning` naming the group and the margin, never an
error that stops a notebook):

1. A group without margins keeps its design weights (1 unless ``base_weights``
   names a column; its rows are ``weighted=False``).
2. A margin whose column is absent from the data is skipped.
3. Respondents whose value is missing, or is a level the margins do not list,
   form their own ``"(missing)"`` level, whose target is the population size
   times the unweighted share of respondents in it; the listed levels share the
   rest of the population in their margin proportions. Their weights are thus
   adjusted on the other margins only.
4. Sparse levels (fewer than ``min_cell`` respondents) are merged with an
   adjacent level, as :func:`pxlib.weighting.collapse_sparse` documents (age
   bands with their neighbour in the order the margins list them).
5. If the margins still cannot be used (raking does not converge, a level with
   respondents has a population of 0, margins that disagree on the total, ...),
   that group is left unweighted.

Scale (``scale``): ``"population"`` (default) makes each group's weights sum to
its population; ``"respondents"`` makes them sum to its respondents (the
margins used as shares), so that groups weighted and unweighted count alike
when a figure pools several of them.

Variance: each group is a stratum; the raking enters the variance through the
calibration residuals (``Design.rake``'s default).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import sparse

from pxlib.errors import ColumnError, WeightingError, WeightingWarning
from pxlib.weighting._margins import margins_to_dict, model_matrix
from pxlib.weighting.collapse import collapse_sparse, map_unique
from pxlib.weighting.raking import rake_fit

from .design import Design, DesignWarning, make_step

__all__ = [
    "MISSING",
    "SCALES",
    "WeightedDesign",
    "build_design",
    "domain_shares",
    "weights_from_margins",
]

MISSING = "(missing)"
SCALES = ("population", "respondents")
_STRATUM = "_weighting_group_"
_WITHIN = "_within_"


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


def _blank(values: pd.Series) -> pd.Series:
    return values.isna() | (values.astype(str).str.strip() == "")


def _group_margins(margins: pd.DataFrame, unit_col: str | None) -> dict:
    """{group key: margins rows}: (org,) or (org, unit) keys, as text."""
    has_unit = "unit" in margins.columns
    if unit_col is None:
        m = margins[_blank(margins["unit"])] if has_unit else margins
        return {(k,): g for k, g in m.groupby(m["org_code"].astype(str), sort=False)}
    if not has_unit:
        return {}
    m = margins[~_blank(margins["unit"])]
    keys = [m["org_code"].astype(str), m["unit"].astype(str)]
    return {k: g for k, g in m.groupby(keys, sort=False)}


def _org_margins(sub: pd.DataFrame, m_org: pd.DataFrame, label: str, min_cell: int):
    """Margins for one weighting group after rules 2-4; returns (recoded frame, margins)."""
    md = margins_to_dict(m_org[["variable", "level", "population"]])
    usable = {}
    for v, pop in md.items():
        if v not in sub.columns:
            warnings.warn(
                f"{label}: margin {v!r} has no column in the data; not used",
                WeightingWarning,
                stacklevel=4,
            )
            continue
        usable[v] = pop
    if not usable:
        return sub, {}
    recoded, collapsed = collapse_sparse(sub, usable, min_cell, context=label)
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
                    f"{label}: {nbad} respondent(s) have a {v!r} level the margins "
                    "do not list; treated as missing for weighting",
                    WeightingWarning,
                    stacklevel=4,
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


def _as_shares(final: dict, total: float) -> dict:
    """Each margin as shares of ``total`` (its levels keep their proportions)."""
    out = {}
    for v, pop in final.items():
        s = float(sum(pop.values()))
        out[v] = {k: (p / s * total if s > 0 else p) for k, p in pop.items()}
    return out


def _group_label(key: tuple, unit_col: str | None) -> str:
    return f"organisation {key[0]}" if unit_col is None else f"{key[0]} {key[1]}"


def _weigh(
    df: pd.DataFrame,
    margins,
    org_col: str,
    min_cell: int,
    tol: float,
    max_iter: int,
    base_weights=None,
    unit_col: str | None = None,
    scale: str = "population",
):
    """Weights, a weighted flag per row, the calibration step and one row per group."""
    if scale not in SCALES:
        raise WeightingError(f"scale must be one of {SCALES}, not {scale!r}")
    n = len(df)
    base = _base(df, base_weights)
    w = base.copy()
    weighted = np.zeros(n, dtype=bool)
    key_cols = [org_col] if unit_col is None else [org_col, unit_col]
    if margins is None and not set(key_cols) <= set(df.columns):
        return w, weighted, None, base, np.zeros(n, dtype=np.int64), _groups_frame([], key_cols)
    for c in key_cols:
        if c not in df.columns:
            raise ColumnError(f"respondent data need an {c!r} column to match the margins")
    keys = pd.MultiIndex.from_frame(df[key_cols].astype(str))
    codes, uniques = pd.factorize(keys)
    records = []
    if margins is None:
        for g, key in enumerate(uniques):
            records.append((*key, int((codes == g).sum()), False, "", "no margins"))
        return w, weighted, None, base, codes, _groups_frame(records, key_cols)
    by_group = _group_margins(_margins_long(margins), unit_col)
    unit = np.zeros(n, dtype=np.int64)
    blocks, offset = [], 0
    pos = np.arange(n)
    for g, key in enumerate(uniques):
        key = tuple(key)
        label = _group_label(key, unit_col)
        rows = pos[codes == g]
        m_grp = by_group.get(key)
        if m_grp is None:
            warnings.warn(
                f"{label}: no population margins; its results are unweighted",
                WeightingWarning,
                stacklevel=3,
            )
            records.append((*key, rows.size, False, "", "no margins"))
            continue
        sub = df.iloc[rows]
        recoded, final = _org_margins(sub, m_grp, label, min_cell)
        if not final:
            warnings.warn(
                f"{label}: no usable margin; its results are unweighted",
                WeightingWarning,
                stacklevel=3,
            )
            records.append((*key, rows.size, False, "", "no usable margin"))
            continue
        if scale == "respondents":
            final = _as_shares(final, float(base[rows].sum()))
        try:
            fit = rake_fit(
                recoded, final, None if base_weights is None else base[rows], tol, max_iter
            )
        except WeightingError as exc:  # no convergence, an empty level, totals that disagree
            warnings.warn(
                f"{label}: {exc}; its results are unweighted",
                WeightingWarning,
                stacklevel=3,
            )
            records.append((*key, rows.size, False, ", ".join(final), str(exc)))
            continue
        X = model_matrix(fit.cells.level_codes, fit.cells.sizes)
        X = X[:, np.any(X != 0, axis=0)]
        w[rows] = fit.weights
        weighted[rows] = True
        unit[rows] = offset + fit.cells.row_cell
        offset += X.shape[0]
        blocks.append(X)
        records.append((*key, rows.size, True, ", ".join(final), ""))
    groups = _groups_frame(records, key_cols)
    if not blocks:
        return w, weighted, None, base, codes, groups
    # unweighted rows point at one extra unit with an empty model row
    unit[~weighted] = offset
    Xall = sparse.block_diag(blocks + [np.zeros((1, 0))], format="csr")
    return w, weighted, (unit, Xall), base, codes, groups


def _groups_frame(records: list, key_cols: list[str]) -> pd.DataFrame:
    cols = [*key_cols, "n_rows", "weighted", "variables", "reason"]
    return pd.DataFrame(records, columns=cols)


@dataclass(frozen=True)
class WeightedDesign:
    """A design made once (all weeks), with what each weighting group got.

    ``design``: the :class:`Design` (strata = weighting groups; the raking step
    kept for the variance); ``weighted``: per row, whether its group was raked;
    ``groups``: one row per weighting group (``org_code`` and, per unit, the
    unit column) with ``n_rows``, ``weighted``, ``variables`` (the margins
    used, after merging sparse levels) and ``reason`` (why not, when not).
    """

    design: Design
    weighted: np.ndarray
    groups: pd.DataFrame

    @property
    def data(self) -> pd.DataFrame:
        return self.design.data

    @property
    def weights(self) -> pd.Series:
        return self.design.weights


def build_design(
    df: pd.DataFrame,
    margins: pd.DataFrame | None,
    *,
    org_col: str = "org_code",
    unit_col: str | None = None,
    scale: str = "population",
    min_cell: int = 5,
    tol: float = 1e-6,
    max_iter: int = 100,
    base_weights: str | None = None,
) -> WeightedDesign:
    """Rake each weighting group of ``df`` to its own margins, once.

    Groups: organisations, or with ``unit_col`` each unit of an organisation,
    matched to the margins rows with that ``org_code`` and ``unit`` (margins
    rows without a unit are organisation-level and serve only groups without
    ``unit_col``). ``scale``: ``"population"`` or ``"respondents"`` (module
    docstring). The rules for missing values, sparse levels and unusable
    margins are in the module docstring: a group whose margins cannot be used
    stays unweighted, with a :class:`pxlib.errors.WeightingWarning`.
    """
    w, weighted, cal, base, codes, groups = _weigh(
        df, margins, org_col, min_cell, tol, max_iter, base_weights, unit_col, scale
    )
    if unit_col is None:
        work, strata = df, (org_col if org_col in df.columns else None)
    else:
        work, strata = df.assign(**{_STRATUM: codes}), _STRATUM
    d = Design(work, weights=w, strata=strata, lonely_psu="certainty")
    if cal is not None:
        unit, X = cal
        step = make_step(unit, X, base)
        detail = "organisation margins" if unit_col is None else "each unit's margins"
        d = d._new(w, step, {"step": "rake", "detail": detail})
    return WeightedDesign(d, weighted, groups)


def _with_column(d: Design, name: str, values: np.ndarray) -> Design:
    """The same design (weights, strata, calibration steps) with one more data column."""
    out = object.__new__(Design)
    out.__dict__.update(d.__dict__)
    out._df = d.data.assign(**{name: values})
    return out


def domain_shares(
    wd: WeightedDesign,
    outcome: str,
    by: str | Sequence[str],
    *,
    within: ArrayLike | None = None,
    count_name: str = "n_happened",
    ci_method: str = "wilson",
    level: float = 0.95,
) -> pd.DataFrame:
    """Share of ``outcome`` (1/0, NaN leaves the denominator) per ``by`` domain of ``wd``.

    ``within``: a boolean mask over the design's rows (e.g. weeks in a window);
    each domain is then (``by`` group and ``within``), still a domain of the
    whole design, so a unit-week has the same estimate and interval whatever
    window it is read in. Columns: the ``by`` columns, ``n_respondents``,
    ``count_name``, ``share``, ``se``, ``ci_low``, ``ci_high``, ``ess``,
    ``weighted`` (every row of the domain raked to its margins).
    """
    by = [by] if isinstance(by, str) else list(by)
    data = wd.data
    for c in (*by, outcome):
        if c not in data.columns:
            raise ColumnError(f"grouping column {c!r} is not in the respondent data")
    d = wd.design
    cols = by
    if within is not None:
        within = np.asarray(within, dtype=bool)
        d = _with_column(d, _WITHIN, within)
        cols = [*by, _WITHIN]
    y = pd.to_numeric(d.data[outcome], errors="coerce").to_numpy(dtype=float)
    with warnings.catch_warnings():
        # a unit-week with no answer (NaN leaves the denominator) is expected here: its
        # share is NaN, which the callers show as "no data"
        warnings.simplefilter("ignore", DesignWarning)
        res = d.by(cols).proportion(outcome, method=ci_method, level=level)
    grp = d.data.assign(_hit_=(y == 1).astype(float), _wt_=wd.weighted).groupby(
        cols, sort=True, dropna=True, observed=True
    )
    hits = grp["_hit_"].sum().to_numpy()
    wflag = grp["_wt_"].all().to_numpy()
    keep = np.ones(len(res), dtype=bool) if within is None else res[_WITHIN].to_numpy(bool)
    out = res.loc[keep, by].copy()
    out["n_respondents"] = res["n"].to_numpy()[keep]
    out[count_name] = hits[keep].astype(np.int64)
    for c in ("share", "se", "ci_low", "ci_high", "ess"):
        out[c] = res["estimate" if c == "share" else c].to_numpy()[keep]
    out["weighted"] = wflag[keep]
    return out.reset_index(drop=True)


def weights_from_margins(
    df: pd.DataFrame,
    margins: pd.DataFrame,
    *,
    org_col: str = "org_code",
    unit_col: str | None = None,
    min_cell: int = 5,
    tol: float = 1e-6,
    max_iter: int = 100,
    base_weights: str | None = None,
) -> pd.Series:
    """Rake each organisation's (or with ``unit_col`` each unit's) respondents to its margins.

    ``margins``: long table ``org_code, variable, level, population`` (plus
    ``unit`` for unit margins). The rules for missing values, unlisted and
    sparse levels are in the module docstring. Returns weights aligned with
    ``df.index`` (1 for groups without margins), summing to each weighted
    group's population. ``base_weights``: a column of design weights to start
    from (default 1).
    """
    w, *_ = _weigh(df, margins, org_col, min_cell, tol, max_iter, base_weights, unit_col)
    return pd.Series(w, index=df.index, name="weight")
