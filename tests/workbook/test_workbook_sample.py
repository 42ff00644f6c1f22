"""The workbook's steps on the synthetic sample: they must find the planted ground truth.

data/sample/README.md plants: improving units (ZA1 Ash Ward, ZA4 Larch Ward, ZA5
Willow Ward, each after an adopted PDSA cycle), a deteriorating unit (ZA2 Elm
Ward), a stable reliable unit above 95 % (ZA3 Oak Ward), a small unit (ZA4 Birch
Unit, 2-9 respondents a week), a weighted share lower than the unweighted one,
and comments with personal details that must never reach a report.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SAMPLE_DIR

from pxlib.data import load_data_dir
from pxlib.workbook import display, steps, themes, workshop

PLANTED_PII = ("07700 900461", "943 476 5919", "jo.patient@example.com", "Okonjo", "Castellano")
IMPROVING = {"ZA1": "Ash Ward", "ZA4": "Larch Ward", "ZA5": "Willow Ward"}
STABLE_BELOW_95 = {
    "ZA1": ["Beech Ward", "Cedar Ward"],
    "ZA2": ["Fir Ward"],
    "ZA4": ["Birch Unit"],
    "ZA3": ["Pine Ward", "Rowan Clinic", "Holly Ward"],
    "ZA5": ["Maple Ward", "Yew Ward", "Hazel Ward", "Day Surgery"],
    "ZA6": ["Aspen Team", "Linden Team"],
}


@pytest.fixture(scope="module")
def loaded():
    return {t: load_data_dir(SAMPLE_DIR, t) for t in ("ZA1", "ZA2", "ZA3", "ZA4", "ZA5", "ZA6")}


@pytest.fixture(scope="module")
def verdicts(loaded):
    return {t: steps.reliability(d, target=0.95) for t, d in loaded.items()}


def test_planted_verdicts(verdicts):
    for trust, unit in IMPROVING.items():
        v = verdicts[trust].verdicts.set_index("unit")
        assert v.loc[unit, "verdict"] == "improving", (trust, unit, v.loc[unit, "reason"])
        assert v.loc[unit, "variation_type"] == "special_cause_improvement"
    oak = verdicts["ZA3"].verdicts.set_index("unit").loc["Oak Ward"]
    assert oak["verdict"] == "reliable", oak["reason"]
    assert oak["variation_type"] == "common_cause"
    elm = verdicts["ZA2"].verdicts.set_index("unit").loc["Elm Ward"]
    assert elm["verdict"] == "deteriorating", elm["reason"]
    assert elm["variation_type"] == "special_cause_concern"
    # since when: the planted drop is week 33, Monday 13 April 2026
    assert abs(pd.Timestamp(elm["since"]) - pd.Timestamp("2026-04-13")) <= pd.Timedelta(weeks=3)
    assert "since about" in elm["evidence"]
    for trust, units in STABLE_BELOW_95.items():
        v = verdicts[trust].verdicts.set_index("unit")
        for unit in units:
            assert v.loc[unit, "verdict"] == "not yet reliable", (
                trust,
                unit,
                v.loc[unit, "reason"],
            )
            assert v.loc[unit, "variation_type"] == "common_cause", (unit, v.loc[unit, "reason"])


def test_phases_start_after_adopted_cycles(verdicts):
    # ZA1-3 (adopted) ends Friday 2 January 2026: the new phase starts Monday 5 January, the
    # planted change of week 19; abandoned and adapted cycles start nothing
    assert verdicts["ZA1"].phases == {"Ash Ward": [pd.Timestamp("2026-01-05")]}
    assert verdicts["ZA4"].phases == {"Larch Ward": [pd.Timestamp("2026-03-02")]}
    assert verdicts["ZA5"].phases == {"Willow Ward": [pd.Timestamp("2026-03-30")]}
    assert verdicts["ZA6"].phases == {}


def test_weighted_share_is_lower_than_unweighted(loaded):
    both = workshop.weighted_vs_unweighted(loaded["ZA1"]).set_index("estimate")["share"]
    assert both.iloc[1] < both.iloc[0]


def test_small_unit_weeks_are_suppressed_in_display(verdicts):
    rel = verdicts["ZA4"]
    shown, hidden = display.suppress_points(rel.result, rel.weekly, min_respondents=5)
    small = rel.weekly[(rel.weekly["unit"] == "Birch Unit") & (rel.weekly["n_respondents"] < 5)]
    assert len(small) > 5  # the sample plants 2-9 respondents a week
    assert set(hidden.loc[hidden["unit"] == "Birch Unit", "x"]) == set(small["week"])
    birch = shown.points[shown.points["unit"] == "Birch Unit"].set_index("x")
    assert birch.loc[list(small["week"]), "y"].isna().all()
    records = steps.results_records(rel.verdicts, weekly=rel.weekly, min_respondents=5)
    latest = rel.weekly[rel.weekly["unit"] == "Birch Unit"].sort_values("week").iloc[-1]
    birch_rec = next(r for r in records if r["unit"] == "Birch Unit")
    if latest["n_respondents"] < 5:
        assert birch_rec["latest_value"] is None and birch_rec["n_respondents"] is None
    else:
        assert birch_rec["n_respondents"] == latest["n_respondents"]
    assert {"unit", "latest_value", "verdict", "variation_type", "assurance_type"} <= set(birch_rec)


def test_default_unit_is_where_the_team_tests_changes(loaded):
    # the unit with most PDSA cycles in the log (ZA1: Ash Ward has three)
    assert steps.default_unit(loaded["ZA1"]) == "Ash Ward"
    assert steps.default_unit(loaded["ZA4"]) == "Larch Ward"


def test_sustain_chart_for_the_reliable_unit(verdicts):
    rel = verdicts["ZA3"]
    sustained = steps.sustain(rel, freeze_weeks=20)
    assert sustained is not None
    pts = sustained.result.points
    assert set(pts["unit"]) == {"Oak Ward"}
    # only the reliable phase is kept, and its first 20 weeks form the baseline
    starts = rel.phases.get("Oak Ward")
    if starts:
        assert pts["x"].min() >= starts[-1]
    assert pts["baseline"].sum() <= 20
    status = steps.sustain_status(sustained)
    assert status["status"].iloc[0] in ("holding", "deteriorating")
    # the status is the sustain chart's own reading
    reading = sustained.readings.set_index("unit").loc["Oak Ward"]
    assert (status["status"].iloc[0] == "deteriorating") == (
        reading["signal"] in ("concern", "both")
    )
    assert steps.sustain(verdicts["ZA1"]) is None  # no reliable unit in ZA1


def test_funnel_of_latest_quarter_flags_oak_ward_high(loaded):
    result, table, label = steps.quarter_funnel(loaded["ZA3"])
    assert label == "2026Q3"
    pts = result.points.set_index("unit")
    assert pts.loc["Oak Ward", "signal"] and pts.loc["Oak Ward", "y"] > pts.loc["Oak Ward", "cl"]


def test_adoption_table(loaded, verdicts):
    t = steps.adoption_table(loaded["ZA1"], verdicts["ZA1"]).set_index("unit")
    assert t.loc["Ash Ward", "adopted"] == "yes"
    assert t.loc["Ash Ward", "cycle"] == "ZA1-3"
    assert t.loc["Ash Ward", "since"] == pd.Timestamp("2026-01-05")
    assert t.loc["Beech Ward", "adopted"] == "no"
    # planted 90 % after the change, before weighting pulls it down: clearly above the old 66 %
    assert 0.7 < t.loc["Ash Ward", "share_since"] < 0.95


def test_comments_shown_are_redacted(loaded):
    for trust in ("ZA1", "ZA3"):
        comments = themes.comments_per_respondent(loaded[trust].responses)
        text = " ".join(comments["comment"])
        assert not any(s in text for s in PLANTED_PII)
        examples = themes.theme_examples(comments, per_theme=50)
        assert not any(s in " ".join(examples["example"]) for s in PLANTED_PII)


def test_gpps_suppressed_practice_has_no_figures(loaded):
    gp = steps.gpps_for(loaded["ZA1"]).set_index("practice_code")
    assert bool(gp.loc["Z80003", "suppressed"])
    assert pd.isna(gp.loc["Z80003", "share"]) and pd.isna(gp.loc["Z80003", "ci_low"])


def test_sample_verdicts_known_answers(sample_dir):
    lines = workshop.sample_verdicts(sample_dir, [("ZA1", "Ash Ward"), ("ZA3", "Oak Ward")])
    assert lines == ["ZA1 Ash Ward: improving", "ZA3 Oak Ward: reliable"]


def test_nothing_resting_on_fewer_than_10_answers_is_shown(verdicts):
    """One small-number rule (pxlib.disclosure, 10 by default): Birch Unit's weeks of 2-9
    answers are gaps on the chart people see and absent from the batch records."""
    rel = verdicts["ZA4"]
    shown, hidden = display.suppress_points(rel.result, rel.weekly)
    birch = shown.points[shown.points["unit"] == "Birch Unit"].merge(
        rel.weekly[["unit", "week", "n_respondents"]].rename(columns={"week": "x"}),
        on=["unit", "x"],
    )
    small = birch["n_respondents"].between(1, 9)
    assert small.sum() > 20  # the planted small unit
    assert birch.loc[small, "y"].isna().all()
    assert birch.loc[~small, "y"].notna().all()
    for rec in steps.results_records(rel.readings, weekly=rel.weekly):
        assert rec["n_respondents"] is None or rec["n_respondents"] >= 10
        assert (rec["latest_value"] is None) == (rec["n_respondents"] is None)
