"""The improvement-journey files: each bad row is set aside with its file, row, column and
reason; good rows load; folders without these files still load; free text is redacted."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from pxlib.data import journey as jl
from pxlib.data import load_data_dir, load_pdsa_log
from pxlib.data.sample import write_sample

ORGS = pd.DataFrame(
    {"org_code": ["ZA1", "ZB9"], "org_name": ["One", "Two"], "org_type": ["trust", "trust"]}
)
UNITS = pd.DataFrame({"org_code": ["ZA1", "ZA1"], "unit": ["Ash Ward", "Beech Ward"]})
BANK = pd.DataFrame({"question_id": ["AE1", "PR1"]})


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rejected(result) -> list[tuple[int, str]]:
    """(row, column) of each rejected row, rows numbered as in a spreadsheet."""
    return list(zip(result.rejected["row"], result.rejected["column"], strict=True))


def load(loader, path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return loader(path, organisations=ORGS, **kwargs)


def test_team_rows_must_agree_on_the_project_and_name_a_known_role(tmp_path):
    path = write(
        tmp_path,
        "team.csv",
        "org_code,unit,project,care_setting,start_date,member,role\n"
        "ZA1,Ash Ward,Going home,Ward,2025-06-02,Lead (synthetic),project_lead\n"
        "ZA1,Ash Ward,Going home,Ward,2025-06-02,,patient_partner\n"
        "ZA1,Ash Ward,Going home later,Ward,2025-06-02,,carer\n"
        "ZA1,Ash Ward,Going home,Ward,2025-06-02,X,chief\n"
        "ZA1,Oak Ward,Going home,Ward,2025-06-02,Y,staff\n",
    )
    result = load(jl.load_team, path, units=UNITS)
    assert rejected(result) == [(4, "project"), (5, "role"), (6, "unit")]
    assert "not one of" in result.rejected["reason"].iloc[1]
    assert len(result.data) == 2


def test_sessions_need_someone_taking_part(tmp_path):
    path = write(
        tmp_path,
        "codesign_sessions.csv",
        "org_code,session_id,session_date,kind,patients,carers,staff\n"
        "ZA1,S1,2025-06-10,conversation,9,3,0\n"
        "ZA1,S2,2025-06-11,workshop,0,0,0\n"
        "ZA1,S1,2025-06-12,survey,5,,\n"
        "ZA1,S3,2099-01-01,survey,5,,\n",
    )
    result = load(jl.load_codesign_sessions, path, as_of="2026-01-01")
    assert rejected(result) == [
        (3, "patients, carers, staff"),
        (4, "org_code, session_id"),
        (5, "session_date"),
    ]


def test_what_matters_session_must_exist(tmp_path):
    sessions = pd.DataFrame({"org_code": ["ZA1"], "session_id": ["S1"]})
    path = write(
        tmp_path,
        "what_matters.csv",
        "org_code,session_id,voice,statement\n"
        "ZA1,S1,patient,Knowing the plan\n"
        "ZA1,S7,patient,Being told\n"
        "ZA1,,carer,Written down\n"
        "ZA1,S1,doctor,Time\n",
    )
    result = load(jl.load_what_matters, path, sessions=sessions)
    assert rejected(result) == [(3, "session_id"), (5, "voice")]


def test_votes_question_must_be_in_the_bank(tmp_path):
    path = write(
        tmp_path,
        "votes.csv",
        "org_code,candidate_id,statement,question_id,patient_votes,affordable\n"
        "ZA1,C1,Explained,AE1,3,yes\n"
        "ZA1,C2,Medicines,ZZ9,2,no\n"
        "ZA1,C3,Names,,-1,maybe\n",
    )
    result = load(jl.load_votes, path, units=UNITS, question_bank=BANK)
    assert rejected(result) == [(3, "question_id"), (4, "patient_votes; affordable")]


def test_driver_diagram_boxes_lead_to_the_level_above(tmp_path):
    path = write(
        tmp_path,
        "driver_diagram.csv",
        "org_code,unit,node_id,level,parent_id,text\n"
        "ZA1,Ash Ward,A1,aim,,The aim\n"
        "ZA1,Ash Ward,P1,primary,A1,Primary\n"
        "ZA1,Ash Ward,S1,secondary,P1,Secondary\n"
        "ZA1,Ash Ward,C1,change_idea,S1,Idea under a secondary\n"
        "ZA1,Ash Ward,C2,change_idea,P1,Idea under a primary\n"
        "ZA1,Ash Ward,S2,secondary,A1,Secondary under the aim\n"
        "ZA1,Ash Ward,C3,change_idea,Q9,Unknown parent\n"
        "ZA1,Ash Ward,P2,primary,,No parent\n"
        "ZA1,Ash Ward,A2,aim,,A second aim\n"
        "ZA1,Ash Ward,A3,aim,P1,An aim with a parent\n",
    )
    result = load(jl.load_driver_diagram, path, units=UNITS)
    assert rejected(result) == [
        (7, "parent_id"),
        (8, "parent_id"),
        (9, "parent_id"),
        (10, "level"),
        (11, "parent_id; level"),
    ]
    reasons = result.rejected["reason"].tolist()
    assert "a secondary driver must lead to a primary driver, not to the aim" in reasons[0]
    assert "'Q9' is not a box" in reasons[1]
    assert set(result.data["node_id"]) == {"A1", "P1", "S1", "C1", "C2"}


def test_audits_done_at_most_opportunities_and_one_name_per_measure(tmp_path):
    path = write(
        tmp_path,
        "audits.csv",
        "org_code,unit,audit_date,measure_id,measure_name,opportunities,done\n"
        "ZA1,Ash Ward,2025-09-05,TB1,Teach-back,20,5\n"
        "ZA1,Ash Ward,2025-09-12,TB1,Teach-back,20,25\n"
        "ZA1,Ash Ward,2025-09-19,TB1,Teach back done,20,5\n"
        "ZA1,Oak Ward,2025-09-19,TB1,Teach-back,20,5\n",
    )
    result = load(jl.load_audits, path, units=UNITS)
    assert rejected(result) == [(3, "done"), (4, "measure_name"), (5, "unit")]
    assert result.data["week"].iloc[0] == pd.Timestamp("2025-09-01")


def test_spread_plan_start_may_lie_ahead(tmp_path):
    path = write(
        tmp_path,
        "spread_plan.csv",
        "org_code,unit,wave,lead,start_date\nZA1,Ash Ward,1,L,2025-10-20\n"
        "ZA1,Beech Ward,2,L,2099-01-05\n",
    )
    result = load(jl.load_spread_plan, path, units=UNITS, as_of="2026-01-01")
    assert result.ok and len(result.data) == 2


def test_sustainability_levels_are_one_to_four(tmp_path):
    path = write(
        tmp_path,
        "sustainability.csv",
        "org_code,unit,assessed_on,assessor,factor,level\n"
        "ZA1,Ash Ward,2026-06-15,A,infrastructure,1\n"
        "ZA1,Ash Ward,2026-06-15,A,adaptability,5\n"
        "ZA1,Ash Ward,2026-06-15,A,morale,3\n",
    )
    result = load(jl.load_sustainability, path, units=UNITS)
    assert rejected(result) == [(3, "level"), (4, "factor")]


def test_pdsa_journey_columns(tmp_path):
    ideas = pd.DataFrame({"org_code": ["ZA1"], "node_id": ["CI1"]})
    path = write(
        tmp_path,
        "pdsa_log.csv",
        "org_code,unit,cycle_id,start_date,change_idea,change_idea_id,prediction_value,"
        "prediction_measure\n"
        "ZA1,Ash Ward,1,2025-10-01,Idea,CI1,85,TB1\n"
        "ZA1,Ash Ward,2,2025-10-01,Idea,CI1,0.6,AE1\n"
        "ZA1,Ash Ward,3,2025-10-01,Idea,CI9,,\n"
        "ZA1,Ash Ward,4,2025-10-01,Idea,,120,AE1\n"
        "ZA1,Ash Ward,5,2025-10-01,Idea,,50,\n"
        "ZA1,Ash Ward,6,2025-10-01,Idea,,50,XX1\n",
    )
    result = load(load_pdsa_log, path, change_ideas=ideas, measures={"AE1", "TB1"})
    assert rejected(result) == [
        (4, "change_idea_id"),
        (5, "prediction_value"),
        (6, "prediction_measure"),
        (7, "prediction_measure"),
    ]
    assert result.data["prediction_value"].tolist() == [0.85, 0.6]
    assert result.data["prediction_comparison"].tolist() == ["at_least", "at_least"]


def test_old_folders_without_journey_files_still_load(tmp_path):
    write_sample(tmp_path)
    for name in (
        "team",
        "codesign_sessions",
        "what_matters",
        "votes",
        "driver_diagram",
        "audits",
        "spread_plan",
        "sustainability",
    ):
        (tmp_path / f"{name}.csv").unlink()
    pdsa = pd.read_csv(tmp_path / "pdsa_log.csv", dtype=str)
    pdsa.iloc[:, :9].to_csv(tmp_path / "pdsa_log.csv", index=False)  # the columns before 2026-12
    data = load_data_dir(tmp_path, "ZA1", as_of="2026-12-01")
    assert data.votes.empty and data.audits.empty and "statement" in data.votes.columns
    assert data.rejected.empty


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    write_sample(folder)
    return folder


def test_sample_journey_loads_clean_and_only_for_its_trust(sample):
    za1 = load_data_dir(sample, "ZA1", as_of="2026-12-01")
    assert za1.rejected.empty
    assert len(za1.votes) == 4 and set(za1.audits["unit"]) == {"Ash Ward", "Beech Ward"}
    assert za1.pdsa_log.loc[za1.pdsa_log["cycle_id"] == "ZA1-3", "prediction_value"].item() == 0.85
    za4 = load_data_dir(sample, "ZA4", as_of="2026-12-01")
    assert za4.votes.empty and set(za4.team["org_code"]) == {"ZA4"}
    za2 = load_data_dir(sample, "ZA2", as_of="2026-12-01")
    assert za2.team.empty and za2.driver_diagram.empty


def test_journey_free_text_is_redacted_on_load(tmp_path):
    write_sample(tmp_path)
    path = tmp_path / "what_matters.csv"
    frame = pd.read_csv(path, dtype=str)
    frame.loc[0, "statement"] = "Ring me on 07700 900461 please"
    frame.to_csv(path, index=False)
    data = load_data_dir(tmp_path, "ZA1", as_of="2026-12-01")
    assert "07700" not in " ".join(data.what_matters["statement"])
