"""Parity with the reference outputs of qicharts2 0.8.1, NHSRplotthedots 0.2.2 and
qicharts2's funnel (categorical x), read from ../shared/reference/spc/."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, require_reference

from pxlib.spc import chart, funnel

pytestmark = [
    pytest.mark.reference,
    pytest.mark.filterwarnings("ignore::pxlib.errors.ChartWarning"),
]

ABS, REL = 1e-9, 1e-7


def _cases(folder: str) -> list[dict]:
    path = REFERENCE_DIR / "spc" / folder / "cases.json"
    if not path.exists():
        return [{"case": f"<{folder} reference absent>"}]
    return json.loads(path.read_text())


def _read(path) -> pd.DataFrame:
    df = pd.read_csv(path)
    for c in df.columns:
        if df[c].dtype == object or str(df[c].dtype) == "str":
            s = df[c].dropna().astype(str)
            if len(s) and s.str.match(r"^\d{4}-\d{2}-\d{2}$").all():
                df[c] = pd.to_datetime(df[c])
    return df


def _close(actual, expected, what):
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    assert np.array_equal(np.isnan(a), np.isnan(e)), f"{what}: missing values differ"
    ok = ~np.isnan(e)
    np.testing.assert_allclose(a[ok], e[ok], rtol=REL, atol=ABS, err_msg=what)


def _as_x(values, like: pd.Series):
    if values is None:
        return None
    if pd.api.types.is_datetime64_any_dtype(like):
        return list(pd.to_datetime(values))
    if pd.api.types.is_numeric_dtype(like):
        return [float(v) for v in values]
    return list(values)


@pytest.mark.parametrize("case", _cases("qicharts2"), ids=lambda c: c["case"])
def test_qicharts2_parity(case):
    folder = require_reference("spc", "qicharts2")
    if "input" not in case:
        pytest.skip("no cases")
    data = _read(folder / case["input"])
    ref = _read(folder / f"{case['case']}.csv")
    by = case["by"]
    res = chart(
        data,
        case["x"],
        case["y"],
        case["n"],
        kind=case["chart"],
        by=by,
        phases=_as_x(case["phases_start_at"], data[case["x"]]),
        freeze=case["freeze_points"],
        exclude=_as_x(case["exclude_x"], data[case["x"]]),
        multiply=case["multiply"],
        fill_gaps=False,
    )
    pts = res.points
    assert len(pts) == len(ref)
    if by:
        ref = ref.sort_values(["facet1", "x"]).reset_index(drop=True)
        assert (pts[by[0]].astype(str).to_numpy() == ref["facet1"].astype(str).to_numpy()).all()
    if pd.api.types.is_datetime64_any_dtype(ref["x"]):
        assert (pd.to_datetime(pts["x"]).to_numpy() == ref["x"].to_numpy()).all()
    else:
        np.testing.assert_array_equal(pts["x"].astype(float), ref["x"].astype(float))
    for col in ("y", "cl", "lcl", "ucl"):
        _close(pts[col], ref[col], f"{case['case']}: {col}")
    ok_n = ref["n"].notna()
    _close(pts["n"][ok_n], ref["n"][ok_n], f"{case['case']}: n")
    np.testing.assert_array_equal(pts["phase"], ref["part"])
    for mine, theirs in (
        ("baseline", "baseline"),
        ("include", "include"),
        ("sigma_signal", "sigma.signal"),
        ("runs_signal", "runs.signal"),
    ):
        np.testing.assert_array_equal(
            pts[mine].to_numpy(bool), ref[theirs].to_numpy(bool), err_msg=mine
        )
    for mine, theirs in (
        ("longest_run", "longest.run"),
        ("longest_run_max", "longest.run.max"),
        ("n_crossings", "n.crossings"),
        ("n_crossings_min", "n.crossings.min"),
    ):
        _close(pts[mine].astype("Float64").to_numpy(float, na_value=np.nan), ref[theirs], mine)


@pytest.mark.parametrize("case", _cases("plotthedots"), ids=lambda c: c["case"])
def test_plotthedots_parity(case):
    folder = require_reference("spc", "plotthedots")
    if "input" not in case:
        pytest.skip("no cases")
    data = _read(folder / case["input"])
    ref = _read(folder / f"{case['case']}.csv")
    ref_sum = pd.read_csv(folder / f"{case['case']}_summary.csv")
    by = case["by"]
    phases = None
    if case["rebase"]:
        phases = {k if k else None: _as_x(v, data[case["date"]]) for k, v in case["rebase"].items()}
        if list(phases) == [None]:
            phases = phases[None]
    res = chart(
        data,
        case["date"],
        case["value"],
        kind="xmr",
        by=by,
        phases=phases,
        freeze=case["fix_after_n_points"],
        improvement=case["improvement"],
        target=case["target"],
        screen_mr=case["screen_outliers"],
    )
    pts = res.points
    ref = ref.sort_values(["f", "x"]).reset_index(drop=True)
    assert len(pts) == len(ref)
    if by:
        assert (pts[by].astype(str).to_numpy() == ref["f"].astype(str).to_numpy()).all()
    _close(pts["y"], ref["y"], "y")
    _close(pts["cl"], ref["mean_col"], "mean")
    _close(pts["lcl"], ref["lpl"], "lpl")
    _close(pts["ucl"], ref["upl"], "upl")
    np.testing.assert_array_equal(pts["phase"], ref["rebase_group"] + 1)
    np.testing.assert_array_equal(pts["close_to_limits"], ref["close_to_limits"].to_numpy(bool))
    np.testing.assert_array_equal(pts["sigma_signal"], ref["outside_limits"].to_numpy(bool))
    np.testing.assert_array_equal(pts["point_type"].to_numpy(str), ref["point_type"].to_numpy(str))
    np.testing.assert_array_equal(
        pts["point_type"].to_numpy(str) != "common_cause", ref["special_cause_flag"].to_numpy(bool)
    )
    summ = res.summary
    if by:
        ref_sum = ref_sum.sort_values("f").reset_index(drop=True)
        assert (summ[by].astype(str).to_numpy() == ref_sum["f"].astype(str).to_numpy()).all()
    _close(summ["cl"], ref_sum["mean_col"], "summary mean")
    _close(summ["lcl"], ref_sum["lpl"], "summary lpl")
    _close(summ["ucl"], ref_sum["upl"], "summary upl")
    np.testing.assert_array_equal(summ["n_points"], ref_sum["n"])
    np.testing.assert_array_equal(
        summ["variation_type"].to_numpy(str), ref_sum["variation_type"].to_numpy(str)
    )
    if "assurance_type" in ref_sum:
        np.testing.assert_array_equal(
            summ["assurance_type"].to_numpy(str), ref_sum["assurance_type"].to_numpy(str)
        )
    else:
        assert (summ["assurance_type"] == "").all()


@pytest.mark.parametrize("case", _cases("funnel"), ids=lambda c: c["case"])
def test_funnel_parity(case):
    folder = require_reference("spc", "funnel")
    if "input" not in case:
        pytest.skip("no cases")
    data = _read(folder / case["input"])
    ref = pd.read_csv(folder / f"{case['case']}.csv")
    res = funnel(
        data,
        case["unit"],
        case["y"],
        case["n"],
        kind=case["kind"],
        overdispersion=case["overdispersion"],
    )
    pts = res.points
    ref = ref.sort_values("x").reset_index(drop=True)
    assert (pts[case["unit"]].astype(str).to_numpy() == ref["x"].astype(str).to_numpy()).all()
    for col in ("y", "n", "cl", "lcl", "ucl"):
        _close(pts[col], ref[col], col)
    np.testing.assert_array_equal(pts["signal"], ref["sigma.signal"].to_numpy(bool))
