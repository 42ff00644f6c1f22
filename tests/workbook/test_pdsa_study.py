"""The Study step: each PDSA cycle's prediction beside the share measured in its window.

Expected intervals are computed here from Wilson's formula (Wilson 1927) or taken
from Newcombe (1998, Statistics in Medicine 17:857-872, Table I, method 3); the
sample's readings are checked against its planted truth by binomial reasoning.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DIR
from scipy import stats

from pxlib.data import load_data_dir
from pxlib.data.folder import WorkbookData
from pxlib.workbook import pdsa_study as ps

Z = stats.norm.ppf(0.975)


def wilson(k: float, n: float) -> tuple[float, float]:
    """Wilson's score interval, written out: (p + z²/2n ± z√(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    p = k / n
    centre = p + Z**2 / (2 * n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return (centre - half) / (1 + Z**2 / n), (centre + half) / (1 + Z**2 / n)


def reading_of(lo: float, hi: float, prediction: float, at_least: bool = True) -> str:
    if at_least:
        return "met" if lo >= prediction else "not met" if hi < prediction else "unclear"
    return "met" if hi <= prediction else "not met" if lo > prediction else "unclear"


# --- hand-made workbooks --------------------------------------------------------------------

BANK = pd.DataFrame(
    {
        "question_id": ["Q1", "Q1", "Q1"],
        "wording": ["Did staff check you understood?"] * 3,
        "measure_type": ["process"] * 3,
        "scale": ["yes_no_dk"] * 3,
        "answer": ["Yes", "No", "Don't know"],
        "counts_as": ["happened", "not_happened", "excluded"],
    }
)
EMPTY = pd.DataFrame()


def cycle(cid: str, start: str, end: str | None, measure=None, value=None, **extra) -> dict:
    return {
        "org_code": "ZT1",
        "unit": "U1",
        "cycle_id": cid,
        "start_date": pd.Timestamp(start),
        "end_date": pd.Timestamp(end) if end else pd.NaT,
        "change_idea": "an idea",
        "decision": extra.pop("decision", "adapt"),
        "prediction_value": value,
        "prediction_comparison": extra.pop("comparison", "at_least" if value is not None else None),
        "prediction_measure": measure,
        **extra,
    }


def audits(rows) -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("ZT1", "U1", pd.Timestamp(d), m, "Teach-back done", float(o), float(k))
            for d, m, o, k in rows
        ],
        columns=["org_code", "unit", "audit_date", "measure_id", "measure_name", "opportunities",
                 "done"],
    )  # fmt: skip


def answers(rows) -> pd.DataFrame:
    """rows: (date, answer, how many)."""
    out, i = [], 0
    for date, answer, many in rows:
        for _ in range(many):
            i += 1
            out.append((f"R{i}", f"P{i}", "ZT1", "U1", pd.Timestamp(date), "Q1", answer))
    return pd.DataFrame(
        out,
        columns=["response_id", "respondent_id", "org_code", "unit", "response_date",
                 "question_id", "answer"],
    )  # fmt: skip


def workbook(pdsa, audit=None, responses=None) -> WorkbookData:
    empty_answers = answers([])
    return WorkbookData(
        data_dir=Path("."),
        trust_code="ZT1",
        organisations=pd.DataFrame({"org_code": ["ZT1"], "org_name": ["T"], "org_type": ["trust"]}),
        units=EMPTY,
        question_bank=BANK,
        responses=empty_answers if responses is None else responses,
        pdsa_log=pd.DataFrame(pdsa),
        margins=EMPTY,
        fft=EMPTY,
        gpps=EMPTY,
        rejected=EMPTY,
        audits=audits([]) if audit is None else audit,
    )


def by_cycle(study: pd.DataFrame) -> dict[str, pd.Series]:
    return {r["cycle_id"]: r for _, r in study.iterrows()}


