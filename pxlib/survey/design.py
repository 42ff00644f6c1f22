"""The survey design object and design-based estimates.

A :class:`Design` holds the respondents, their weights, optional strata, one
stage of clusters (PSUs) and a finite population correction, plus the history
of how the weights were made. It is immutable: ``rake``, ``calibrate``,
``poststratify``, ``trim`` and ``nonresponse_adjust`` return new designs.

Variance (Taylor linearisation; Wolter 2007, Lumley 2010 ch. 2 and R
``survey::svyrecvar``): an estimate theta-hat has linearised values ``z_i``
(for a total z = y, a mean z = (y - ybar)/sum w, a ratio z = (y - R x)/X-hat).
After calibration each ``z`` is replaced by its residual from the weighted
regression (weights: the weights before that calibration step) on the
calibration model matrix, ``e = z - X (X'DX)^{-1} X'D z``. Then, with
``u_i = w_i e_i``, PSU totals ``t_hj = sum_{i in PSU j of stratum h} u_i`` and n_h
PSUs in stratum h,

    Var = sum_h (1 - f_h) n_h/(n_h - 1) sum_j (t_hj - mean_j t_hj)^2,

"with replacement" at the first stage, f_h = n_h/N_h from ``fpc`` (N_h, or the
fraction itself when fpc <= 1). Without clusters every respondent is a PSU.
Weights changed after the last calibration step without a model of their own (``trim``,
``nonresponse_adjust``), w = a w_cal, make the estimator the calibrated estimator of a z:
its residuals are those of a z, and u_i = w_cal,i e_i (R's ``svyrecvar`` after
``trimWeights()``, which keeps the design's ``postStrata``).
Degrees of freedom: number of PSUs minus number of strata (rows with a positive
weight). Domain estimates (``by``) use the full design with the domain
indicator (zero ``z`` outside the domain), never a subset of rows.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from pxlib.distributions import norm_ppf, t_ppf
from pxlib.errors import ColumnError, DesignError, PxlibWarning, WeightingError
from pxlib.weighting._margins import check_base_weights, show, show_list
from pxlib.weighting.adjust import nonresponse_adjust as _nr_adjust
from pxlib.weighting.adjust import poststratify_fit
from pxlib.weighting.adjust import trim as _trim
from pxlib.weighting.calibration import calibrate_fit
from pxlib.weighting.diagnostics import weight_summary
from pxlib.weighting.raking import rake_fit

from .ci import proportion_ci


class DesignWarning(PxlibWarning):
    """An estimate was made, but part of it is missing for a stated reason (a domain with
    no respondents, no degrees of freedom for an interval, ...)."""


@dataclass(frozen=True)
class Estimate:
    """A design-based estimate with its linearised standard error and interval."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    level: float = 0.95
    df: float = np.inf
    method: str = "wald"
    n: int = 0
    statistic: str = ""

    def to_dict(self) -> dict:
        return {
            "statistic": self.statistic,
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "level": self.level,
            "df": self.df,
            "method": self.method,
            "n": self.n,
        }


@dataclass(frozen=True)
class CalStep:
    """What a calibration step leaves for variance estimation."""

    unit: np.ndarray  # row -> calibration unit (cell or row)
    X: np.ndarray | sparse.spmatrix  # units x p model matrix
    d: np.ndarray  # weights before the step
    Minv: np.ndarray = field(repr=False)  # (X' D X)^+ with D the unit sums of d


def make_step(unit: np.ndarray, X, d: np.ndarray) -> CalStep:
    D = np.bincount(unit, weights=d, minlength=X.shape[0])
    if sparse.issparse(X):
        M = (X.T @ sparse.diags(D) @ X).toarray()
    else:
        M = X.T @ (D[:, None] * X)
    return CalStep(unit, X, d, np.linalg.pinv(M))


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product of two long vectors without BLAS threads (steady under load)."""
    return float(np.einsum("i,i->", a, b))


def _agg(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sum rows of ``values`` (n or n x k) by ``index``."""
    if values.ndim == 1:
        return np.bincount(index, weights=values, minlength=size)
    m = sparse.csr_matrix(
        (np.ones(index.size), (index, np.arange(index.size))), shape=(size, index.size)
    )
    return np.asarray(m @ values)


def _col(df: pd.DataFrame, name: str, what: str) -> pd.Series:
    try:
        present = name in df.columns
    except TypeError:  # an unhashable name
        present = False
    if not present:
        raise ColumnError(f"{what} column {show(name)} is not in the data")
    col = df[name]
    if isinstance(col, pd.DataFrame):
        raise ColumnError(
            f"{what} column {show(name)} appears {col.shape[1]} times in the data; "
            "give the columns distinct names"
        )
    return col


def _numeric(df: pd.DataFrame, name: str) -> np.ndarray:
    """An analysis column as floats (missing as NaN); DesignError for text, categories,
    complex numbers and infinite values (broken data, not missing data)."""
    s = _col(df, name, "analysis")
    if (
        isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_complex_dtype(s)
        or not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))
    ):
        raise DesignError(
            f"column {name!r} is not numeric; estimate a category's share with "
            "proportion() on a 0/1 column"
        )
    y = s.to_numpy(dtype=float, na_value=np.nan)
    inf = np.isinf(y)
    if inf.any():
        k = int(inf.sum())
        raise DesignError(
            f"column {name!r}: {k} row{' holds' if k == 1 else 's hold'} an infinite value "
            f"(row{'' if k == 1 else 's'} {show_list(df.index[inf])[1:-1]}); an infinite value "
            "is broken data: fix it, or make it missing (NaN) to leave the row out"
        )
    return y


