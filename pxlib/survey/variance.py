"""Linearised variance of a design's estimates.

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
weight).

:class:`CalStep` keeps what one calibration step leaves for the residuals;
:class:`LinearisedVariance` holds the variance methods :class:`pxlib.survey.Design`
inherits (the design's weights, strata, PSUs and fpc are its attributes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from pxlib.errors import DesignError
from pxlib.weighting._margins import show, show_list


@dataclass(frozen=True)
class CalStep:
    """What a calibration step leaves for variance estimation."""

    unit: np.ndarray  # row -> calibration unit (cell or row)
    X: np.ndarray | sparse.spmatrix  # units x p model matrix
    d: np.ndarray  # weights before the step
    Minv: np.ndarray = field(repr=False)  # (X' D X)^+ with D the unit sums of d


def make_step(unit: np.ndarray, X: np.ndarray | sparse.spmatrix, d: np.ndarray) -> CalStep:
    D = np.bincount(unit, weights=d, minlength=X.shape[0])
    if sparse.issparse(X):
        M = (X.T @ sparse.diags(D) @ X).toarray()
    else:
        M = X.T @ (D[:, None] * X)
    return CalStep(unit, X, d, np.linalg.pinv(M))


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product of two long vectors without BLAS threads (steady under load)."""
    return float(np.einsum("i,i->", a, b))


def sum_by(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sum rows of ``values`` (n or n x k) by ``index``."""
    if values.ndim == 1:
        return np.bincount(index, weights=values, minlength=size)
    m = sparse.csr_matrix(
        (np.ones(index.size), (index, np.arange(index.size))), shape=(size, index.size)
    )
    return np.asarray(m @ values)


class LinearisedVariance:
    """Taylor-linearised standard errors from linearised values ``z`` (see the module).

    A mixin of :class:`pxlib.survey.Design`, which sets these attributes.
    """

    _w: np.ndarray  # current weights
    _w_cal: np.ndarray | None  # weights right after the last calibration step
    _steps: tuple[CalStep, ...]  # calibration steps, in order
    _stratum: np.ndarray  # row -> stratum code
    _strata_labels: list  # stratum code -> label ([None]: no strata)
    _psu: np.ndarray | None  # row -> PSU code (None: every row is a PSU)
    _psu_stratum: np.ndarray  # PSU -> stratum code
    _n_psu: int
    _n_h: np.ndarray  # PSUs per stratum
    _fpc_factor: np.ndarray  # 1 - f_h per stratum
    _lonely: str  # fail | certainty | adjust

    def _residualize(self, Z: np.ndarray) -> np.ndarray:
        for st in self._steps:
            S = sum_by(st.unit, st.d * Z if Z.ndim == 1 else st.d[:, None] * Z, st.X.shape[0])
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

    def _variance(self, U: np.ndarray) -> np.ndarray | float:
        """Linearised variance of totals of U (n or n x k): with-replacement PSUs (a float
        for one column, an array of k for k)."""
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
                s2 = dot(U, U)
                ss = s2 - su * su / n
                if ss < 1e-6 * s2:  # cancellation: centre first
                    dev = U - su / n
                    ss = dot(dev, dev)
            return self._fpc_factor[0] * n / (n - 1) * ss
        T = U if self._psu is None else sum_by(self._psu, U, self._n_psu)
        ps = self._psu_stratum
        n_h = self._n_h
        sums = sum_by(ps, T, H)
        lonely = n_h == 1
        if lonely.any() and self._lonely == "fail":
            raise DesignError(self._lonely_message(lonely))
        means = sums / (n_h if T.ndim == 1 else n_h[:, None])
        centre = means[ps]
        if lonely.any() and self._lonely == "adjust":
            grand = T.mean(axis=0)
            centre = np.where((lonely[ps] if T.ndim == 1 else lonely[ps][:, None]), grand, centre)
        dev = T - centre
        ss = sum_by(ps, dev * dev, H)
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
        if a is not None and self._w_cal is not None:  # a is None without a calibration
            z = a * z if z.ndim == 1 else a[:, None] * z
            w = self._w_cal
        e = self._residualize(z)
        if e.ndim == 1:
            U = np.multiply(w, e, out=e if e is not z else None)
        else:
            U = w[:, None] * e
        return np.sqrt(self._variance(U))
