"""NCPES, NHS Staff Survey and CQC survey readers (synthetic files built here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pxlib.data.national.cqc import CQC_SCORES_COLUMNS, read_cqc
from pxlib.data.national.ncpes import (
    NCPES_SERIES_BREAKS,
    ncpes_series,
    ncpes_series_break,
    read_ncpes,
)
from pxlib.data.national.sample_surveys import STAFF_SAMPLE_YEARS, write_sample_staff_survey
from pxlib.data.national.staff_survey import (
    PEOPLE_PROMISE_ELEMENTS,
    STAFF_SURVEY_COLUMNS,
    STAFF_SURVEY_THEMES,
    read_staff_survey,
)
from pxlib.errors import ColumnError, DataValidationError

# --- NHS Staff Survey ------------------------------------------------------------------------


def staff_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Year": [2023, 2023, 2023, 2023],
            "Org Code": ["ZA1", "ZA1", "ZA1", "ZA2"],
            "Org Name": ["Trust 1 (synthetic)"] * 3 + ["Trust 2 (synthetic)"],
            "Element": ["we are a TEAM", "Morale", "Compassionate culture", "We work flexibly"],
            "Score": ["7.12", "*", "6.5", "5.9"],
            "Benchmark score": [7.0, 6.1, "", 6.2],
            "Benchmark group": ["Acute (synthetic)"] * 4,
        }
    )


def test_staff_survey_reads_elements_themes_and_sub_scores(tmp_path):
    path = tmp_path / "staff.csv"
    staff_frame().to_csv(path, index=False)
    out = read_staff_survey(path)
    assert tuple(out.columns) == STAFF_SURVEY_COLUMNS
    assert list(out["element"]) == [
        "We are a team",
        "Morale",
        "Compassionate culture",
        "We work flexibly",
    ]
    assert list(out["element_type"]) == [
        "People Promise element",
        "theme",
        "",
        "People Promise element",
    ]
    assert out["score"].tolist()[0] == 7.12 and np.isnan(out["score"][1])
    assert out["suppressed"].tolist() == [False, True, False, False]
    assert out["suppressed_reason"][1] == "suppressed in the file (*)"
    assert np.isnan(out["benchmark_score"][2]) and out["benchmark_score"][0] == 7.0
    assert set(out["series"]) == {"2021 onwards"} and set(out["year"]) == {2023}


def test_staff_survey_failures_name_the_column_and_row(tmp_path):
    path = tmp_path / "staff.csv"
    staff_frame().drop(columns="Element").to_csv(path, index=False)
    with pytest.raises(ColumnError, match="element"):
        read_staff_survey(path)
    frame = staff_frame()
    frame.loc[3, "Score"] = "71"  # a percentage, not a score out of 10
    frame.to_csv(path, index=False)
    with pytest.raises(DataValidationError, match=r"'score' row 5"):
        read_staff_survey(path)
    frame = staff_frame()
    frame["Year"] = 2020
    frame.to_csv(path, index=False)
    with pytest.raises(DataValidationError, match="2021"):
        read_staff_survey(path)
    frame = staff_frame().drop(columns="Year")
    frame.to_csv(path, index=False)
    with pytest.raises(DataValidationError, match="year"):
        read_staff_survey(path)
    assert set(read_staff_survey(path, year=2024)["year"]) == {2024}


def test_staff_survey_sample_covers_every_trust_element_and_year(tmp_path):
    out = read_staff_survey(write_sample_staff_survey(tmp_path, seed=5))
    from pxlib.data.sample import TRUSTS

    assert set(out["org_code"]) == {t.code for t in TRUSTS}
    assert set(out["element"]) == {*PEOPLE_PROMISE_ELEMENTS, *STAFF_SURVEY_THEMES}
    assert sorted(set(out["year"])) == list(STAFF_SAMPLE_YEARS)
    assert out["score"].between(0, 10).all() and out["benchmark_score"].notna().all()
    za2 = out[out["org_code"] == "ZA2"].groupby("year")["score"].mean()
    assert za2.is_monotonic_decreasing  # planted: ZA2's staff scores fall
    assert all(str(n).endswith("(synthetic)") for n in out["org_name"])


# --- NCPES ---------------------------------------------------------------------------------


def ncpes_scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Year": [2023, 2023, 2023, 2023],
            "Level": ["NHS Trust", "ICB", "Cancer Alliance", "England"],
            "Org code": ["ZA1", "ZQ1", "ZC1", "ZE1"],
            "Question": ["Q59"] * 4,
            "Cancer type": ["All", "All", "Breast", "All"],
            "n_respondents": [310, "*", 905, 60000],
            "Unadjusted score": [0.80, 0.70, "", 0.78],
            "Adjusted score": [0.82, "*", 0.50, ""],
            "Expected lower": [0.75, 0.70, 0.60, ""],
            "Expected upper": [0.85, 0.90, 0.90, ""],
        }
    )


def test_ncpes_scores_keep_adjusted_scores_and_ranges_apart(tmp_path):
    path = tmp_path / "ncpes.csv"
    ncpes_scores().to_csv(path, index=False)
    out = read_ncpes(path)
    assert list(out["level"]) == ["trust", "icb", "cancer_alliance", "national"]
    assert out["adjusted_score"][0] == 0.82 and out["unadjusted_score"][0] == 0.80
    assert list(out["reading"].fillna("")) == [
        "within expected range",
        "",
        "below expected range",
        "",
    ]
    assert out["suppressed"].tolist() == [False, True, False, False]
    assert out["suppressed_reason"][1] == "suppressed in the file (*)"
    assert np.isnan(out["n_respondents"][1]) and out["cancer_type"][2] == "Breast"
    assert set(out["series"]) == {"2021 onwards"}


def test_ncpes_percent_scale_and_frequencies(tmp_path):
    path = tmp_path / "ncpes.csv"
    frame = ncpes_scores()
    for col in ("Unadjusted score", "Expected lower", "Expected upper"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce") * 100
    frame["Adjusted score"] = [82, "*", 50, ""]
    frame.to_csv(path, index=False)
    with pytest.raises(DataValidationError, match="above 1"):
        read_ncpes(path)
    assert read_ncpes(path, scale="percent")["adjusted_score"][0] == pytest.approx(0.82)
    freq = pd.DataFrame(
        {
            "year": [2022, 2022],
            "level": ["trust", "trust"],
            "org_code": ["ZA1", "ZA1"],
            "question": ["Q1", "Q1"],
            "option": ["Yes", "No"],
            "count": [200, 50],
            "n_respondents": [250, 250],
            "pct": [0.8, 0.2],
        }
    )
    freq.to_csv(path, index=False)
    out = read_ncpes(path, "frequencies")
    assert list(out["option"]) == ["Yes", "No"] and out["count"].sum() == 250


def test_ncpes_failures_name_the_column(tmp_path):
    path = tmp_path / "ncpes.csv"
    ncpes_scores().drop(columns="Adjusted score").to_csv(path, index=False)
    with pytest.raises(ColumnError, match="adjusted_score"):
        read_ncpes(path)
    frame = ncpes_scores()
    frame.loc[0, "Level"] = "Region"
    frame.to_csv(path, index=False)
    with pytest.raises(DataValidationError, match="'level' in rows 2"):
        read_ncpes(path)
    with pytest.raises(DataValidationError, match="table"):
        read_ncpes(path, "tables")


def test_ncpes_series_breaks():
    assert [ncpes_series(y) for y in (2014, 2015, 2020, 2021)] == [
        "up to 2014",
        "2015-2020",
        "2015-2020",
        "2021 onwards",
    ]
    assert ncpes_series_break([2019, 2022]) == NCPES_SERIES_BREAKS[2021]
    assert ncpes_series_break([2021, 2023]) == ""


# --- CQC -----------------------------------------------------------------------------------


def cqc_book(
    path, scores: pd.DataFrame, respondents=None, names=("Trust_Scores", "Trust_Respondents")
):
    respondents = (
        respondents
        if respondents is not None
        else pd.DataFrame({"TRUSTCODE": ["ZA1", "ZA2"], "AGE_16_35": [30, 20]})
    )
    engine = "odf" if str(path).endswith(".ods") else "openpyxl"
    with pd.ExcelWriter(path, engine=engine) as book:
        scores.to_excel(book, sheet_name=names[0], index=False)
        respondents.to_excel(book, sheet_name=names[1], index=False)
    return path


def cqc_scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "TRUSTCODE": ["ZA1", "ZA2"],
            "TRUSTNAME": ["Trust 1 (synthetic)", "Trust 2 (synthetic)"],
            "N_TPAT": [310, 275],
            "meanq45": [8.1, "*"],
            "meanq1": [7.0, 6.5],
            "region": ["R1", "R1"],
        }
    )


def test_cqc_ods_is_read_with_survey_year_questions_and_respondents(tmp_path):
    path = cqc_book(tmp_path / "20210917 IP20 Trust-level benchmark ODS V1.ods", cqc_scores())
    got = read_cqc(path)
    assert (got.survey, got.year, got.sheets) == ("ip", 2020, ("Trust_Scores", "Trust_Respondents"))
    assert got.survey_name == "Adult Inpatient Survey"
    scores = got.scores
    assert tuple(scores.columns) == CQC_SCORES_COLUMNS
    q45 = scores[scores["question"] == "q45"].set_index("trust_code")
    assert q45.loc["ZA1", "value"] == 8.1 and q45.loc["ZA1", "statistic"] == "mean"
    assert q45.loc["ZA2", "suppressed"] and np.isnan(q45.loc["ZA2", "value"])
    assert q45.loc["ZA1", "n_respondents"] == 310
    assert set(scores["question"]) == {"q45", "q1"}  # 'region' is no question
    assert list(got.respondents.columns) == ["trust_code", "age_16_35"]


def test_cqc_prefixed_sheets_and_t_questions(tmp_path):
    scores = cqc_scores().rename(columns={"meanq45": "meant39", "meanq1": "meant2"})
    path = cqc_book(
        tmp_path / "20210915_uec20_type3_benchmark-data.xlsx",
        scores,
        names=("UEC20_Trust_Scores", "UEC20_Trust_Respondents"),
    )
    got = read_cqc(path)
    assert (got.survey, got.year) == ("uec", 2020)
    assert set(got.scores["question"]) == {"t39", "t2"}


def test_cqc_failures_name_the_sheet_or_column(tmp_path):
    path = cqc_book(
        tmp_path / "IP22 benchmark.ods", cqc_scores(), names=("Scores", "Trust_Respondents")
    )
    with pytest.raises(DataValidationError, match="Trust_Scores"):
        read_cqc(path)
    path = cqc_book(tmp_path / "IP22 benchmark2.ods", cqc_scores().drop(columns="N_TPAT"))
    with pytest.raises(ColumnError, match="n_tpat"):
        read_cqc(path)
    path = cqc_book(
        tmp_path / "IP22 benchmark3.ods", cqc_scores().drop(columns=["meanq45", "meanq1"])
    )
    with pytest.raises(ColumnError, match="question columns"):
        read_cqc(path)
    csv = tmp_path / "scores.csv"
    cqc_scores().to_csv(csv, index=False)
    with pytest.raises(DataValidationError, match="survey"):
        read_cqc(csv)
    got = read_cqc(csv, survey="ip", year=2023)
    assert got.respondents is None and set(got.scores["year"]) == {2023}
