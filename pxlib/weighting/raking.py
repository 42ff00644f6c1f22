"""Raking (iterative proportional fitting) to categorical margins.

Method (Deming and Stephan 1940; R ``survey::rake``): starting from the design
weights d, post-stratify on each margin in turn,

    w_i <- w_i * T_{k,l} / sum_{j: x_jk = l} w_j      for margin k, level l(i),

sweep after sweep. pxlib stops on the **gap to the targets**: after a sweep,

    gap = max_k max_l |sum_{x_k = l} w - T_{k,l}| / T_{k,l}  <= tol,

and raises :class:`pxlib.errors.ConvergenceError` naming the margin with the
largest gap when ``max_iter`` sweeps do not get there.

Speed: every respondent in the same cell of the margins' cross gets the same
factor, so respondents are first collapsed to their populated cells (sums of
design weights per cell, by ``numpy.bincount``) and the cell totals are raked;
the cost of the iterations does not depend on the number of respondents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from pxlib.errors import ConvergenceError

from ._margins import (
    Cells,
    check_base_weights,
    check_frame,
    check_levels,
    check_number,
    make_cells,
    prepare,
    resolve_base,
)


@dataclass(frozen=True)
class RakeFit:
    weights: np.ndarray
    cells: Cells
    base: np.ndarray | None  # None: every base weight is 1
    targets: list[np.ndarray]
    names: list[str]
    levels: list[list]
    iterations: int
    gap: float


def rake_cells(
    cell_base: np.ndarray,
    level_codes: list[np.ndarray],
    targets: list[np.ndarray],
    names: list[str],
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, int, float]:
    """Rake cell totals ``cell_base`` to ``targets``; returns (cell totals, sweeps, gap)."""
    w = cell_base.astype(float, copy=True)
    sizes = [t.size for t in targets]
    pos = [t > 0 for t in targets]
    gap = np.inf
    for it in range(1, max_iter + 1):
        for lc, t, s in zip(level_codes, targets, sizes, strict=True):
            have = np.bincount(lc, weights=w, minlength=s)
            f = np.divide(t, have, out=np.ones(s), where=have > 0)
            w *= f[lc]
        gaps = []
        for lc, t, s, p in zip(level_codes, targets, sizes, pos, strict=True):
            have = np.bincount(lc, weights=w, minlength=s)
            gaps.append(float(np.max(np.abs(have[p] - t[p]) / t[p])))
        gap = max(gaps)
        if gap <= tol:
            return w, it, gap
    worst = int(np.argmax(gaps))
    raise ConvergenceError(
        f"raking did not converge in {max_iter} sweeps: margin {names[worst]!r} is still "
        f"{gaps[worst]:.3g} (relative) from its targets (tol {tol:g}); the margins may be "
        "incompatible with the sample (e.g. a level combination with no respondents), "
        "or more sweeps are needed (max_iter)"
    )


def rake_fit(
    df: pd.DataFrame,
    margins: pd.DataFrame | dict,
    base_weights: str | pd.Series | ArrayLike | None = None,
    tol: float = 1e-6,
    max_iter: int = 100,
    total: float | None = None,
    allow_zero: bool = False,
) -> RakeFit:
    """Rake and return the fit (weights and the cells, for variance estimation)."""
    check_frame(df)
    check_number(tol, "tol", positive=True)
    max_iter = check_number(max_iter, "max_iter", integer=True, minimum=1)
    base_weights = resolve_base(df, base_weights)
    base = None if base_weights is None else check_base_weights(base_weights, len(df), allow_zero)
    prep = prepare(df, margins, base, total, check=False)
    sizes = [len(lv) for lv in prep.levels]
    cells = make_cells(prep.codes, sizes)
    ncell = cells.level_codes[0].size
    if base_weights is None:
        cell_base = np.bincount(cells.row_cell, minlength=ncell).astype(float)
    else:
        cell_base = np.bincount(cells.row_cell, weights=base, minlength=ncell)
    check_levels(
        prep.names,
        prep.levels,
        prep.targets,
        [
            np.bincount(lc, weights=cell_base, minlength=s)
            for lc, s in zip(cells.level_codes, sizes, strict=True)
        ],
    )
    raked, it, gap = rake_cells(
        cell_base, cells.level_codes, prep.targets, prep.names, tol, max_iter
    )
    ratio = np.divide(raked, cell_base, out=np.zeros_like(raked), where=cell_base > 0)
    w = ratio[cells.row_cell] if base_weights is None else base * ratio[cells.row_cell]
    return RakeFit(w, cells, base, prep.targets, prep.names, prep.levels, it, gap)


def rake(
    df: pd.DataFrame,
    margins: pd.DataFrame | dict,
    base_weights: str | pd.Series | ArrayLike | None = None,
    tol: float = 1e-6,
    max_iter: int = 100,
    *,
    total: float | None = None,
    allow_zero: bool = False,
) -> pd.Series:
    """Rake weights to categorical population margins.

    Parameters
    ----------
    df : respondents; one column per margin (any dtype: values are labels).
    margins : ``{variable: {level: population}}`` (counts or shares), a dict of
        Series, or a long DataFrame ``variable, level, population``.
    base_weights : design weights (array, Series or column name); default 1.
    tol : stop when every weighted margin is within ``tol`` (relative) of its target.
    max_iter : sweeps before :class:`~pxlib.errors.ConvergenceError`.
    total : population size for margins given only as shares (default: sum of
        the base weights).
    allow_zero : keep base weights of exactly 0 at 0 instead of raising.

    Returns
    -------
    pd.Series of weights aligned with ``df.index``, named ``"weight"``.
    """
    fit = rake_fit(df, margins, base_weights, tol, max_iter, total, allow_zero)
    return pd.Series(fit.weights, index=df.index, name="weight")
