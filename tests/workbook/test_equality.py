"""Equality: the change per patient group, its interval and reading, against hand-worked
figures and a planted truth (an improvement that does not reach men)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from pxlib.data import load_data_dir
from pxlib.data.sample import FIRST_WEEK, write_sample
from pxlib.disclosure import small_numbers
from pxlib.workbook import equality, steps

Z = 1.959963984540054


def row(n_before, share_before, half_before, n_since, share_since, half_since):
    return {
        "unit": "U",
        "attribute": "Sex",
        "level": "x",
        "n_before": n_before,
        "share_before": share_before,
        "ci_low_before": share_before - half_before,
        "ci_high_before": share_before + half_before,
        "n_since": n_since,
        "share_since": share_since,
        "ci_low": share_since - half_since,
        "ci_high": share_since + half_since,
        "compared": True,
    }


def test_change_interval_and_reading_by_hand():
    table = pd.DataFrame(
        [
            row(100, 0.60, 0.098, 100, 0.80, 0.0784),  # se 0.05 and 0.04
            row(100, 0.60, 0.098, 100, 0.65, 0.0784),
            row(100, 0.80, 0.0784, 100, 0.60, 0.098),
            row(100, 0.60, 0.098, 6, 0.90, 0.1),
        ]
    )
    out = equality._read(table, small_numbers(10))
    half = Z * np.hypot(0.098 / Z, 0.0784 / Z)  # = 1.96 * sqrt(0.05² + 0.04²) = 0.1255
    assert out["change"].iloc[0] == pytest.approx(0.20)
    assert out["change_low"].iloc[0] == pytest.approx(0.20 - half)
    assert out["reading"].tolist() == ["reached", "not clearly reached", "worse", "too few to tell"]
    assert np.isnan(out["share_since"].iloc[3]) and np.isnan(out["change"].iloc[3])


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The sample with Ash Ward's improvement taken away from men: each man's answer since
    the change is redrawn from the answers of men of his age band before it."""
    folder = tmp_path_factory.mktemp("equality")
    write_sample(folder)
    responses = pd.read_csv(folder / "responses.csv", dtype=str, keep_default_na=False)
    change = FIRST_WEEK + pd.Timedelta(weeks=18)  # week 19, the planted change (README)
    dates = pd.to_datetime(responses["response_date"])
    ash_men = (
        responses["unit"].eq("Ash Ward")
        & responses["sex"].eq("male")
        & responses["question_id"].eq("AE1")
    )
    rng = np.random.default_rng(7)
    for age in responses.loc[ash_men, "age_band"].unique():  # answers stay tied to age
        same = ash_men & responses["age_band"].eq(age)
        before = responses.loc[same & (dates < change), "answer"].to_numpy()
        since = same & (dates >= change)
        responses.loc[since, "answer"] = rng.choice(before, size=int(since.sum()))
    responses.to_csv(folder / "responses.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_data_dir(folder, "ZA1", as_of="2026-12-01")
        rel = steps.reliability(data, target=0.95)
    return data, rel, change


def test_the_improvement_that_does_not_reach_men_is_found(planted):
    data, rel, change = planted
    assert pd.Timestamp(rel.plan.phases["Ash Ward"][-1]) == change
    table = equality.by_group(data, rel, units=["Ash Ward"], min_respondents=10)
    sex = table[table["attribute"] == "Sex"].set_index("level")
    assert sex.loc["female", "reading"] == "reached"
    assert sex.loc["male", "reading"] in ("not clearly reached", "worse")
    sentence = equality.reach_sentence(table, "Ash Ward")
    assert "has not clearly improved for" in sentence and "sex male" in sentence


def test_a_unit_without_a_change_gets_its_lowest_group(planted):
    data, rel, _ = planted
    table = equality.by_group(data, rel, units=["Beech Ward"], min_respondents=10)
    assert not table["compared"].any() and table["share_before"].isna().all()
    lowest = table.dropna(subset=["share_since"]).nsmallest(1, "share_since").iloc[0]
    sentence = equality.reach_sentence(table, "Beech Ward")
    assert sentence.startswith("Beech Ward has no change to compare yet")
    assert str(lowest["level"]) in sentence


def test_small_groups_are_blanked_under_the_one_rule(planted):
    data, rel, _ = planted
    table = equality.by_group(data, rel, units=["Ash Ward"], min_respondents=50)
    few = table[table["n_since"] < 50]
    assert len(few) and few["share_since"].isna().all()
    assert (few["reading"] == "too few to tell").all()
