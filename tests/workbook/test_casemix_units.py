"""The case-mix funnel of notebook 01, on a simulation with planted truths: a ward whose
patients are older (and older patients answer less often that it happened) is within its
expected range once adjusted; a ward planted worse is below it; a ward of 6 answers is left
off by the small-number rule and named."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest

from pxlib.workbook import casemix_units


def _simulated(seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    # (ward, answers, share aged 75+, planted effect on the logit)
    for ward, n, old, effect in (
        ("Elm Ward", 1500, 0.8, 0.0),
        ("Fir Ward", 1500, 0.2, 0.0),
        ("Gum Ward", 400, 0.5, -1.0),
        ("Tiny Ward", 6, 0.5, 0.0),
    ):
        aged = rng.random(n) < old
        logit = 2.0 - 1.5 * aged + effect
        happened = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
        rows.append(
            pd.DataFrame(
                {
                    "unit": ward,
                    "happened": happened,
                    "age_band": np.where(aged, "75+", "35-54"),
                    "sex": rng.choice(["female", "male"], n),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


@pytest.fixture()
def section(monkeypatch):
    monkeypatch.setattr(casemix_units, "_respondents", lambda data: _simulated())
    return casemix_units.casemix_section(object(), min_respondents=10)


def test_case_mix_alone_is_within_range_and_the_planted_ward_is_below(section):
    readings = dict(zip(section.data["unit"], section.data["reading"], strict=True))
    assert readings["Elm Ward"] == "within expected range"
    assert readings["Fir Ward"] == "within expected range"
    assert readings["Gum Ward"] == "below expected range"
    # Elm's raw share is well below Fir's: only its older patients explain it
    data = section.data.set_index("unit")
    assert data.loc["Elm Ward", "observed_rate"] < data.loc["Fir Ward", "observed_rate"] - 0.1
    assert "Gum Ward" in section.text
    assert "below the 99.8 % expected range: Gum Ward" in section.alt
    assert "adjusted for age band, sex" in section.alt


def test_small_wards_are_left_off_and_named(section):
    assert "Tiny Ward" not in set(section.data["unit"])
    assert "Tiny Ward" not in set(section.table["Unit"])
    assert "Not shown (fewer than 10 answers): Tiny Ward" in section.text
    names = [html.unescape(t.name) for t in section.figure.data]
    assert "Organisation's rate" in names and "National rate" not in names
    labels = [x for t in section.figure.data for x in (t.text or ())]
    assert "Tiny Ward" not in labels


def test_one_unit_gives_a_sentence_not_a_funnel(monkeypatch):
    one = _simulated()
    monkeypatch.setattr(casemix_units, "_respondents", lambda data: one[one["unit"] == "Elm Ward"])
    s = casemix_units.casemix_section(object())
    assert not s.available and s.figure is None and "at least two units" in s.text
