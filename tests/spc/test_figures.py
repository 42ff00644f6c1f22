"""Figures of SPC results: what the figure shows must be what the result says.

Results are built by hand here (points and summary DataFrames with known signals),
so each assertion compares the figure with an independent expectation.
"""

from __future__ import annotations

import base64
import json
import sys

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from pxlib.errors import ChartError, ColumnError
from pxlib.spc import icons, theme
from pxlib.spc import plot as figures
from pxlib.spc.plot.words import signal_texts
from pxlib.spc.result import FunnelResult, SPCResult

MDC = {
    "common_cause": "#7B7D7D",
    "special_cause_improvement": "#289DE0",
    "special_cause_concern": "#FAB428",
    "special_cause_neutral_high": "#361475",
    "special_cause_neutral_low": "#361475",
}


def _unit(name, cl1, cl2, half=0.2, weeks=24, change=12, start="2024-01-01"):
    """Weekly points in two phases with constant limits cl ± half."""
    x = pd.date_range(start, periods=weeks, freq="W-MON")
    phase = np.where(np.arange(weeks) < change, 1, 2)
    cl = np.where(phase == 1, cl1, cl2)
    # alternate around the centre line: no runs, no signals
    y = cl + np.where(np.arange(weeks) % 2 == 0, 0.03, -0.03)
    return pd.DataFrame(
        {
            "unit": name,
            "x": x,
            "y": y,
            "n": 20.0,
            "cl": cl,
            "lcl": cl - half,
            "ucl": cl + half,
            "phase": phase,
            "baseline": True,
            "include": True,
            "sigma_signal": False,
            "runs_signal": False,
            "special_cause": "",
            "point_type": "common_cause",
            "mixed_signal": False,
        }
    )


def build_result(units=("Ash", "Birch", "Cedar"), target=0.9, improvement="increase") -> SPCResult:
    frames = []
    for i, u in enumerate(units):
        frames.append(_unit(u, 0.6 + 0.05 * i, 0.7 + 0.05 * i))
    pts = pd.concat(frames, ignore_index=True)
    # Ash: the last 7 points above the centre line (a shift, higher is better)
    ash = pts.index[pts["unit"] == "Ash"][-7:]
    birch = pts.index[pts["unit"] == "Birch"][-1:]
    pts.loc[ash, "y"] = pts.loc[ash, "cl"] + 0.05
    pts.loc[ash, "special_cause"] = "shift"
    pts.loc[ash, "point_type"] = "special_cause_improvement"
    # Birch: its last point below the lower limit (concern)
    pts.loc[birch, "y"] = pts.loc[birch, "lcl"] - 0.05
    pts.loc[birch, "special_cause"] = "outside limits"
    pts.loc[birch, "point_type"] = "special_cause_concern"
    summary = (
        pts.groupby(["unit", "phase"], sort=False)
        .agg(cl=("cl", "first"), lcl=("lcl", "first"), ucl=("ucl", "first"))
        .reset_index()
    )
    summary["runs_signal"] = (summary["unit"] == "Ash") & (summary["phase"] == 2)
    last_type = pts.groupby(["unit", "phase"], sort=False)["point_type"].last().to_numpy()
    summary["variation_type"] = last_type
    summary["assurance_type"] = np.where(summary["ucl"] < target, "consistent_fail", "inconsistent")
    summary["warnings"] = ""
    return SPCResult(
        points=pts,
        summary=summary,
        kind="p",
        by=["unit"],
        improvement=improvement,
        target=target,
        rules=("anhoej",),
        y_label="Said it always happened",
        percent=True,
    )


def pdsa_log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "org_code": "ZA1",
            "unit": ["Ash", "Ash", "Cedar"],
            "cycle_id": ["ZA1-1", "ZA1-2", "ZA1-3"],
            "start_date": pd.to_datetime(["2024-02-05", "2024-03-18", "2024-04-01"]),
            "end_date": pd.to_datetime(["2024-03-04", "2024-04-15", None]),
            "change_idea": ["Teach-back at the bedside", "Prompt card on every shift", "Leaflet"],
            "prediction": ["85% will say so", "Gain holds", "Small gain"],
            "what_happened": ["Staff liked it", "Held", "Few read it"],
            "decision": ["adapt", "adopt", "abandon"],
        }
    )


