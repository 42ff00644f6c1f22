"""A tiny data folder for the batch tests (three organisations, one made to fail)."""

from __future__ import annotations

import csv
from pathlib import Path

FIXTURES = Path(__file__).parent / "notebooks_fixtures"
CANARY = "CANARY-3c9f1e comment only ZZ1 may see"
ORGS = [
    ["org_code", "org_name", "org_type", "parent_code", "catchment_of"],
    ["ZZ1", "Trust One", "trust", "ZQ1", ""],
    ["010", "Trust Zero & <Co>", "trust", "ZQ1", ""],
    ["ZZ3", "Provider Three", "other_provider", "ZQ1", ""],
    ["Z8001", "A practice", "gp_practice", "ZQ1", "ZZ1"],
]


def _write(path: Path, rows: list[list[object]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def make_data(folder: Path) -> Path:
    """organisations, responses (canary in ZZ1, a score of 9 in ZZ3), units and friends."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "organisations.csv", ORGS)
    responses: list[list[object]] = [["org_code", "unit", "week", "score", "comment"]]
    for i in range(12):  # 12 answers on unit A: shown; 3 on unit B: suppressed in the index
        responses.append(["ZZ1", "A", 1 + i % 4, 3 + i % 3, CANARY if i == 5 else ""])
    for i in range(3):
        responses.append(["ZZ1", "B", 1 + i, 4, "fine"])
    for i in range(10):
        responses.append(["010", "C", 1 + i % 4, 2 + i % 4, ""])
    for i in range(10):
        responses.append(
            ["ZZ3", "D", 1 + i % 4, 9 if i == 0 else 4, ""]
        )  # 9 breaks 02_fixture_check
    _write(folder / "responses.csv", responses)
    _write(
        folder / "units.csv",
        [["org_code", "unit"], ["ZZ1", "A"], ["ZZ1", "B"], ["010", "C"], ["ZZ3", "D"]],
    )
    _write(
        folder / "pdsa_log.csv",
        [["org_code", "unit", "change_idea"], ["ZZ1", "A", "teach-back " + CANARY]],
    )
    _write(folder / "question_bank.csv", [["question_id", "wording"], ["Q1", "Did staff explain?"]])
    _write(
        folder / "fft_monthly.csv",
        [["Org code", "Ward name", "Total Responses"], ["ZZ1", "A", "56"]],
    )
    return folder
