"""The spread ladder on the planted journey (ZA1: Ash Ward wave 1, Beech Ward wave 2 from week
31, Cedar Ward wave 3 starting after the data) and its rules."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DIR
from hypothesis import given
from hypothesis import strategies as st

from pxlib.data import load_data_dir
from pxlib.data.journey_schemas import SPREAD_PLAN
from pxlib.data.sample import FIRST_WEEK
from pxlib.workbook import audits, spread, steps
from pxlib.workbook.reading import VERDICTS
from pxlib.workbook.sustainability import step_down


@pytest.fixture(scope="module")
def data():
    return load_data_dir(SAMPLE_DIR, "ZA1", as_of="2026-12-01")


@pytest.fixture(scope="module")
def rel(data):
    return steps.reliability(data, target=0.95)


@pytest.fixture(scope="module")
def progress(data, rel):
    return spread.spread_progress(data, rel)


def test_the_planted_spread_is_on_the_right_rungs(progress, rel):
    assert list(progress.columns) == list(spread.PROGRESS_COLUMNS)
    assert list(progress["unit"]) == ["Ash Ward", "Beech Ward", "Cedar Ward"]  # by wave
    status = progress.set_index("unit")["status"]
    assert status.to_dict() == {
        "Ash Ward": "improving",  # about 90 % after the adopted cycle: below the 95 % target
        "Beech Ward": "testing",  # started in week 31, no change in the survey yet
        "Cedar Ward": "not started",  # wave 3 starts after the last week of data
    }
    assert set(progress["status"]) <= set(spread.STATUSES)
    verdicts = rel.readings.set_index("unit")["verdict"]
    assert (progress.set_index("unit")["verdict"] == verdicts.reindex(status.index)).all()
    cedar = progress.set_index("unit").loc["Cedar Ward"]
    assert "19 Oct 2026" in cedar["reason"] and cedar["weeks_since"] == 0
    assert cedar["next_step"] == spread.NOT_STARTED_STEP
    assert "Beech Ward" in spread.spread_text(progress)


def test_each_unit_has_its_own_baseline_pooled_as_the_reading_pools(progress, rel):
    pts, weekly = rel.result.points, rel.weekly
    for row in progress.itertuples(index=False):
        start = pd.Timestamp(row.start_date)
        start -= pd.Timedelta(days=start.day_of_week)
        own = pts[(pts["unit"] == row.unit) & np.isfinite(pts["y"].to_numpy(float))]
        before = own[own["x"] < start]
        assert row.baseline_weeks == len(before)
        if len(before):
            share = (before["y"] / 100 * before["n"]).sum() / before["n"].sum()
            assert row.baseline_share == pytest.approx(share)
            assert row.baseline_low < row.baseline_share < row.baseline_high
        own_w = weekly[weekly["unit"] == row.unit]
        assert row.baseline_n == own_w.loc[own_w["week"] < start, "n_respondents"].sum()
        reading = rel.readings.set_index("unit").loc[row.unit]
        assert row.current_share == pytest.approx(reading["estimate"] / 100)
    ash = progress.set_index("unit").loc["Ash Ward"]
    assert ash["baseline_weeks"] == 7  # weeks 1-7, before the start in week 8
    assert ash["share_since"] > ash["baseline_share"]
    assert ash["cycles_since"] == 3


def test_an_earlier_as_of_day_reads_the_data_known_then(data, rel):
    then = spread.spread_progress(data, rel, as_of="2026-03-01").set_index("unit")
    assert then.loc["Beech Ward", "status"] == "not started"
    assert "30 Mar 2026" in then.loc["Beech Ward", "reason"]
    assert then.loc["Ash Ward", "weeks_since"] < 20
    known = spread.reliability_as_of(rel, data.pdsa_log, "2026-03-01")
    assert (
        then.loc["Ash Ward", "verdict"]
        == known.readings.set_index("unit").loc["Ash Ward", "verdict"]
    )
    # on the latest day with data, the readings are the reports' own
    last = rel.weekly["week"].max() + pd.Timedelta(days=6)
    again = spread.reliability_as_of(rel, data.pdsa_log, last)
    pd.testing.assert_frame_equal(again.readings, rel.readings)


def test_the_audit_measure_climbs_the_ladder_to_sustained(data):
    aud = audits.audit_chart(data, target=0.90)
    progress = spread.spread_progress(data, aud).set_index("unit")
    stepped = step_down(aud).set_index("unit")
    assert aud.readings.set_index("unit").loc["Ash Ward", "verdict"] == "reliable"
    expected = "sustained" if stepped.loc["Ash Ward", "eligible"] else "reliable"
    assert progress.loc["Ash Ward", "status"] == expected
    assert progress.loc["Beech Ward", "status"] == "improving"
    assert np.isnan(progress.loc["Beech Ward", "baseline_share"])  # audited from its start only
    over = spread.reliable_share_over_time(data, aud)
    reliable_now = progress["status"].isin(["reliable", "sustained"]).sum()
    assert over["units_reliable"].iloc[-1] == reliable_now
    assert over["share_reliable"].iloc[-1] == pytest.approx(reliable_now / 3)
    assert over["units_reliable"].iloc[0] == 0
    alt = spread.reliable_share_alt(over)
    assert "33% (1 of 3 units)" in alt


def test_the_programme_line_agrees_with_the_ladder_each_month(data, rel, progress):
    over = spread.reliable_share_over_time(data, rel)
    assert list(over.columns) == list(spread.SHARE_COLUMNS)
    assert over["month"].iloc[0] == pd.Timestamp("2025-10-01")  # Ash Ward's start
    assert over["month"].iloc[-1] == pd.Timestamp("2026-08-01")  # the last week of data
    assert (over["units_planned"] == 3).all()
    assert over["units_started"].is_monotonic_increasing
    assert over["units_started"].iloc[-1] == (progress["status"] != "not started").sum()
    assert (over["share_reliable"] == 0).all()  # no unit is reliable at 95 % in the survey
    march = over[over["month"] == pd.Timestamp("2026-03-01")].iloc[0]
    ladder = spread.spread_progress(data, rel, as_of="2026-03-31")
    assert march["units_started"] == (ladder["status"] != "not started").sum()
    fig = spread.reliable_share_figure(over)
    assert tuple(fig.layout.yaxis.range) == (0, 100)
    assert "0% throughout" in spread.reliable_share_alt(over)


@given(
    started=st.booleans(),
    verdict=st.sampled_from([*VERDICTS, ""]),
    eligible=st.booleans(),
)
def test_the_ladder_derives_from_the_reading_only(started, verdict, eligible):
    status = spread._status(started, verdict, eligible)
    assert status in spread.STATUSES
    assert (status == "not started") == (not started)
    if started:
        assert (status in ("reliable", "sustained")) == (verdict == "reliable")
        assert (status == "sustained") == (verdict == "reliable" and eligible)
        assert (status == "improving") == (verdict == "improving")


def test_small_numbers_are_hidden_in_the_display_copy(progress):
    shown = spread.shown_progress(progress, min_respondents=200)
    ash = shown.set_index("unit").loc["Ash Ward"]  # 119 answers before its start
    assert np.isnan(ash["baseline_share"]) and np.isnan(ash["baseline_n"])
    assert "fewer than 200" in ash["note"] and "baseline" in ash["note"]
    assert not np.isnan(ash["share_since"])  # 700 answers since
    beech = shown.set_index("unit").loc["Beech Ward"]
    assert beech["note"] == "" and beech["baseline_share"] == pytest.approx(
        progress.set_index("unit").loc["Beech Ward", "baseline_share"]
    )


def test_without_a_spread_plan_the_text_names_the_file_and_its_columns(data, rel):
    empty = dataclasses.replace(data, spread_plan=data.spread_plan.iloc[0:0])
    progress = spread.spread_progress(empty, rel)
    assert progress.empty and list(progress.columns) == list(spread.PROGRESS_COLUMNS)
    text = spread.spread_text(progress)
    assert "spread\\_plan\\.csv" in text
    for column in SPREAD_PLAN.columns:
        assert column.name.replace("_", "\\_") in text
    assert spread.reliable_share_over_time(empty, rel).empty
    assert "no line" in spread.reliable_share_alt(spread.reliable_share_over_time(empty, rel))


def test_a_unit_planned_but_never_measured_is_not_started(data, rel):
    extra = pd.DataFrame(
        {
            "org_code": ["ZA1"],
            "unit": ["<b>New Ward</b>"],
            "wave": [4],
            "lead": [""],
            "start_date": [FIRST_WEEK + pd.Timedelta(weeks=40)],
            "adaptations": [""],
        }
    )
    plan = pd.concat([data.spread_plan, extra], ignore_index=True)
    progress = spread.spread_progress(dataclasses.replace(data, spread_plan=plan), rel)
    new = progress.set_index("unit").loc["<b>New Ward</b>"]
    assert new["status"] == "not started" and new["verdict"] == ""
    assert "nothing measured or tested" in new["reason"]
    assert "<b>" not in spread.spread_text(progress)
