"""A hostile caller of the statistics API: bad inputs to chart, funnel, weighted_counts,
rake, calibrate, trim, poststratify, nonresponse_adjust and the Design methods must raise a
pxlib error (a PxlibError subclass) whose message names the offending argument, column or
rows, never a raw numpy/pandas traceback (KeyError, IndexError, TypeError, a ValueError
from pandas internals), and never a silent NaN or inf."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from pxlib.errors import (
    ChartError,
    ChartWarning,
    ColumnError,
    ConvergenceError,
    DesignError,
    PxlibError,
    WeightingError,
)
from pxlib.spc import chart, funnel, weighted_counts
from pxlib.spc.limits import KINDS, NEEDS_N
from pxlib.survey import Design, DesignWarning
from pxlib.weighting import (
    calibrate,
    collapse_sparse,
    kish_ess,
    nonresponse_adjust,
    poststratify,
    rake,
    trim,
    weight_summary,
)

# --------------------------------------------------------------------------- data


def _series(size: int = 20, **cols) -> pd.DataFrame:
    df = pd.DataFrame({"x": np.arange(size), "y": np.arange(size) % 5 + 1.0, "n": 10.0})
    for k, v in cols.items():
        df[k] = v
    return df


#: how numpy scalars print themselves, np.int64(7): never in a message
NUMPY_REPR = re.compile(r"np\.\w+\(")
RNG = np.random.default_rng(7)
RESP = pd.DataFrame(
    {
        "a": RNG.choice(["x", "y"], 60),
        "b": RNG.choice([1, 2, 3], 60),
        "v": RNG.normal(size=60),
        "w": RNG.uniform(1, 3, 60),
        "r": RNG.integers(0, 2, 60).astype(bool),
        "h": np.repeat(["s1", "s2"], 30),
        "c": np.arange(60) // 5,
        "p": RNG.integers(0, 2, 60).astype(float),
    }
)
MARGINS = {"a": {"x": 60, "y": 40}, "b": {1: 30, 2: 30, 3: 40}}


def _resp(**cols) -> pd.DataFrame:
    df = RESP.copy()
    for k, v in cols.items():
        df[k] = v
    return df


def _one_inf(n: int = 60) -> np.ndarray:
    v = np.ones(n)
    v[3] = np.inf
    return v


def _chart(kind: str, df: pd.DataFrame | None = None, **kw):
    df = _series() if df is None else df
    return chart(df, "x", "y", "n" if kind in NEEDS_N else None, kind=kind, **kw)


# ------------------------------------------------------------------- chart, every kind

CHART_CASES = [
    # (id, call(kind), exception, regex the message must match)
    ("empty frame", lambda k: _chart(k, _series().iloc[:0]), ChartError, "no rows"),
    ("no columns", lambda k: _chart(k, pd.DataFrame()), ColumnError, "x column 'x'"),
    ("text y", lambda k: _chart(k, _series(y="a")), ChartError, "y column 'y' must be numeric"),
    ("complex y", lambda k: _chart(k, _series(y=1 + 1j)), ChartError, "y column 'y'.*complex"),
    (
        "dates as y",
        lambda k: _chart(k, _series(y=pd.Timestamp("2024-01-01"))),
        ChartError,
        "y column 'y' holds dates",
    ),
    (
        "durations as y",
        lambda k: _chart(k, _series(y=pd.Timedelta("1D"))),
        ChartError,
        "y column 'y' holds durations",
    ),
    (
        "+inf y",
        lambda k: _chart(k, _series(y=[np.inf] + [1.0] * 19)),
        ChartError,
        r"y column 'y' has 1 infinite value \(row 0\)",
    ),
    (
        "-inf y",
        lambda k: _chart(k, _series(y=[1.0] * 5 + [-np.inf] * 2 + [1.0] * 13)),
        ChartError,
        r"y column 'y' has 2 infinite values \(rows 5, 6\)",
    ),
    (
        "duplicated column",
        lambda k: _chart(k, pd.concat([_series(), _series()[["y"]]], axis=1)),
        ColumnError,
        "y column 'y' appears 2 times",
    ),
    (
        "mixed tz x",
        lambda k: _chart(
            k,
            _series(
                x=pd.Series(
                    [pd.Timestamp("2024-01-01", tz="UTC")] * 10 + [pd.Timestamp("2024-01-02")] * 10,
                    dtype=object,
                )
            ),
        ),
        ChartError,
        "x column 'x' mixes dates with and without a time zone",
    ),
    (
        "list-valued x",
        lambda k: _chart(k, _series(x=[[1]] * 20)),
        ChartError,
        "x column 'x' holds values that cannot be sorted",
    ),
    (
        "list-valued by",
        lambda k: _chart(k, _series(g=[[1]] * 20), by="g"),
        ChartError,
        "by column 'g'",
    ),
    ("unknown by column", lambda k: _chart(k, by="zz"), ColumnError, "by column 'zz'"),
    ("bad freeze 0", lambda k: _chart(k, freeze=0), ChartError, "freeze must be .* not 0"),
    ("bad freeze 2.5", lambda k: _chart(k, freeze=2.5), ChartError, "freeze .* not 2.5$"),
    (
        "numpy freeze shown plainly",
        lambda k: _chart(k, freeze=np.float64(2.5)),
        ChartError,
        r"freeze .* not 2\.5$",
    ),
    ("text freeze", lambda k: _chart(k, freeze="5"), ChartError, "freeze .* not '5'"),
    ("bad shift", lambda k: _chart(k, shift=1), ChartError, "shift must be"),
    ("bad rules", lambda k: _chart(k, rules="nelson"), ChartError, "unknown rule set 'nelson'"),
    ("bad agg", lambda k: _chart(k, agg="max"), ChartError, "agg must be"),
    ("text cl", lambda k: _chart(k, cl="a"), ChartError, "cl must be a number"),
    ("text cl in dict", lambda k: _chart(k, cl={"": "a"}), ChartError, "cl must be a number"),
    (
        "phases not comparable",
        lambda k: _chart(k, phases=["a"]),
        ChartError,
        r"phases values \['a'\] cannot be compared.*numbers",
    ),
    (
        "exclude with a time zone",
        lambda k: _chart(
            k,
            _series(x=pd.date_range("2024-01-01", periods=20)),
            exclude=[pd.Timestamp("2024-01-05", tz="UTC")],
        ),
        ChartError,
        "exclude values .* cannot be compared.*without a time zone",
    ),
    ("not a frame", lambda k: chart([1, 2, 3], "x", "y", kind=k), ChartError, "DataFrame"),
    ("multiply 0", lambda k: _chart(k, multiply=0), ChartError, "multiply"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [pytest.param(c, e, m, id=i) for i, c, e, m in CHART_CASES],
)
def test_chart_rejects_bad_input(kind, call, exc, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChartWarning)
        with pytest.raises(exc, match=match) as info:
            call(kind)
    assert isinstance(info.value, PxlibError)
    assert not NUMPY_REPR.search(str(info.value))  # plain numbers, never np.int64(7)


N_CASES = [
    (
        "negative n",
        lambda k: _chart(k, _series(n=-1.0)),
        r"row 0, x=0: 'n' is negative \(20 such rows\)",
    ),
    ("text n", lambda k: _chart(k, _series(n="ten")), "n column 'n' must be numeric"),
    (
        "+inf n",
        lambda k: _chart(k, _series(n=[10.0] * 7 + [np.inf] + [10.0] * 12)),
        r"n column 'n' has 1 infinite value \(row 7\)",
    ),
    (
        "n = 0 with events",
        lambda k: _chart(k, _series(y=[1.0] * 20, n=[10.0] * 19 + [0.0])),
        "row 19, x=19: 'n' is zero but 'y' is 1; a subgroup with no denominator cannot have events",
    ),
]


@pytest.mark.parametrize("kind", NEEDS_N)
@pytest.mark.parametrize(("call", "match"), [pytest.param(c, m, id=i) for i, c, m in N_CASES])
def test_denominator_charts_reject_bad_n(kind, call, match):
    with pytest.raises(ChartError, match=match):
        call(kind)


def test_unknown_kind_names_the_kinds():
    with pytest.raises(ChartError, match="unknown chart kind 'bogus'; choose one of run, i"):
        _chart("bogus")


def test_row_labels_and_groups_are_plain_in_messages():
    # numpy scalars (an int64 index, int group labels, numpy dates) are shown as numbers
    df = _series(g=np.int64(3)).set_index(pd.Index(np.arange(100, 120), dtype="int64"))
    df["x"] = pd.date_range("2024-01-01", periods=20, freq="D")
    df.loc[105, "y"] = 0.0
    with pytest.raises(ChartError) as info:
        chart(df, "x", "y", kind="t", by="g")
    text = str(info.value)
    assert "row 105 in group g=3, x=2024-01-06" in text
    assert not NUMPY_REPR.search(text) and "Timestamp" not in text


def test_all_missing_y_is_a_chart_with_a_stated_caveat():
    # an all-missing unit (e.g. every week suppressed) is charted as gaps, with a warning
    with pytest.warns(ChartWarning):
        res = _chart("i", _series(y=np.nan))
    assert "no values in this phase" in res.summary["warning"].iloc[0]


# ------------------------------------------------------------------ funnel, weighted_counts

UNITS = pd.DataFrame(
    {
        "u": list("abcdefghij"),
        "y": np.arange(10.0),
        "n": 20.0,
        "w": 1.0,
        "a": [0, 1] * 5,
        "x": [1, 2] * 5,
    }
)

OTHER_SPC_CASES = [
    (
        "funnel +inf y",
        lambda: funnel(UNITS.assign(y=[np.inf] + [1.0] * 9), "u", "y", "n"),
        ChartError,
        r"y column 'y' has 1 infinite value \(row 0\)",
    ),
    (
        "funnel text y",
        lambda: funnel(UNITS.assign(y="a"), "u", "y", "n"),
        ChartError,
        "y column 'y' must be numeric",
    ),
    (
        "funnel +inf n",
        lambda: funnel(UNITS.assign(n=[np.inf] + [1.0] * 9), "u", "y", "n"),
        ChartError,
        "n column 'n' has 1 infinite value",
    ),
    (
        "funnel numpy units",
        lambda: funnel(UNITS.assign(u=np.arange(10), n=[0.0] + [20.0] * 9), "u", "y", "n"),
        ChartError,
        r"for unit 0 \(1 unit\)",
    ),
    (
        "funnel list units",
        lambda: funnel(UNITS.assign(u=[[1]] * 10), "u", "y", "n"),
        ChartError,
        "unit column 'u'",
    ),
    (
        "funnel kind",
        lambda: funnel(UNITS, "u", "y", "n", kind="c"),
        ChartError,
        "funnel kind must be 'p' or 'u'",
    ),
    (
        "weighted_counts +inf weight",
        lambda: weighted_counts(UNITS.assign(w=[np.inf] + [1.0] * 9), "x", "a", "w"),
        ChartError,
        "weight column 'w' has 1 infinite value",
    ),
    (
        "weighted_counts text weight",
        lambda: weighted_counts(UNITS.assign(w="a"), "x", "a", "w"),
        ChartError,
        "weight column 'w' must be numeric",
    ),
    (
        "weighted_counts not a frame",
        lambda: weighted_counts([1], "x", "a", "w"),
        ChartError,
        "DataFrame",
    ),
]


@pytest.mark.parametrize(
    ("call", "exc", "match"), [pytest.param(c, e, m, id=i) for i, c, e, m in OTHER_SPC_CASES]
)
def test_funnel_and_weighted_counts_reject_bad_input(call, exc, match):
    with pytest.raises(exc, match=match) as info:
        call()
    assert isinstance(info.value, PxlibError)


# --------------------------------------------------------------------------- weighting

WEIGHTING_CASES = [
    ("rake: not a frame", lambda: rake([1, 2], MARGINS), WeightingError, "df must be a pandas"),
    ("rake: empty margins", lambda: rake(RESP, {}), WeightingError, "margins must be"),
    (
        "rake: text populations",
        lambda: rake(RESP, {"a": {"x": "lots", "y": 40}}),
        WeightingError,
        "margin 'a': populations must be numbers",
    ),
    (
        "rake: base weights not numbers",
        lambda: rake(RESP, MARGINS, ["a"] * 60),
        WeightingError,
        "base weights must be numbers",
    ),
    (
        "rake: base weight column absent",
        lambda: rake(RESP, MARGINS, "nope"),
        ColumnError,
        "base_weights column 'nope'",
    ),
    (
        "rake: base weight column of text",
        lambda: rake(RESP, MARGINS, "a"),
        WeightingError,
        "base weights must be numbers",
    ),
    (
        "rake: base weights, other index",
        lambda: rake(RESP, MARGINS, pd.Series(np.ones(60), index=range(100, 160))),
        WeightingError,
        "base_weights: a Series whose index does not match",
    ),
    (
        "rake: inf base weight",
        lambda: rake(RESP, MARGINS, _one_inf()),
        WeightingError,
        "base weights: 1 row.* infinite",
    ),
    ("rake: text tol", lambda: rake(RESP, MARGINS, tol="a"), WeightingError, "tol must be"),
    (
        "rake: max_iter 0",
        lambda: rake(RESP, MARGINS, max_iter=0),
        WeightingError,
        "max_iter must be a whole number >= 1, not 0",
    ),
    (
        "rake: negative total",
        lambda: rake(RESP, {"a": {"x": 0.6, "y": 0.4}}, total=-5),
        WeightingError,
        "total must be a finite number > 0, not -5",
    ),
    (
        "rake: list-valued margin column",
        lambda: rake(_resp(a=[["x"]] * 60), MARGINS),
        WeightingError,
        "column 'a' holds values that cannot be levels",
    ),
    (
        "rake: missing level value",
        lambda: rake(_resp(a=[None] + ["x"] * 59), MARGINS),
        WeightingError,
        "column 'a': 1 row",
    ),
    (
        "calibrate: margins None",
        lambda: calibrate(RESP, None),
        WeightingError,
        "margins must be a non-empty dict",
    ),
    (
        "calibrate: empty margins",
        lambda: calibrate(RESP, {}),
        WeightingError,
        "margins must be a non-empty dict",
    ),
    (
        "calibrate: bounds text",
        lambda: calibrate(RESP, MARGINS, bounds="a"),
        WeightingError,
        "calibration bounds must be two numbers",
    ),
    (
        "calibrate: one bound",
        lambda: calibrate(RESP, MARGINS, bounds=(0.5,)),
        WeightingError,
        "calibration bounds must be two numbers",
    ),
    (
        "calibrate: text total",
        lambda: calibrate(RESP, {"v": "a"}),
        WeightingError,
        "total of calibration variable 'v' must be a finite number",
    ),
    (
        "calibrate: NaN total",
        lambda: calibrate(RESP, {"v": np.nan}),
        WeightingError,
        "total of calibration variable 'v'",
    ),
    (
        "calibrate: inf in variable",
        lambda: calibrate(_resp(v=_one_inf()), {"v": 10.0}),
        WeightingError,
        "calibration variable 'v': 1 row.* infinite",
    ),
    (
        "calibrate: collinear variables, totals that disagree",
        lambda: calibrate(_resp(v2=RESP["v"]), {"v": 1.0, "v2": 2.0}),
        ConvergenceError,
        "cannot meet the totals.*collinear",
    ),
    ("trim: None", lambda: trim(None), WeightingError, "trim: weights must be"),
    ("trim: text", lambda: trim(["a", "b"]), WeightingError, "weights must be numbers"),
    ("trim: a frame", lambda: trim(RESP[["w", "v"]]), WeightingError, "not a DataFrame"),
    ("trim: 2-d", lambda: trim(np.ones((3, 3))), WeightingError, "one value per row"),
    (
        "trim: text bound",
        lambda: trim([1.0, 2.0], upper="a"),
        WeightingError,
        "trim: upper must be a finite number, not 'a'",
    ),
    (
        "trim: NaN bound",
        lambda: trim([1.0, 2.0], lower=np.nan),
        WeightingError,
        "trim: lower must be a finite number",
    ),
    (
        "trim: max_iter 0",
        lambda: trim([1.0, 30.0], upper=5, strict=True, max_iter=0),
        WeightingError,
        "trim: max_iter",
    ),
    ("trim: inf weight", lambda: trim([1.0, np.inf]), WeightingError, "infinite"),
    (
        "trim: bounds reversed",
        lambda: trim([1.0, 2.0], lower=3, upper=1),
        WeightingError,
        "lower bound 3 is above upper bound 1",
    ),
    (
        "poststratify: text total",
        lambda: poststratify(RESP, "a", {"x": "a", "y": 3}),
        WeightingError,
        "population total of class 'x'",
    ),
    (
        "poststratify: totals a list",
        lambda: poststratify(RESP, "a", [1, 2]),
        WeightingError,
        "post-stratification totals must be",
    ),
    (
        "poststratify: totals None",
        lambda: poststratify(RESP, "a", None),
        WeightingError,
        "post-stratification totals must be",
    ),
    (
        "poststratify: list-valued class",
        lambda: poststratify(_resp(a=[["x"]] * 60), "a", {"x": 1}),
        WeightingError,
        "weighting class column 'a'",
    ),
    (
        "poststratify: numpy class labels shown plainly",
        lambda: poststratify(RESP, "b", {1: 10, 2: 10, 3: 10, 4: 5}),
        WeightingError,
        r"class\(es\) \[4\] have a population",
    ),
    (
        "nonresponse_adjust: text indicator",
        lambda: nonresponse_adjust(RESP, "a", "h"),
        WeightingError,
        "response indicator 'a' must be True/False or 1/0",
    ),
    (
        "nonresponse_adjust: indicator of 2",
        lambda: nonresponse_adjust(_resp(r=2), "r", "h"),
        WeightingError,
        "response indicator 'r'",
    ),
    ("kish_ess: text", lambda: kish_ess(["a"]), WeightingError, "weights must be numbers"),
    (
        "weight_summary: text",
        lambda: weight_summary(["a"]),
        WeightingError,
        "weights must be numbers",
    ),
    (
        "collapse_sparse: absent column",
        lambda: collapse_sparse(RESP, {"zz": {"x": 1}}),
        ColumnError,
        "margin column 'zz'",
    ),
    (
        "collapse_sparse: text min_count",
        lambda: collapse_sparse(RESP, MARGINS, min_count="a"),
        WeightingError,
        "min_count must be",
    ),
]


@pytest.mark.parametrize(
    ("call", "exc", "match"), [pytest.param(c, e, m, id=i) for i, c, e, m in WEIGHTING_CASES]
)
def test_weighting_rejects_bad_input(call, exc, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc, match=match) as info:
            call()
    assert isinstance(info.value, PxlibError)
    assert not NUMPY_REPR.search(str(info.value))


# ------------------------------------------------------------------------------ Design

D = Design(RESP, "w")

DESIGN_CASES = [
    (
        "weights column of text",
        lambda: Design(RESP, "a"),
        DesignError,
        "weights column 'a' is not numeric",
    ),
    (
        "inf weight",
        lambda: Design(_resp(w=_one_inf()), "w"),
        DesignError,
        "design weights: 1 row.* infinite",
    ),
    (
        "NaN weight",
        lambda: Design(_resp(w=[np.nan] + [1.0] * 59), "w"),
        DesignError,
        "design weights: 1 row.* missing",
    ),
    (
        "negative weight",
        lambda: Design(_resp(w=[-1.0] + [1.0] * 59), "w"),
        DesignError,
        "design weights: 1 row.* negative",
    ),
    (
        "weights of the wrong length",
        lambda: Design(RESP, np.ones(3)),
        DesignError,
        "design weights have 3 values for 60 rows",
    ),
    (
        "weights Series of another index",
        lambda: Design(RESP, pd.Series(np.ones(60), index=range(100, 160))),
        DesignError,
        "60 of the data's rows have no weight in the Series",
    ),
    ("fpc of text", lambda: Design(RESP, "w", fpc="a"), DesignError, "fpc must be"),
    ("fpc of the wrong length", lambda: Design(RESP, "w", fpc=[1, 2]), DesignError, "fpc must be"),
    (
        "mean of +inf",
        lambda: Design(_resp(v=_one_inf()), "w").mean("v"),
        DesignError,
        r"column 'v': 1 row holds an infinite value \(row 3\)",
    ),
    (
        "mean of -inf, two rows",
        lambda: Design(_resp(v=np.r_[-np.inf, -np.inf, np.ones(58)]), "w").mean("v"),
        DesignError,
        r"column 'v': 2 rows hold an infinite value \(rows 0, 1\)",
    ),
    (
        "total of inf",
        lambda: Design(_resp(v=_one_inf()), "w").total("v"),
        DesignError,
        "column 'v': 1 row holds an infinite value",
    ),
    (
        "ratio with inf numerator",
        lambda: Design(_resp(v=_one_inf()), "w").ratio("v", "w"),
        DesignError,
        "column 'v'",
    ),
    (
        "ratio with inf denominator",
        lambda: Design(_resp(v=_one_inf()), "w").ratio("w", "v"),
        DesignError,
        "column 'v'",
    ),
    (
        "proportion of inf",
        lambda: Design(_resp(p=_one_inf()), "w").proportion("p"),
        DesignError,
        "column 'p': 1 row holds an infinite value",
    ),
    (
        "domain mean of inf",
        lambda: Design(_resp(v=_one_inf()), "w").by("a").mean("v"),
        DesignError,
        "column 'v'",
    ),
    (
        "domain total of inf",
        lambda: Design(_resp(v=_one_inf()), "w").by("a").total("v"),
        DesignError,
        "column 'v'",
    ),
    (
        "complex column",
        lambda: Design(_resp(v=1j), "w").mean("v"),
        DesignError,
        "column 'v' is not numeric",
    ),
    ("text column", lambda: D.mean("a"), DesignError, "column 'a' is not numeric"),
    ("absent column", lambda: D.mean("zz"), ColumnError, "analysis column 'zz'"),
    (
        "duplicated column",
        lambda: Design(pd.concat([RESP, RESP[["v"]]], axis=1), "w").mean("v"),
        ColumnError,
        "analysis column 'v' appears 2 times",
    ),
    (
        "all-missing mean",
        lambda: Design(_resp(v=np.nan), "w").mean("v"),
        DesignError,
        "column 'v': no respondent with a value",
    ),
    (
        "all-missing total",
        lambda: Design(_resp(v=np.nan), "w").total("v"),
        DesignError,
        "column 'v': no respondent with a value",
    ),
    (
        "all weights zero",
        lambda: Design(_resp(w=0.0), "w").total("v"),
        DesignError,
        "no respondent with a value and a positive weight",
    ),
    (
        "empty frame",
        lambda: Design(RESP.iloc[:0], "w").mean("v"),
        DesignError,
        "column 'v': no respondent",
    ),
    (
        "a single respondent",
        lambda: Design(RESP.iloc[:1], "w").total("v"),
        DesignError,
        "at least two PSUs.*the design has 1",
    ),
    (
        "a single cluster",
        lambda: Design(_resp(c=1), "w", clusters="c").mean("v"),
        DesignError,
        "the design has a single PSU",
    ),
    (
        "a stratum with one PSU",
        lambda: Design(_resp(h=[7] + [8] * 59), "w", strata="h").mean("v"),
        DesignError,
        "stratum 7 has a single PSU",
    ),
    ("level 1.5", lambda: D.mean("v", level=1.5), DesignError, "level must be .* not 1.5"),
    ("level text", lambda: D.total("v", level="a"), DesignError, "level must be"),
    ("ddf negative", lambda: D.mean("v", ddf=-1), DesignError, "ddf must be .* not -1"),
    ("ddf text", lambda: D.ratio("v", "w", ddf="a"), DesignError, "ddf must be"),
    ("domain ddf text", lambda: D.by("a").mean("v", ddf="a"), DesignError, "ddf must be"),
    ("domain level 2", lambda: D.by("a").proportion("p", level=2), DesignError, "level must be"),
    ("proportion level 2", lambda: D.proportion("p", level=2), DesignError, "level"),
    (
        "list-valued domain",
        lambda: Design(_resp(a=[["x"]] * 60), "w").by("a").mean("v"),
        DesignError,
        r"domain column\(s\) \['a'\]",
    ),
    ("absent domain column", lambda: D.by("zz").mean("v"), ColumnError, "domain column 'zz'"),
    (
        "rake variance",
        lambda: D.rake(MARGINS, variance="x"),
        DesignError,
        "variance must be 'calibration' or 'r_rake'",
    ),
    ("trim bound text", lambda: D.trim(upper="a"), WeightingError, "trim: upper"),
]


@pytest.mark.parametrize(
    ("call", "exc", "match"), [pytest.param(c, e, m, id=i) for i, c, e, m in DESIGN_CASES]
)
def test_design_rejects_bad_input(call, exc, match):
    with pytest.raises(exc, match=match) as info:
        call()
    assert isinstance(info.value, PxlibError)
    assert not NUMPY_REPR.search(str(info.value))


def test_domain_estimates_say_why_they_are_missing():
    df = _resp()
    df.loc[df["a"] == "x", "v"] = np.nan  # domain x: no value
    df.loc[df.index[df["h"] == "s2"][0], "a"] = "z"  # domain z: one respondent
    d = Design(df, "w")
    with pytest.warns(DesignWarning) as record:
        res = d.by("a").mean("v").set_index("a")
    text = " | ".join(str(r.message) for r in record)
    assert "no respondent with a value of 'v'" in text and "a='x'" in text
    assert "single PSU" in text and "a='z'" in text
    assert np.isnan(res.loc["x", "estimate"]) and np.isnan(res.loc["z", "ci_low"])
    # a design-level SE is never NaN silently: a stratum with one PSU is an error naming it
    with pytest.raises(DesignError, match="stratum 's1' has a single PSU"):
        Design(df.assign(h=["s1"] + ["s2"] * 59), "w", strata="h").mean("v")


def test_trim_leaves_zero_weights_at_zero():
    w = trim(pd.Series([0.0, 1.0, 2.0, 30.0]), lower=1.5, upper=5)
    assert w.iloc[0] == 0.0
    assert w.sum() == pytest.approx(33.0)
    # after a non-response adjustment, non-respondents keep weight 0 through a trim
    d = Design(RESP, "w").nonresponse_adjust("r", "h").trim(lower=2, upper=4)
    assert (d.weights[~RESP["r"]] == 0).all()
