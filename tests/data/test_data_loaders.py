"""Loaders on good and deliberately broken files: each failure mode names file, row,
column and what is wrong; nothing is dropped silently; strict mode raises."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from pxlib.data import (
    load_data_dir,
    load_fft,
    load_gpps,
    load_margins,
    load_organisations,
    load_pdsa_log,
    load_question_bank,
    load_responses,
    parse_dates,
    score_responses,
)
from pxlib.errors import ColumnError, DataValidationError

ORGS = "org_code,org_name,org_type,parent_code,catchment_of\nZA1,Trust one,trust,ZQ1,\n010,Practice,GP practice,ZQ1,ZA1\n"
BANK = (
    "question_id,wording,measure_type,scale,answer,counts_as\n"
    "AE1,Did it happen?,outcome,always_never,Always,happened\n"
    "AE1,Did it happen?,outcome,always_never,Most of the time,not_happened\n"
    "AE1,Did it happen?,outcome,always_never,Never,not_happened\n"
    "AE1,Did it happen?,outcome,always_never,Don't know,excluded\n"
)
RESPONSES_HEADER = (
    "response_id,respondent_id,org_code,unit,response_date,question_id,answer,age_band,comment\n"
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def refs(tmp_path):
    orgs = load_organisations(write(tmp_path, "organisations.csv", ORGS), strict=True).data
    bank = load_question_bank(write(tmp_path, "question_bank.csv", BANK), strict=True).data
    return orgs, bank


def load_quietly(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def test_good_responses_load_with_iso_weeks_and_text_codes(tmp_path, refs):
    orgs, bank = refs
    path = write(
        tmp_path,
        "r.csv",
        RESPONSES_HEADER
        + "1,P1,ZA1,Ash,2026-03-04,AE1,always,75+,\n"
        + "2,P2,ZA1,Ash,08/03/2026,AE1,Most of the time,16-34,ok\n"
        + "3,P3,010,Main,09/03/2026,AE1,  DON'T KNOW ,35-54,\n",
    )
    result = load_responses(path, organisations=orgs, question_bank=bank, strict=True)
    data = result.data
    assert result.ok and len(data) == 3
    # 2026-03-04 is a Wednesday; its ISO week starts Monday 2 March. 08/03/2026 is day-first: 8 March
    # (a Sunday, still the week of 2 March); 9 March is the next Monday.
    assert list(data["response_date"].dt.strftime("%Y-%m-%d")) == [
        "2026-03-04",
        "2026-03-08",
        "2026-03-09",
    ]
    assert list(data["week"].dt.strftime("%Y-%m-%d")) == ["2026-03-02", "2026-03-02", "2026-03-09"]
    assert data["org_code"].tolist() == ["ZA1", "ZA1", "010"]  # "010" stays text
    scored = score_responses(data, bank)
    assert scored["happened"].tolist()[:2] == [1.0, 0.0]
    assert pd.isna(scored["happened"].iloc[2])  # don't know leaves the denominator


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("1,P1,ZA1,Ash,31/02/2026,AE1,Always,,", "response_date", "does not parse"),
        ("1,P1,ZA1,Ash,2026-13-01,AE1,Always,,", "response_date", "does not parse"),
        ("1,P1,ZZ9,Ash,2026-03-04,AE1,Always,,", "org_code", "unknown organisation 'ZZ9'"),
        (
            "1,P1,ZA1,Ash,2026-03-04,AE1,Often,,",
            "answer",
            "not on the scale 'always_never' of question AE1",
        ),
        ("1,P1,ZA1,Ash,2026-03-04,XX9,Always,,", "question_id", "unknown question 'XX9'"),
        (",P1,ZA1,Ash,2026-03-04,AE1,Always,,", "response_id", "response_id is empty"),
    ],
)
def test_each_failure_mode_names_row_column_and_reason(tmp_path, refs, row, column, reason):
    orgs, bank = refs
    good = "9,P9,ZA1,Ash,2026-03-04,AE1,Always,,\n"
    path = write(tmp_path, "responses.csv", RESPONSES_HEADER + good + row + "\n")
    result = load_quietly(load_responses, path, organisations=orgs, question_bank=bank)
    assert len(result.data) == 1 and len(result.rejected) == 1  # nothing lost: 1 kept + 1 rejected
    rejected = result.rejected.iloc[0]
    assert rejected["file"] == str(path)
    assert rejected["row"] == 3  # header is row 1, the good row is row 2
    assert column in rejected["column"]
    assert reason in rejected["reason"]
    with pytest.raises(DataValidationError, match=f"row 3, column {column}"):
        load_responses(path, organisations=orgs, question_bank=bank, strict=True)


def test_duplicate_response_id_points_to_first_row(tmp_path, refs):
    orgs, bank = refs
    path = write(
        tmp_path,
        "r.csv",
        RESPONSES_HEADER
        + "7,P1,ZA1,Ash,2026-03-04,AE1,Always,,\n"
        + "7,P2,ZA1,Ash,2026-03-04,AE1,Never,,\n",
    )
    result = load_quietly(load_responses, path, organisations=orgs, question_bank=bank)
    assert len(result.data) == 1
    assert result.rejected["reason"].iloc[0] == "duplicate response_id (first seen on row 2)"
    assert result.rejected["row"].iloc[0] == 3


def test_messages_never_quote_answers_or_comments(tmp_path, refs):
    orgs, bank = refs
    secret = "Call me on 07700 900123"
    path = write(
        tmp_path,
        "r.csv",
        RESPONSES_HEADER + f"1,P1,ZA1,Ash,2026-03-04,AE1,Yes I think so,,{secret}\n",
    )
    with pytest.raises(DataValidationError) as info:
        load_responses(path, organisations=orgs, question_bank=bank, strict=True)
    assert secret not in str(info.value) and "Yes I think so" not in str(info.value)
    assert "Yes I think so" not in info.value.rejected["reason"].iloc[0]
    assert info.value.rejected["comment"].iloc[0] == secret  # the row itself is kept, not lost


def test_column_names_are_matched_forgivingly_and_ambiguity_reported(tmp_path):
    text = "Org Code,ORG-NAME,Org_Type\nZA1,One,Trust\n"
    result = load_organisations(write(tmp_path, "o.csv", text), strict=True)
    assert result.data["org_type"].tolist() == ["trust"]
    with pytest.raises(ColumnError, match="ambiguous column names"):
        load_organisations(
            write(tmp_path, "o2.csv", "org code,org_code,name,type\nZA1,ZA1,One,trust\n")
        )
    with pytest.raises(ColumnError, match=r"missing required column\(s\) \['org_type'\]"):
        load_organisations(write(tmp_path, "o3.csv", "org_code,name\nZA1,One\n"))


def test_unknown_org_type_is_rejected(tmp_path):
    result = load_quietly(
        load_organisations, write(tmp_path, "o.csv", ORGS + "ZB1,Other,hospice,ZQ1,\n")
    )
    assert (
        result.rejected["reason"].iloc[0].startswith("'hospice' is not one of: trust, gp_practice")
    )


def test_negative_and_fractional_counts(tmp_path):
    text = "org_code,variable,level,population\nZA1,age_band,16-34,-5\nZA1,age_band,35-54,100\nZA1,sex,x,abc\n"
    result = load_quietly(load_margins, write(tmp_path, "m.csv", text))
    reasons = result.rejected.set_index("row")["reason"]
    assert reasons[2] == "negative value in population"
    assert "is not a number" in reasons[4]
    assert len(result.data) == 1


def test_margin_levels_stay_text(tmp_path):
    text = "org_code,variable,level,population\nZA1,deprivation_quintile,1,10\nZA1,deprivation_quintile,01,5\n"
    data = load_margins(write(tmp_path, "m.csv", text), strict=True).data
    assert data["level"].tolist() == ["1", "01"]


def test_margins_say_which_population_they_describe(tmp_path):
    units = pd.DataFrame({"org_code": ["ZA1", "ZA1"], "unit": ["Ash", "Beech"]})
    text = (
        "org_code,unit,describes,variable,level,population\n"
        "ZA1,,catchment,age_band,16-34,1000\n"
        "ZA1,Ash,eligible,age_band,16-34,100\n"
        "ZA1,Beech,Eligible,age_band,16-34,80\n"  # same variable and level, another unit: fine
        "ZA1,,,sex,female,1000\n"  # blank: catchment (adding up to the age bands' total)
        "ZA1,Ash,eligible,age_band,16-34,90\n"  # row 6: duplicate within the unit
        "ZA1,,eligible,sex,male,40\n"  # row 7: eligible without a unit
        "ZA1,Oak,eligible,sex,male,40\n"  # row 8: not a unit of ZA1
        "ZA1,Ash,everyone,sex,male,40\n"  # row 9: not a population pxlib knows
        "ZA1,Ash,catchment,sex,female,40\n"  # row 10: a unit's catchment
    )
    result = load_quietly(load_margins, write(tmp_path, "m.csv", text), units=units)
    reasons = result.rejected.set_index("row")["reason"]
    assert reasons[6] == "duplicate org_code and unit and variable and level (first seen on row 3)"
    assert reasons[7] == "an eligible margin needs the unit whose eligible patients it counts"
    assert reasons[8] == "unit 'Oak' is not a unit of organisation 'ZA1' in the units file"
    assert reasons[9] == "'everyone' is not one of: eligible, catchment"
    assert reasons[10].startswith("unit 'Ash' given but describes is catchment (or blank)")
    assert result.rejected.set_index("row").loc[7, "column"] == "unit"
    assert set(result.rejected["file"]) == {str(tmp_path / "m.csv")}
    data = result.data
    assert data["describes"].tolist() == ["catchment", "eligible", "eligible", "catchment"]
    assert data["unit"].isna().tolist() == [True, False, False, True]
    assert data["unit"].dropna().tolist() == ["Ash", "Beech"]
    assert not any("no 'describes' column" in n for n in result.notes)


def test_margins_without_describes_are_catchment_with_a_note(tmp_path):
    text = "org_code,variable,level,population\nZA1,age_band,16-34,10\nZA1,age_band,75+,5\n"
    result = load_margins(write(tmp_path, "m.csv", text), strict=True)
    assert (result.data["describes"] == "catchment").all() and result.data["unit"].isna().all()
    assert any("no 'describes' column" in n and "catchment" in n for n in result.notes)


def test_pdsa_end_before_start(tmp_path):
    text = (
        "org_code,unit,cycle_id,start_date,end_date,change_idea,decision\n"
        "ZA1,Ash,1,2026-03-10,2026-03-01,Idea,adopt\nZA1,Ash,2,10/03/2026,,Idea,\n"
    )
    result = load_quietly(load_pdsa_log, write(tmp_path, "p.csv", text))
    assert result.rejected["reason"].tolist() == ["end date is before the start date"]
    assert result.data["start_date"].iloc[0] == pd.Timestamp("2026-03-10")


FFT_HEADER = (
    "Yearnumber,Periodname,Parent org code,Org code,Site code,Ward name,1 Very Good SUM,2 Good SUM,"
    "3 Neither Good nor Poor SUM,4 Poor SUM,5 Very Poor SUM,6 Dont Know SUM,Total Responses,"
    "Total Eligible SUM,Prop_Pos,Prop_Neg\n"
)


def test_fft_published_layout(tmp_path):
    text = FFT_HEADER + (
        "2025_26,JANUARY,ZQ1,ZA1,ZA101,Ash,6,2,1,1,0,0,10,40,0.8,0.1\n"
        "2025_26,AUGUST,ZQ1,ZA1,ZA101,Ash,6,2,1,1,0,0,11,40,0.8,0.1\n"
        "2025_26,AUGUST,ZQ1,ZA1,ZA101,Beech,-1,2,1,1,0,0,3,40,0.8,0.1\n"
    )
    result = load_quietly(load_fft, write(tmp_path, "f.csv", text))
    assert len(result.data) == 1
    row = result.data.iloc[0]
    assert row["period"] == pd.Timestamp("2026-01-01")  # January of financial year 2025_26
    assert row["pct_positive"] == pytest.approx(0.8) and row["pct_negative"] == pytest.approx(0.1)
    reasons = result.rejected.set_index("row")["reason"]
    assert reasons[3] == "Total Responses is not the sum of the six answer columns"
    assert "negative value in 1 Very Good SUM" in reasons[4]


def test_gpps_suppressed_cells(tmp_path):
    text = (
        "practice_code,practice_name,received,q28base,q28_12pct\n"
        "Z80001,A,120,110,0.81\nZ80002,B,8,-97,-97\nZ80003,C,50,40,81\n"
    )
    result = load_quietly(load_gpps, write(tmp_path, "g.csv", text))
    data = result.data.set_index("practice_code")
    assert data.loc["Z80001", "q28_12pct"] == pytest.approx(0.81)
    assert pd.isna(data.loc["Z80002", "q28_12pct"]) and data.loc["Z80002", "q28_12pct_suppressed"]
    assert result.rejected["reason"].tolist() == ["q28_12pct is outside 0 to 1"]


def test_excel_files_load_like_csv(tmp_path):
    frame = pd.DataFrame({"Org code": ["ZA1"], "Name": ["One"], "Type": ["trust"]})
    path = tmp_path / "orgs.xlsx"
    frame.to_excel(path, index=False)
    assert load_organisations(path, strict=True).data["org_code"].tolist() == ["ZA1"]


def test_parse_dates_is_day_first_and_rejects_ambiguous_short_years():
    dates, bad = parse_dates(
        pd.Series(["01/02/2026", "2026-02-01", "1.2.2026", "01/02/26", "", "2026-02-01 00:00:00"])
    )
    assert dates[0] == dates[1] == dates[2] == dates[5] == pd.Timestamp("2026-02-01")
    assert bad.tolist() == [False, False, False, True, False, False]


def test_load_data_dir_filters_to_one_trust_and_rejects_unknown(sample_dir):
    data = load_data_dir(sample_dir, "ZA2")
    assert set(data.responses["org_code"]) == {"ZA2"}
    assert set(data.pdsa_log["org_code"]) <= {"ZA2"}
    assert set(data.margins["org_code"]) == {"ZA2"}
    assert set(data.catchment_practices["catchment_of"]) == {"ZA2"}
    assert data.rejected.empty
    with pytest.raises(DataValidationError, match="unknown organisation 'ZZ9'"):
        load_data_dir(sample_dir, "ZZ9")


# --- reading files as they arrive (encodings, delimiters, Excel, broken files) --------------


def test_read_table_reads_cp1252_with_a_note(tmp_path):
    from pxlib.data import read_table

    path = tmp_path / "o.csv"
    path.write_bytes("org_code,org_name\nZA1,Hôpital Été\n".encode("cp1252"))
    notes: list[str] = []
    frame = read_table(path, notes=notes)
    assert frame["org_name"].tolist() == ["Hôpital Été"]
    assert len(notes) == 1 and str(path) in notes[0] and "CSV UTF-8" in notes[0]


@pytest.mark.parametrize(("delimiter", "word"), [(";", "semicolon"), ("\t", "tab"), ("|", "|")])
def test_read_table_sniffs_the_delimiter_from_the_header(tmp_path, delimiter, word):
    from pxlib.data import read_table

    path = tmp_path / "o.csv"
    path.write_text(delimiter.join(["org_code", "org_name"]) + "\nZA1" + delimiter + "One, two\n")
    notes: list[str] = []
    frame = read_table(path, notes=notes)
    assert list(frame.columns) == ["org_code", "org_name"]
    assert frame.values.tolist() == [["ZA1", "One, two"]]
    assert any(word in n for n in notes)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", ["empty"]),
        (b"\n\n  \n", ["empty"]),
        (b"\x1f\x8b\x08\x00" + bytes(40), ["gzip"]),
        (b"PK\x03\x04" + bytes(40), [".xlsx"]),
        (b"org_code\x00,x\nZA1,1\n", ["not text"]),
        ("org_code,x\nZA1,1\n".encode("utf-16"), ["UTF-16", "CSV UTF-8"]),
        (b"a,b\n1,2\n3,4,5\n", ["row 3", "3 fields", "2 columns"]),
    ],
)
def test_read_table_refuses_what_is_not_a_table_naming_the_file(tmp_path, content, words):
    from pxlib.data import read_table

    path = tmp_path / "responses.csv"
    path.write_bytes(content)
    with pytest.raises(DataValidationError) as info:
        read_table(path)
    assert str(path) in str(info.value)
    for word in words:
        assert word in str(info.value)


def test_read_table_refuses_mixed_utf8_and_cp1252(tmp_path):
    from pxlib.data import read_table

    path = tmp_path / "o.csv"
    path.write_bytes("org_code,org_name\nZA1,Été\n".encode() + "ZA2,Été\n".encode("cp1252"))
    with pytest.raises(DataValidationError, match="line 3"):
        read_table(path)


def test_read_table_refuses_xls_and_says_how_to_resave(tmp_path):
    from pxlib.data import read_table

    path = tmp_path / "o.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + bytes(100))
    with pytest.raises(DataValidationError, match=r"save it .*\.xlsx"):
        read_table(path)


def test_read_table_notes_sheets_it_did_not_read(tmp_path):
    from pxlib.data import read_table

    path = tmp_path / "o.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"org_code": ["ZA1"]}).to_excel(writer, sheet_name="Data", index=False)
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="Notes", index=False)
    notes: list[str] = []
    assert read_table(path, notes=notes)["org_code"].tolist() == ["ZA1"]
    assert any("Notes" in n for n in notes)


def test_normalise_code_strips_surrounding_whitespace_only():
    from pxlib.data.loaders import normalise_code

    assert normalise_code(pd.Series([" ZA1 ", "010", "Z A1\t"])).tolist() == ["ZA1", "010", "Z A1"]
    assert normalise_code("  ZA1") == "ZA1"


def test_find_input_accepts_csv_or_excel_and_refuses_two(tmp_path):
    from pxlib.data.folder import find_input

    assert find_input(tmp_path, "responses") is None
    pd.DataFrame({"a": [1]}).to_excel(tmp_path / "Responses.XLSX", index=False)
    assert find_input(tmp_path, "responses") == tmp_path / "Responses.XLSX"
    assert find_input(tmp_path, "responses.csv") == tmp_path / "Responses.XLSX"
    write(tmp_path, "responses.csv", "a\n1\n")
    with pytest.raises(DataValidationError) as info:
        find_input(tmp_path, "responses")
    assert "responses.csv" in str(info.value) and "Responses.XLSX" in str(info.value)


def test_load_data_dir_reads_excel_organisations_and_question_bank(tmp_path):
    import io

    pd.read_csv(io.StringIO(ORGS), dtype=str, keep_default_na=False).to_excel(
        tmp_path / "organisations.xlsx", index=False
    )
    write(tmp_path, "question_bank.csv", BANK)
    data = load_data_dir(tmp_path, "ZA1")
    assert data.organisations["org_code"].tolist() == ["ZA1", "010"]
    assert data.sources["organisations"] == tmp_path / "organisations.xlsx"
    assert "responses" not in data.sources


# --- values -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity", "nan", "NaN", "1e400"])
def test_non_finite_numbers_are_rejected(tmp_path, text):
    body = f"org_code,variable,level,population\nZA1,sex,female,10\nZA1,age_band,16-34,{text}\n"
    result = load_quietly(load_margins, write(tmp_path, "m.csv", body))
    row = result.rejected.set_index("row").loc[3]
    assert row["column"].startswith("population")
    assert "population" in row["reason"]
    assert result.data["population"].tolist() == [10.0]


def test_non_finite_fft_counts_are_rejected(tmp_path):
    text = FFT_HEADER + "2025_26,AUGUST,ZQ1,ZA1,ZA101,Ash,inf,2,1,1,0,0,inf,40,0.8,0.1\n"
    result = load_quietly(load_fft, write(tmp_path, "f.csv", text))
    assert result.data.empty and "1 Very Good SUM" in result.rejected["column"].iloc[0]


def test_dates_after_the_as_of_date_are_rejected(tmp_path, refs):
    orgs, bank = refs
    path = write(
        tmp_path,
        "r.csv",
        RESPONSES_HEADER
        + "1,P1,ZA1,Ash,2026-12-02,AE1,Always,,\n"
        + "2,P2,ZA1,Ash,01/05/2031,AE1,Always,,\n",
    )
    result = load_quietly(
        load_responses, path, organisations=orgs, question_bank=bank, as_of="2026-12-02"
    )
    assert result.data["response_id"].tolist() == ["1"]  # the as-of day itself is fine
    assert result.rejected["reason"].tolist() == [
        "date 2031-05-01 is after the as-of date 2026-12-02"
    ]


def test_as_of_defaults_to_today(tmp_path, refs, monkeypatch):
    import datetime

    orgs, bank = refs
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    path = write(
        tmp_path, "r.csv", RESPONSES_HEADER + f"1,P1,ZA1,Ash,{tomorrow:%Y-%m-%d},AE1,Always,,\n"
    )
    result = load_quietly(load_responses, path, organisations=orgs, question_bank=bank)
    assert result.data.empty and "after the as-of date" in result.rejected["reason"].iloc[0]


def test_pdsa_dates_after_the_as_of_date_are_rejected(tmp_path):
    text = (
        "org_code,unit,cycle_id,start_date,end_date,change_idea,decision\n"
        "ZA1,Ash,1,2026-03-10,2027-01-01,Idea,adopt\nZA1,Ash,2,2027-03-10,,Idea,\n"
    )
    result = load_quietly(load_pdsa_log, write(tmp_path, "p.csv", text), as_of="2026-12-02")
    reasons = result.rejected.set_index("row")["reason"]
    assert reasons[2] == "date 2027-01-01 is after the as-of date 2026-12-02"
    assert reasons[3] == "date 2027-03-10 is after the as-of date 2026-12-02"


def test_fft_months_after_the_as_of_date_are_rejected(tmp_path):
    text = FFT_HEADER + (
        "2026_27,DECEMBER,ZQ1,ZA1,ZA101,Ash,6,2,1,1,0,0,10,40,0.8,0.1\n"
        "2026_27,JANUARY,ZQ1,ZA1,ZA101,Ash,6,2,1,1,0,0,10,40,0.8,0.1\n"
    )
    result = load_quietly(load_fft, write(tmp_path, "f.csv", text), as_of="2026-12-02")
    assert len(result.data) == 1  # December 2026 has begun; January 2027 has not
    assert result.rejected["reason"].tolist() == [
        "month 2027-01 is after the as-of date 2026-12-02"
    ]


def test_margins_adding_up_to_different_totals_reject_the_whole_group(tmp_path):
    text = (
        "org_code,unit,describes,variable,level,population\n"
        "ZA1,,catchment,age_band,16-54,600\n"
        "ZA1,,catchment,age_band,55+,400\n"
        "ZA1,,catchment,sex,female,500\n"
        "ZA1,,catchment,sex,male,400\n"  # sex adds up to 900, age band to 1000
        "ZA2,,catchment,sex,female,500\n"
        "ZA2,,catchment,age_band,16-54,500\n"
        "ZA3,,catchment,sex,female,1000\n"
        "ZA3,,catchment,age_band,16-54,1005\n"  # within the 1 % tolerance: kept
    )
    result = load_quietly(load_margins, write(tmp_path, "m.csv", text))
    assert result.data["org_code"].tolist() == ["ZA2", "ZA2", "ZA3", "ZA3"]
    assert result.rejected["row"].tolist() == [2, 3, 4, 5]
    reason = result.rejected["reason"].iloc[0]
    assert "ZA1" in reason and "age_band: 1,000" in reason and "sex: 900" in reason
    assert not any("different totals" in n for n in result.notes)


def test_a_rejected_margin_row_is_not_left_behind_as_a_lopsided_group(tmp_path):
    text = (
        "org_code,unit,describes,variable,level,population\n"
        "ZA1,,catchment,age_band,16-54,600\n"
        "ZA1,,catchment,age_band,55+,ten\n"
        "ZA1,,catchment,sex,female,500\n"
        "ZA1,,catchment,sex,male,500\n"
    )
    result = load_quietly(load_margins, write(tmp_path, "m.csv", text))
    assert result.data.empty
    reasons = result.rejected.set_index("row")["reason"]
    assert "'ten' is not a number" in reasons[3]
    assert "age_band: 600" in reasons[2] and "sex: 1,000" in reasons[4]


def test_load_data_dir_says_which_organisation_and_unit_each_rejected_row_is(tmp_path):
    write(tmp_path, "organisations.csv", ORGS)
    write(tmp_path, "question_bank.csv", BANK)
    write(  # the unit column under one of its other names
        tmp_path,
        "margins.csv",
        "Org Code,Ward,describes,variable,level,population\n"
        "ZA1,Ash,eligible,sex,female,ten\n"
        "ZA1,,catchment,sex,female,-1\n",
    )
    data = load_quietly(load_data_dir, tmp_path)
    assert data.rejected["row"].tolist() == [2, 3]
    assert data.rejected["org_code"].tolist() == ["ZA1", "ZA1"]
    assert data.rejected["unit"].tolist() == ["Ash", ""]
