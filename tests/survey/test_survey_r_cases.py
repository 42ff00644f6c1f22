"""More parity cases with R survey 4.1-1 (Debian's r-cran-survey), made by pxlib's
developers with ``tests/fixtures/survey_r/make_cases.R`` and kept as test data:
raking and bounded (linear, logit) calibration, post-stratification, stratified
and cluster designs with fpc, trimming, domain means and domain proportion CIs.
Inputs are the ``api`` data in ../shared/reference/survey/.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import FIXTURES_DIR, require_reference

from pxlib.survey import Design, Domains

pytestmark = pytest.mark.reference
HERE = FIXTURES_DIR / "survey_r"
EST = pd.read_csv(HERE / "estimates.csv")


def _input(name: str) -> pd.DataFrame:
    return pd.read_csv(require_reference("survey", name))


def _design(case: str) -> Design:
    st = _input("input_apistrat.csv")
    m = _input("input_margins.csv")
    d0 = Design(st, "pw")
    if case == "calib_raking":
        return d0.calibrate(m, method="raking")
    if case == "calib_logit":
        return d0.calibrate(m, method="logit", bounds=(0.66, 1.5))
    if case == "calib_linear_bounded":
        return d0.calibrate(m, method="linear", bounds=(0.66, 1.5))
    if case == "poststrat_stype":
        tot = m[m["var"] == "stype"].set_index("level")["total"]
        return d0.poststratify("stype", tot)
    if case == "strat_fpc":
        return Design(st, "pw", strata="stype", fpc="fpc")
    if case == "clus1_fpc":
        return Design(_input("input_apiclus1.csv"), "pw", clusters="dnum", fpc="fpc")
    if case == "trim_upper":
        return d0.trim(upper=40)
    raise AssertionError(case)


@pytest.mark.parametrize("case", sorted(set(EST.case) - {"clus1_fpc"}))
def test_weights_match_r(case):
    ref = pd.read_csv(HERE / f"weights_{case}.csv")
    d = _design(case)
    got = pd.Series(d.weights.to_numpy(), index=d.data["snum"]).loc[ref["snum"]]
    np.testing.assert_allclose(got.to_numpy(), ref["w"].to_numpy(), rtol=1e-8)


def _stat(d: Design, stat: str):
    if stat == "mean_api00":
        return d.mean("api00")
    if stat == "total_enroll":
        return d.total("enroll")
    if stat == "ratio_apistu_enroll":
        return d.ratio("api.stu", "enroll")
    if stat.startswith("prop_hi700_beta_by_stype_"):
        lev = stat.rsplit("_", 1)[1]
        return d.by("stype").proportion("hi700", method="beta").set_index("stype").loc[lev]
    if stat.startswith("prop_hi700_"):
        return d.proportion("hi700", method=stat.removeprefix("prop_hi700_"))
    if stat.startswith("mean_hi700_by_schwide_"):
        lev = stat.rsplit("_", 1)[1]
        return d.by("sch.wide").mean("hi700").set_index("sch.wide").loc[lev]
    raise AssertionError(stat)


def _get(e, name):
    return e[name] if isinstance(e, pd.Series) else getattr(e, name)


@pytest.mark.parametrize(
    "row", [pytest.param(r._asdict(), id=f"{r.case}-{r.stat}") for r in EST.itertuples()]
)
def test_estimates_match_r(row):
    d = _design(row["case"])
    e = _stat(d, row["stat"])
    assert _get(e, "estimate") == pytest.approx(row["est"], rel=1e-8)
    if not pd.isna(row["se"]):
        assert _get(e, "se") == pytest.approx(row["se"], rel=1e-6)
    if not pd.isna(row["lo"]):
        tol = 1e-4 if row["stat"].endswith("likelihood") else 1e-6
        assert _get(e, "ci_low") == pytest.approx(row["lo"], rel=tol)
        assert _get(e, "ci_high") == pytest.approx(row["hi"], rel=tol)


# --- trimming a calibrated design (make_trim_cases.R) ------------------------------------
#
# R's trimWeights() changes the weights and keeps the design's calibration (postStrata), so
# svyrecvar takes the residuals of a z, a = w_trim / w_cal, from the calibration model and
# multiplies them by w_cal. pxlib does the same (Design._changed_since_calibration); before,
# it multiplied the residuals of z by w_trim, 4 % below R's SE of the enrolment total in
# rake3_trim20_60.

TRIM_EST = pd.read_csv(HERE / "estimates_trim.csv")


def _trim_design(case: str) -> Design:
    st = _input("input_apistrat.csv")
    m = _input("input_margins.csv")
    d0 = Design(st, "pw")
    if case == "rake3_trim20_60":
        return d0.rake(m, tol=1e-10, max_iter=100, variance="r_rake").trim(20, 60)
    if case == "rake3_trim_upper50_strict":
        return d0.rake(m, tol=1e-10, max_iter=100, variance="r_rake").trim(upper=50, strict=True)
    if case == "calib_raking_trim20_60":
        return d0.calibrate(m, method="raking").trim(20, 60)
    if case == "calib_linear_trim_upper50":
        return d0.calibrate(m, method="linear").trim(upper=50)
    if case == "poststrat_stype_trim_upper40":
        tot = m[m["var"] == "stype"].set_index("level")["total"]
        return d0.poststratify("stype", tot).trim(upper=40)
    if case == "clus1_rake2_trim_upper45":
        c1 = Design(_input("input_apiclus1.csv"), "pw", clusters="dnum")
        m2 = m[m["var"].isin(["stype", "sch.wide"])]
        return c1.rake(m2, tol=1e-10, max_iter=100, variance="r_rake").trim(upper=45)
    raise AssertionError(case)


@pytest.mark.parametrize("case", sorted(set(TRIM_EST.case)))
def test_trimmed_weights_match_r(case):
    ref = pd.read_csv(HERE / f"weights_{case}.csv")
    d = _trim_design(case)
    got = pd.Series(d.weights.to_numpy(), index=d.data["snum"]).loc[ref["snum"]]
    np.testing.assert_allclose(got.to_numpy(), ref["w"].to_numpy(), rtol=1e-8)


@pytest.mark.parametrize(
    "row", [pytest.param(r._asdict(), id=f"{r.case}-{r.stat}") for r in TRIM_EST.itertuples()]
)
def test_trimmed_estimates_match_r(row):
    d = _trim_design(row["case"])
    e = _stat(d, row["stat"])
    assert _get(e, "estimate") == pytest.approx(row["est"], rel=1e-8)
    if not pd.isna(row["se"]):
        assert _get(e, "se") == pytest.approx(row["se"], rel=1e-6)
    if not pd.isna(row["lo"]):
        tol = 1e-4 if row["stat"].endswith("likelihood") else 1e-6
        assert _get(e, "ci_low") == pytest.approx(row["lo"], rel=tol)
        assert _get(e, "ci_high") == pytest.approx(row["hi"], rel=tol)


def test_trimmed_domain_se_fast_path_equals_dense():
    d = _trim_design("calib_raking_trim20_60")
    fast = d.by("sch.wide").mean("hi700")
    try:
        Domains.FAST = False
        dense = d.by("sch.wide").mean("hi700")
    finally:
        Domains.FAST = True
    np.testing.assert_allclose(fast["se"], dense["se"], rtol=1e-10)