def traces(fig, name_prefix):
    return [t for t in fig.data if t.name and t.name.startswith(name_prefix)]


def iso(values):
    return [pd.Timestamp(v).strftime("%Y-%m-%d") for v in values]


# --- single chart -----------------------------------------------------------------


def test_points_coloured_and_shaped_by_point_type():
    r = build_result()
    fig = r.figure(group="Ash")
    ash = r.points[r.points["unit"] == "Ash"]
    symbols = {}
    for ptype, style in figures.POINT_STYLES.items():
        expected = ash[ash["point_type"] == ptype]
        found = [t for t in fig.data if t.name == style["name"]]
        if expected.empty:
            assert not found
            continue
        (trace,) = found
        assert trace.marker.color == MDC[ptype]
        assert list(trace.x) == iso(expected["x"])
        np.testing.assert_allclose(np.asarray(trace.y, dtype=float), expected["y"])
        symbols[ptype] = trace.marker.symbol
    assert len(set(symbols.values())) == len(symbols) == 2  # never colour alone


def test_every_point_type_has_its_own_symbol():
    assert len({s["symbol"] for s in figures.POINT_STYLES.values()}) == 5
    assert {s["color"] for s in figures.POINT_STYLES.values()} == set(MDC.values())


def test_hover_names_the_rule_in_plain_words():
    fig = build_result().figure(group="Ash")
    (trace,) = traces(fig, "Special cause: improvement")
    assert all(t == "7 points in a row above the centre line: improvement" for t in trace.text)
    assert "%{text}" in trace.hovertemplate
    assert "%{x|%d %b %Y}" in trace.hovertemplate  # the date
    assert ":.1%" in trace.hovertemplate  # value as a percentage
    assert "n = " in trace.hovertemplate and "Process limits" in trace.hovertemplate
    common = [t for t in fig.data if t.name == "Common cause variation"][0]
    # customdata holds n, cl, lcl, ucl of each point
    ash = build_result().points.query("unit == 'Ash' and point_type == 'common_cause'")
    np.testing.assert_allclose(common.customdata[:, 0], ash["n"], rtol=1e-6)
    np.testing.assert_allclose(common.customdata[:, 2], ash["lcl"], rtol=1e-6)
    np.testing.assert_allclose(common.customdata[:, 3], ash["ucl"], rtol=1e-6)


def test_concern_below_lower_limit_in_words():
    fig = build_result().figure(group="Birch")
    (trace,) = traces(fig, "Special cause: concern")
    assert trace.text == ("Below the lower process limit: concern",)


def test_lower_is_better_turns_the_meaning_round():
    r = build_result(improvement="decrease")
    fig = r.figure(group="Ash")
    (trace,) = traces(fig, "Special cause: improvement")  # type from the result, text from the rule
    assert trace.text[0] == "7 points in a row above the centre line: concern"


def test_limits_stepped_per_phase_with_labels():
    r = build_result()
    fig = r.figure(group="Cedar")
    pts = r.points[r.points["unit"] == "Cedar"]
    for name, col in (("Upper process limit", "ucl"), ("Lower process limit", "lcl")):
        (trace,) = [t for t in fig.data if t.name == name]
        xs = list(trace.x)
        assert xs.count(None) == 1  # broken between the two phases
        br = xs.index(None)
        ys = np.asarray(trace.y, dtype=float)
        p1, p2 = pts[pts.phase == 1], pts[pts.phase == 2]
        assert xs[:br] == iso([p1.x.iloc[0], p1.x.iloc[-1]])
        assert xs[br + 1 :] == iso([p2.x.iloc[0], p2.x.iloc[-1]])
        np.testing.assert_allclose(ys[:br], p1[col].iloc[0])
        np.testing.assert_allclose(ys[br + 1 :], p2[col].iloc[0])
    labels = [a.text for a in fig.layout.annotations]
    assert "Phase 1" in labels and "Phase 2" in labels
    assert sum(1 for s in fig.layout.shapes if s.line.dash == "dot" and s.yref == "y domain") == 1