def test_an_audit_cycle_counts_opportunities_in_its_window_inclusive():
    audit = audits([
        ("2026-01-04", "TB1", 20, 0),   # the day before the window
        ("2026-01-05", "TB1", 20, 10),  # its first day
        ("2026-01-12", "TB1", 20, 15),  # its last day
        ("2026-01-13", "TB1", 20, 0),   # the day after
        ("2026-01-08", "OTHER", 30, 30),
    ])  # fmt: skip
    log = [
        cycle("C1", "2026-01-05", "2026-01-12", "TB1", 0.50),
        cycle("C2", "2026-01-05", "2026-01-12", "TB1", 0.90, comparison="at_most"),
        cycle("C3", "2026-01-05", "2026-01-12", "TB1", 0.80),
    ]
    rows = by_cycle(ps.study_cycles(workbook(log, audit)))
    lo, hi = wilson(25, 40)
    for cid, pred, at_least in (("C1", 0.5, True), ("C2", 0.9, False), ("C3", 0.8, True)):
        r = rows[cid]
        assert (r["source"], r["measure"], r["measure_name"]) == ("audit", "TB1", "Teach-back done")
        assert (r["n"], r["n_happened"], r["share"]) == (40, 25, 25 / 40)
        assert r["ci_low"] == pytest.approx(lo, abs=1e-9)
        assert r["ci_high"] == pytest.approx(hi, abs=1e-9)
        assert r["reading"] == reading_of(lo, hi, pred, at_least)
    # 62.5% of 40: 46.8%-75.7%, so "at least 50%" is unclear, "at most 90%" met, "at least 80%" not met
    assert [rows[c]["reading"] for c in ("C1", "C2", "C3")] == ["unclear", "met", "not met"]


def test_a_survey_cycle_counts_respondents_with_a_counted_answer():
    responses = answers([
        ("2026-02-01", "Yes", 5), ("2026-02-03", "Yes", 3), ("2026-02-03", "No", 4),
        ("2026-02-04", "Don't know", 3),  # leave the denominator
        ("2026-02-05", "No", 9),  # after the window
    ])  # fmt: skip
    log = [cycle("C1", "2026-02-01", "2026-02-04", "Q1", 0.5)]
    r = ps.study_cycles(workbook(log, responses=responses)).iloc[0]
    assert (r["source"], r["measure_name"]) == ("survey", "Did staff check you understood?")
    assert (r["n"], r["n_happened"]) == (12, 8)
    lo, hi = wilson(8, 12)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((lo, hi), abs=1e-9)
    assert r["reading"] == "unclear" and not r["weighted"]


def test_open_cycles_run_to_as_of_or_the_last_date_in_the_data():
    audit = audits([("2026-03-02", "TB1", 10, 5), ("2026-03-20", "TB1", 10, 10)])
    log = [cycle("C1", "2026-03-01", None, "TB1", 0.5, decision=None)]
    r = ps.study_cycles(workbook(log, audit)).iloc[0]
    assert r["open"] and r["end_date"] == pd.Timestamp("2026-03-20") and r["n"] == 20
    r = ps.study_cycles(workbook(log, audit), as_of="2026-03-10").iloc[0]
    assert r["end_date"] == pd.Timestamp("2026-03-10") and r["n"] == 10


def test_no_data_no_prediction_and_old_logs_are_named_not_guessed():
    audit = audits([("2026-01-05", "TB1", 20, 18)])
    log = [
        cycle("C1", "2026-02-01", "2026-02-10", "TB1", 0.8),  # no audit in the window
        cycle("C2", "2026-01-01", "2026-01-10", "TB1"),  # a measure but no number
        cycle("C3", "2026-01-01", "2026-01-10"),  # neither
    ]
    rows = by_cycle(ps.study_cycles(workbook(log, audit)))
    assert rows["C1"]["reading"] == "no data" and rows["C1"]["n"] == 0
    assert "no audits of TB1" in ps.study_sentence(rows["C1"])
    assert rows["C2"]["reading"] == "no numeric prediction" and rows["C2"]["share"] == 0.9
    assert ps.study_sentence(rows["C2"]).startswith("No numeric prediction; measured 90% (")
    assert rows["C3"]["reading"] == "no numeric prediction" and rows["C3"]["source"] == ""
    assert "prediction_value and prediction_measure" in ps.study_sentence(rows["C3"])
    old = pd.DataFrame(log)[["org_code", "unit", "cycle_id", "start_date", "end_date",
                             "change_idea", "decision"]]  # fmt: skip
    study = ps.study_cycles(workbook(old, audit))
    assert list(study.columns) == ps.STUDY_COLUMNS
    assert set(study["reading"]) == {"no numeric prediction"}


