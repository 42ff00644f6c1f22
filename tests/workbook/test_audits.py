"""Staff audits charted and read as the survey measures are, on hand-made cases and the planted truth.

The sample plants Ash Ward's teach-back audits (TB1) at 20 % done until week 7,
45 % in weeks 8-11, 62 % in 12-15, 90 % in 16-18 and 93 % from week 19, and
Beech Ward's at 25 % from week 31 and 80 % from week 37
(:data:`pxlib.data.sample_journey.AUDIT_PLAN`).
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DIR

from pxlib.data import load_data_dir
from pxlib.data.journey_schemas import AUDITS
from pxlib.data.sample import FIRST_WEEK
from pxlib.data.sample_journey import AUDIT_PLAN
from pxlib.errors import ChartWarning, DataValidationError
from pxlib.spc import chart
from pxlib.workbook import audits, display, gather, reading, spread, steps


def week_of(n: int) -> pd.Timestamp:
    """The Monday of sample week ``n`` (1-based)."""
    return FIRST_WEEK + pd.Timedelta(weeks=n - 1)


@pytest.fixture(scope="module")
def data():
    return load_data_dir(SAMPLE_DIR, "ZA1", as_of="2026-12-01")


@pytest.fixture(scope="module")
def aud(data):
    return audits.audit_chart(data, target=0.95)


def _fake(rows) -> SimpleNamespace:
    frame = pd.DataFrame(
        rows, columns=["org_code", "unit", "audit_date", "measure_id", "opportunities", "done"]
    )
    frame["audit_date"] = pd.to_datetime(frame["audit_date"])
    frame["week"] = frame["audit_date"] - pd.to_timedelta(frame["audit_date"].dt.day_of_week, "D")
    return SimpleNamespace(audits=frame, pdsa_log=pd.DataFrame())


def test_a_week_pools_its_audits_and_a_week_with_no_opportunity_is_a_gap():
    data = _fake(
        [
            ("ZT1", "Ward A", "2026-01-05", "M1", 4, 3),  # Monday
            ("ZT1", "Ward A", "2026-01-08", "M1", 6, 2),  # Thursday, same week
            ("ZT1", "Ward A", "2026-01-12", "M1", 0, 0),  # no opportunity: left out
            ("ZT1", "Ward A", "2026-01-19", "M1", 10, 10),
        ]
    )
    weekly = audits.audit_weekly(data)
    assert list(weekly.columns) == list(audits.WEEKLY_COLUMNS)
    assert list(weekly["week"]) == [pd.Timestamp("2026-01-05"), pd.Timestamp("2026-01-19")]
    first = weekly.iloc[0]
    assert (first["opportunities"], first["done"], first["share"]) == (10, 5, 0.5)
    assert first["n_respondents"] == first["n"] == first["ess"] == 10
    assert first["y"] == first["n_happened"] == 5
    assert first["ci_low"] < 0.5 < first["ci_high"]
    # Wilson 95 % for 5 of 10 (Wilson 1927): 0.2366 to 0.7634
    assert first["ci_low"] == pytest.approx(0.2366, abs=1e-4)
    assert first["ci_high"] == pytest.approx(0.7634, abs=1e-4)
    assert weekly.iloc[1]["ci_high"] == pytest.approx(1.0)
    assert not weekly["weighted"].any()
    assert audits.measure_label(weekly, "M1") == "M1"  # the file names no measure


def _planted_share(unit: str, week: int) -> float:
    steps_ = AUDIT_PLAN[("ZA1", unit)]
    return [s for w, s in steps_ if w <= week][-1]


def test_the_weekly_shares_find_every_planted_step_within_binomial_error(data):
    weekly = audits.audit_weekly(data)
    weekly["week_no"] = (weekly["week"] - FIRST_WEEK).dt.days // 7 + 1
    for (_, unit), plan in AUDIT_PLAN.items():
        own = weekly[weekly["unit"] == unit]
        bounds = [w for w, _ in plan] + [int(own["week_no"].max()) + 1]
        for (start, share), end in zip(plan, bounds[1:], strict=True):
            seg = own[(own["week_no"] >= start) & (own["week_no"] < end)]
            n = seg["opportunities"].sum()
            pooled = seg["done"].sum() / n
            assert abs(pooled - share) <= 3 * np.sqrt(share * (1 - share) / n), (unit, start)


def test_phases_at_the_planted_steps_have_centre_lines_at_the_planted_shares(data):
    weekly = audits.audit_weekly(data)
    ash = weekly[weekly["unit"] == "Ash Ward"].reset_index(drop=True)
    plan = AUDIT_PLAN[("ZA1", "Ash Ward")]
    with pytest.warns(ChartWarning):  # short phases: trial limits, which this test does not use
        result = chart(
            ash, "week", "y", "n", kind="p", multiply=100, phases=[week_of(w) for w, _ in plan[1:]]
        )
    summary = result.summary.sort_values("phase")
    assert len(summary) == len(plan)
    for row, (_, share) in zip(summary.itertuples(index=False), plan, strict=True):
        n = result.points.loc[result.points["phase"] == row.phase, "n"].sum()
        assert abs(row.cl / 100 - share) <= 3 * np.sqrt(share * (1 - share) / n), row.phase


def test_the_reading_sees_the_improvement_early_and_the_confirmed_phase_at_the_planted_level(
    data, aud
):
    ash = aud.readings.set_index("unit").loc["Ash Ward"]
    assert ash["signal"] == "improvement"
    assert ash["verdict"] == "improving"  # about 93 % done: below the 95 % target
    # the adopted cycle ZA1-3 (ended 2 Jan 2026) starts the confirmed phase in week 19
    assert aud.phases["Ash Ward"] == [week_of(19)]
    n = aud.weekly.loc[
        (aud.weekly["unit"] == "Ash Ward") & (aud.weekly["week"] >= week_of(19)), "n"
    ].sum()
    assert abs(ash["estimate"] / 100 - 0.93) <= 3 * np.sqrt(0.93 * 0.07 / n)
    # the chart marks the improvement from the first weeks of the 35 % step (week 8) ...
    pts = aud.result.points
    better = pts[(pts["unit"] == "Ash Ward") & (pts["point_type"] == "special_cause_improvement")]
    assert better["x"].min() <= week_of(10)
    # ... and a team reading the chart during cycle ZA1-2 (62 %, week 14) is told so
    then = spread.reliability_as_of(aud, data.pdsa_log, week_of(14) + pd.Timedelta(days=6))
    early = then.readings.set_index("unit").loc["Ash Ward"]
    assert early["signal"] == "improvement"
    assert week_of(7) <= pd.Timestamp(early["since"]) <= week_of(14)
    # Beech Ward's step from 25 % to 80 % in week 37 is dated within a few weeks
    beech = aud.readings.set_index("unit").loc["Beech Ward"]
    assert beech["signal"] == "improvement"
    assert abs(pd.Timestamp(beech["since"]) - week_of(37)) <= pd.Timedelta(weeks=3)


def test_the_readings_are_the_survey_measures_own_reading(data, aud):
    assert set(aud.readings["verdict"]) <= set(reading.VERDICTS)
    label = audits.measure_label(aud.weekly, "TB1")
    assert label == "TB1: Teach-back done before discharge"
    _, _, again = steps.read_weekly(
        aud.weekly, data.pdsa_log, target=0.95, y_label=f"{label} (% of opportunities)"
    )
    pd.testing.assert_frame_equal(aud.readings.drop(columns="measure_id"), again)
    assert (aud.readings["measure_id"] == "TB1").all()


def test_the_small_number_rule_is_the_survey_measures_rule(data):
    # every audit week has 18-30 opportunities: a threshold of 25 hides some weeks
    aud = audits.audit_chart(data, min_respondents=25)
    weekly = aud.weekly
    fig, caption = display.spc_view(aud.result, weekly, min_respondents=25, readings=aud.readings)
    _, hidden = display.suppress_points(aud.result, weekly, min_respondents=25)
    assert len(hidden) == int((weekly["n_respondents"] < 25).sum()) > 0
    assert "fewer than 25 answers" in caption.data
    # a threshold above a whole phase's opportunities hides the phase's share in the reading
    big = audits.audit_chart(data, min_respondents=100_000)
    assert big.readings["estimate"].isna().all()
    assert big.readings["reliability"].str.contains("not shown").all()


def test_without_audits_nothing_is_charted_and_the_sentence_names_the_file(data):
    empty = dataclasses.replace(data, audits=data.audits.iloc[0:0])
    assert audits.audit_chart(empty) is None
    assert audits.audit_charts(empty) == {}
    assert list(audits.audit_weekly(empty).columns) == list(audits.WEEKLY_COLUMNS)
    text = gather.missing_file("audits")
    assert "audits.csv" in text
    for column in AUDITS.columns:
        assert column.name in text
    assert "measure_name (optional)" in text
    with pytest.raises(DataValidationError):
        gather.missing_file("responses")


def test_several_measures_are_charted_one_by_one_and_one_must_be_named(data):
    second = data.audits.assign(measure_id="MR1", measure_name="Medicines reconciled")
    both = dataclasses.replace(data, audits=pd.concat([data.audits, second], ignore_index=True))
    charts = audits.audit_charts(both)
    assert list(charts) == ["MR1", "TB1"]
    pd.testing.assert_frame_equal(
        charts["TB1"].readings, audits.audit_chart(data).readings, check_dtype=False
    )
    summary = audits.audit_summary(charts)
    assert set(summary["measure"]) == {
        "MR1: Medicines reconciled",
        "TB1: Teach-back done before discharge",
    }
    assert summary.loc[summary["unit"] == "Ash Ward", "weeks"].tolist() == [52, 52]
    with pytest.raises(DataValidationError, match="MR1"):
        audits.audit_chart(both)
    with pytest.raises(DataValidationError, match="not in audits.csv"):
        audits.audit_chart(both, "XX9")
    assert audits.audit_chart(both, "MR1").readings["measure_id"].eq("MR1").all()


def test_a_hostile_measure_name_is_escaped_in_the_chart_and_its_caption(data):
    hostile = data.audits.assign(measure_name="<img src=x onerror=alert(1)>")
    aud = audits.audit_chart(dataclasses.replace(data, audits=hostile))
    fig, caption = display.spc_view(aud.result, aud.weekly, readings=aud.readings)
    assert "<img" not in fig.to_json()
    assert "<img" not in caption.data