def test_phase_labels_can_be_named():
    fig = build_result().figure(group="Cedar", phase_labels={1: "Before", 2: "Teach-back"})
    labels = [a.text for a in fig.layout.annotations]
    assert "Before" in labels and "Teach-back" in labels
    r = build_result()
    pts = r.points.assign(phase_label=np.where(r.points["phase"] == 1, "Baseline", "Adopted"))
    fig = SPCResult(pts, r.summary, "p", ["unit"]).figure(group="Cedar")
    labels = [a.text for a in fig.layout.annotations]
    assert "Baseline" in labels and "Adopted" in labels  # the engine's labels, when it gives them


def test_runs_signal_phase_gets_a_dashed_centre_line():
    fig = build_result().figure(group="Ash")
    (runs,) = [t for t in fig.data if t.name == "Centre line: the runs show a change"]
    (plain,) = [t for t in fig.data if t.name == "Centre line (mean)"]
    assert runs.line.dash == "dash" and plain.line.dash == "solid"
    np.testing.assert_allclose(np.asarray(runs.y, dtype=float), 0.7)
    np.testing.assert_allclose(np.asarray(plain.y, dtype=float), 0.6)
    mdc = build_result()
    mdc = SPCResult(mdc.points, mdc.summary, "xmr", ["unit"], rules=("mdc",))
    names = {t.name for t in mdc.figure(group="Ash").data}
    assert "Centre line: the runs show a change" not in names  # MDC rules have no runs test


def test_varying_limits_are_drawn_point_by_point():
    r = build_result()
    pts = r.points.copy()
    rows = pts["unit"] == "Ash"
    pts.loc[rows, "ucl"] = pts.loc[rows, "cl"] + np.linspace(0.1, 0.2, rows.sum())
    fig = SPCResult(pts, r.summary, "p", ["unit"], "increase", 0.9, percent=True).figure(
        group="Ash"
    )
    (ucl,) = [t for t in fig.data if t.name == "Upper process limit"]
    assert ucl.line.shape == "hvh"
    assert len(ucl.x) == rows.sum() + 1  # every point, plus the break between phases


def test_target_line_and_two_sigma_lines():
    r = build_result()
    fig = r.figure(group="Cedar")
    assert not [t for t in fig.data if "2-sigma" in (t.name or "")]
    (target,) = [t for t in fig.data if t.name.startswith("Target")]
    assert target.name == "Target (90%)"  # as many decimals as the target has
    assert target.line.color == "#DE1B1B"
    assert list(target.y) == [0.9, 0.9]
    fig2 = r.figure(group="Cedar", show_2sigma=True)
    (u2,) = [t for t in fig2.data if t.name == "Upper 2-sigma line"]
    # no lcl_2s/ucl_2s given: cl + 2/3 (ucl - cl)
    ys = np.asarray(u2.y, dtype=float)
    np.testing.assert_allclose(ys[np.isfinite(ys)][:2], 0.7 + 0.2 * 2 / 3)
    pts = r.points.assign(lcl_2s=0.11, ucl_2s=0.99)
    fig3 = SPCResult(pts, r.summary, "p", ["unit"], percent=True).figure(
        group="Cedar", show_2sigma=True
    )
    (u3,) = [t for t in fig3.data if t.name == "Upper 2-sigma line"]
    np.testing.assert_allclose(np.asarray(u3.y, dtype=float)[:2], 0.99)
    assert not r.figure(group="Cedar", show_target=False).data[-1].name.startswith("Target")


def test_excluded_points_open_and_gaps_not_zero():
    r = build_result()
    pts = r.points.copy()
    cedar = pts.index[pts["unit"] == "Cedar"]
    pts.loc[cedar[3], "include"] = False
    pts.loc[cedar[5], "y"] = np.nan
    fig = SPCResult(pts, r.summary, "p", ["unit"], percent=True).figure(group="Cedar")
    (common,) = [t for t in fig.data if t.name == "Common cause variation"]
    assert len(common.x) == len(cedar) - 1  # the missing value has no marker
    assert list(common.marker.symbol).count("circle-open") == 1
    assert "Left out of the limit calculation" in common.text
    (data,) = [t for t in fig.data if t.name == "Data"]
    assert np.isnan(np.asarray(data.y, dtype=float)[5]) and data.connectgaps is False


def test_trace_names_are_plain_words():
    fig = build_result().figure(group="Ash", annotations=pdsa_log())
    names = {t.name for t in fig.data}
    assert {
        "Upper process limit",
        "Lower process limit",
        "Centre line (mean)",
        "PDSA cycle",
    } <= names
    assert all(t.name and "_" not in t.name for t in fig.data)