def test_an_id_that_is_both_an_audit_and_a_question_is_read_as_the_audit():
    audit = audits([("2026-02-02", "Q1", 20, 20)])
    responses = answers([("2026-02-02", "No", 20)])
    log = [cycle("C1", "2026-02-01", "2026-02-04", "Q1", 0.5)]
    r = ps.study_cycles(workbook(log, audit, responses)).iloc[0]
    assert (r["source"], r["share"], r["reading"]) == ("audit", 1.0, "met")


def test_the_sentence_reads_prediction_measure_interval_and_reading():
    row = {"prediction": 0.90, "comparison": "at_least", "source": "audit", "measure": "TB1",
           "n": 32, "share": 0.78, "ci_low": 0.65, "ci_high": 0.88, "reading": "not met",
           "weighted": False}  # fmt: skip
    assert ps.study_sentence(row) == (
        "Predicted at least 90%, measured 78% (65–88%, 32 opportunities audited): not met."
    )
    survey = {**row, "source": "survey", "comparison": "at_most", "prediction": 0.1,
              "reading": "unclear", "weighted": True}  # fmt: skip
    assert ps.study_sentence(survey) == (
        "Predicted at most 10%, measured 78% (65–88%, 32 answers, weighted): unclear (the "
        "interval includes the prediction)."
    )


def test_a_share_from_fewer_than_the_threshold_is_never_shown():
    audit = audits([("2026-01-05", "TB1", 7, 6)])
    log = [cycle("C1", "2026-01-05", "2026-01-09", "TB1", 0.5, ramp="R1")]
    data = workbook(log, audit)
    row = ps.study_cycles(data).iloc[0]
    words = ps.study_sentence(row)
    assert "86%" not in words and "too few to show (fewer than 10)" in words
    table = ps.ramp_table(data)
    assert table.loc[0, "measured"] == "fewer than 10" and table.loc[0, "n"] == "fewer than 10"
    assert table.loc[0, "reading"] == "too few to show" and "86%" not in table.to_string()
    shown = ps.ramp_table(data, min_respondents=5)
    assert shown.loc[0, "measured"].startswith("86% (") and shown.loc[0, "n"] == "7"


def test_the_ramp_table_orders_ramps_by_their_start_and_steps_within():
    audit = audits([("2026-01-05", "TB1", 20, 10), ("2026-02-02", "TB1", 20, 18)])
    log = [
        cycle("B2", "2026-02-01", "2026-02-06", "TB1", 0.8, ramp="RB", scale="ward"),
        cycle("A1", "2026-01-05", "2026-01-09", "TB1", 0.4, ramp="RA", scale="1 nurse"),
        cycle("X", "2025-12-01", "2025-12-05", decision="abandon"),
        cycle("B1", "2026-01-12", "2026-01-16", "TB1", 0.8, ramp="RB", scale="1 bay"),
    ]
    table = ps.ramp_table(workbook(log, audit))
    assert list(table["cycle_id"]) == ["A1", "B1", "B2", "X"]
    assert list(table["step"]) == [1, 1, 2, 1]
    assert list(table["scale"]) == ["1 nurse", "1 bay", "ward", ""]
    assert table.loc[2, "predicted"] == "at least 80%"
    assert table.loc[2, "measured"] == "90% ({}–{}%)".format(
        *(round(100 * b) for b in wilson(18, 20))
    )
    assert table.loc[1, "measured"] == "no data" and table.loc[3, "decision"] == "abandon"


