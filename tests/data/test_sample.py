"""The synthetic sample: deterministic, committed as generated, and its planted
ground truth visible in the data (checked with plain pandas, not with pxlib's statistics)."""

from __future__ import annotations

import filecmp

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DIR

from pxlib.data import load_data_dir
from pxlib.data.sample import DEFAULT_SEED, FIRST_WEEK, write_sample


def _sample_dir():
    return SAMPLE_DIR


def test_same_seed_gives_byte_identical_files_and_matches_committed(tmp_path):
    first = write_sample(tmp_path / "a", seed=DEFAULT_SEED)
    write_sample(tmp_path / "b", seed=DEFAULT_SEED)
    for path in first:
        assert filecmp.cmp(path, tmp_path / "b" / path.name, shallow=False), path.name
        assert filecmp.cmp(path, _sample_dir() / path.name, shallow=False), (
            f"data/sample/{path.name} differs from what `pxlib sample` generates"
        )
    write_sample(tmp_path / "c", seed=DEFAULT_SEED + 1)
    assert not filecmp.cmp(
        tmp_path / "a" / "responses.csv", tmp_path / "c" / "responses.csv", shallow=False
    )


def test_sample_is_labelled_synthetic_with_fictional_codes():
    data = load_data_dir(_sample_dir())
    assert data.rejected.empty
    assert data.organisations["org_code"].str.startswith("Z").all()
    assert (data.organisations["org_type"] == "trust").sum() == 6
    assert data.organisations["org_name"].str.contains("synthetic").all()
    assert "SYNTHETIC" in (_sample_dir() / "README.md").read_text()
    assert data.units.groupby("org_code").size().between(2, 5).all()
    practices = data.organisations[data.organisations["org_type"] == "gp_practice"]
    assert practices["org_code"].str.fullmatch(r"Z\d{5}").all()


@pytest.fixture(scope="module")
def outcome():
    data = load_data_dir(_sample_dir())
    scored = data.scored("outcome")
    scored["week_no"] = (scored["week"] - FIRST_WEEK).dt.days // 7 + 1
    return data, scored


def unit_rows(scored, org, unit):
    return scored[(scored["org_code"] == org) & (scored["unit"] == unit)]


def test_52_weeks_with_realistic_counts_and_gaps(outcome):
    _, scored = outcome
    assert scored["week_no"].between(1, 52).all() and scored["week_no"].nunique() == 52
    counts = scored.groupby(["org_code", "unit", "week_no"]).size()
    big = counts.drop(index="Birch Unit", level="unit")
    assert big.between(10, 25).all()
    per_unit_weeks = counts.groupby(["org_code", "unit"]).size()
    assert (per_unit_weeks < 52).any(), "some units must have missing weeks"
    fir = unit_rows(scored, "ZA2", "Fir Ward")["week_no"]
    assert not fir.isin([31, 32, 33]).any()


@pytest.mark.parametrize(
    ("org", "unit", "change", "direction"),
    [
        ("ZA1", "Ash Ward", 19, 1),
        ("ZA4", "Larch Ward", 27, 1),
        ("ZA5", "Willow Ward", 31, 1),
        ("ZA2", "Elm Ward", 33, -1),
    ],
)
def test_planted_shifts_are_visible(outcome, org, unit, change, direction):
    _, scored = outcome
    rows = unit_rows(scored, org, unit)
    before = rows.loc[rows["week_no"] < change, "happened"].mean()
    after = rows.loc[rows["week_no"] >= change, "happened"].mean()
    assert direction * (after - before) > 0.12


def test_reliable_unit_is_above_95_percent(outcome):
    _, scored = outcome
    assert unit_rows(scored, "ZA3", "Oak Ward")["happened"].mean() > 0.95


def test_small_unit_has_weeks_under_publication_thresholds(outcome):
    _, scored = outcome
    weekly = unit_rows(scored, "ZA4", "Birch Unit").groupby("week_no").size()
    assert (weekly < 5).sum() >= 5 and (weekly < 10).mean() > 0.8


def test_respondents_are_older_than_the_eligible_patients_and_weighting_lowers_the_share(outcome):
    # Replaces a check against the trusts' catchment population, the population the
    # sample was weighted to before: a unit's share is planted among its eligible patients.
    data, scored = outcome
    margins = data.margins
    eligible = margins[(margins["describes"] == "eligible") & (margins["variable"] == "age_band")]
    catchment = margins[(margins["describes"] == "catchment") & (margins["variable"] == "age_band")]
    assert len(eligible) and len(catchment)
    eligible_share = eligible.groupby("level")["population"].sum() / eligible["population"].sum()
    catchment_share = catchment.groupby("level")["population"].sum() / catchment["population"].sum()
    respondent_share = scored["age_band"].value_counts(normalize=True)
    assert respondent_share["75+"] > eligible_share["75+"] + 0.05
    assert respondent_share["16-34"] < 0.7 * eligible_share["16-34"]
    assert eligible_share["75+"] > catchment_share["75+"] + 0.05  # patients are older than the area
    # post-stratified by age by hand, unit by unit: each unit's eligible share x the age band's mean
    by_unit = scored.groupby(["org_code", "unit", "age_band"])["happened"].mean()
    elig = eligible.set_index(["org_code", "unit", "level"])["population"]
    elig = elig / elig.groupby(level=["org_code", "unit"]).transform("sum")
    elig.index = elig.index.set_names("age_band", level="level")
    weighted = (by_unit * elig).groupby(level=["org_code", "unit"]).sum()
    unweighted = scored.groupby(["org_code", "unit"])["happened"].mean()
    gap = unweighted - weighted.reindex(unweighted.index)
    assert 0.02 < gap.mean() < 0.06


def test_margins_describe_each_units_eligible_patients_and_each_trusts_catchment(outcome):
    data, _ = outcome
    m = data.margins
    eligible = m[m["describes"] == "eligible"]
    units = set(map(tuple, data.units[["org_code", "unit"]].to_numpy()))
    assert set(map(tuple, eligible[["org_code", "unit"]].to_numpy())) == units
    assert set(eligible["variable"]) == {"age_band", "sex"}
    per_unit = eligible[eligible["variable"] == "age_band"].groupby(["org_code", "unit"])[
        "population"
    ]
    assert per_unit.sum().between(300, 6000).all()  # a few hundred to a few thousand a year
    catchment = m[m["describes"] == "catchment"]
    assert catchment["unit"].isna().all()
    assert set(catchment["org_code"]) == set(data.units["org_code"])


def test_sensitive_comments_are_planted_in_the_file_and_redacted_when_loaded(outcome):
    data, _ = outcome
    raw = pd.read_csv(_sample_dir() / "responses.csv", dtype=str, keep_default_na=False)["comment"]
    loaded = " ".join(data.responses["comment"].dropna())
    for needle in (
        "07700 900461",
        "943 476 5919",
        "jo.patient@example.com",
        "Nurse Okonjo",
        "Dr Castellano",
    ):
        assert raw.str.contains(needle, regex=False).any(), needle
        assert needle not in loaded, needle
    for placeholder in ("[phone]", "[nhs number]", "[email]", "Nurse [name]", "Dr [name]"):
        assert placeholder in loaded


def test_national_extracts(outcome):
    data, _ = outcome
    assert data.fft["period"].nunique() == 24
    assert np.allclose(data.fft["pct_positive"].dropna(), data.fft["Prop_Pos"].dropna(), atol=5e-5)
    assert data.gpps["q28_12pct_suppressed"].sum() == 1
    assert pd.Series(data.pdsa_log["decision"]).isin(["adopt", "adapt", "abandon", None]).all()