def test_run_chart_without_limits_has_median_line_and_no_limit_traces():
    r = build_result()
    pts = r.points.assign(lcl=np.nan, ucl=np.nan)
    run = SPCResult(
        pts, r.summary.assign(lcl=np.nan, ucl=np.nan, assurance_type=""), "run", ["unit"]
    )
    fig = run.figure(group="Cedar")
    names = {t.name for t in fig.data}
    assert "Centre line (median)" in names
    assert not names & {"Upper process limit", "Lower process limit"}
    (common,) = [t for t in fig.data if t.name == "Common cause variation"]
    assert "Process limits" not in common.hovertemplate


# --- PDSA annotations ---------------------------------------------------------------


def test_pdsa_cycles_marked_on_the_x_axis_with_change_idea_in_hover():
    fig = build_result().figure(group="Ash", annotations=pdsa_log())
    marks = [a for a in fig.layout.annotations if a.hovertext]
    assert [a.text for a in marks] == ["ZA1-1", "ZA1-2"]  # only Ash's cycles
    assert [a.x for a in marks] == ["2024-02-05", "2024-03-18"]
    assert all(a.y == 0 and a.yref == "y domain" and a.showarrow for a in marks)
    assert "Teach-back at the bedside" in marks[0].hovertext
    assert "Decision: adopt" in marks[1].hovertext
    assert "18 Mar 2024 to 15 Apr 2024" in marks[1].hovertext


def test_any_table_with_date_and_label_columns():
    notes = pd.DataFrame(
        {"when": ["2024-03-04"], "what": ["New discharge leaflet for every patient"]}
    )
    fig = build_result().figure(
        group="Cedar", annotations=notes, annotation_x="when", annotation_label="what"
    )
    (mark,) = [a for a in fig.layout.annotations if a.hovertext]
    assert mark.text.startswith("New discharge") and mark.text.endswith("…")
    assert "New discharge leaflet for every patient" in mark.hovertext
    with pytest.raises(ColumnError, match="'start_date'"):
        build_result().figure(group="Cedar", annotations=notes)


def test_phases_from_adopted_cycles():
    log = pdsa_log()
    assert figures.phases_from_pdsa(log) == [pd.Timestamp("2024-04-15")]
    by_unit = figures.phases_from_pdsa(log, by="unit", adopt=("adopt", "adapt"))
    assert by_unit == {"Ash": [pd.Timestamp("2024-03-04"), pd.Timestamp("2024-04-15")]}
    weeks = pd.date_range("2024-01-01", periods=24, freq="W-MON")
    snapped = figures.phases_from_pdsa(log, x_values=weeks)
    assert snapped == [pd.Timestamp("2024-04-15")]  # a Monday already
    log2 = log.assign(end_date=pd.to_datetime(["2024-03-06", "2024-04-17", None]))
    assert figures.phases_from_pdsa(log2, x_values=weeks) == [pd.Timestamp("2024-04-22")]


# --- icons --------------------------------------------------------------------------


def _svg_of(image) -> str:
    return base64.b64decode(image.source.split(",", 1)[1]).decode()


def test_icons_in_corner_match_the_summary():
    r = build_result()
    for unit, words in (
        ("Ash", "improvement (higher values)"),
        ("Birch", "concern (lower values)"),
    ):
        # the words beside the icons, as well as the SVG's own title
        fig = r.figure(group=unit)
        (image,) = fig.layout.images
        svg = _svg_of(image)
        last = r.summary[r.summary.unit == unit].iloc[-1]
        assert icons.variation_label(last.variation_type, "increase") in svg
        assert icons.assurance_label(last.assurance_type) in svg
        assert image.xanchor == "right" and image.x == 1
        corner = [a.text for a in fig.layout.annotations if a.xref == "paper"]
        assert any(words in t.lower() for t in corner)


