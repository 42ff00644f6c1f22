"""pxlib.workbook: the workflow-step logic behind the notebooks.

Expectations are hand-computed (Wilson intervals, priorities, dates), properties
that must hold (hypothesis), or the ground truth planted in the synthetic sample
(data/sample/README.md), never values copied from pxlib's own output.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pxlib.spc import chart
from pxlib.workbook import (
    aims,
    display,
    measures,
    nbtools,
    printable,
    sampling,
    themes,
)

PLANTED_PII = ("07700 900461", "943 476 5919", "jo.patient@example.com", "Okonjo", "Castellano")


# --- themes -----------------------------------------------------------------------------


def test_keyword_matches_word_starts_only():
    pat = themes.keyword_pattern(["wait", "go home"])
    assert pat.search("I waited hours")
    assert pat.search("Waiting to GO   home")
    assert not pat.search("we await news")
    assert not pat.search("going homeward")  # 'go home' needs the words 'go' and 'home...'


def test_count_themes_by_hand():
    comments = pd.DataFrame(
        {
            "unit": ["A", "A", "A", "B"],
            "comment": ["The food was cold", "Waited ages for food", "Lovely staff", "long wait"],
        }
    )
    d = {"Food": ["food"], "Waiting": ["wait"], "Noise": ["noise"]}
    overall = themes.count_themes(comments, d).set_index("theme")
    assert overall.loc["Food", "n_mentions"] == 2
    assert overall.loc["Waiting", "n_mentions"] == 2
    assert overall.loc["Noise", "n_mentions"] == 0
    assert overall["n_comments"].eq(4).all()
    assert overall.loc["Food", "share"] == pytest.approx(0.5)
    assert overall.loc["Noise", "rank"] == 3
    by = themes.count_themes(comments, d, by="unit").set_index(["unit", "theme"])
    assert by.loc[("A", "Food"), "n_mentions"] == 2
    assert by.loc[("A", "Food"), "share"] == pytest.approx(2 / 3)
    assert by.loc[("B", "Waiting"), "n_mentions"] == 1
    assert by.loc[("B", "Waiting"), "rank"] == 1


def test_redaction_removes_planted_pii_and_keeps_missing():
    raw = pd.Series(
        [
            "Please ring me back on 07700 900461 about my follow-up.",
            "My NHS number is 943 476 5919 and my letter had the wrong date",
            "You can email me at jo.patient@example.com with the result",
            "Nurse Okonjo was wonderful, please thank her.",
            "Dr Castellano explained everything",
            "Matron Ellison and Professor Quayle came round",
            None,
        ]
    )
    out = themes.redact(raw)
    text = " ".join(out.dropna())
    for s in (*PLANTED_PII, "Ellison", "Quayle"):
        assert s not in text
    assert "Nurse" in text and "Dr" in text  # the title stays, the name goes
    assert pd.isna(out.iloc[-1])


def test_comments_per_respondent_one_row_each_and_redacted():
    responses = pd.DataFrame(
        {
            "org_code": "Z",
            "unit": "A",
            "respondent_id": ["P1", "P1", "P2", "P3"],
            "comment": ["Call 07700 900461", "Call 07700 900461", "", None],
        }
    )
    out = themes.comments_per_respondent(responses)
    assert out["respondent_id"].tolist() == ["P1"]
    assert "07700" not in out["comment"].iloc[0]


# --- aims --------------------------------------------------------------------------------


TODAY = dt.date(2026, 11, 26)


def test_check_aim_measurable_and_dated():
    c = aims.check_aim(
        "By 31 March 2027, 95% of patients discharged from Ash Ward will say staff explained.",
        target=0.95,
        today=TODAY,
    )
    assert c.ok and c.measurable and c.dated and c.names_who
    assert c.target == pytest.approx(0.95)
    assert c.by_when == dt.date(2027, 3, 31)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("By 2027-06-30 90% of people", dt.date(2027, 6, 30)),
        ("By 30/06/2027 90% of people", dt.date(2027, 6, 30)),
        ("By June 2027, 90% of people", dt.date(2027, 6, 30)),
        ("By the end of February, 90% of people", dt.date(2027, 2, 28)),
        ("By December, 90% of people", dt.date(2026, 12, 31)),
    ],
)
def test_find_date_forms(text, expected):
    assert aims.find_date(text, TODAY) == expected


def test_check_aim_problems_in_words():
    no_number = aims.check_aim("By March 2027 patients will feel supported", today=TODAY)
    assert not no_number.measurable and any("percentage" in p for p in no_number.problems)
    no_date = aims.check_aim("95% of patients will feel supported", today=TODAY)
    assert not no_date.dated and any("date" in p.lower() for p in no_date.problems)
    past = aims.check_aim("By March 2020, 95% of patients", today=TODAY)
    assert any("passed" in p for p in past.problems)
    mismatch = aims.check_aim("By March 2027, 80% of patients", target=0.95, today=TODAY)
    assert any("95%" in p for p in mismatch.problems)


def test_criteria_checklist_has_the_four_criteria():
    table = aims.criteria_checklist({"Measurable": "aim ok"}, {"Measurable": True})
    assert table["criterion"].tolist() == [c for c, _ in aims.CRITERIA]
    assert len(table) == 4
    row = table.set_index("criterion").loc["Measurable"]
    assert row["evidence"] == "aim ok" and "yes" in row["met"]
    with pytest.raises(ValueError):
        aims.criteria_checklist({"Cheap": "x"})


def test_measurement_plan_from_the_sample_bank(sample_dir):
    from pxlib.data import load_question_bank

    bank = load_question_bank(sample_dir / "question_bank.csv").data
    plan = aims.measurement_plan(bank).set_index("question_id")
    assert plan["measure"].tolist() == ["outcome", "process", "process", "balancing"]
    ae1 = plan.loc["AE1"]
    assert ae1["counts_as_happened"] == "Always"
    assert "Don't know" in ae1["left_out"]
    assert "'Always'" in ae1["operational_definition"]
    assert plan.loc["BL1", "better_when"] == "lower"


# --- sampling ----------------------------------------------------------------------------


def test_ci_width_matches_wilson_by_hand():
    # Wilson (1927) for p = 0.5, n = 10: 0.5 -/+ 1.96*sqrt(0.025 + 0.0096)/1.3842 -> [0.2366, 0.7634]
    t = sampling.ci_width(0.5, [10]).iloc[0]
    assert t["ci_low"] == pytest.approx(0.2366, abs=1e-4)
    assert t["ci_high"] == pytest.approx(0.7634, abs=1e-4)
    # design effect 2 halves the effective sample size
    assert sampling.ci_width(0.5, [20], deff=2.0).iloc[0]["width"] == pytest.approx(t["width"])


@settings(max_examples=40, deadline=None)
@given(p=st.floats(0.02, 0.98), n=st.integers(2, 200))
def test_ci_width_shrinks_with_n_and_contains_p(p, n):
    t = sampling.ci_width(p, [n, 2 * n])
    assert t["width"].iloc[1] < t["width"].iloc[0]
    assert (t["ci_low"] <= p).all() and (t["ci_high"] >= p).all()


def test_weeks_to_detect_more_patients_is_not_slower():
    t = sampling.weeks_to_detect(0.7, 0.2, [5, 40], sims=60, max_weeks=16, seed=3)
    small, large = t.iloc[0], t.iloc[1]
    assert large["detected_share"] >= small["detected_share"]
    assert large["median_weeks"] <= small["median_weeks"]
    assert large["detected_share"] > 0.9  # a 20-point shift with 40 a week is seen
    assert (t["false_alarm_share"] <= 0.2).all()


def test_weeks_to_detect_needs_the_whole_run():
    # a run rule cannot see a shift before it has lasted long enough: with MDC shift = 7 and no
    # other rule able to fire on an enormous shift, detection takes at least 1 week and the
    # detection week is never before the change
    t = sampling.weeks_to_detect(0.5, 0.45, [50], sims=30, rules="mdc", max_weeks=12, seed=1)
    assert t.iloc[0]["median_weeks"] >= 1


def test_recommend_n_picks_smallest_fast_enough():
    detect = pd.DataFrame({"n_per_week": [10, 20, 30], "weeks_80": [12.0, 7.0, 5.0]})
    widths = sampling.ci_width(0.8, [10, 20, 30])
    rec = sampling.recommend_n(detect, widths, within_weeks=8)
    assert rec["n_per_week"] == 20
    none = sampling.recommend_n(detect, widths, within_weeks=2)
    assert none["n_per_week"] == 30 and "None" in none["reason"]


# --- phases from PDSA ---------------------------------------------------------------------


def test_adopted_phase_starts_first_week_after_end():
    log = pd.DataFrame(
        {
            "unit": ["A", "A", "B", "C"],
            "end_date": pd.to_datetime(["2026-01-02", "2026-02-02", "2026-01-09", None]),
            "decision": ["adopt", "Adopt ", "adapt", "adopt"],
        }
    )
    out = measures.adopted_phase_starts(log)
    # Friday 2 Jan -> Monday 5 Jan; Monday 2 Feb is inside its own week -> Monday 9 Feb
    assert out == {"A": [pd.Timestamp("2026-01-05"), pd.Timestamp("2026-02-09")]}
    weeks = pd.DataFrame(
        {"unit": "A", "week": pd.to_datetime(["2025-12-29", "2026-01-12", "2026-02-16"])}
    )
    snapped = measures.adopted_phase_starts(log, weeks)
    assert snapped == {"A": [pd.Timestamp("2026-01-12"), pd.Timestamp("2026-02-16")]}


# --- reliability verdicts -----------------------------------------------------------------


def _weekly(
    shares: list[float], n: int = 400, unit: str = "U", start: str = "2025-09-01"
) -> pd.DataFrame:
    weeks = pd.date_range(start, periods=len(shares), freq="W-MON")
    return pd.DataFrame(
        {"unit": unit, "week": weeks, "y": np.round(np.array(shares) * n), "n": float(n)}
    )


# --- display: suppression, tables, alt text --------------------------------------------------------


def test_suppress_hides_small_counts_only():
    t = pd.DataFrame(
        {"unit": ["A", "B", "C"], "n_respondents": [3, 5, 0], "share": [1.0, 0.4, np.nan]}
    )
    out = display.suppress(t, value_cols=["share"], min_respondents=5)
    assert math.isnan(out.loc[0, "share"]) and math.isnan(out.loc[0, "n_respondents"])
    assert out.loc[1, "share"] == 0.4 and out.loc[1, "n_respondents"] == 5
    assert "fewer than 5" in out.loc[0, "note"] and out.loc[1, "note"] == ""


def test_suppress_points_blanks_values_keeps_statistics():
    data = _weekly([0.8] * 20, n=20)
    data.loc[3, ["y", "n"]] = [2.0, 3.0]  # a week with 3 answers
    res = chart(data, "week", "y", "n", kind="p", by="unit", multiply=100, improvement="increase")
    respondents = data.assign(n_respondents=data["n"].astype(int))
    shown, hidden = display.suppress_points(res, respondents, min_respondents=5)
    assert len(hidden) == 1 and hidden["x"].iloc[0] == data["week"].iloc[3]
    row = shown.points.iloc[3]
    assert pd.isna(row["y"]) and pd.isna(row["n"]) and pd.isna(row["lcl"])
    # the centre line was computed with the small week included and is unchanged
    assert shown.points["cl"].equals(res.points["cl"])
    assert shown.summary.equals(res.summary)
    fig = shown.figure(group="U")
    display.label_gaps(fig, hidden, by=["unit"], group="U")
    assert any("not shown" in (a.text or "") for a in fig.layout.annotations)
    text = display.spc_alt_text(shown, suppressed=hidden, group="U", min_respondents=5)
    assert (
        "1 week resting on fewer than 5 answers is shown as a grey gap" in text
    )  # one, not "1 weeks"
    assert "U:" in text


def test_label_gaps_shades_each_suppressed_week_in_its_own_panel():
    # three wards drawn as small multiples; one week of "Beech & Birch <2>" rests on 3 answers
    wards = ["Ash", "Beech & Birch <2>", "Cedar"]
    data = pd.concat(
        [
            _weekly([share] * 20, n=20, unit=w)
            for w, share in zip(wards, (0.8, 0.7, 0.9), strict=True)
        ],
        ignore_index=True,
    )
    small = data.index[data["unit"] == wards[1]][4]
    data.loc[small, ["y", "n"]] = [2.0, 3.0]
    res = chart(data, "week", "y", "n", kind="p", by="unit", multiply=100, improvement="increase")
    respondents = data.assign(n_respondents=data["n"].astype(int))
    shown, hidden = display.suppress_points(res, respondents, min_respondents=5)
    fig = shown.figure()
    before = len(fig.layout.shapes)
    display.label_gaps(fig, hidden, by=["unit"], min_respondents=5)
    new = fig.layout.shapes[before:]
    assert len(new) == 1
    # the panel of that ward: the axes of the trace drawing its other weeks' values
    values = set(shown.points.loc[shown.points["unit"] == wards[1], "y"].dropna().round(9))
    axes = {
        (t.xaxis or "x", t.yaxis or "y")
        for t in fig.data
        if t.mode == "markers"
        and t.y is not None
        and len(t.y) > 0
        and set(np.round(np.asarray(t.y, dtype=float), 9)) <= values
    }
    assert axes == {(new[0].xref, new[0].yref.removesuffix(" domain"))}
    assert pd.Timestamp(new[0].x0) < data.loc[small, "week"] < pd.Timestamp(new[0].x1)


def test_table_has_caption_headers_and_escapes():
    t = pd.DataFrame({"name": ["<b>x</b>"], "share": [np.nan], "n": [12.0]})
    html = display.table(
        t, "My caption", percent=["share"], integer=["n"], columns={"name": "Name"}
    ).to_html()
    assert "<caption>My caption</caption>" in html
    assert "<th" in html and "Name" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "not shown" in html


def test_table_writes_flags_as_yes_and_no():
    html = display.table(pd.DataFrame({"eligible": [True, False]}), "Flags").to_html()
    assert ">yes<" in html and ">no<" in html and "True" not in html and "False" not in html


# --- printable -----------------------------------------------------------------------------------


def test_printables_are_a4_self_contained_and_escaped(sample_dir):
    from pxlib.data import load_question_bank

    bank = load_question_bank(sample_dir / "question_bank.csv").data
    form = printable.data_collection_template(bank, unit="Ash <Ward>", patients=12)
    assert "@page { size: A4" in form
    assert "<script" not in form and "http" not in form
    assert "Ash &lt;Ward&gt;" in form
    assert form.count('<th scope="col">12</th>') == bank["question_id"].nunique()
    plan = printable.one_page_plan(
        organisation="Z",
        unit="U",
        vision="I will <always>",
        aim="By 2027, 95%",
        checklist=aims.criteria_checklist(),
    )
    assert "I will &lt;always&gt;" in plan and "@page" in plan and "Important to patients" in plan


# --- nbtools ----------------------------------------------------------------------------------


def test_strip_keeps_golden_cells_only():
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    plain = new_code_cell("print(1)", execution_count=3, outputs=[new_output("stream", text="1\n")])
    golden = new_code_cell(
        "print(2)", execution_count=4, outputs=[new_output("stream", text="2\n")]
    )
    golden.metadata["tags"] = ["keep_output", "nbval-check-output"]
    nb = new_notebook(cells=[plain, golden])
    nb.metadata["papermill"] = {"x": 1}
    assert nbtools.problems(nb)
    assert nbtools.strip_notebook(nb)
    assert nb.cells[0].outputs == [] and nb.cells[0].execution_count is None
    assert nb.cells[1].outputs[0]["text"] == "2\n" and nb.cells[1].execution_count == 1
    assert nb.metadata["kernelspec"]["name"] == "pxlib" and "papermill" not in nb.metadata
    assert nbtools.problems(nb) == []
    assert not nbtools.strip_notebook(nb)
    nbformat.validate(nb)


def test_dot_figure_hides_small_groups_and_says_so():
    t = pd.DataFrame(
        {
            "label": ["big", "small"],
            "share": [0.8, 0.5],
            "lo": [0.7, 0.1],
            "hi": [0.9, 0.9],
            "n": [100, 3],
        }
    )
    fig = display.dot_ci_figure(
        t,
        label="label",
        value="share",
        low="lo",
        high="hi",
        n_col="n",
        title="T",
        min_respondents=5,
    )
    trace = fig.data[0]
    assert trace.x[0] == pytest.approx(80)
    assert trace.x[1] is None or math.isnan(trace.x[1])
    assert "not shown: fewer than 5" in trace.y[1]
    assert trace.error_x.array[0] == pytest.approx(10)


def test_fft_by_ward_wilson_interval_by_hand():
    from pxlib.workbook import steps

    cols = {
        "1 Very Good SUM": [6.0],
        "2 Good SUM": [2.0],
        "3 Neither Good nor Poor SUM": [0.0],
        "4 Poor SUM": [1.0],
        "5 Very Poor SUM": [1.0],
        "6 Dont Know SUM": [0.0],
        "Total Responses": [10.0],
    }
    fft = pd.DataFrame({"Ward name": ["W"], **cols})
    out = steps.fft_by_ward(fft).iloc[0]
    assert out["prop_positive"] == pytest.approx(0.8)
    assert out["prop_negative"] == pytest.approx(0.2)
    # Wilson 95% for 8/10: 0.4902 to 0.9433
    assert out["ci_low"] == pytest.approx(0.4902, abs=1e-4)
    assert out["ci_high"] == pytest.approx(0.9433, abs=1e-4)
