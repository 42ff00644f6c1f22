"""Data folders as they arrive from trusts: Excel instead of CSV, Windows encodings,
semicolons, empty, binary or compressed files, ragged rows, impossible values.

Each broken folder is built from a tiny valid one and checked twice: through
``pxlib validate`` run as a separate process (the exit status and what a person
reads: the file's name, never a traceback) and through :func:`load_data_dir`.
Expected counts are those of the rows written here.
"""

from __future__ import annotations

import csv
import gzip
import os
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO_ROOT

from pxlib.data import load_data_dir
from pxlib.errors import DataValidationError
from pxlib.report.isolation import plan_staging, stage_organisations

AS_OF = "2026-12-02"
ORGS = [
    ["org_code", "org_name", "org_type", "parent_code", "catchment_of"],
    ["ZA1", "Trust one", "trust", "ZQ1", ""],
    ["ZB2", "Trust two", "trust", "ZQ1", ""],
]
BANK = [
    ["question_id", "wording", "measure_type", "scale", "answer", "counts_as"],
    ["AE1", "Did it happen?", "outcome", "always_never", "Always", "happened"],
    ["AE1", "Did it happen?", "outcome", "always_never", "Never", "not_happened"],
]
HEADER = ["response_id", "respondent_id", "org_code", "unit", "response_date", "question_id"]
HEADER += ["answer", "comment"]
ROWS = [
    ["1", "P1", "ZA1", "Ash", "2026-03-02", "AE1", "Always", ""],
    ["2", "P2", "ZA1", "Ash", "2026-03-03", "AE1", "Never", ""],
    ["3", "P3", "ZA1", "Oak", "2026-03-04", "AE1", "Always", ""],
    ["4", "P4", "ZB2", "Elm", "2026-03-05", "AE1", "Always", "secret of ZB2"],
]
MARGINS_HEADER = ["org_code", "unit", "describes", "variable", "level", "population"]
MARGINS = [
    ["ZA1", "", "catchment", "age_band", "16-54", "600"],
    ["ZA1", "", "catchment", "age_band", "55+", "400"],
    ["ZA1", "", "catchment", "sex", "female", "520"],
    ["ZA1", "", "catchment", "sex", "male", "480"],
]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter=",") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        csv.writer(fh, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A valid folder: two trusts, one question, four responses (three of ZA1)."""
    data = tmp_path / "data"
    data.mkdir()
    write_csv(data / "organisations.csv", ORGS)
    write_csv(data / "question_bank.csv", BANK)
    write_csv(data / "responses.csv", [HEADER, *ROWS])
    return data


def validate(data: Path, *extra: str) -> subprocess.CompletedProcess:
    """``pxlib validate`` in its own process, as a person runs it."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("PXLIB_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "pxlib.cli", "validate", str(data), "--as-of", AS_OF, *extra],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
    )


def assert_refused(data: Path, file_name: str, *words: str) -> str:
    """validate exits 2 naming the file (and the words), without a traceback."""
    run = validate(data)
    printed = run.stdout + run.stderr
    assert run.returncode == 2, printed
    assert file_name in run.stderr and "Traceback" not in printed, printed
    for word in words:
        assert word in run.stderr, printed
    with pytest.raises(DataValidationError) as info:
        load_data_dir(data, as_of=AS_OF)
    assert file_name in str(info.value)
    return run.stderr


def test_the_valid_folder_passes(folder):
    run = validate(folder)
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(load_data_dir(folder, as_of=AS_OF).responses) == 4


# --- formats -----------------------------------------------------------------------


def test_xlsx_only_responses_are_loaded(folder):
    (folder / "responses.csv").unlink()
    pd.DataFrame(ROWS, columns=HEADER).to_excel(folder / "responses.xlsx", index=False)
    data = load_data_dir(folder, as_of=AS_OF)
    assert len(data.responses) == 4 and data.rejected.empty
    assert sorted(data.responses["response_id"]) == ["1", "2", "3", "4"]
    run = validate(folder)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "responses.xlsx" in run.stdout
    assert "4 valid rows" in run.stdout