def test_variation_icons():
    hi = icons.variation_icon_svg("special_cause_improvement", "increase")
    lo = icons.variation_icon_svg("special_cause_improvement", "decrease")
    assert "#289DE0" in hi and ">H</text>" in hi and ">L</text>" in lo
    concern = icons.variation_icon_svg("special_cause_concern", "increase")
    assert "#FAB428" in concern and ">L</text>" in concern
    neutral = icons.variation_icon_svg("special_cause_neutral_high")
    assert "#361475" in neutral and ">H</text>" in neutral
    common = icons.variation_icon_svg("common_cause", "increase")
    assert "#7B7D7D" in common and "<text" not in common.split("</title>")[1]
    assert icons.variation_icon_svg("") == "" and icons.variation_icon_svg(None) == ""
    with pytest.raises(ChartError, match="special_cause_bogus"):
        icons.variation_icon_svg("special_cause_bogus")
    with pytest.raises(ChartError):
        icons.variation_icon_svg("common_cause", "up")


def test_assurance_icons():
    for kind, colour, letter in (
        ("consistent_pass", "#289DE0", "P"),
        ("consistent_fail", "#FAB428", "F"),
        ("inconsistent", "#7B7D7D", "?"),
    ):
        svg = icons.assurance_icon_svg(kind, size=24)
        assert colour in svg and f">{letter}</text>" in svg and 'height="24"' in svg
        assert svg.startswith("<svg") and "<title>" in svg
    assert icons.assurance_icon_svg("") == ""
    with pytest.raises(ChartError):
        icons.assurance_icon_svg("maybe")


def test_icon_svg_is_well_formed_xml():
    import xml.etree.ElementTree as ET

    for t in icons.POINT_TYPES:
        ET.fromstring(icons.variation_icon_svg(t, "increase"))
    for a in icons.ASSURANCE_TYPES:
        ET.fromstring(icons.assurance_icon_svg(a))
    ET.fromstring(icons.icon_pair_svg("special_cause_concern", "consistent_fail", "decrease"))


# --- small multiples ----------------------------------------------------------------


def test_small_multiples_order_needing_attention_first():
    r = build_result()
    assert figures.attention_order(r) == [("Birch",), ("Cedar",), ("Ash",)]
    fig = r.figure()
    titles = [a.text for a in fig.layout.annotations if a.text.startswith("<b>")]
    assert [t.split("</b>")[0][3:] for t in titles] == ["Birch", "Cedar", "Ash"]
    assert len(fig.layout.images) == 3
    # panel 1 (Birch) shows Birch's points
    birch = [t for t in fig.data if t.xaxis == "x" and t.name == "Special cause: concern"]
    assert len(birch) == 1
    data_order = [
        a.text.split("</b>")[0][3:]
        for a in r.figure(order="data").layout.annotations
        if a.text.startswith("<b>")
    ]
    assert data_order == ["Ash", "Birch", "Cedar"]


def test_small_multiples_axes_and_legend_once():
    r = build_result(units=tuple(f"U{i:02d}" for i in range(7)))
    fig = r.figure(cols=3)
    assert fig.layout.yaxis2.matches == "y" and fig.layout.xaxis7.matches == "x"
    free = r.figure(cols=3, shared_y=False)
    assert free.layout.yaxis2.matches is None
    shown = [t.name for t in fig.data if t.showlegend is not False]
    assert len(shown) == len(set(shown))
    assert fig.layout.xaxis3.domain[1] == pytest.approx(1)
    assert fig.layout.xaxis4.domain[0] == pytest.approx(0)  # a new row


def test_group_selection_errors():
    r = build_result()
    with pytest.raises(ChartError, match="Nope"):
        r.figure(group="Nope")
    with pytest.raises(ChartError, match="order"):
        r.figure(order="alphabetical")


# --- summary table --------------------------------------------------------------------


def test_summary_table_lists_latest_values_and_icons():
    r = build_result(target=0.97)  # Ash and Birch's upper limits are below it
    styler = r.summary_table()
    out = styler.to_html()
    assert out.index("Birch") < out.index("Cedar") < out.index("Ash")
    assert out.count("<svg") == 6  # a variation and an assurance icon a unit
    data = styler.data
    birch = data[data["unit"] == "Birch"].iloc[0]
    pts = r.points[r.points.unit == "Birch"]
    assert birch["Value"] == f"{pts.y.iloc[-1]:.1%}"
    assert birch["Upper limit"] == f"{pts.ucl.iloc[-1]:.1%}"
    assert birch["Latest"] == pts.x.iloc[-1].strftime("%d %b %Y")
    assert "Concern (lower values)" in birch["Variation"]
    assert "fails the target" in birch["Assurance"]
    cedar = data[data["unit"] == "Cedar"].iloc[0]
    assert "Common cause" in cedar["Variation"] and "Hit and miss" in cedar["Assurance"]
    assert birch["Target"] == "97%"
    assert "Units needing attention first" in out


