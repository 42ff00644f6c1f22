"""The printable forms and the sampling schedule protect the operational definition.

The weekly sheet and the easy-read card print each question word for word (no
"own words"), have a box for every margin variable and category the analysis
weights or compares by, and lay the week out over all seven days; the schedule
always adds up to the week's n; every value from data is escaped.
"""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest
from conftest import SAMPLE_DIR
from hypothesis import given, settings
from hypothesis import strategies as st

from pxlib.data import load_margins, load_question_bank
from pxlib.data.schemas import WEIGHTING_ATTRIBUTES
from pxlib.workbook import forms, printable
from pxlib.workbook.sampling import DAYS, sampling_schedule

XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    return load_question_bank(SAMPLE_DIR / "question_bank.csv").data


@pytest.fixture(scope="module")
def margins() -> pd.DataFrame:
    m = load_margins(SAMPLE_DIR / "margins.csv").data
    return m[m["org_code"] == "ZA1"]


def _text(document: str) -> str:
    """The visible text of a page: tags dropped, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", document)))


@pytest.fixture(scope="module")
def pages(bank, margins) -> dict[str, str]:
    return {
        "form": printable.data_collection_template(
            bank, unit="Ash Ward", patients=15, margins=margins
        ),
        "easy": forms.easy_read_form(bank, unit="Ash Ward", margins=margins),
    }


# --- the question as written --------------------------------------------------------------------


@pytest.mark.parametrize("page", ["form", "easy"])
def test_every_question_is_printed_verbatim(pages, bank, page):
    text = _text(pages[page])
    for wording in bank.drop_duplicates("question_id")["wording"]:
        assert wording in text, wording
    for answer in bank["answer"]:
        assert answer in text


@pytest.mark.parametrize("page", ["form", "easy"])
def test_no_own_words(pages, page):
    assert "own words" not in _text(pages[page]).lower()


def test_the_form_says_read_exactly_as_written_and_who_asks(pages):
    text = _text(pages["form"])
    assert "exactly as written" in text and "Do not rephrase" in text
    assert "did not care for the patient" in text  # who asks: not the person who gave the care
    assert "carer or relative" in text and "staff never answer for a patient" in text


def test_answers_that_leave_the_denominator_are_not_read_out(pages, bank):
    ae1 = bank[bank["question_id"] == "AE1"]
    read = re.search(r"then the answers in bold: ([^.]*)\.", _text(pages["form"])).group(1)
    for answer, counts in zip(ae1["answer"], ae1["counts_as"], strict=True):
        assert (f"“{answer}”" in read) == (counts != "excluded")


# --- the demographic boxes agree with the margins ------------------------------------------------


def test_the_form_has_a_box_for_every_margin_variable_and_category(pages, margins):
    text = _text(pages["form"])
    boxes = {d.variable: d for d in forms.demographic_categories(margins, unit="Ash Ward")}
    assert set(WEIGHTING_ATTRIBUTES) <= set(boxes)
    for var, rows in margins.groupby("variable"):
        assert set(rows["level"]) <= set(boxes[var].levels), var
        for level in rows["level"]:
            label = forms.level_label(var, level)
            assert label in text, (var, level)
    rows = pages["form"].count(f'<th scope="row">{forms.PREFER_NOT}</th>')
    assert rows == sum(d.asked for d in boxes.values())  # one box per question asked
    assert f'<th scope="row">{forms.NOT_KNOWN}</th>' in pages["form"]  # deprivation: recorded


def test_categories_follow_the_units_margins_then_the_responses():
    m = pd.DataFrame(
        {
            "unit": ["U", "U", "U", None],
            "variable": ["age_band", "age_band", "sex", "deprivation_quintile"],
            "level": ["18-64", "65+", "female", "1"],
        }
    )
    r = pd.DataFrame({"sex": ["male", "female", None], "ethnicity": ["Black", "White", "Zed"]})
    got = {d.variable: d.levels for d in forms.demographic_categories(m, unit="U", responses=r)}
    assert got["age_band"] == ("18-64", "65+")  # the unit's own bands, in their order
    assert got["sex"] == ("female", "male")  # a level only the responses have is added
    assert got["deprivation_quintile"] == ("1",)  # from the organisation's rows
    assert got["ethnicity"] == ("White", "Black", "Zed")  # default order first, then the rest


def test_easy_read_has_large_type_and_inline_faces_only(pages):
    easy = pages["easy"]
    assert "font-size: 16pt" in easy and "<svg" in easy
    assert "<img" not in easy and "http" not in easy and "<script" not in easy
    assert "I'd rather not say" in _text(easy)


def test_faces_run_from_smile_to_frown_and_flip_for_a_balancing_measure():
    always = [("Always", "happened"), ("Sometimes", "not_happened"), ("Never", "not_happened")]
    assert forms.answer_moods("outcome", always) == [1.0, 0.0, -1.0]
    waited = [("Yes", "happened"), ("No", "not_happened"), ("Don't know", "excluded")]
    assert forms.answer_moods("balancing", waited) == [-1.0, 1.0, None]


# --- every day of the week ----------------------------------------------------------------------


def test_the_form_lays_patients_out_over_all_seven_days(pages):
    form = pages["form"]
    for day in DAYS:
        assert f">{day}<" in form  # the schedule
        assert f'colspan="2">{day[:3]}<' in form or f'colspan="3">{day[:3]}<' in form
    assert "first 15" not in form


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=7, max_value=120),
    expected=st.one_of(
        st.none(),
        st.lists(st.floats(min_value=0.5, max_value=80), min_size=7, max_size=7),
        st.floats(min_value=1, max_value=500),
    ),
    week=st.integers(min_value=0, max_value=60),
)
def test_the_schedule_covers_seven_days_and_adds_up_to_n(n, expected, week):
    s = sampling_schedule(n, expected, week=week)
    assert list(s["day"]) == list(DAYS)
    assert s["ask"].sum() == n
    assert (s["ask"] >= 1).all()
    assert {"day", "expected", "ask", "every_kth", "who_asks"} <= set(s.columns)


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=60),
    expected=st.lists(st.floats(min_value=0, max_value=50), min_size=7, max_size=7).filter(
        lambda e: sum(e) > 0
    ),
)
def test_the_schedule_is_proportional_within_one_when_no_floor(n, expected):
    s = sampling_schedule(n, expected, min_per_day=0)
    quota = n * pd.Series(expected) / sum(expected)
    assert s["ask"].sum() == n
    assert ((s["ask"] - quota).abs() < 1).all()
    assert (s.loc[pd.Series(expected) == 0, "ask"] == 0).all()


def test_the_schedule_follows_expected_discharges_and_rotates_small_samples():
    s = sampling_schedule(20, [12, 10, 10, 9, 11, 4, 3])
    assert list(s["ask"]) == [4, 4, 3, 3, 4, 1, 1]
    assert list(s["every_kth"]) == [3, 2, 3, 3, 2, 4, 3]
    weeks = [sampling_schedule(5, min_per_day=0, week=w)["ask"] for w in range(7)]
    assert (sum(weeks) == 5).all()  # over seven weeks every day, weekends too, gets five
    with pytest.raises(ValueError, match="at least 7 a week"):
        sampling_schedule(5)
    with pytest.raises(ValueError, match="not a day"):
        sampling_schedule(14, {"Funday": 3})


def test_a_schedule_drives_the_form_and_shows_on_the_plan(bank):
    s = sampling_schedule(9, [5, 5, 5, 5, 5, 2, 2], who_asks="Volunteer team")
    form = printable.data_collection_template(bank, unit="U", schedule=s, patients=99)
    assert form.count('<th scope="col">9</th>') == bank["question_id"].nunique()
    assert '<th scope="col">10</th>' not in form  # the schedule's 9, not patients=99
    plan = printable.one_page_plan(
        organisation="Z",
        unit="U",
        vision="v",
        aim="a",
        schedule=s,
        definition=printable.operational_definition(bank, unit="U", weighted_by=["age_band"]),
    )
    text = _text(plan)
    assert "Saturday" in text and "Sunday" in text and "Volunteer team" in text
    for part in ("Numerator", "Denominator", "Included", "Excluded", "Who may answer"):
        assert part in text
    assert "“Don't know”" in text and "eligible patients by age" in text
    assert "own words" not in text.lower()


def test_many_patients_are_split_into_sheets(bank):
    form = printable.data_collection_template(bank, unit="U", patients=24, per_sheet=15)
    assert "sheet 1 of 2" in form and "sheet 2 of 2" in form
    assert form.count('<th scope="col">24</th>') == bank["question_id"].nunique()


# --- escaping and the page ----------------------------------------------------------------------


def test_values_from_data_are_escaped(bank):
    hostile = bank.copy()
    hostile.loc[hostile["question_id"] == "AE1", "wording"] = XSS
    hostile.loc[hostile.index[0], "answer"] = XSS
    m = pd.DataFrame({"unit": [XSS], "variable": ["age_band"], "level": [XSS]})
    s = sampling_schedule(7, who_asks=XSS)
    documents = [
        printable.data_collection_template(
            hostile, unit=XSS, organisation=XSS, margins=m, schedule=s, how_to_sample=XSS
        ),
        forms.easy_read_form(hostile, unit=XSS, organisation=XSS, margins=m),
        printable.one_page_plan(
            organisation=XSS,
            unit=XSS,
            vision=XSS,
            aim=XSS,
            schedule=s,
            definition=printable.operational_definition(hostile, unit=XSS),
        ),
    ]
    for doc in documents:
        assert "<script" not in doc and "<img" not in doc
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in doc


def test_pages_are_a4_offline_and_reject_a_week_not_starting_monday(pages, bank):
    import datetime as dt

    for doc in pages.values():
        assert "@page { size: A4" in doc and "@media print" in doc
        assert "<script" not in doc and "http" not in doc
    with pytest.raises(ValueError, match="Monday"):
        printable.data_collection_template(bank, unit="U", week_starting=dt.date(2026, 1, 6))
    monday = printable.data_collection_template(bank, unit="U", week_starting=dt.date(2026, 1, 5))
    assert "05 Jan 2026" in monday
