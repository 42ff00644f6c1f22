"""The Sustainability Model summary (planted truth: Ash Ward weakest on infrastructure and
senior leadership, means 1.6 and 1.8) and the step-down rule, with property tests."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DIR
from hypothesis import given, settings
from hypothesis import strategies as st

from pxlib.data import load_data_dir
from pxlib.data.journey_schemas import SUSTAINABILITY_FACTORS
from pxlib.errors import ParameterError
from pxlib.workbook import steps
from pxlib.workbook import sustainability as su
from pxlib.workbook.baseline import PhasePlan


@pytest.fixture(scope="module")
def data():
    return load_data_dir(SAMPLE_DIR, "ZA1", as_of="2026-12-01")


@pytest.fixture(scope="module")
def summary(data):
    return su.sustainability_summary(data)


def test_the_ten_factors_are_the_files_choices_in_three_domains():
    assert tuple(f.key for f in su.FACTORS) == SUSTAINABILITY_FACTORS
    domains = [f.domain for f in su.FACTORS]
    assert [domains.count(d) for d in su.DOMAINS] == [4, 4, 2]
    assert len({f.label for f in su.FACTORS}) == 10
    assert all(f.action for f in su.FACTORS)


def test_the_planted_weakest_factors_are_named_with_their_means(summary):
    assert list(summary.columns) == list(su.SUMMARY_COLUMNS)
    assert list(summary["factor"]) == list(SUSTAINABILITY_FACTORS)  # the model's order
    assert (summary["assessors"] == 5).all()
    low = su.weakest(summary)
    assert list(low["factor"]) == ["infrastructure", "senior_leadership"]
    assert low["mean_level"].tolist() == pytest.approx([1.6, 1.8])
    assert low[["min_level", "max_level"]].to_numpy().tolist() == [[1, 2], [1, 2]]
    text = su.sustainability_text(summary)
    assert "Infrastructure for sustainability" in text
    assert "Senior leadership engagement" in text
    assert "mean 1.6 of 4" in text and "mean 1.8 of 4" in text
    total = summary["mean_level"].sum()
    assert f"total {total:.1f} out of 40" in text
    assert "weights" in text  # pxlib does not claim the guide's weights
    assert text.index("Infrastructure") < text.index("Senior leadership")


def test_the_figure_and_its_alt_text(summary):
    fig = su.sustainability_figure(summary)
    bars = [len(t.x) for t in fig.data]
    assert bars == [4, 4, 2]
    assert fig.layout.xaxis.range == (0, 4)
    alt = su.sustainability_alt(summary)
    assert "Infrastructure for sustainability 1.6" in alt
    assert "Weakest: Infrastructure for sustainability and Senior leadership engagement" in alt
    assert su.NOT_WEIGHTED in alt


def test_ties_are_all_named_and_the_latest_assessment_counts(data):
    table = data.sustainability
    older = table.assign(assessed_on=table["assessed_on"] - pd.Timedelta(days=90), level=1)
    both = dataclasses.replace(data, sustainability=pd.concat([older, table], ignore_index=True))
    latest = su.sustainability_summary(both)
    assert latest["mean_level"].tolist() == su.sustainability_summary(data)["mean_level"].tolist()
    flat = dataclasses.replace(data, sustainability=table.assign(level=3))
    assert len(su.weakest(su.sustainability_summary(flat))) == 10


def test_without_an_assessment_the_text_says_which_file_to_add(data):
    empty = dataclasses.replace(data, sustainability=data.sustainability.iloc[0:0])
    summary = su.sustainability_summary(empty)
    assert summary.empty and list(summary.columns) == list(su.SUMMARY_COLUMNS)
    text = su.sustainability_text(summary)
    assert "sustainability\\.csv" in text and "assessor" in text


def test_a_hostile_unit_name_is_escaped(data):
    table = data.sustainability.assign(unit="<script>x</script>")
    text = su.sustainability_text(
        su.sustainability_summary(dataclasses.replace(data, sustainability=table))
    )
    assert "<script>" not in text


# --- the step-down rule ---------------------------------------------------------------------


def test_the_sample_reliable_unit_may_step_down_and_the_others_may_not():
    za3 = load_data_dir(SAMPLE_DIR, "ZA3", as_of="2026-12-01")
    rel = steps.reliability(za3, target=0.95)
    table = su.step_down(rel)
    assert list(table.columns) == list(su.STEP_DOWN_COLUMNS)
    oak = table.set_index("unit").loc["Oak Ward"]
    sustained = steps.sustain(rel)
    held, first, weeks = su.held_weeks(
        sustained.result.points[sustained.result.points["unit"] == "Oak Ward"]
    )
    assert oak["verdict"] == "reliable" and oak["sustain_status"] == "holding"
    assert oak["eligible"] and oak["weeks_held"] == held >= 12
    assert oak["eligible_from"] == weeks[11] and oak["weeks_needed"] == 0
    assert "May step down" in oak["advice"]
    others = table[table["unit"] != "Oak Ward"]
    assert not others["eligible"].any() and others["weeks_needed"].isna().all()
    # the same from the sustain charts themselves, and a longer rule not yet met
    assert su.step_down(sustained).set_index("unit").loc["Oak Ward", "eligible"]
    longer = su.step_down(sustained, reliable_weeks=held + 5).iloc[0]
    assert not longer["eligible"] and longer["weeks_needed"] == 5
    assert "5 more weeks" in longer["advice"]


def test_the_rule_is_stated_once_with_its_number_and_checked():
    assert "12 consecutive weeks" in su.step_down_rule()
    assert "1 consecutive week " in su.step_down_rule(1)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ParameterError):
            su.step_down(SimpleNamespace(plan=PhasePlan(mode="sustain")), reliable_weeks=bad)


def _sustained(units: list[dict]) -> steps.Reliability:
    """A sustain chart built by hand: per unit its frozen weeks, later weeks and reading."""
    frames, readings, freeze = [], [], {}
    for i, u in enumerate(units):
        n_base, after = u["frozen"], u["after"]
        kinds = ["common_cause"] * n_base + [k for k in after]
        y = [95.0] * n_base + [np.nan if k == "gap" else 95.0 for k in after]
        frames.append(
            pd.DataFrame(
                {
                    "unit": f"U{i}",
                    "x": pd.date_range("2026-01-05", periods=len(kinds), freq="7D"),
                    "y": y,
                    "baseline": [True] * n_base + [False] * len(after),
                    "point_type": ["common_cause" if k == "gap" else k for k in kinds],
                }
            )
        )
        freeze[f"U{i}"] = n_base + u["frozen_left"]
        readings.append(
            {"unit": f"U{i}", "signal": u["signal"], "verdict": "reliable", "evidence": ""}
        )
    return steps.Reliability(
        weekly=pd.DataFrame(),
        plan=PhasePlan(mode="sustain", freeze=freeze),
        result=SimpleNamespace(points=pd.concat(frames, ignore_index=True)),
        readings=pd.DataFrame(readings),
    )


UNIT = st.fixed_dictionaries(
    {
        "frozen": st.integers(0, 6),
        "frozen_left": st.integers(0, 3),
        "after": st.lists(
            st.sampled_from(["common_cause", "special_cause_concern", "gap"]), max_size=30
        ),
        "signal": st.sampled_from(["none", "improvement", "concern"]),
    }
)


@settings(max_examples=150, deadline=None)
@given(units=st.lists(UNIT, min_size=1, max_size=4), n=st.integers(1, 20))
def test_a_unit_is_eligible_only_after_n_consecutive_weeks_held(units, n):
    table = su.step_down(_sustained(units), reliable_weeks=n).set_index("unit")
    for i, u in enumerate(units):
        row = table.loc[f"U{i}"]
        valued_after = [k for k in u["after"] if k != "gap"]
        tail = []
        for k in reversed(valued_after):
            if k == "special_cause_concern":
                break
            tail.append(k)
        assert row["weeks_held"] == len(tail)
        if len(valued_after) < n or row["weeks_held"] < n:
            assert not row["eligible"]  # fewer than N weeks held: never eligible
        if u["signal"] == "concern":
            assert not row["eligible"] and row["sustain_status"] == "deteriorating"
            assert np.isnan(row["weeks_needed"])
        else:
            assert row["eligible"] == (len(tail) >= n)
            assert (row["weeks_needed"] == 0) == bool(row["eligible"])
            if not row["eligible"]:
                assert row["weeks_needed"] == n - len(tail) + u["frozen_left"]
        if row["eligible"]:
            # the week the hold reached N: the N-th valued week after the last concern
            dates = pd.date_range("2026-01-05", periods=u["frozen"] + len(u["after"]), freq="7D")
            after = list(zip(dates[u["frozen"] :], u["after"], strict=True))
            concern = [j for j, (_, k) in enumerate(after) if k == "special_cause_concern"]
            held = [d for d, k in after[(concern[-1] + 1 if concern else 0) :] if k != "gap"]
            assert row["eligible_from"] == held[n - 1]