# --- funnel -----------------------------------------------------------------------------


def _funnel(improvement="increase"):
    n = np.array([50, 100, 200, 400, 800, 1600.0])
    cl = 0.8
    half = 3 * np.sqrt(cl * (1 - cl) / n)
    y = np.array([0.8, 0.95, 0.78, 0.6, 0.81, 0.8])
    pts = pd.DataFrame(
        {
            "unit": [f"W{i}" for i in range(6)],
            "y": y,
            "n": n,
            "cl": cl,
            "lcl": cl - half,
            "ucl": np.minimum(cl + half, 1),
            "lcl_2s": cl - half * 2 / 3,
            "ucl_2s": np.minimum(cl + half * 2 / 3, 1),
        }
    )
    pts["signal"] = (pts.y > pts.ucl) | (pts.y < pts.lcl)
    return FunnelResult(points=pts, kind="p", unit="unit", percent=True)


def test_funnel_outliers_labelled_and_coloured():
    r = _funnel()
    assert r.points.signal.tolist() == [False, True, False, True, False, False]
    fig = r.figure(improvement="increase")
    (better,) = [t for t in fig.data if t.name.startswith("Above")]
    (worse,) = [t for t in fig.data if t.name.startswith("Below")]
    assert list(better.text) == ["W1"] and "%{text}" in better.hovertemplate
    assert better.marker.color == "#289DE0" and worse.marker.color == "#FAB428"
    assert list(worse.text) == ["W3"]
    assert better.marker.symbol != worse.marker.symbol
    # each outlier named beside its point: above it when above the centre line
    notes = {a.text: a for a in fig.layout.annotations}
    assert set(notes) == {"W1", "W3"}
    assert (notes["W1"].x, notes["W1"].y) == (100, 0.95) and notes["W1"].ay < 0
    assert notes["W3"].ay > 0
    assert not r.figure(label_outliers=False).layout.annotations


def test_funnel_curves_follow_the_units_limits():
    r = _funnel()
    fig = r.figure()
    upper = [t for t in fig.data if t.name.startswith("3-sigma")][0]
    grid = np.asarray(upper.x, dtype=float)
    expected = np.minimum(0.8 + 3 * np.sqrt(0.16 / grid), 1)
    np.testing.assert_allclose(np.asarray(upper.y, dtype=float), expected, rtol=1e-9)
    assert [t for t in fig.data if t.name.startswith("2-sigma")]


# --- theme, size, speed ---------------------------------------------------------------------


def test_template_is_slim_and_nhs_coloured():
    size = len(json.dumps(theme.TEMPLATE.to_plotly_json()))
    assert size < 1500
    assert theme.TEMPLATE.layout.colorway[0] == "#005EB8"


def test_figure_json_stays_small():
    one = build_result().figure(group="Ash", annotations=pdsa_log())
    assert len(one.to_json()) < 30_000
    many = build_result(units=tuple(f"U{i:02d}" for i in range(50))).figure()
    assert len(many.to_json()) < 1_200_000


def test_offline_renderer(monkeypatch):
    import plotly.io as pio

    monkeypatch.setattr(pio.renderers, "default", pio.renderers.default)
    assert theme.use_offline_renderer() == "plotly_mimetype+pxlib_notebook"
    assert pio.renderers.default == "plotly_mimetype+pxlib_notebook"
    bundle = pio.renderers["pxlib_notebook"].to_mimebundle(go.Figure().to_dict())
    assert "Plotly.newPlot" in bundle["text/html"] and "src=" not in bundle["text/html"]
    with pytest.raises(theme.PxlibError, match="internet"):
        theme.use_offline_renderer("notebook_connected")
    with pytest.raises(theme.PxlibError, match="no renderer"):
        theme.use_offline_renderer("nonsense")


def test_write_static_without_kaleido_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "kaleido", None)
    with pytest.raises(theme.StaticImageError, match="kaleido"):
        theme.write_static(go.Figure(), tmp_path / "x.png")


