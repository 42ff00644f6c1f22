"""Parity with R survey 4.1-1 on the cases in ../shared/reference/survey/.

Tolerances (issue 5): weights 1e-8 relative (raking to tol 1e-10: 1e-6);
estimates 1e-8; standard errors and CI ends 1e-6 relative. R's ``rake()`` SEs
are an approximation: pxlib reproduces them with ``variance="r_rake"`` and its
default raked SE equals its own ``calibrate(method="raking")`` SE.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import require_reference

from pxlib.survey import Design
from pxlib.weighting import calibrate, rake

pytestmark = pytest.mark.reference


def _ref(name: str) -> pd.DataFrame:
    return pd.read_csv(require_reference("survey", name))


def _cases() -> list[dict]:
    try:
        path = require_reference("survey", "cases.json")
    except pytest.skip.Exception:
        return []
    return json.loads(path.read_text())["cases"]


def _margins() -> pd.DataFrame:
    return _ref("input_margins.csv")


def _design(case: dict, rake_variance: str = "calibration") -> Design:
    df = _ref(case["input"])
    spec = case["design"]
    d = Design(
        df,
        weights=spec.get("weights"),
        strata=spec.get("strata"),
        clusters=spec.get("clusters"),
        fpc=spec.get("fpc"),
    )
    m = _margins()
    for step in case["steps"]:
        ((kind, args),) = step.items()
        sub = m[m["var"].isin(args["margins"])]
        if kind == "rake":
            d = d.rake(sub, tol=args["tol"], max_iter=args["max_iter"], variance=rake_variance)
        elif kind == "calibrate":
            d = d.calibrate(sub, method=args["method"])
        else:  # pragma: no cover - a new kind of step in the reference
            raise AssertionError(f"unknown step {kind}")
    return d


def _rows():
    cases = {c["case"]: c for c in _cases()}
    if not cases:
        return [
            pytest.param(
                None,
                None,
                marks=pytest.mark.skip(
                    reason="reference outputs not found at ../shared/reference/survey: they ship beside "
                    "the repository (CI has them; a fresh clone does not)"
                ),
            )
        ]
    est = _ref("estimates.csv")
    return [
        pytest.param(cases[r.case], r._asdict(), id=f"{r.case}-{r.stat}")
        for r in est.itertuples(index=False)
    ]


def _compute(d: Design, stat: str):
    if stat == "mean_api00":
        return d.mean("api00")
    if stat == "total_enroll":
        return d.total("enroll")
    if stat.startswith("prop_hi700_"):
        return d.proportion("hi700", method=stat.removeprefix("prop_hi700_"))
    if stat == "ratio_apistu_enroll":
        return d.ratio("api.stu", "enroll")
    if stat.startswith("mean_hi700_by_stype_"):
        lev = stat.removeprefix("mean_hi700_by_stype_")
        row = d.by("stype").mean("hi700").set_index("stype").loc[lev]
        return row
    raise AssertionError(stat)


def _get(e, name):
    return e[name] if isinstance(e, pd.Series) else getattr(e, name)


@pytest.mark.parametrize(("case", "row"), _rows())
def test_estimates_match_r(case, row):
    is_rake = any("rake" in s for s in case["steps"])
    # R's rake() SEs: reproduced by the r_rake variance option
    d = _design(case, "r_rake" if is_rake else "calibration")
    e = _compute(d, row["stat"])
    assert _get(e, "estimate") == pytest.approx(row["est"], rel=1e-8)
    assert _get(e, "se") == pytest.approx(row["se"], rel=1e-6)
    if not pd.isna(row["lo"]):
        # R's likelihood interval interpolates a profile grid (MASS profile.glm:
        # spline, then linear interpolation); pxlib solves it exactly, so allow that
        # interpolation error there (R's two ends err in opposite directions)
        tol = 1e-4 if row["stat"].endswith("likelihood") else 1e-6
        assert e.ci_low == pytest.approx(row["lo"], rel=tol)
        assert e.ci_high == pytest.approx(row["hi"], rel=tol)


def test_raked_se_equals_calibrate_raking_and_is_close_to_r():
    require_reference("survey", "cases.json")
    cases = {c["case"]: c for c in _cases()}
    if "rake3" not in cases:
        pytest.skip("case rake3 is not in ../shared/reference/survey/cases.json")
    d_rake = _design(cases["rake3"])
    df = _ref("input_apistrat.csv")
    d_cal = Design(df, "pw").calibrate(_margins(), method="raking")
    est = _ref("estimates.csv").set_index(["case", "stat"])
    for stat, rel in (("mean_api00", 0.01), ("prop_hi700_logit", 0.01), ("total_enroll", 0.025)):
        a, b = _compute(d_rake, stat), _compute(d_cal, stat)
        assert a.estimate == pytest.approx(b.estimate, rel=1e-9)
        assert a.se == pytest.approx(b.se, rel=1e-9)
        # within 1 % of R's sequential approximation; the total of enrolment is
        # 1.8 % below it (see the report: R's rake() projects with equal weights)
        assert a.se == pytest.approx(est.loc[("rake3", stat), "se"], rel=rel)


@pytest.mark.parametrize("case_name", ["rake3", "calib_linear"])
def test_weights_match_r(case_name):
    require_reference("survey", "cases.json")
    cases = {c["case"]: c for c in _cases()}
    if case_name not in cases:
        pytest.skip(f"case {case_name} is not in ../shared/reference/survey/cases.json")
    case = cases[case_name]
    df = _ref(case["input"])
    ref = _ref(case["weights_file"])
    ((kind, args),) = case["steps"][0].items()
    m = _margins()
    if kind == "rake":
        w = rake(df, m, df["pw"], tol=args["tol"], max_iter=args["max_iter"])
        tol = 1e-8
    else:
        w = calibrate(df, m, df["pw"], method=args["method"])
        tol = 1e-8
    got = pd.Series(w.to_numpy(), index=df["snum"]).loc[ref["snum"]].to_numpy()
    np.testing.assert_allclose(got, ref["w"].to_numpy(), rtol=tol)
    # the functional and the Design agree
    d = _design(case)
    np.testing.assert_allclose(d.weights.to_numpy(), w.to_numpy(), rtol=1e-12)
