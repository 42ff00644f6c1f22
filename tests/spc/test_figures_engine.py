"""Figures drawn from the real engine (pxlib.spc.chart / funnel): the figure shows
what the engine computed, and the icons match the reference summaries."""

from __future__ import annotations

import base64
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import require_reference

from pxlib.spc import chart, funnel, icons
from pxlib.spc import plot as figures


def _svg(image) -> str:
    return base64.b64decode(image.source.split(",", 1)[1]).decode()


def _shift_data() -> pd.DataFrame:
    """24 weeks around 70 %, then 10 weeks around 85 %: an upward shift."""
    rng = np.random.default_rng(4)
    x = pd.date_range("2024-01-01", periods=34, freq="W-MON")
    y = np.r_[0.70 + rng.normal(0, 0.02, 24), 0.85 + rng.normal(0, 0.02, 10)]
    return pd.DataFrame({"week": x, "value": y})


def test_engine_points_are_drawn_by_type_with_rules_in_hover():
    r = chart(_shift_data(), "week", "value", kind="xmr", improvement="increase", target=0.9)
    fig = r.figure()
    pts = r.points
    for ptype, style in figures.POINT_STYLES.items():
        expected = pts[(pts["point_type"] == ptype) & pts["y"].notna()]
        found = [t for t in fig.data if t.name == style["name"]]
        assert len(found) == (0 if expected.empty else 1)
        if found:
            assert len(found[0].x) == len(expected)
    (imp,) = [t for t in fig.data if t.name == "Special cause: improvement"]
    flagged = pts[pts["point_type"] == "special_cause_improvement"]
    assert all(t for t in imp.text)  # every special-cause point says why
    shift_rows = flagged["special_cause"].str.contains("shift")
    texts = np.asarray(imp.text, dtype=object)
    assert all(
        "in a row above the centre line: improvement" in t for t in texts[shift_rows.to_numpy()]
    )
    # icons: those of the summary's last phase
    last = r.summary.iloc[-1]
    svg = _svg(fig.layout.images[0])
    assert icons.variation_label(last["variation_type"], "increase") in svg
    if last["assurance_type"]:
        assert icons.assurance_label(last["assurance_type"]) in svg


@pytest.mark.filterwarnings("ignore::pxlib.errors.ChartWarning")  # 10-point phase: trial limits
def test_engine_phases_from_pdsa_restart_the_limits():
    data = _shift_data()
    log = pd.DataFrame(
        {
            "cycle_id": ["C1"],
            "start_date": ["2024-05-20"],
            "end_date": ["2024-06-12"],
            "change_idea": ["Teach-back"],
            "decision": ["adopt"],
        }
    )
    starts = figures.phases_from_pdsa(log, x_values=data["week"])
    assert starts == [pd.Timestamp("2024-06-17")]
    r = chart(data, "week", "value", kind="i", phases=starts)
    fig = r.figure(annotations=log)
    (ucl,) = [t for t in fig.data if t.name == "Upper process limit"]
    assert list(ucl.x).count(None) == r.points["phase"].nunique() - 1 == 1
    assert "Phase 2" in [a.text for a in fig.layout.annotations]
    (mark,) = [a for a in fig.layout.annotations if a.hovertext]
    assert mark.text == "C1" and "Teach-back" in mark.hovertext


def test_engine_p_chart_percent_axis():
    rng = np.random.default_rng(1)
    n = rng.integers(10, 30, 30)
    data = pd.DataFrame(
        {
            "week": pd.date_range("2024-01-01", periods=30, freq="W-MON"),
            "n": n,
            "yes": rng.binomial(n, 0.8),
        }
    )
    r = chart(
        data, "week", "yes", "n", kind="p", improvement="increase", target=0.95, y_label="Said yes"
    )
    fig = r.figure()
    if r.percent:
        assert fig.layout.yaxis.tickformat == ".0%"
    (lcl,) = [t for t in fig.data if t.name == "Lower process limit"]
    # unequal n: limits vary, drawn point by point as steps
    assert lcl.line.shape == "hvh" and len(lcl.x) == r.points["lcl"].notna().sum()
    np.testing.assert_allclose(np.asarray(lcl.y, dtype=float), r.points["lcl"].dropna())