def test_write_static_without_browser_says_what_to_do(monkeypatch, tmp_path):
    pytest.importorskip("kaleido")

    def no_chrome(*a, **k):
        raise RuntimeError("Kaleido requires Google Chrome to be installed.")

    monkeypatch.setattr(go.Figure, "write_image", no_chrome)
    with pytest.raises(theme.StaticImageError, match="Chromium"):
        theme.write_static(go.Figure(), tmp_path / "x.png")


def test_rule_words():
    w = figures.rule_in_words
    assert (
        w("trend", up=False, count=7, improvement="increase")
        == "7 points in a row falling: concern"
    )
    assert (
        w("two of three close to limits", up=True, improvement="decrease")
        == "2 of 3 points close to the upper process limit: concern"
    )
    assert w("too few crossings (Anhøj)", up=True).startswith("Too few crossings")
    assert "astronomical" in w("astronomical point (IHI)", up=True)
    assert w("longest run (Anhøj)", up=False, count=9, improvement="neutral").startswith(
        "A run of 9 points below the centre line"
    )
    assert w("my own rule", up=True, improvement="increase") == "My own rule: improvement"
    assert w("shift", up=True, count=1, improvement="increase").startswith("1 point in a row")
    assert w("shift", up=False, count=1204).startswith("1,204 points in a row below")


def test_trend_counted_across_a_peak():
    y = np.array([1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1.0])
    rules = [["trend"]] * 13
    texts = signal_texts(rules, y, np.full(13, 4.0), np.full(13, 9.0), "increase")
    assert texts[0] == "7 points in a row rising: improvement"
    assert texts[6] == "7 points in a row rising: improvement"
    assert texts[7] == "7 points in a row falling: concern"  # the peak belongs to both
    assert texts[12] == "7 points in a row falling: concern"


def test_summary_table_shows_warnings_only_when_there_are_some():
    r = build_result()
    assert "Warnings" not in r.summary_table().data.columns
    summary = r.summary.drop(columns="warnings").assign(
        warning=np.where(r.summary["unit"] == "Ash", "trial limits: fewer than 13 points", "")
    )
    table = SPCResult(r.points, summary, "p", ["unit"], percent=True).summary_table().data
    assert table.set_index("unit").loc["Ash", "Warnings"] == "trial limits: fewer than 13 points"


def test_mixed_signal_point_is_outlined_and_explained():
    r = build_result()
    pts = r.points.copy()
    last = pts.index[pts["unit"] == "Ash"][-1]
    pts.loc[last, "mixed_signal"] = True
    fig = SPCResult(pts, r.summary, "p", ["unit"], "increase", percent=True).figure(group="Ash")
    (imp,) = traces(fig, "Special cause: improvement")
    assert imp.text[-1].endswith("Part of both an improvement and a concern pattern")
    assert list(imp.marker.line.width).count(2) == 1


def test_pdsa_table_without_unit_column_marks_every_panel():
    log = pdsa_log().drop(columns=["unit", "org_code"])
    fig = build_result().figure(annotations=log)
    marks = [a for a in fig.layout.annotations if a.hovertext]
    assert len(marks) == 3 * 3
    assert {a.xref for a in marks} == {"x", "x2", "x3"}
    assert len([t for t in fig.data if t.name == "PDSA cycle" and t.showlegend is not False]) == 1


def test_two_by_columns_and_numeric_x():
    r = build_result()
    pts = r.points.assign(site="North")
    pts["x"] = pts.groupby("unit").cumcount() + 1
    summary = r.summary.assign(site="North")
    two = SPCResult(pts, summary, "i", ["site", "unit"])
    fig = two.figure(group=("North", "Birch"), x_title="Week")
    assert fig.layout.title.text == "North · Birch"
    (common,) = traces(fig, "Common cause")
    assert "Week %{x}" in common.hovertemplate
    assert list(common.x) == list(range(1, 24))
    with pytest.raises(ChartError):
        two.figure(group="Birch")
    multi = two.figure()
    titles = [a.text for a in multi.layout.annotations if a.text.startswith("<b>")]
    assert titles[0].startswith("<b>North · Birch</b>")


def test_empty_result_is_a_clear_error():
    r = build_result()
    empty = SPCResult(r.points.iloc[:0], r.summary.iloc[:0], "p", ["unit"])
    with pytest.raises(ChartError, match="no points"):
        empty.figure()