# --- the sample's planted truth ---------------------------------------------------------------

#: README_TRUTH of pxlib.data.sample_journey: cycle -> (planted share, audit weeks, prediction)
PLANTED = {"ZA1-1": (0.45, 4, 0.60), "ZA1-2": (0.62, 4, 0.80), "ZA1-3": (0.90, 3, 0.85)}


def reading_chances(share: float, n: int, prediction: float) -> dict[str, float]:
    """P(reading) when k ~ Binomial(n, share): every k's Wilson interval against the prediction."""
    out = {"met": 0.0, "not met": 0.0, "unclear": 0.0}
    for k in range(n + 1):
        out[reading_of(*wilson(k, n), prediction)] += stats.binom.pmf(k, n, share)
    return out


@pytest.fixture(scope="module")
def sample():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_data_dir(SAMPLE_DIR, "ZA1",
                             as_of="2026-12-01")  # fmt: skip


def test_the_sample_ramp_reads_as_its_planted_truth_allows(sample):
    rows = by_cycle(ps.study_cycles(sample))
    audit = sample.audits[
        (sample.audits["unit"] == "Ash Ward") & (sample.audits["measure_id"] == "TB1")
    ]
    for cid, (share, weeks, prediction) in PLANTED.items():
        r = rows[cid]
        inside = audit[audit["audit_date"].between(r["start_date"], r["end_date"])]
        assert len(inside) == weeks  # one audit a week of the cycle
        n, k = int(inside["opportunities"].sum()), int(inside["done"].sum())
        assert (r["n"], r["n_happened"], r["prediction"]) == (n, k, prediction)
        assert abs(k - n * share) <= 3.5 * math.sqrt(n * share * (1 - share))  # the planted share
        lo, hi = wilson(k, n)
        assert (r["ci_low"], r["ci_high"]) == pytest.approx((lo, hi), abs=1e-9)
        assert r["reading"] == reading_of(lo, hi, prediction)
        chances = reading_chances(share, n, prediction)
        assert chances[r["reading"]] >= 0.01  # a reading the planted truth makes plausible
        wrong = "met" if share < prediction else "not met"
        assert chances[wrong] < 0.01 and r["reading"] != wrong
        if max(chances.values()) >= 0.95:  # what the planted truth all but decides
            assert r["reading"] == max(chances, key=chances.get)
    # 62% against a prediction of 80% from about 95 audits is "not met" 19 times in 20
    assert rows["ZA1-2"]["reading"] == "not met"
    assert rows["ZA1-3"]["reading"] in {"met", "unclear"}
    assert rows["ZA1-4"]["reading"] == "no numeric prediction"


def test_the_sample_ramp_table_and_weighted_survey_study(sample):
    table = ps.ramp_table(sample, unit="Ash Ward")
    assert list(table["cycle_id"]) == ["ZA1-1", "ZA1-2", "ZA1-3"]
    assert list(table["step"]) == [1, 2, 3] and set(table["ramp"]) == {"R1"}
    assert list(table["decision"]) == ["adapt", "adapt", "adopt"]
    assert all(s.startswith("Predicted at least ") for s in table["study"])
    data = dataclasses.replace(sample, pdsa_log=sample.pdsa_log.assign(prediction_measure="AE1"))
    plain = ps.study_cycles(data)
    weighted = ps.study_cycles(data, weighted=True)
    sure = plain["source"].eq("survey") & plain["n"].gt(0)
    assert sure.sum() >= 3
    assert np.array_equal(plain.loc[sure, "n"], weighted.loc[sure, "n"])
    assert weighted.loc[sure, "weighted"].all()
    inside = weighted.loc[sure, "share"].between(weighted.loc[sure, "ci_low"],
                                                 weighted.loc[sure, "ci_high"])  # fmt: skip
    assert inside.all()