@pytest.mark.reference
def test_small_multiples_icons_match_plotthedots_summary():
    folder = require_reference("spc", "plotthedots")
    data = pd.read_csv(folder / "input_ae_type1_8trusts_perf.csv", parse_dates=["period"])
    ref = pd.read_csv(folder / "ae_perf_increase_target95_summary.csv")
    r = chart(
        data,
        "period",
        "performance",
        kind="xmr",
        by="org_code",
        improvement="increase",
        target=0.95,
    )
    fig = r.figure()
    titles = [a.text for a in fig.layout.annotations if a.text.startswith("<b>")]
    order = [t.split("</b>")[0][3:] for t in titles]
    assert sorted(order) == sorted(ref["f"])
    for trust, image in zip(order, fig.layout.images, strict=True):
        row = ref[ref["f"] == trust].iloc[0]
        svg = _svg(image)
        assert icons.variation_label(row["variation_type"], "increase") in svg, trust
        assert icons.assurance_label(row["assurance_type"]) in svg, trust
    # attention first: every concern before any common cause or improvement
    kinds = [ref.set_index("f").loc[t, "variation_type"] for t in order]
    first_other = next(i for i, k in enumerate(kinds) if k != "special_cause_concern")
    assert "special_cause_concern" not in kinds[first_other:]
    table = r.summary_table().to_html()
    assert table.count("<svg") == 2 * len(ref)


@pytest.mark.reference
def test_funnel_figure_from_engine():
    folder = require_reference("spc", "funnel")
    data = pd.read_csv(folder / "input_ae_type1_2018q4_2019q1_units.csv")
    data["seen"] = data["attendances"] - data["breaches"]
    r = funnel(data, "org_code", "seen", "attendances", kind="p")
    fig = r.figure(improvement="increase")
    outliers = r.points[r.points["signal"]]
    labelled = [
        u for t in fig.data if t.name != "Within the limits" and t.text is not None for u in t.text
    ]
    assert sorted(labelled) == sorted(outliers["org_code"])
    upper = [t for t in fig.data if t.name.startswith("3-sigma")][0]
    # the smooth curve passes through every unit's own upper limit
    grid = np.asarray(upper.x, dtype=float)
    curve = np.interp(r.points["n"], grid, np.asarray(upper.y, dtype=float))
    np.testing.assert_allclose(curve, r.points["ucl"], rtol=2e-3)


def test_a_shift_across_a_point_left_out_of_the_limits_is_counted_as_the_rule_counts_it():
    # 16 baseline points around 10, then 8 at 15 of which the 4th is left out of the
    # limits: the MDC shift rule looks at the 7 others, so the hovers must say 7 in a row
    # (not "3 in a row" and "4 in a row" either side of the excluded point)
    y = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 9, 11, 10, 9, 11, 10] + [15] * 8
    data = pd.DataFrame({"x": range(1, 25), "y": y})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = chart(data, "x", "y", kind="i", rules="mdc", freeze=16, exclude=[20])
    hovers = result.figure().to_json()
    assert sorted(set(re.findall(r"(\d+) points in a row", hovers))) == ["7"]
    assert "outside limits" in result.points.loc[result.points["x"] == 20, "special_cause"].item()


def test_a_run_across_a_point_on_the_centre_line_is_counted_as_the_rule_counts_it():
    # 10 points above a fixed centre line of 10 with one point on the line in the middle:
    # Anhøj's runs skip a point on the centre line (it neither breaks a run nor counts),
    # so the run is 10 points long (counted by hand: x = 16-20 and 22-26), not 5 and 5
    y = np.r_[np.tile([8.0, 12.0], 8), [13, 12, 13, 12, 10, 12, 13, 12, 13, 12], [8, 12]]
    data = pd.DataFrame({"x": np.arange(1, len(y) + 1), "y": y})
    res = chart(data, "x", "y", kind="run", cl=10, improvement="increase")
    hovers = " ".join(str(t) for tr in res.figure().data for t in (tr.text or ()) if t)
    assert re.findall(r"A run of (\d+) points above", hovers) == ["10"] * 10
