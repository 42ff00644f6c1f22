"""Storyboards: every part of the journey on the page, data escaped, no script, offline."""

from __future__ import annotations

import warnings

import pytest

from pxlib.data import load_data_dir
from pxlib.data.sample import write_sample
from pxlib.workbook import steps, storyboard


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("story")
    write_sample(folder)
    diagram = folder / "driver_diagram.csv"
    diagram.write_text(
        diagram.read_text().replace("Prompt card for teach-back", "<script>alert(1)</script>")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_data_dir(folder, "ZA1", as_of="2026-12-01")
        rel = steps.reliability(data, target=0.95, min_respondents=10)
        paths = storyboard.write_storyboards(
            data, rel, folder / "out", "ZA1", organisation="Org (synthetic)", min_respondents=10
        )
    return {p.name: p.read_text() for p in paths}


def test_a_unit_page_has_every_part_of_the_journey(pages):
    page = pages["ZA1_ash-ward_storyboard.html"]
    for heading in ("Aim", "Team and co-design", "Driver diagram", "Chart", "Status",
                    "Does it reach every group?", "Will it last?", "Next steps"):  # fmt: skip
        assert f"<h2>{heading}</h2>" in page
    assert "I will always know what will happen" in page  # the vision from team.csv
    assert "measured" in page and "ZA1-3" in page  # the Study step and the cycles
    assert "<svg" in page and "<script" not in page.replace("&lt;script", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_unit_without_journey_files_says_what_to_add(pages):
    page = pages["ZA1_cedar-ward_storyboard.html"]
    assert "No driver diagram" in page or "driver_diagram.csv" in page


def test_the_organisation_page_lists_every_unit_and_the_spread(pages):
    page = pages["ZA1_storyboard.html"]
    for unit in ("Ash Ward", "Beech Ward", "Cedar Ward"):
        assert unit in page
    assert "Spread plan" in page
