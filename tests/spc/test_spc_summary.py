"""pxlib.spc.summary called directly (step 6 of ``chart``): the points and summary tables
for a hand-built case, assembled from the earlier steps exactly as ``chart`` calls them,
with columns, counts, centre lines, caveats and icons worked out by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from pxlib.spc.aggregate import read_columns, subgroups
from pxlib.spc.limits import compute_limits
from pxlib.spc.phases import segments
from pxlib.spc.signals import apply_rules
from pxlib.spc.summary import limits_used, points_frame, summary_frame

POINTS_COLUMNS = [
    "ward", "x", "y", "n", "cl", "lcl", "ucl", "lcl_2s", "ucl_2s", "phase", "baseline",
    "include", "sigma_signal", "runs_signal", "longest_run", "longest_run_max", "n_crossings",
    "n_crossings_min", "special_cause", "point_type", "mixed_signal", "close_to_limits",
]  # fmt: skip
SUMMARY_COLUMNS = [
    "ward", "phase", "n_points", "n_values", "n_baseline", "cl", "lcl", "ucl", "limits",
    "runs_signal", "longest_run", "longest_run_max", "n_crossings", "n_crossings_min",
    "n_special_cause", "variation_type", "assurance_type", "trial_limits", "warning",
]  # fmt: skip

# ward A: x 1-6, a new phase at x 4; ward B: x 1-7 with a missing value at x 2
DATA = pd.DataFrame(
    {
        "ward": ["A"] * 6 + ["B"] * 7,
        "x": [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 7],
        "y": [2, 4, 6, 10, 10, 10, 1, np.nan, 3, 1, 3, 1, 3],
    }
)


def tables(data=DATA, kind="i", *, target=None, direction=0, **options):
    """points_frame and summary_frame, built through each step as ``chart`` does."""
    notes: list[str] = []
    cols = read_columns(data, "x", "y", None, ["ward"], None, kind, notes)
    sub, xuniq = subgroups(cols, "x", kind, None, True)
    options = {"phases": None, "freeze": None, "exclude": None, "cl": None} | options
    sg = segments(sub, xuniq, cols.labels, ["ward"], multiply=1.0, notes=notes, **options)
    lines = compute_limits(
        kind,
        y=sub["y"],
        y_sum=sub["y_sum"],
        n=sub["n"],
        y_len=sub["y_len"],
        y_sd=sub["y_sd"],
        seg=sg.seg,
        nseg=sg.nseg,
        base=sg.baseline & sg.include,
        cl_fixed=sg.cl_fixed,
        screen_mr=True,
    )
    drawn = {"cl": lines.cl}
    for col in ("lcl", "ucl", "lcl_2s", "ucl_2s"):
        v = getattr(lines, col)
        drawn[col] = np.where(np.isfinite(v), v, np.nan)
    verdict = apply_rules(
        kind,
        ["anhoej"],
        lines.y,
        drawn,
        lines,
        sub["n"],
        sg,
        direction=direction,
        shift=7,
        trend=7,
        centre_line="break",
        screen_mr=True,
        multiply=1.0,
    )
    points = points_frame(["ward"], cols.labels, sub, xuniq, lines.y, drawn, sg, verdict)
    used, runs_note = limits_used(kind, verdict, lines.cl, sg)
    summary, serious = summary_frame(
        kind,
        points,
        ["ward"],
        sg.seg,
        sg.first,
        verdict.stats,
        verdict.code,
        target,
        direction,
        sub,
        notes,
        used,
        runs_note,
    )
    return points, summary, serious


def test_points_have_the_documented_columns_one_row_per_group_and_x():
    points, _, _ = tables()
    assert list(points.columns) == POINTS_COLUMNS
    assert points["ward"].tolist() == ["A"] * 6 + ["B"] * 7
    assert points["x"].tolist() == [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 7]
    np.testing.assert_array_equal(points["y"], DATA["y"])
    assert points["n"].isna().all()  # no denominator


def test_summary_has_the_documented_columns_one_row_per_group_and_phase():
    _, summary, _ = tables(phases={"A": [4]})
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert summary["ward"].tolist() == ["A", "A", "B"]
    assert summary["phase"].tolist() == [1, 2, 1]


def test_summary_counts_points_values_and_baseline():
    points, summary, _ = tables(phases={"A": [4]}, freeze=2)
    # A phase 1: x 1-3; A phase 2: x 4-6; B: 7 points, one missing; baseline = first 2
    # points of each phase, B's second one missing
    assert summary["n_points"].tolist() == [3, 3, 7]
    assert summary["n_values"].tolist() == [3, 3, 6]
    assert summary["n_baseline"].tolist() == [2, 2, 1]
    assert points["baseline"].tolist() == [True, True, False] * 2 + [True, True] + [False] * 5


def test_summary_centre_lines_are_the_baseline_means_of_each_phase():
    _, summary, _ = tables(phases={"A": [4]})
    # A: (2 + 4 + 6)/3 = 4 and (10 + 10 + 10)/3 = 10; B: (1 + 3 + 1 + 3 + 1 + 3)/6 = 2
    assert summary["cl"].tolist() == [4.0, 10.0, 2.0]
    # every baseline value of A's second phase is 10: no spread, no limits
    assert np.isnan(summary["lcl"][1]) and np.isnan(summary["ucl"][1])
    assert "every baseline value is the same" in summary["warning"][1]
    assert summary["limits"].tolist() == ["normal"] * 3


def test_summary_limits_are_those_of_the_phase_points():
    points, summary, _ = tables()
    for ward, row in zip(("A", "B"), summary.itertuples(), strict=True):
        at = points[points["ward"] == ward]
        assert row.lcl == at["lcl"].iloc[-1] and row.ucl == at["ucl"].iloc[-1]
    # B: 1, NaN, 3, 1, 3, 1, 3: the missing value has no range to either neighbour,
    # leaving four ranges of 2: AMR 2, sigma 2/1.128, ucl = 2 + 3 sigma
    assert summary["ucl"][1] == pytest.approx(2 + 3 * 2 / 1.128)


def test_trial_limits_below_13_points_and_none_on_a_run_chart():
    _, summary, serious = tables()
    assert summary["trial_limits"][0].startswith("trial limits: 6 points in this phase")
    assert summary["trial_limits"][1].startswith("trial limits: 7 points in this phase")
    assert serious
    _, run_summary, _ = tables(kind="run")
    assert run_summary["trial_limits"].tolist() == ["", ""]
    assert run_summary["limits"].tolist() == ["", ""]
    assert not run_summary["lcl"].notna().any()


def test_caveats_name_excluded_points_few_useful_points_and_the_notes():
    _, summary, _ = tables(kind="run", exclude={"B": [1, 3, 9]})
    # B: 2 excluded; the exclude value 9 is no x (a note for every phase)
    assert "2 excluded points" in summary["warning"][1]
    assert "excluded" not in summary["warning"][0]
    assert "exclude: 1 value(s) are not x values of the data" in summary["warning"][0]
    # A's run chart: median (6 + 10)/2 = 8 (no point on it): 6 useful points, fewer than 10
    assert summary["warning"][0].startswith(
        "only 6 useful points: too few for the run rules to be reliable"
    )


def test_a_phase_without_values_says_so():
    data = pd.DataFrame({"ward": ["A", "A", "B"], "x": [1, 2, 1], "y": [np.nan, np.nan, 1.0]})
    _, summary, _ = tables(data, kind="run")
    assert summary["n_values"].tolist() == [0, 1]
    assert "no values in this phase" in summary["warning"][0]
    assert summary["variation_type"][0] == ""


def test_absent_periods_are_counted_as_gaps():
    data = pd.DataFrame(
        {
            "ward": ["A"] * 4,
            "x": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-22", "2024-01-29"]),
            "y": [1.0, 2.0, 3.0, 4.0],
        }
    )
    points, summary, _ = tables(data, kind="run")
    assert len(points) == 5  # 15 January inserted
    assert summary["n_points"].tolist() == [5] and summary["n_values"].tolist() == [4]
    assert "1 absent period is shown as a gap" in summary["warning"][0]


def test_special_cause_count_and_variation_type_of_the_last_value():
    # A: 12 points around 5 then one far above: outside the limits, the last value
    y = [5, 6, 5, 4, 5, 6, 5, 4, 5, 6, 5, 4, 40]
    data = pd.DataFrame({"ward": ["A"] * 13, "x": range(13), "y": y})
    points, summary, _ = tables(data, freeze=12)
    assert points["sigma_signal"].tolist() == [False] * 12 + [True]
    assert summary["n_special_cause"].tolist() == [1]
    assert summary["variation_type"].tolist() == ["special_cause_neutral_high"]
    _, up, _ = tables(data, freeze=12, direction=1)
    assert up["variation_type"].tolist() == ["special_cause_improvement"]


def test_assurance_from_the_target_and_the_limits():
    y = [5, 6, 5, 4, 5, 6, 5, 4, 5, 6, 5, 4, 5]
    data = pd.DataFrame({"ward": ["A"] * 13, "x": range(13), "y": y})
    # cl 5; limits about 5 +/- 3 * AMR/1.128 with AMR 1: about 2.3 to 7.7
    _, s, _ = tables(data, target=20.0, direction=1)
    assert s["assurance_type"].tolist() == ["consistent_fail"]  # higher is better, far above
    _, s, _ = tables(data, target=20.0, direction=-1)
    assert s["assurance_type"].tolist() == ["consistent_pass"]
    _, s, _ = tables(data, target=5.0, direction=1)
    assert s["assurance_type"].tolist() == ["inconsistent"]
    _, s, _ = tables(data, target=5.0, direction=0)
    assert s["assurance_type"].tolist() == [""]


def test_a_long_quiet_series_carries_no_serious_caveat():
    y = [5, 6, 5, 4, 5, 6, 5, 4, 5, 6, 5, 4, 5, 6]
    data = pd.DataFrame({"ward": ["A"] * 14, "x": range(14), "y": y})
    _, summary, serious = tables(data)
    assert summary["warning"].tolist() == [""]
    assert summary["trial_limits"].tolist() == [""]
    assert not serious


def test_the_runs_statistics_of_every_point_are_those_of_its_phase():
    points, summary, _ = tables(phases={"A": [4]})
    cols = ["runs_signal", "longest_run", "longest_run_max", "n_crossings", "n_crossings_min"]
    per_phase = points.groupby(["ward", "phase"], sort=True)[cols].first().reset_index()
    pd.testing.assert_frame_equal(per_phase[cols], summary[cols])
    # B: sides of 2 for 1, 3, 1, 3, 1, 3: 6 useful points alternating: 5 crossings,
    # longest run 1
    assert summary["n_crossings"].tolist()[2] == 5
    assert summary["longest_run"].tolist()[2] == 1


def test_runs_rules_off_reads_the_note_of_a_phase_at_the_boundary_and_nothing_else():
    from pxlib.spc import chart
    from pxlib.spc.summary import runs_rules_off

    at_top = np.full(30, 15)
    at_top[[3, 9, 20]] = 14  # 27 of 30 weeks at 100 %: exact limits leave the run rules out
    spread = np.where(np.arange(30) % 2, 10, 9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        top, mid = (
            chart(
                pd.DataFrame({"w": range(30), "y": y, "n": 15}),
                "w",
                "y",
                "n",
                kind="p",
                limits="exact",
            )  # fmt: skip
            for y in (at_top, spread)
        )
    assert runs_rules_off(str(top.summary["warning"].iloc[0]))
    assert not runs_rules_off(str(mid.summary["warning"].iloc[0]))
    assert not runs_rules_off("")