def test_csv_and_xlsx_for_one_table_is_an_error_naming_both(folder):
    pd.DataFrame(ROWS, columns=HEADER).to_excel(folder / "responses.xlsx", index=False)
    message = assert_refused(folder, "responses.csv")
    assert "responses.xlsx" in message


def test_old_xls_workbooks_are_refused_with_what_to_do(folder):
    (folder / "responses.csv").unlink()
    (folder / "responses.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    assert_refused(folder, "responses.xls", ".xlsx")


def test_a_corrupt_xlsx_is_an_error_naming_it(folder):
    (folder / "responses.csv").unlink()
    (folder / "responses.xlsx").write_text("response_id\n1\n")  # text, not a workbook
    assert_refused(folder, "responses.xlsx")


def test_an_xlsx_whose_first_sheet_is_empty_is_an_error_naming_it(folder):
    from openpyxl import Workbook

    (folder / "responses.csv").unlink()
    book = Workbook()
    book.active.title = "Cover"
    sheet = book.create_sheet("Data")
    for row in [HEADER, *ROWS]:
        sheet.append(row)
    book.save(folder / "responses.xlsx")
    assert_refused(folder, "responses.xlsx", "Cover")


# --- encodings and delimiters ------------------------------------------------------------


def test_cp1252_text_is_read_with_a_note(folder):
    rows = [r.copy() for r in ROWS]
    rows[0][7] = "Très bien, café"
    write_csv(folder / "responses.csv", [HEADER, *rows], encoding="cp1252")
    data = load_data_dir(folder, as_of=AS_OF)
    assert len(data.responses) == 4
    assert data.responses["comment"].iloc[0] == "Très bien, café"
    assert any("responses.csv" in n and "Windows-1252" in n for n in data.notes)
    run = validate(folder)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Windows-1252" in run.stdout and "Très" not in run.stdout + run.stderr


def test_utf8_with_bom_is_read_and_staged(folder, tmp_path):
    write_csv(folder / "responses.csv", [HEADER, *ROWS], encoding="utf-8-sig")
    write_csv(folder / "organisations.csv", ORGS, encoding="utf-8-sig")
    assert len(load_data_dir(folder, as_of=AS_OF).responses) == 4
    assert validate(folder).returncode == 0
    stage = tmp_path / "stage"
    stage_organisations(folder, stage, ["ZA1", "ZB2"])
    staged = pd.read_csv(stage / "ZA1" / "responses.csv", dtype=str, keep_default_na=False)
    assert list(staged.columns) == HEADER and len(staged) == 3


def test_a_semicolon_file_is_read_with_a_note(folder):
    write_csv(folder / "responses.csv", [HEADER, *ROWS], delimiter=";")
    data = load_data_dir(folder, as_of=AS_OF)
    assert len(data.responses) == 4
    assert any("responses.csv" in n and "semicolon" in n for n in data.notes)
    run = validate(folder)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "semicolon" in run.stdout


def test_a_header_only_file_is_zero_rows(folder):
    write_csv(folder / "responses.csv", [HEADER])
    assert len(load_data_dir(folder, as_of=AS_OF).responses) == 0
    assert validate(folder).returncode == 0


# --- files that are not tables -----------------------------------------------------------


def test_an_empty_file_is_refused(folder):
    (folder / "responses.csv").write_bytes(b"")
    assert_refused(folder, "responses.csv", "empty")


def test_binary_garbage_is_refused(folder):
    (folder / "responses.csv").write_bytes(random.Random(7).randbytes(3000))
    assert_refused(folder, "responses.csv")


def test_gzip_bytes_named_csv_are_refused(folder):
    text = "\n".join(",".join(r) for r in [HEADER, *ROWS]).encode()
    (folder / "responses.csv").write_bytes(gzip.compress(text))
    assert_refused(folder, "responses.csv", "gzip")


def test_a_ragged_row_is_refused_with_its_row_number(folder):
    lines = [",".join(r) for r in [HEADER, *ROWS]]
    lines[2] += ",one field too many"  # the second data row: row 3 in a spreadsheet
    (folder / "responses.csv").write_text("\n".join(lines) + "\n")
    message = assert_refused(folder, "responses.csv", "row 3")
    assert "too many" not in message


# --- values ----------------------------------------------------------------------------


def test_a_future_date_is_rejected(folder):
    rows = [*ROWS, ["5", "P5", "ZA1", "Ash", "2031-05-01", "AE1", "Always", ""]]
    write_csv(folder / "responses.csv", [HEADER, *rows])
    data = load_data_dir(folder, as_of=AS_OF)
    assert len(data.responses) == 4 and len(data.rejected) == 1
    run = validate(folder)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "responses.csv, row 6" in run.stdout
    assert "date 2031-05-01 is after the as-of date 2026-12-02" in run.stdout


def test_an_infinite_population_is_rejected(folder):
    margins = [*MARGINS[:3], ["ZA1", "", "catchment", "sex", "male", "inf"]]
    write_csv(folder / "margins.csv", [MARGINS_HEADER, *margins])
    data = load_data_dir(folder, as_of=AS_OF)
    assert data.margins["population"].notna().all()
    assert (data.rejected["file"].str.endswith("margins.csv") & (data.rejected["row"] == 5)).any()
    run = validate(folder)
    assert run.returncode == 3 and "margins.csv, row 5, column population" in run.stdout


def test_margins_adding_up_to_different_totals_are_rejected(folder):
    margins = [*MARGINS[:3], ["ZA1", "", "catchment", "sex", "male", "380"]]  # sex: 900
    write_csv(folder / "margins.csv", [MARGINS_HEADER, *margins])
    data = load_data_dir(folder, as_of=AS_OF)
    assert data.margins.empty and len(data.rejected) == 4
    run = validate(folder)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "age_band: 1,000" in run.stdout and "sex: 900" in run.stdout


def test_padded_codes_are_kept_by_validation_and_staging(folder, tmp_path):
    rows = [r.copy() for r in ROWS]
    rows[1][2] = " ZA1 "
    write_csv(folder / "responses.csv", [HEADER, *rows])
    data = load_data_dir(folder, "ZA1", as_of=AS_OF)
    assert len(data.responses) == 3
    stage = tmp_path / "stage"
    stage_organisations(folder, stage, ["ZA1", "ZB2"], plan_staging(folder))
    staged = pd.read_csv(stage / "ZA1" / "responses.csv", dtype=str, keep_default_na=False)
    assert sorted(staged["response_id"]) == ["1", "2", "3"]
    assert load_data_dir(stage / "ZA1", "ZA1", as_of=AS_OF).responses.shape[0] == 3


def test_staging_reads_xlsx_and_writes_canonical_utf8_csv(folder, tmp_path):
    (folder / "responses.csv").unlink()
    rows = [r.copy() for r in ROWS]
    rows[0][7] = "café"
    pd.DataFrame(rows, columns=HEADER).to_excel(folder / "responses.xlsx", index=False)
    write_csv(folder / "organisations.csv", ORGS, delimiter=";")
    plan = plan_staging(folder)
    assert "responses.csv" in plan.filtered and "organisations.csv" in plan.copied
    stage = tmp_path / "stage"
    hashes = stage_organisations(folder, stage, ["ZA1", "ZB2"], plan)
    assert "responses.csv" in hashes["ZA1"] and "responses.xlsx" not in hashes["ZA1"]
    staged = pd.read_csv(stage / "ZA1" / "responses.csv", dtype=str, keep_default_na=False)
    assert len(staged) == 3 and staged["comment"].iloc[0] == "café"
    orgs = pd.read_csv(stage / "ZA1" / "organisations.csv", dtype=str, keep_default_na=False)
    assert orgs["org_code"].tolist() == ["ZA1", "ZB2"]
    assert "secret of ZB2" not in (stage / "ZA1" / "responses.csv").read_text(encoding="utf-8")


def test_staging_ignores_the_lock_file_excel_leaves_beside_an_open_workbook(folder, tmp_path):
    (folder / "~$responses.xlsx").write_bytes(b"\x05owner" + bytes(150))
    plan = plan_staging(folder)
    assert "responses.csv" in plan.filtered and "~$responses.xlsx" not in plan.skipped
    hashes = stage_organisations(folder, tmp_path / "stage", ["ZA1"], plan)
    assert sorted(hashes["ZA1"]) == ["organisations.csv", "question_bank.csv", "responses.csv"]
