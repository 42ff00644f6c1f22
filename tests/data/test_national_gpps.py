"""GP Patient Survey practice files in both published layouts (synthetic files built here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pxlib.data.national.gpps import (
    GPPS_COLUMNS,
    SERIES_BREAK_2024,
    SERIES_BREAKS,
    gpps_series,
    read_gpps,
    read_gpps_dir,
    series_break,
)
from pxlib.data.national.sample_surveys import (
    GPPS_SAMPLE_YEARS,
    gpps_file_name,
    sample_practices,
    write_sample_gpps,
)
from pxlib.errors import ColumnError, DataValidationError

WEIGHTED = "GPPS_{year}_Practice_data_(weighted)_(csv)_PUBLIC.csv"


def q_layout(year: int = 2023) -> pd.DataFrame:
    """Three practices in the layout up to 2023: one suppressed (-97), one blank result."""
    geography = (
        {"ICS_Code": ["ZQ1", "ZQ1", "ZQ2"], "ICS_Name": ["I1", "I1", "I2"]}
        if year >= 2022
        else {"STP_Code": ["ZS1", "ZS1", "ZS2"], "STP_Name": ["S1", "S1", "S2"]}
    )
    return pd.DataFrame(
        {
            "Practice_Code": ["Z81001", "Z81002", "Z81003"],
            "Practice_Name": ["One (synthetic)", "Two (synthetic)", "Three (synthetic)"],
            "CCG_Code": ["", "", ""],
            "CCG_Name": ["", "", ""],
            **geography,
            "distributed": [400, 380, 300],
            "received": [150, 140, 8],
            "resprate": [0.375, 0.3684, 0.0267],
            "Q28base": [148, 139, -97],
            "Q28_1pct": [0.41, 0.30, -97],
            "Q28_2pct": [0.39, 0.35, -97],
            "Q28_12": [118, 90, -97],
            "Q28_12pct": [0.8, 0.65, -97],
            "Q28_recoded_1pct": [0.82, "", -97],
            "Q5_merged_1pct": [0.25, 0.2, -97],
            "Q5base": [150, 140, -97],
            "Q18base": [147, 138, -97],
            "Q18_12pct": [0.61, 0.55, -97],
        }
    )


def stem_layout() -> pd.DataFrame:
    """Two practices in the 2024-onwards layout (dotted names)."""
    return pd.DataFrame(
        {
            "ad_practicecode": ["Z81001", "Z81002"],
            "ad_practicename": ["One (synthetic)", "Two (synthetic)"],
            "ad_icscode": ["ZQ1", "ZQ1"],
            "ad_icsname": ["I1", "I1"],
            "ad_icscodeons": ["Z54000001", "Z54000001"],
            "ad_commissioningregioncode": ["ZR1", "ZR1"],
            "ad_commissioningregionname": ["R1", "R1"],
            "ad_pcncode": ["ZU001", "ZU002"],
            "ad_pcnname": ["P1", "P2"],
            "distributed": [400, 380],
            "received": [150, 140],
            "resprate": [0.375, 0.3684],
            "popsize": [5000, 4800],
            "overallexp.pcteval": [0.76, -97],
            "overallexp.baseevalw": [151.25, -97],
            "overallexp_1.pct": [0.4, -97],
            "overallexp_2.pct": [0.36, -97],
            "gpcontactoverall.pcteval": [0.58, 0.49],
            "gpcontactoverall.baseevalw": [149.5, 137.0],
            "dv_ethnicityband_1.pct": [0.8, 0.7],
        }
    )


def write(frame: pd.DataFrame, folder, name: str):
    path = folder / name
    frame.to_csv(path, index=False)
    return path


def row(out: pd.DataFrame, practice: str, item: str) -> pd.Series:
    sel = out[(out["practice_code"] == practice) & (out["item"] == item)]
    assert len(sel) == 1, (practice, item, len(sel))
    return sel.iloc[0]


# --- layout up to 2023 -----------------------------------------------------------------------


def test_layout_up_to_2023_is_read_long_with_stable_keys(tmp_path):
    out = read_gpps(write(q_layout(), tmp_path, WEIGHTED.format(year=2023)))
    assert tuple(out.columns) == GPPS_COLUMNS
    overall = row(out, "Z81001", "overall_experience")
    assert overall["pct"] == 0.8 and overall["base"] == 148
    assert overall["source_column"] == "Q28_12pct" and overall["base_column"] == "Q28base"
    assert overall["year"] == 2023 and overall["series"] == "2018-2023"
    assert overall["weighting"] == "weighted" and overall["icb_code"] == "ZQ1"
    assert pd.isna(overall["pcn_code"]) and overall["practice_name"] == "One (synthetic)"
    assert row(out, "Z81002", "making_appointment")["pct"] == 0.55  # Q18_12pct
    # other items under their published names; counts (Q28_12) and bases are not items
    assert {"Q28_1pct", "Q28_2pct", "Q28_recoded_1pct", "Q5_merged_1pct"} <= set(out["item"])
    assert not {"Q28_12", "Q28base", "Q5base"} & set(out["item"])
    assert row(out, "Z81001", "Q5_merged_1pct")["base"] == 150  # merged bands: the question's base
    assert np.isnan(row(out, "Z81001", "Q28_recoded_1pct")["base"])  # its base is unconfirmed


def test_negative_codes_are_suppressed_with_their_reason_and_blanks_give_no_row(tmp_path):
    out = read_gpps(write(q_layout(), tmp_path, WEIGHTED.format(year=2023)))
    small = out[out["practice_code"] == "Z81003"]
    assert len(small) > 0 and small["suppressed"].all()
    assert small["pct"].isna().all() and small["base"].isna().all()
    assert set(small["suppressed_reason"]) == {"suppressed in the file (-97)"}
    assert out.loc[~out["suppressed"], "suppressed_reason"].isna().all()
    recoded = out[out["item"] == "Q28_recoded_1pct"]
    assert set(recoded["practice_code"]) == {"Z81001", "Z81003"}  # Z81002's cell is blank


def test_any_negative_and_star_are_suppressed(tmp_path):
    frame = q_layout()
    frame["Q28_12pct"] = frame["Q28_12pct"].astype(object)
    frame.loc[0, "Q28_12pct"] = "*"
    frame.loc[1, "Q28_12pct"] = -98
    out = read_gpps(write(frame, tmp_path, WEIGHTED.format(year=2023)))
    reasons = out[out["item"] == "overall_experience"].set_index("practice_code")
    assert reasons["suppressed"].all()
    assert reasons.loc["Z81001", "suppressed_reason"] == "suppressed in the file (*)"
    assert reasons.loc["Z81002", "suppressed_reason"] == "suppressed in the file (-98)"


def test_lower_case_headers_read_the_same(tmp_path):
    upper = read_gpps(write(q_layout(), tmp_path, WEIGHTED.format(year=2023)))
    lower_frame = q_layout().rename(columns=str.lower)
    lower = read_gpps(write(lower_frame, tmp_path, "GPPS_2023_practice_lower.csv"))
    cols = ["practice_code", "pct", "base", "suppressed"]
    pd.testing.assert_frame_equal(
        upper[cols].astype(object), lower[cols].astype(object), check_dtype=False
    )
    # items keep the names as the file spells them; the stable keys do not depend on case
    assert list(lower["item"].astype(str)) == [str(i).lower() for i in upper["item"]]


def test_2021_geography_is_the_stp(tmp_path):
    out = read_gpps(write(q_layout(2021), tmp_path, WEIGHTED.format(year=2021)))
    assert set(out["icb_code"].dropna()) == {"ZS1", "ZS2"}


def test_excel_copy_reads_like_the_csv(tmp_path):
    xlsx = tmp_path / "GPPS_2023_Practice_data.xlsx"
    q_layout().to_excel(xlsx, index=False)
    out = read_gpps(xlsx, weighting="weighted")
    assert row(out, "Z81001", "overall_experience")["pct"] == pytest.approx(0.8)
    assert out.loc[out["practice_code"] == "Z81003", "suppressed"].all()


# --- 2024 onwards ----------------------------------------------------------------------------


def test_layout_from_2024_keeps_dotted_names_and_maps_the_stable_keys(tmp_path):
    out = read_gpps(write(stem_layout(), tmp_path, WEIGHTED.format(year=2024)))
    assert tuple(out.columns) == GPPS_COLUMNS
    overall = row(out, "Z81001", "overall_experience")
    assert overall["pct"] == 0.76 and overall["base"] == 151.25
    assert overall["source_column"] == "overallexp.pcteval"
    assert overall["base_column"] == "overallexp.baseevalw"
    assert overall["series"] == "2024 onwards" and overall["pcn_code"] == "ZU001"
    assert row(out, "Z81002", "making_appointment")["pct"] == 0.49
    option = row(out, "Z81001", "overallexp_1.pct")
    assert option["pct"] == 0.4 and np.isnan(option["base"])  # option bases are unconfirmed
    assert row(out, "Z81002", "dv_ethnicityband_1.pct")["pct"] == 0.7
    assert not any(str(i).endswith("baseevalw") for i in out["item"])
    suppressed = row(out, "Z81002", "overall_experience")
    assert suppressed["suppressed"] and np.isnan(suppressed["pct"])


def test_items_keeps_only_the_asked_items(tmp_path):
    path = write(stem_layout(), tmp_path, WEIGHTED.format(year=2024))
    out = read_gpps(path, items=["overall_experience"])
    assert set(out["item"]) == {"overall_experience"} and len(out) == 2
    with pytest.raises(ColumnError, match="no_such_item"):
        read_gpps(path, items=["no_such_item"])


def test_weighting_comes_from_the_name_or_the_argument(tmp_path):
    frame = stem_layout()
    name = "GPPS_2024_Practice_data_(unweighted)_(csv)_PUBLIC.csv"
    assert set(read_gpps(write(frame, tmp_path, name))["weighting"]) == {"unweighted"}
    plain = write(frame, tmp_path, "GPPS_2024_practices.csv")
    assert set(read_gpps(plain)["weighting"]) == {"unknown"}
    assert set(read_gpps(plain, weighting="weighted")["weighting"]) == {"weighted"}
    with pytest.raises(DataValidationError, match="weighting"):
        read_gpps(plain, weighting="raked")


# --- series --------------------------------------------------------------------------------


def test_series_and_the_break_sentence():
    assert [gpps_series(y) for y in (2017, 2018, 2023, 2024, 2026)] == [
        "up to 2017",
        "2018-2023",
        "2018-2023",
        "2024 onwards",
        "2024 onwards",
    ]
    assert series_break([2022, 2023, 2024]) == SERIES_BREAK_2024
    assert series_break([2024, 2025]) == "" and series_break([]) == ""
    assert series_break([2016, 2025]) == f"{SERIES_BREAKS[2018]} {SERIES_BREAKS[2024]}"
    assert "2024" in SERIES_BREAK_2024 and "not compared" in SERIES_BREAK_2024


# --- failures, by name -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "year", "expected"),
    [
        (q_layout().rename(columns={"Practice_Code": "PracticeCode"}), 2023, "Practice_Code"),
        (
            stem_layout().rename(columns={"ad_practicecode": "practicecode"}),
            2024,
            "ad_practicecode",
        ),
        (stem_layout().drop(columns="ad_icscode"), 2024, "ad_icscode"),
        (stem_layout().drop(columns="ad_pcncode"), 2024, "ad_pcncode"),
        (q_layout().drop(columns=["ICS_Code"]), 2023, "ICS_Code"),
        (q_layout().drop(columns=["Practice_Name"]), 2023, "Practice_Name"),
    ],
)
def test_unknown_layout_or_missing_column_raises_by_name(tmp_path, frame, year, expected):
    path = write(frame, tmp_path, WEIGHTED.format(year=year))
    with pytest.raises(ColumnError, match=expected):
        read_gpps(path)


def test_no_result_columns_raises_by_name(tmp_path):
    frame = stem_layout()[["ad_practicecode", "ad_practicename", "ad_icscode", "ad_pcncode"]]
    with pytest.raises(ColumnError, match="pcteval"):
        read_gpps(write(frame, tmp_path, WEIGHTED.format(year=2024)))


def test_percentages_not_fractions_raise_naming_column_and_row(tmp_path):
    frame = q_layout()
    frame.loc[1, "Q28_12pct"] = 65.0
    with pytest.raises(DataValidationError, match=r"'Q28_12pct' row 3"):
        read_gpps(write(frame, tmp_path, WEIGHTED.format(year=2023)))


def test_text_in_a_value_column_raises_naming_column_and_row(tmp_path):
    frame = stem_layout()
    frame["gpcontactoverall.pcteval"] = frame["gpcontactoverall.pcteval"].astype(object)
    frame.loc[0, "gpcontactoverall.pcteval"] = "n/a"
    with pytest.raises(DataValidationError, match=r"'gpcontactoverall.pcteval' row 2"):
        read_gpps(write(frame, tmp_path, WEIGHTED.format(year=2024)))


def test_year_from_name_or_argument_and_conflicts(tmp_path):
    plain = write(stem_layout(), tmp_path, "practices.csv")
    with pytest.raises(DataValidationError, match="year"):
        read_gpps(plain)
    assert set(read_gpps(plain, year=2025)["year"]) == {2025}
    named = write(stem_layout(), tmp_path, WEIGHTED.format(year=2024))
    with pytest.raises(DataValidationError, match="2024"):
        read_gpps(named, year=2025)


def test_layout_that_does_not_fit_the_year_raises(tmp_path):
    with pytest.raises(DataValidationError, match="2023"):
        read_gpps(write(stem_layout(), tmp_path, WEIGHTED.format(year=2023)))
    with pytest.raises(DataValidationError, match="2024"):
        read_gpps(write(q_layout(), tmp_path, WEIGHTED.format(year=2024)))


def test_repeated_or_blank_practice_codes_and_repeated_columns_raise(tmp_path):
    frame = q_layout()
    frame.loc[2, "Practice_Code"] = "Z81001"
    with pytest.raises(DataValidationError, match=r"repeated 'Practice_Code' in rows 4"):
        read_gpps(write(frame, tmp_path, WEIGHTED.format(year=2023)))
    frame.loc[2, "Practice_Code"] = ""
    with pytest.raises(DataValidationError, match=r"blank 'Practice_Code' in rows 4"):
        read_gpps(write(frame, tmp_path, WEIGHTED.format(year=2023)))
    path = tmp_path / WEIGHTED.format(year=2024)
    text = stem_layout().to_csv(index=False).splitlines()
    text[0] = text[0].replace("dv_ethnicityband_1.pct", "overallexp_1.pct")
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(ColumnError, match="more than once"):
        read_gpps(path)


# --- the synthetic sample -----------------------------------------------------------------


def test_sample_files_read_back_in_both_layouts(tmp_path):
    paths = write_sample_gpps(tmp_path, seed=7)
    assert [p.name for p in paths] == [gpps_file_name(y) for y in GPPS_SAMPLE_YEARS]
    assert "ad_practicecode" in paths[-1].read_text().splitlines()[0]
    assert "Practice_Code" in paths[0].read_text().splitlines()[0]
    out = read_gpps_dir(tmp_path)
    assert tuple(out.columns) == GPPS_COLUMNS
    overall = out[out["item"] == "overall_experience"]
    assert sorted(set(overall["year"])) == list(GPPS_SAMPLE_YEARS)
    practices = sample_practices()
    assert set(out["practice_code"]) == set(practices["org_code"])
    assert all(str(c).startswith("Z") for c in out["practice_code"].unique())
    small = out[out["practice_code"] == practices["org_code"][2]]
    assert small["suppressed"].all()  # the planted small practice: fewer than 10 responses
    assert out.loc[out["practice_code"] != practices["org_code"][2], "suppressed"].sum() == 0
    assert set(out["series"]) == {"2018-2023", "2024 onwards"}
    assert (out["pct"].dropna().between(0, 1)).all()


def test_sample_plants_the_redesign_step_and_a_declining_practice(tmp_path):
    write_sample_gpps(tmp_path)
    out = read_gpps_dir(tmp_path)
    overall = out[out["item"] == "overall_experience"]
    by_year = overall.groupby("year")["pct"].mean()
    assert by_year[2024] > by_year[2023]
    first = overall[overall["practice_code"] == "Z81001"].set_index("year")["pct"]
    assert first[2023] < first[2022] and first[2025] < first[2024]
    # option shares 1 + 2 make the headline result, in both layouts
    wide = out[out["practice_code"] == "Z81002"].pivot(index="year", columns="item", values="pct")
    assert wide.loc[2023, "Q28_1pct"] + wide.loc[2023, "Q28_2pct"] == pytest.approx(
        wide.loc[2023, "overall_experience"], abs=2e-4
    )
    assert wide.loc[2025, "overallexp_1.pct"] + wide.loc[2025, "overallexp_2.pct"] == pytest.approx(
        wide.loc[2025, "overall_experience"], abs=2e-4
    )


def test_sample_is_byte_identical_for_a_seed_and_takes_the_workbook_practices(tmp_path):
    a, b = write_sample_gpps(tmp_path / "a", 3), write_sample_gpps(tmp_path / "b", 3)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    orgs = pd.DataFrame(
        {
            "org_code": ["ZA1", "Z80001", "Z80002"],
            "org_name": ["Trust (synthetic)", "P1 (synthetic)", "P2 (synthetic)"],
            "org_type": ["trust", "gp_practice", "gp_practice"],
            "parent_code": ["ZQ1", "ZQ1", "ZQ1"],
        }
    )
    write_sample_gpps(tmp_path / "c", 3, practices=orgs)
    assert set(read_gpps_dir(tmp_path / "c")["practice_code"]) == {"Z80001", "Z80002"}


def test_a_folder_with_two_files_of_one_year_raises(tmp_path):
    write(stem_layout(), tmp_path, WEIGHTED.format(year=2024))
    write(stem_layout(), tmp_path, "GPPS_2024_Practice_data_(weighted)_copy.csv")
    with pytest.raises(DataValidationError, match="two GPPS practice files for 2024"):
        read_gpps_dir(tmp_path)
    with pytest.raises(DataValidationError, match="no GP Patient Survey practice file"):
        read_gpps_dir(tmp_path, weighting="unweighted")


def test_read_gpps_dir_keeps_only_the_items_asked_for(tmp_path):
    """items= reads one result of every year (Q28_12pct up to 2023, overallexp.pcteval from
    2024), the same rows as reading everything, and gives no rows, not an error, for an item
    no file has."""
    write_sample_gpps(tmp_path, seed=7)
    one = read_gpps_dir(tmp_path, items=["overall_experience"])
    assert set(one["item"].astype(str)) == {"overall_experience"}
    assert sorted(set(one["year"])) == list(GPPS_SAMPLE_YEARS)
    for year, column, code in (
        (2023, "Q28_12pct", "Practice_Code"),
        (2024, "overallexp.pcteval", "ad_practicecode"),
    ):
        raw = pd.read_csv(tmp_path / gpps_file_name(year)).set_index(code)[column]
        got = one[one["year"] == year].set_index(
            one["practice_code"].astype(str)[one["year"] == year]
        )
        shown = raw[raw >= 0]  # -97: suppressed
        assert got.loc[shown.index, "pct"].to_numpy() == pytest.approx(shown.to_numpy())
        assert got.loc[raw[raw < 0].index, "suppressed"].all()
    every = read_gpps_dir(tmp_path)
    assert len(one) == (every["item"].astype(str) == "overall_experience").sum()
    assert read_gpps_dir(tmp_path, items=["no_such_item"]).empty