def _check_level(level) -> float:
    if not (isinstance(level, numbers.Real) and not isinstance(level, bool) and 0 < level < 1):
        raise DesignError(f"level must be a confidence level between 0 and 1, not {show(level)}")
    return float(level)


def _check_ddf(ddf) -> float | None:
    if ddf is None:
        return None
    ok = isinstance(ddf, numbers.Real) and not isinstance(ddf, bool)
    if not (ok and not math.isnan(ddf) and ddf > 0):
        raise DesignError(
            f"ddf must be a positive number of degrees of freedom (np.inf for normal "
            f"quantiles), not {show(ddf)}"
        )
    return float(ddf)


class Design:
    """A survey design: weights, strata, one stage of clusters, fpc, history.

    ``Design(df, weights="pw", strata=None, clusters=None, fpc=None)``; every
    argument naming data is a column name (weights may also be an array or a
    Series aligned with ``df``; None means weight 1). ``lonely_psu``: what to do
    with a stratum holding a single PSU: ``"fail"`` (default, as R), ``"certainty"``
    (it adds no variance) or ``"adjust"`` (centred at the mean of all PSUs).
    """

    def __init__(
        self,
        df: pd.DataFrame,
        weights=None,
        strata: str | None = None,
        clusters: str | None = None,
        fpc=None,
        *,
        lonely_psu: str = "fail",
    ):
        if not isinstance(df, pd.DataFrame):
            raise DesignError("Design needs a pandas DataFrame of respondents")
        if lonely_psu not in ("fail", "certainty", "adjust"):
            raise DesignError(f"lonely_psu must be fail, certainty or adjust, not {lonely_psu!r}")
        self._df = df.copy(deep=False)
        n = len(df)
        try:
            if isinstance(weights, str):
                wcol = _col(df, weights, "weights")
                if not (pd.api.types.is_numeric_dtype(wcol) or pd.api.types.is_bool_dtype(wcol)):
                    raise DesignError(f"weights column {weights!r} is not numeric")
                w = wcol.to_numpy(dtype=float, na_value=np.nan)
            elif isinstance(weights, pd.Series):
                if weights.index.equals(df.index):
                    w = weights.to_numpy(dtype=float, na_value=np.nan)
                elif not weights.index.is_unique:
                    raise DesignError(
                        "design weights: the Series' index has duplicate labels, so it cannot "
                        "be matched with the data's rows; give an array in row order"
                    )
                else:
                    lost = ~df.index.isin(weights.index)
                    if lost.any():
                        raise DesignError(
                            f"design weights: {int(lost.sum())} of the data's rows have no "
                            f"weight in the Series (first: row {show(df.index[lost][0])}); "
                            "its index does not match the data's"
                        )
                    w = weights.reindex(df.index).to_numpy(dtype=float, na_value=np.nan)
            else:
                w = weights
            self._w = check_base_weights(w, n, True, "design weights")
        except (WeightingError, ValueError, TypeError) as exc:
            if isinstance(exc, DesignError | ColumnError):
                raise
            if isinstance(exc, WeightingError):
                raise DesignError(str(exc)) from exc
            raise DesignError("design weights must be numbers; some values are not") from exc
        self._w.setflags(write=False)
        self._spec = dict(
            weights=(weights if isinstance(weights, str) else "1" if weights is None else "given"),
            strata=strata,
            clusters=clusters,
            fpc=fpc,
            lonely_psu=lonely_psu,
        )
        self._lonely = lonely_psu
        # strata
        if strata is None:
            self._stratum = np.zeros(n, dtype=np.int64)
            self._strata_labels = [None]
        else:
            s = _col(df, strata, "strata")
            if s.isna().any():
                raise DesignError(f"strata column {strata!r} has {int(s.isna().sum())} missing")
            codes, labels = pd.factorize(s, sort=True)
            self._stratum = codes.astype(np.int64)
            self._strata_labels = list(labels)
        H = len(self._strata_labels)
        # PSUs, nested in strata
        if clusters is None:
            self._psu = None
            psu_stratum = self._stratum
        else:
            c = _col(df, clusters, "clusters")
            if c.isna().any():
                raise DesignError(f"clusters column {clusters!r} has missing values")
            ccode = pd.factorize(c)[0].astype(np.int64)
            key = self._stratum * (int(ccode.max()) + 1) + ccode
            ukey, psu = np.unique(key, return_inverse=True)
            self._psu = psu.ravel()
            psu_stratum = ukey // (int(ccode.max()) + 1)
        self._psu_stratum = np.asarray(psu_stratum, dtype=np.int64)
        self._n_psu = self._psu_stratum.size
        self._n_h = np.bincount(self._psu_stratum, minlength=H).astype(float)
        # finite population correction
        self._fpc_factor = np.ones(H)
        if fpc is not None:
            try:
                if isinstance(fpc, str):
                    fcol = _col(df, fpc, "fpc")
                    if not pd.api.types.is_numeric_dtype(fcol):
                        raise ValueError(f"column {fpc!r} is not numeric")
                    f = fcol.to_numpy(dtype=float, na_value=np.nan)
                else:
                    f = np.broadcast_to(np.asarray(fpc, dtype=float), (n,))
            except (ValueError, TypeError) as exc:
                if isinstance(exc, ColumnError):
                    raise
                raise DesignError(
                    "fpc must be a numeric column name, one number, or one number per row "
                    f"({n} rows): population sizes or sampling fractions"
                ) from exc
            if not np.all(np.isfinite(f)) or (f <= 0).any():
                raise DesignError("fpc must be positive: population sizes, or sampling fractions")
            fh = np.full(H, np.nan)
            fh[self._stratum] = f
            chk = np.zeros(H)
            np.maximum.at(chk, self._stratum, np.abs(f - fh[self._stratum]))
            if (chk > 1e-9 * np.abs(fh)).any():
                raise DesignError("fpc must be constant within each stratum")
            frac = np.where(fh <= 1, fh, self._n_h / fh)
            if (frac > 1 + 1e-12).any():
                raise DesignError("fpc: more PSUs sampled than the population holds in a stratum")
            self._fpc_factor = 1.0 - frac
        self._steps: tuple[CalStep, ...] = ()
        # the weights right after the last calibration step (None: no step yet)
        self._w_cal: np.ndarray | None = None
        self._history: tuple[dict, ...] = (
            {"step": "design", "detail": self._describe(), **self._wsummary(self._w)},
        )

    # ------------------------------------------------------------------ basics
    def _describe(self) -> str:
        s = self._spec
        parts = [f"weights={s['weights']}"]
        for k in ("strata", "clusters", "fpc"):
            if s[k] is not None:
                parts.append(f"{k}={s[k]}")
        return ", ".join(parts)

    @staticmethod
    def _wsummary(w: np.ndarray) -> dict:
        row = weight_summary(w).iloc[0].to_dict()
        return {k: row.get(k, np.nan) for k in ("total", "min", "max", "ratio", "ess", "deff")}

    def _new(self, w: np.ndarray, step: CalStep | None, entry: dict) -> Design:
        out = object.__new__(Design)
        out.__dict__.update(self.__dict__)
        w = np.asarray(w, dtype=float).copy()
        w.setflags(write=False)
        out._w = w
        out._steps = self._steps + ((step,) if step is not None else ())
        if step is not None:
            out._w_cal = w
        out._history = self._history + ({**entry, **self._wsummary(w)},)
        return out

    @property
    def data(self) -> pd.DataFrame:
        return self._df

    @property
    def weights(self) -> pd.Series:
        """The current weights, aligned with the data's index."""
        return pd.Series(self._w, index=self._df.index, name="weight")

    @property
    def history(self) -> pd.DataFrame:
        """How the weights were made: one row per step, with a weight summary."""
        return pd.DataFrame(list(self._history))

    @property
    def degf(self) -> float:
        """Design degrees of freedom: PSUs minus strata (positive-weight rows)."""
        cached = self.__dict__.get("_degf_cache")
        if cached is not None and cached[0] is self._w:
            return cached[1]
        val = float(self._count_df(self._w > 0))
        self.__dict__["_degf_cache"] = (self._w, val)
        return val

    def _wfacts(self) -> tuple[bool, int, float, float]:
        """(all weights positive, count positive, sum w, sum w^2), cached per weights."""
        cached = self.__dict__.get("_wfacts_cache")
        if cached is not None and cached[0] is self._w:
            return cached[1]
        pos = self._w > 0
        npos = int(np.count_nonzero(pos))
        val = (npos == self._w.size, npos, float(self._w.sum()), _dot(self._w, self._w))
        self.__dict__["_wfacts_cache"] = (self._w, val)
        return val

    def _count_df(self, mask: np.ndarray) -> int:
        if self._psu is None:
            n_psu = int(np.count_nonzero(mask))
        else:
            n_psu = int(np.count_nonzero(np.bincount(self._psu[mask], minlength=self._n_psu)))
        H = len(self._strata_labels)
        n_strata = (
            1 if H == 1 else int(np.count_nonzero(np.bincount(self._stratum[mask], minlength=H)))
        )
        return n_psu - (n_strata if mask.any() else 0)

    def summary(self) -> pd.DataFrame:
        """One-row summary of the weights (min, max, ratio, ESS, deff...)."""
        return weight_summary(self._w)

    def __len__(self) -> int:
        return len(self._df)

    def __repr__(self) -> str:
        return f"Design(n={len(self)}, {self._describe()}, steps={len(self._history) - 1})"

    # --------------------------------------------------------------- weighting
    def rake(
        self,
        margins,
        tol: float = 1e-6,
        max_iter: int = 100,
        *,
        variance: str = "calibration",
        total: float | None = None,
        allow_zero: bool = True,
    ) -> Design:
        """Rake to categorical margins (see :func:`pxlib.weighting.rake`).

        ``variance="calibration"`` (default): SEs from the residuals of the
        regression on the margins' model matrix weighted by the weights before
        raking, exactly as ``calibrate(method="raking")`` (the Deville-Särndal
        linearisation). ``variance="r_rake"``: R ``rake()``'s approximation
        (repeated post-stratification of the linearised values, which converges
        to their projection on the margins with equal weights).
        """
        if variance not in ("calibration", "r_rake"):
            raise DesignError(f"variance must be 'calibration' or 'r_rake', not {variance!r}")
        fit = rake_fit(self._df, margins, self._w, tol, max_iter, total, allow_zero)
        from pxlib.weighting._margins import model_matrix

        X = model_matrix(fit.cells.level_codes, fit.cells.sizes)
        X = X[:, np.any(X != 0, axis=0)]
        reg = self._w if variance == "calibration" else np.ones_like(self._w)
        step = make_step(fit.cells.row_cell, X, reg)
        entry = {
            "step": "rake",
            "detail": f"margins {fit.names}, {fit.iterations} sweeps, gap {fit.gap:.2g}",
        }
        return self._new(fit.weights, step, entry)

    def calibrate(
        self,
        margins,
        method: str = "linear",
        bounds: tuple[float, float] | None = None,
        *,
        tol: float = 1e-10,
        max_iter: int = 50,
        total: float | None = None,
        allow_zero: bool = True,
    ) -> Design:
        """Calibrate to totals (see :func:`pxlib.weighting.calibrate`).

        Zero design weights stay 0 (``allow_zero``), as after a non-response
        adjustment.
        """
        fit = calibrate_fit(
            self._df, margins, self._w, method, bounds, tol, max_iter, total, allow_zero
        )
        step = make_step(fit.unit, fit.X, self._w)
        entry = {
            "step": "calibrate",
            "detail": f"{method}, bounds {bounds}, {fit.iterations} iterations",
        }
        return self._new(fit.weights, step, entry)

    def poststratify(self, cells, totals) -> Design:
        """Post-stratify (see :func:`pxlib.weighting.poststratify`)."""
        fit = poststratify_fit(self._df, cells, totals, self._w, True)
        step = make_step(fit.unit, fit.X, self._w)
        return self._new(fit.weights, step, {"step": "poststratify", "detail": f"{cells}"})

    def trim(
        self, lower: float | None = None, upper: float | None = None, strict: bool = False
    ) -> Design:
        """Trim weights, sharing out the difference (see :func:`pxlib.weighting.trim`).

        The design keeps its calibration: SEs after the trim use the residuals of
        (w_trim / w_cal) z from the last calibration step's model, times w_cal, as R's
        ``svyrecvar`` does after ``trimWeights()`` on a raked, calibrated or
        post-stratified design (:meth:`_changed_since_calibration`)."""
        w = _trim(self._w, lower, upper, strict=strict).to_numpy()
        return self._new(w, None, {"step": "trim", "detail": f"[{lower}, {upper}]"})

    def nonresponse_adjust(self, responded: str, classes) -> Design:
        """Weighting-class non-response adjustment; non-respondents get weight 0."""
        w = _nr_adjust(self._df, responded, classes, self._w).to_numpy()
        return self._new(w, None, {"step": "nonresponse_adjust", "detail": f"{classes}"})

    # ---------------------------------------------------------------- variance
    def _residualize(self, Z: np.ndarray) -> np.ndarray:
        for st in self._steps:
            S = _agg(st.unit, st.d * Z if Z.ndim == 1 else st.d[:, None] * Z, st.X.shape[0])
            B = st.Minv @ (st.X.T @ S)
            fitted = st.X @ B
            Z = Z - np.asarray(fitted)[st.unit]
        return Z

    def _lonely_message(self, lonely: np.ndarray) -> str:
        """Why a variance cannot be estimated: the strata with a single PSU."""
        if len(self._strata_labels) == 1 and self._strata_labels[0] is None:
            return (
                "the design has a single PSU (cluster), so no variance can be estimated "
                "between PSUs; a standard error needs at least two"
            )
        labs = [self._strata_labels[i] for i in np.flatnonzero(lonely)]
        if len(labs) == 1:
            which = f"stratum {show(labs[0])} has"
        else:
            which = f"{len(labs)} strata have ({show_list(labs)[1:-1]})"
        return (
            f"{which} a single PSU, so its variance cannot be estimated; merge it with a "
            "similar stratum or use lonely_psu='certainty' or 'adjust'"
        )

    def _variance(self, U: np.ndarray) -> np.ndarray:
        """Linearised variance of totals of U (n or n x k): with-replacement PSUs."""
        H = len(self._strata_labels)
        if self._psu is None and H == 1 and self._lonely == "fail":
            n = U.shape[0]
            if n < 2:
                raise DesignError(
                    f"a variance needs at least two PSUs (respondents here); the design has {n}"
                )
            if U.ndim > 1:
                dev = U - U.mean(axis=0)
                ss = np.einsum("i...,i...->...", dev, dev)
            else:
                # sum (u - mean)^2 = sum u^2 - (sum u)^2 / n; sum u is ~0 for means
                su = float(U.sum())
                s2 = _dot(U, U)
                ss = s2 - su * su / n
                if ss < 1e-6 * s2:  # cancellation: centre first
                    dev = U - su / n
                    ss = _dot(dev, dev)
            return self._fpc_factor[0] * n / (n - 1) * ss
        T = U if self._psu is None else _agg(self._psu, U, self._n_psu)
        ps = self._psu_stratum
        n_h = self._n_h
        sums = _agg(ps, T, H)
        lonely = n_h == 1
        if lonely.any() and self._lonely == "fail":
            raise DesignError(self._lonely_message(lonely))
        means = sums / (n_h if T.ndim == 1 else n_h[:, None])
        centre = means[ps]
        if lonely.any() and self._lonely == "adjust":
            grand = T.mean(axis=0)
            centre = np.where((lonely[ps] if T.ndim == 1 else lonely[ps][:, None]), grand, centre)
        dev = T - centre
        ss = _agg(ps, dev * dev, H)
        with np.errstate(divide="ignore", invalid="ignore"):
            fac = (
                np.where(lonely, 1.0 if self._lonely == "adjust" else 0.0, n_h / (n_h - 1))
                * self._fpc_factor
            )
        return (fac @ ss) if T.ndim > 1 else float(np.dot(fac, ss))

    def _changed_since_calibration(self) -> np.ndarray | None:
        """The ratio a = w / w_cal of the current weights to those right after the last
        calibration step, where a trim or a non-response adjustment changed them since
        (None where they are unchanged, or there is no calibration step).

        The estimator sum w z is then the calibrated estimator sum w_cal (a z) of the
        variable a z, linearised as such: residuals of a z from the calibration model,
        times w_cal. This is what R's ``svyrecvar`` does after ``trimWeights()``, which
        changes the weights but keeps the design's ``postStrata``. Rows whose calibrated
        weight is 0 get a = 0 (their current weight is then 0 as well: trimming leaves
        zero weights at zero)."""
        wc = self._w_cal
        if wc is None or wc is self._w or np.array_equal(wc, self._w):
            return None
        return np.divide(self._w, wc, out=np.zeros_like(self._w), where=wc > 0)

    def _se_from_z(self, z: np.ndarray) -> np.ndarray:
        a = self._changed_since_calibration()
        w = self._w
        if a is not None:
            z = a * z if z.ndim == 1 else a[:, None] * z
            w = self._w_cal
        e = self._residualize(z)
        if e.ndim == 1:
            U = np.multiply(w, e, out=e if e is not z else None)
        else:
            U = w[:, None] * e
        return np.sqrt(self._variance(U))

    # --------------------------------------------------------------- estimates
    def _interval(self, est, se, level, ddf):
        level = _check_level(level)
        ddf = _check_ddf(ddf)
        df = self.degf if ddf is None else ddf
        q = norm_ppf(0.5 + level / 2) if np.isinf(df) else t_ppf(0.5 + level / 2, df)
        return est - q * se, est + q * se, df

    def total(self, col: str, level: float = 0.95, ddf: float | None = None) -> Estimate:
        """Weighted total sum w y (missing y left out); SE by linearisation, z = y.

        The interval uses t quantiles with the design df; ``ddf=np.inf`` gives R's
        normal interval.
        """
        y = _numeric(self._df, col)
        m = ~np.isnan(y)
        if not (m & (self._w > 0)).any():
            raise DesignError(f"column {col!r}: no respondent with a value and a positive weight")
        y0 = np.where(m, y, 0.0)
        est = float(_dot(self._w, y0))
        se = float(self._se_from_z(y0))
        lo, hi, df = self._interval(est, se, level, ddf)
        return Estimate(est, se, lo, hi, level, df, "wald", int(m.sum()), f"total({col})")

    def _mean_parts(self, col: str, y: np.ndarray | None = None) -> tuple[float, np.ndarray, int]:
        if y is None:
            y = _numeric(self._df, col)
        m = ~np.isnan(y)
        full = bool(m.all())
        wm = self._w if full else np.where(m, self._w, 0.0)
        W = self._wfacts()[2] if full else wm.sum()
        if W <= 0:
            raise DesignError(f"column {col!r}: no respondent with a value and a positive weight")
        y0 = y if full else np.where(m, y, 0.0)
        est = float(_dot(wm, y0) / W)
        z = y0 - est
        z /= W
        if not full:
            z[~m] = 0.0
        return est, z, (y.size if full else int(m.sum()))

    def mean(self, col: str, level: float = 0.95, ddf: float | None = None) -> Estimate:
        """Weighted mean sum w y / sum w; z = (y - mean) / sum w."""
        est, z, n = self._mean_parts(col)
        se = float(self._se_from_z(z))
        lo, hi, df = self._interval(est, se, level, ddf)
        return Estimate(est, se, lo, hi, level, df, "wald", n, f"mean({col})")

    def ratio(
        self, numerator: str, denominator: str, level: float = 0.95, ddf: float | None = None
    ) -> Estimate:
        """Ratio of totals R = Y/X; z = (y - R x) / X (rows with both values)."""
        y = _numeric(self._df, numerator)
        x = _numeric(self._df, denominator)
        m = ~(np.isnan(y) | np.isnan(x))
        y0, x0 = np.where(m, y, 0.0), np.where(m, x, 0.0)
        X = float(_dot(self._w, x0))
        if X == 0:
            raise DesignError(f"ratio: the weighted total of {denominator!r} is 0")
        R = float(_dot(self._w, y0) / X)
        se = float(self._se_from_z((y0 - R * x0) / X))
        lo, hi, df = self._interval(R, se, level, ddf)
        return Estimate(
            R, se, lo, hi, level, df, "wald", int(m.sum()), f"ratio({numerator}/{denominator})"
        )

    def proportion(self, col: str, method: str = "logit", level: float = 0.95) -> Estimate:
        """Proportion of a 0/1 (or boolean) column with a ``svyciprop`` interval.

        Methods: logit, likelihood, beta, asin, mean, xlogit, wilson (see
        :mod:`pxlib.survey.ci`); quantiles use the design df.
        """
        y = _numeric(self._df, col)
        _check01(y, col)
        level = _check_level(level)
        est, z, n = self._mean_parts(col, y)
        all_pos, npos, sw, sw2 = self._wfacts()
        if all_pos and n == y.size:
            ones, n_keep, ess = int(np.count_nonzero(y == 1)), n, sw**2 / sw2
        else:
            keep = (self._w > 0) & ~np.isnan(y)
            ones, n_keep = int(np.count_nonzero(y[keep] == 1)), int(np.count_nonzero(keep))
            wk = self._w[keep]
            ess = wk.sum() ** 2 / _dot(wk, wk)
        if ones in (0, n_keep):
            # everyone agrees: exact 0 or 1, no rounding residue in p or its SE
            est, se = float(ones > 0), 0.0
        else:
            se = float(self._se_from_z(z))
        lo, hi = proportion_ci(est, se, self.degf, method, level, n=npos, ess=ess)
        return Estimate(
            est, se, float(lo), float(hi), level, self.degf, method, n, f"proportion({col})"
        )

    def by(self, cols) -> Domains:
        """Domain estimates: ``d.by("unit").mean("y")`` gives one row per domain."""
        return Domains(self, [cols] if isinstance(cols, str) else list(cols))


