"""The `pxlib` command line: sample, validate and kernel."""

from __future__ import annotations

import filecmp
import shutil
import sys

import pytest
from conftest import SAMPLE_DIR

from pxlib.cli import main


def test_sample_command_writes_the_committed_sample(tmp_path, capsys):
    assert main(["sample", "--out", str(tmp_path)]) == 0
    assert "synthetic sample" in capsys.readouterr().out
    assert filecmp.cmp(tmp_path / "margins.csv", SAMPLE_DIR / "margins.csv", shallow=False)


def test_validate_reports_rejected_rows_with_file_row_column(tmp_path, capsys):
    for name in ("organisations.csv", "question_bank.csv", "units.csv"):
        shutil.copy(SAMPLE_DIR / name, tmp_path / name)
    (tmp_path / "responses.csv").write_text(
        "response_id,respondent_id,org_code,unit,response_date,question_id,answer\n"
        "1,P1,ZA1,Ash Ward,2026-03-04,AE1,Always\n"
        "2,P2,ZA1,Ash Ward,2026-02-30,AE1,Always\n"
    )
    out_csv = tmp_path / "rejected.csv"
    assert main(["validate", str(tmp_path), "--rejected-out", str(out_csv)]) == 1
    printed = capsys.readouterr().out
    assert "responses.csv, row 3, column response_date: date '2026-02-30' does not parse" in printed
    assert out_csv.exists()


def test_validate_clean_sample_and_unknown_trust(capsys):
    assert main(["validate", str(SAMPLE_DIR)]) == 0
    assert "No rows rejected." in capsys.readouterr().out
    assert main(["validate", str(SAMPLE_DIR), "--trust", "ZZ9"]) == 2
    assert "unknown organisation 'ZZ9'" in capsys.readouterr().err


def test_kernel_is_registered_inside_this_environment():
    from jupyter_client.kernelspec import KernelSpecManager

    main(["kernel"])
    path = KernelSpecManager().find_kernel_specs()["pxlib"]
    assert path.startswith(sys.prefix), "the pxlib kernel must live in this environment, not per user"
    spec = KernelSpecManager().get_kernel_spec("pxlib")
    assert spec.argv[0].startswith(sys.prefix) or spec.argv[0] == "python"


@pytest.mark.parametrize("argv", [["--version"]])
def test_version(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("pxlib ")
