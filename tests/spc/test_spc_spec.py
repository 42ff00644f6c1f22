"""The chart spec: one frozen record of how a chart was asked for, and how its values
are written (pxlib/spc/spec.py), carried on SPCResult and FunnelResult."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from pxlib.errors import ChartError
from pxlib.spc import FunnelResult, SPCResult, chart, funnel
from pxlib.spc.spec import ChartSpec


def weekly(y, n=20, **extra) -> pd.DataFrame:
    return pd.DataFrame(
        {"x": pd.date_range("2024-01-01", periods=len(y), freq="W-MON"), "y": y, "n": n, **extra}
    )


def quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return chart(*args, **kwargs)


SHARES = weekly([19, 18, 20, 17, 19, 20, 18, 19, 20, 19, 18, 19, 20, 17])


# ------------------------------------------------------------------ format_value


def test_proportion_chart_writes_a_proportion_as_a_percentage():
    # the bug: 0.95 on a multiply=1 p chart was written "1%" ("below the 1 % target")
    res = quiet(SHARES, "x", "y", "n", kind="p", multiply=1, target=0.95)
    assert res.spec.percent
    assert res.spec.format_value(0.95) == "95%"
    assert res.spec.format_value(res.target) == "95%"
    assert res.spec.format_value(0.9549, decimals=1) == "95.5%"


def test_percentage_chart_writes_percent_units():
    res = quiet(SHARES, "x", "y", "n", kind="p", multiply=100, target=95)
    assert res.spec.format_value(95.0) == "95%"
    assert res.spec.format_value(95.0, decimals=1) == "95.0%"
    assert res.spec.format_value(100) == "100%"


def test_other_charts_use_a_general_number_format():
    spec = quiet(weekly([3.2, 4.1, 2.9, 3.5]), "x", "y", kind="i").spec
    assert not spec.percent
    assert spec.format_value(3.2) == "3.2"
    assert spec.format_value(1234.0) == "1,234"
    assert spec.format_value(0.012345) == "0.01235"
    # a p chart per 1,000 patients is not in percent
    assert not quiet(SHARES, "x", "y", "n", kind="p", multiply=1000).spec.percent


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, float("inf")])
def test_missing_values_are_written_na(missing):
    assert ChartSpec("p", percent=True).format_value(missing) == "n/a"
    assert ChartSpec("i").format_value(missing) == "n/a"


def test_hover_and_axis_formats():
    prop = ChartSpec("p", percent=True)
    pct = ChartSpec("p", multiply=100, percent=True)
    plain = ChartSpec("i")
    assert prop.hover("y") == "%{y:.1%}"
    assert pct.hover("y") == "%{y:.1f}%"
    assert plain.hover("customdata[0]") == "%{customdata[0]:,.4~r}"
    assert prop.axis() == {"tickformat": ".0%", "hoverformat": ".1%"}
    assert pct.axis() == {"ticksuffix": "%"}
    assert plain.axis() == {}


# ------------------------------------------------------------------ to_plotted


@pytest.mark.parametrize("given", [80, "80", "80%", "80 %", " 80% ", 0.8, "0.8", 80.0])
def test_to_plotted_reads_every_form_of_a_percentage(given):
    assert ChartSpec("p", multiply=100, percent=True).to_plotted(given) == 80
    assert ChartSpec("p", multiply=1, percent=True).to_plotted(given) == 0.8


def test_to_plotted_edges():
    pct = ChartSpec("p", multiply=100, percent=True)
    assert pct.to_plotted(1) == 100  # a bare 1 is a proportion: 100 %
    assert pct.to_plotted("1%") == 1
    assert pct.to_plotted(0) == 0
    assert pct.to_plotted("100%") == 100
    assert pct.to_plotted(97.5) == 97.5
    assert ChartSpec("p", percent=True).to_plotted("97.5%") == 0.975
    # not in percent: the value as given
    assert ChartSpec("i").to_plotted(-5) == -5
    assert ChartSpec("c").to_plotted("12") == 12


@pytest.mark.parametrize(
    "spec, given, match",
    [
        (ChartSpec("p", multiply=100, percent=True), -5, "negative"),
        (ChartSpec("p", percent=True), "-5%", "negative"),
        (ChartSpec("p", multiply=100, percent=True), "ten", "not a number"),
        (ChartSpec("p", multiply=100, percent=True), 180, "above 100"),
        (ChartSpec("p", percent=True), "180%", "above 100"),
        (ChartSpec("p", percent=True), "nan", "finite"),
        (ChartSpec("p", percent=True), None, "not a number"),
        (ChartSpec("p", percent=True), True, "not a number"),
        (ChartSpec("c"), -5, "negative"),
        (ChartSpec("i"), "80%", "not in percent"),
    ],
)
def test_to_plotted_rejects_nonsense(spec, given, match):
    with pytest.raises(ChartError, match=match):
        spec.to_plotted(given)


def test_chart_takes_a_text_target_in_plotted_units():
    assert quiet(SHARES, "x", "y", "n", kind="p", target="95%").target == 0.95
    assert quiet(SHARES, "x", "y", "n", kind="p", multiply=100, target="95%").target == 95
    # a number is taken as it is, in plotted units (unchanged behaviour)
    assert quiet(SHARES, "x", "y", "n", kind="p", multiply=100, target=95).target == 95
    with pytest.raises(ChartError, match="above 100"):
        chart(SHARES, "x", "y", "n", kind="p", target="180%")


# ------------------------------------------------------------------ the spec itself


def test_direction():
    assert ChartSpec("p", improvement="increase").direction == 1
    assert ChartSpec("p", improvement="decrease").direction == -1
    assert ChartSpec("p").direction == 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "p", "improvement": "up"}, "improvement"),
        ({"kind": "i", "limits": "exact"}, "p charts only"),
        ({"kind": "p", "limits": "binomial"}, "limits must be"),
        ({"kind": "p", "percent": True, "multiply": 1000}, "multiply 100"),
        ({"kind": "p", "multiply": 0}, "multiply"),
        ({"kind": "bogus"}, "unknown chart kind"),
    ],
)
def test_spec_validates_itself(kwargs, match):
    with pytest.raises(ChartError, match=match):
        ChartSpec(**kwargs)


def test_spec_is_frozen():
    spec = ChartSpec("p")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.target = 0.9  # type: ignore[misc]


def test_chart_records_its_options_once():
    res = quiet(
        SHARES,
        "x",
        "y",
        "n",
        kind="p",
        multiply=100,
        rules=["mdc", "anhoej"],
        improvement="increase",
        target=90,
        y_label="Always",
        shift=6,
        limits="auto",
    )
    assert res.spec == ChartSpec(
        kind="p",
        rules=("mdc", "anhoej"),
        improvement="increase",
        target=90.0,
        multiply=100.0,
        percent=True,
        y_label="Always",
        limits="auto",
        shift=6,
        trend=7,
    )
    # the result's old attributes read from the spec
    assert (res.kind, res.improvement, res.target, res.multiply) == ("p", "increase", 90, 100)
    assert (res.rules, res.y_label, res.percent, res.by) == (("mdc", "anhoej"), "Always", True, [])


def test_replace_keeps_the_spec():
    res = quiet(SHARES, "x", "y", "n", kind="p", improvement="increase", target=0.9)
    shown = dataclasses.replace(res, points=res.points.iloc[:3])
    assert shown.spec is res.spec
    assert len(shown.points) == 3
    assert dataclasses.replace(res, target=0.8).spec.target == 0.8


def test_result_built_the_old_way_makes_its_spec():
    res = quiet(SHARES, "x", "y", "n", kind="p")
    old = SPCResult(res.points, res.summary, "p", ["unit"], "increase", 0.9, percent=True)
    assert old.spec == ChartSpec("p", improvement="increase", target=0.9, percent=True)
    assert old.by == ["unit"] and old.rules == ("anhoej",)
    with pytest.raises(TypeError, match="kind"):
        SPCResult(res.points, res.summary)


def test_funnel_carries_a_spec():
    data = pd.DataFrame({"unit": ["a", "b", "c"], "y": [40, 45, 30], "n": [50, 50, 40]})
    res = funnel(data, "unit", "y", "n", multiply=100, y_label="Always")
    assert res.spec == ChartSpec("p", rules=(), multiply=100.0, percent=True, y_label="Always")
    assert (res.kind, res.multiply, res.percent, res.y_label) == ("p", 100, True, "Always")
    assert res.spec.format_value(res.cl) == "82%"  # 115 / 140
    assert not funnel(data, "unit", "y", "n", kind="u").percent
    old = FunnelResult(points=res.points, kind="p", unit="unit", percent=True)
    assert old.spec.percent and old.unit == "unit"
    assert dataclasses.replace(res, points=res.points.iloc[:1]).spec is res.spec