def _check01(y: np.ndarray, col: str) -> None:
    bad = (y != 0) & (y != 1)
    if bad.any():
        bad &= ~np.isnan(y)
    if bad.any():
        raise DesignError(
            f"proportion: column {col!r} must hold 0/1 (or True/False); "
            f"{int(bad.sum())} row(s) hold other values"
        )


class Domains:
    """Estimates for each domain (subpopulation) of a design, as DataFrames.

    Each domain's estimate uses the whole design with the domain indicator.
    Columns: the ``by`` columns, ``n`` (respondents with a value in the domain),
    ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``df`` (PSUs minus strata among
    the domain's respondents, as R's ``svyby`` on a subset; proportion intervals
    use at least 1), and for proportions ``ess`` (Kish effective sample size
    within the domain). As R's ``svyby(..., svyciprop)``, the n in the beta and
    likelihood intervals is the domain's respondents for an uncalibrated design
    and the whole design's for a calibrated one (R keeps every row there).
    """

    CHUNK = 4_000_000
    FAST = True  # False: always the dense path (used by the tests to cross-check)

    def __init__(self, design: Design, cols: list[str]):
        self.design = design
        self.cols = cols
        df = design.data
        for c in cols:
            _col(df, c, "domain")
        try:
            grouped = df.groupby(cols, sort=True, dropna=True, observed=True)
            codes = grouped.ngroup()
            self._keys = grouped.size().index
        except TypeError as exc:
            raise DesignError(
                f"domain column(s) {cols} hold values that cannot be domain labels (such as "
                "lists, or a mix of types that cannot be sorted); give text, numbers or "
                "categories"
            ) from exc
        self._g = codes.fillna(-1).to_numpy(dtype=np.int64)

    def _frame(self) -> pd.DataFrame:
        keys = self._keys
        if isinstance(keys, pd.MultiIndex):
            return keys.to_frame(index=False)
        return pd.DataFrame({self.cols[0]: list(keys)})

    def _parts(self, y: np.ndarray, x: np.ndarray | None = None):
        d = self.design
        G = len(self._keys)
        m = (~np.isnan(y)) & (self._g >= 0)
        if x is not None:
            m &= ~np.isnan(x)
        g = np.where(m, self._g, 0)
        wm = np.where(m, d._w, 0.0)
        y0 = np.where(m, y, 0.0)
        num = np.bincount(g, weights=wm * y0, minlength=G)
        if x is None:
            den = np.bincount(g, weights=wm, minlength=G)
        else:
            den = np.bincount(g, weights=wm * np.where(m, x, 0.0), minlength=G)
        n = np.bincount(g, weights=m.astype(float), minlength=G)
        return m, g, wm, y0, num, den, n

    def _se(self, m, g, zfun) -> np.ndarray:
        """SE per domain; zfun(rows, domain index of rows) -> z for those rows."""
        d = self.design
        G = len(self._keys)
        n = len(d.data)
        rows = np.flatnonzero(m)
        z_rows = zfun(rows, g[rows])
        if self.FAST and d._psu is None:
            if not d._steps:
                return self._se_sparse(rows, g[rows], z_rows)
            if len(d._steps) == 1 and d._steps[0].X.shape[0] * G <= 2e7:
                a = d._changed_since_calibration()  # see Design._se_from_z
                if a is None:
                    return self._se_calibrated(rows, g[rows], z_rows, d._w)
                return self._se_calibrated(rows, g[rows], a[rows] * z_rows, d._w_cal)
        out = np.empty(G)
        k = max(1, self.CHUNK // max(n, 1))
        for start in range(0, G, k):
            stop = min(G, start + k)
            sel = (g[rows] >= start) & (g[rows] < stop)
            Z = np.zeros((n, stop - start))
            Z[rows[sel], g[rows][sel] - start] = z_rows[sel]
            out[start:stop] = d._se_from_z(Z)
        return out

    def _se_sparse(self, rows, grow, z) -> np.ndarray:
        """Unclustered, uncalibrated: per (stratum, domain) sums, no dense matrix."""
        d = self.design
        G = len(self._keys)
        H = len(d._strata_labels)
        u = d._w[rows] * z
        key = d._stratum[rows] * G + grow
        s1 = np.bincount(key, weights=u, minlength=H * G).reshape(H, G)
        s2 = np.bincount(key, weights=u * u, minlength=H * G).reshape(H, G)
        return self._strata_var(s1, s2)

    def _se_calibrated(self, rows, grow, z, w) -> np.ndarray:
        """Unclustered, one calibration step, without an n x domains matrix.

        With c = X B the fitted calibration part (units x domains), the residual
        scores are U_ig = w_i (z_i [g(i) = g] - c_{u(i) g}); their per-stratum
        sums and sums of squares expand into per-(stratum, domain) sums over the
        domain's rows and (stratum x unit) @ (unit x domain) products. ``w``: the
        weights the scores take (the design's, or those right after calibration with
        z already scaled, see :meth:`Design._changed_since_calibration`).
        """
        d = self.design
        st = d._steps[0]
        G = len(self._keys)
        H = len(d._strata_labels)
        K = st.X.shape[0]
        S = np.bincount(st.unit[rows] * G + grow, weights=st.d[rows] * z, minlength=K * G).reshape(
            K, G
        )
        c = np.asarray(st.X @ (st.Minv @ (st.X.T @ S)))  # units x G
        h_all = d._stratum
        hk = h_all * K + st.unit
        Q1 = np.bincount(hk, weights=w, minlength=H * K).reshape(H, K)
        Q2 = np.bincount(hk, weights=w * w, minlength=H * K).reshape(H, K)
        wr = w[rows]
        key = h_all[rows] * G + grow
        c_rows = c[st.unit[rows], grow]
        a1 = np.bincount(key, weights=wr * z, minlength=H * G).reshape(H, G)
        a2 = np.bincount(key, weights=(wr * z) ** 2, minlength=H * G).reshape(H, G)
        cross = np.bincount(key, weights=wr * wr * z * c_rows, minlength=H * G).reshape(H, G)
        s1 = a1 - Q1 @ c
        s2 = a2 - 2 * cross + Q2 @ (c * c)
        return self._strata_var(s1, s2)

    def _strata_var(self, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
        """SE from per-(stratum, domain) sums of PSU scores and of their squares."""
        d = self.design
        n_h = d._n_h
        lonely = n_h == 1
        if lonely.any() and d._lonely == "fail":
            raise DesignError(d._lonely_message(lonely))
        with np.errstate(divide="ignore", invalid="ignore"):
            ss = s2 - s1**2 / n_h[:, None]
            fac = np.where(lonely, 0.0, n_h / (n_h - 1)) * d._fpc_factor
        if lonely.any() and d._lonely == "adjust":
            grand = s1.sum(axis=0) / d._n_psu
            ss = np.where(lonely[:, None], s2 - 2 * grand * s1 + grand**2, ss)
            fac = np.where(lonely, 1.0, fac)
        return np.sqrt(np.maximum(fac @ np.nan_to_num(ss), 0.0))

    def _domain_df(self, m, g) -> np.ndarray:
        d = self.design
        G = len(self._keys)
        keep = m & (d._w > 0)
        psu = d._psu if d._psu is not None else np.arange(len(d.data))
        pairs = pd.DataFrame({"g": g[keep], "p": psu[keep], "h": d._stratum[keep]})
        npsu = pairs.groupby("g")["p"].nunique().reindex(range(G), fill_value=0)
        nh = pairs.groupby("g")["h"].nunique().reindex(range(G), fill_value=0)
        return (npsu - nh).to_numpy(dtype=float)

    def _names(self, mask: np.ndarray) -> str:
        """The first few domains where ``mask`` holds, as col=value."""
        frame = self._frame().loc[np.asarray(mask, dtype=bool)]
        names = [
            ", ".join(f"{c}={show(v)}" for c, v in zip(self.cols, row, strict=True))
            for row in frame.itertuples(index=False)
        ]
        return "; ".join(names[:5]) + ("; ..." if len(names) > 5 else "")

    def _explain_missing(self, m, g, df, col: str, with_ci: bool = True) -> None:
        """A DesignWarning naming the domains whose estimate, SE or interval is missing, and
        why: no respondent with a value and a positive weight there (a NaN estimate; a
        total of 0), or (means, totals, ratios) a single PSU, so no degrees of freedom
        for its interval."""
        G = len(self._keys)
        has = np.bincount(g, weights=(m & (self.design._w > 0)).astype(float), minlength=G)
        empty = has == 0
        if empty.any():
            warnings.warn(
                f"{int(empty.sum())} domain(s) have no respondent with a value of {col!r} and "
                "a positive weight, so they have no estimate (NaN; a total is 0) and no "
                f"interval: {self._names(empty)}",
                DesignWarning,
                stacklevel=3,
            )
        nodf = ~empty & (np.asarray(df) <= 0) if with_ci else np.zeros(G, dtype=bool)
        if nodf.any():
            warnings.warn(
                f"{int(nodf.sum())} domain(s) hold a single PSU (respondent or cluster), so "
                f"their interval for {col!r} has no degrees of freedom and is NaN (give ddf "
                f"to set one): {self._names(nodf)}",
                DesignWarning,
                stacklevel=3,
            )

    def _finish(self, est, se, n, df, level, extra=None, lohi=None) -> pd.DataFrame:
        level = _check_level(level)
        out = self._frame()
        out["n"] = n.astype(np.int64)
        out["estimate"] = est
        out["se"] = np.where(np.isnan(est), np.nan, se)
        if lohi is None:
            with np.errstate(invalid="ignore"):
                q = np.where(
                    np.isinf(df),
                    norm_ppf(0.5 + level / 2),
                    t_ppf(0.5 + level / 2, np.maximum(df, 1)),
                )
            q = np.where(df > 0, q, np.nan)
            lohi = (est - q * se, est + q * se)
        out["ci_low"], out["ci_high"] = lohi
        out["df"] = df
        for k, v in (extra or {}).items():
            out[k] = v
        return out

    def mean(self, col: str, level: float = 0.95, ddf: float | None = None) -> pd.DataFrame:
        level, ddf = _check_level(level), _check_ddf(ddf)
        y = _numeric(self.design.data, col)
        m, g, wm, y0, num, den, n = self._parts(y)
        with np.errstate(invalid="ignore", divide="ignore"):
            est = num / den
        se = self._se(m, g, lambda r, gr: (y0[r] - est[gr]) / den[gr])
        df = self._domain_df(m, g) if ddf is None else np.full(len(est), ddf)
        self._explain_missing(m, g, df, col)
        return self._finish(est, se, n, df, level)

    def total(self, col: str, level: float = 0.95, ddf: float | None = None) -> pd.DataFrame:
        level, ddf = _check_level(level), _check_ddf(ddf)
        y = _numeric(self.design.data, col)
        m, g, wm, y0, num, den, n = self._parts(y)
        se = self._se(m, g, lambda r, gr: y0[r])
        df = self._domain_df(m, g) if ddf is None else np.full(len(num), ddf)
        self._explain_missing(m, g, df, col)
        return self._finish(num, se, n, df, level)

    def ratio(
        self, numerator: str, denominator: str, level: float = 0.95, ddf: float | None = None
    ) -> pd.DataFrame:
        level, ddf = _check_level(level), _check_ddf(ddf)
        y = _numeric(self.design.data, numerator)
        x = _numeric(self.design.data, denominator)
        m, g, wm, y0, num, den, n = self._parts(y, x)
        x0 = np.where(m, x, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            R = num / den
        se = self._se(m, g, lambda r, gr: (y0[r] - R[gr] * x0[r]) / den[gr])
        df = self._domain_df(m, g) if ddf is None else np.full(len(R), ddf)
        self._explain_missing(m, g, df, f"{numerator}/{denominator}")
        return self._finish(R, se, n, df, level)

    def proportion(self, col: str, method: str = "logit", level: float = 0.95) -> pd.DataFrame:
        level = _check_level(level)
        y = _numeric(self.design.data, col)
        _check01(y, col)
        m, g, wm, y0, num, den, n = self._parts(y)
        with np.errstate(invalid="ignore", divide="ignore"):
            est = num / den
        se = self._se(m, g, lambda r, gr: (y0[r] - est[gr]) / den[gr])
        df = self._domain_df(m, g)
        self._explain_missing(m, g, df, col, with_ci=False)  # intervals take df >= 1
        G = len(est)
        w2 = np.bincount(g, weights=wm * wm, minlength=G)
        with np.errstate(invalid="ignore", divide="ignore"):
            ess = np.where(w2 > 0, den**2 / w2, 0.0)
        pos = m & (self.design._w > 0)
        n_one = np.bincount(g, weights=(pos & (y0 == 1)).astype(float), minlength=G)
        n_pos = np.bincount(g, weights=pos.astype(float), minlength=G)
        agree = (n_pos > 0) & ((n_one == 0) | (n_one == n_pos))
        est = np.where(agree, (n_one > 0).astype(float), est)
        se = np.where(agree, 0.0, se)
        if self.design._steps:
            # R's svyby on a calibrated design keeps every row (weight 0 outside the
            # domain), so the n of the beta and likelihood intervals is the design's
            npos = np.full(G, float(np.count_nonzero(self.design._w > 0)))
        else:
            npos = np.bincount(g, weights=(m & (self.design._w > 0)).astype(float), minlength=G)
        lo, hi = proportion_ci(est, se, np.maximum(df, 1.0), method, level, n=npos, ess=ess)
        return self._finish(est, se, n, df, level, {"ess": ess}, (lo, hi))
