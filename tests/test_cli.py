"""The `pxlib` command line: sample, validate and kernel."""

from __future__ import annotations

import filecmp
import shutil
import sys

import pytest
from conftest import SAMPLE_DIR

from pxlib.cli import main
from pxlib.errors import (
    EXIT_COULD_NOT_RUN,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REPORTS_FAILED,
    EXIT_ROWS_REJECTED,
    DataValidationError,
)


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
    assert main(["validate", str(tmp_path), "--rejected-out", str(out_csv)]) == EXIT_ROWS_REJECTED
    printed = capsys.readouterr().out
    assert "responses.csv, row 3, column response_date: date '2026-02-30' does not parse" in printed
    assert out_csv.exists()


def test_validate_clean_sample_and_unknown_trust(capsys):
    assert main(["validate", str(SAMPLE_DIR)]) == 0
    assert "No rows rejected." in capsys.readouterr().out
    assert main(["validate", str(SAMPLE_DIR), "--trust", "ZZ9"]) == EXIT_COULD_NOT_RUN
    assert "unknown organisation 'ZZ9'" in capsys.readouterr().err


def test_kernel_is_registered_inside_this_environment():
    from jupyter_client.kernelspec import KernelSpecManager

    main(["kernel"])
    path = KernelSpecManager().find_kernel_specs()["pxlib"]
    assert path.startswith(sys.prefix), (
        "the pxlib kernel must live in this environment, not per user"
    )
    spec = KernelSpecManager().get_kernel_spec("pxlib")
    assert spec.argv[0].startswith(sys.prefix) or spec.argv[0] == "python"


@pytest.mark.parametrize("argv", [["--version"]])
def test_version(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("pxlib ")


def test_exit_statuses_are_the_documented_constants():
    assert (EXIT_OK, EXIT_COULD_NOT_RUN, EXIT_ROWS_REJECTED, EXIT_REPORTS_FAILED) == (0, 2, 3, 4)
    assert EXIT_INTERRUPTED == 130


@pytest.mark.parametrize(
    ("argv", "statuses"),
    [
        (["--help"], ["0", "2", "3", "4", "130"]),
        (["validate", "--help"], ["0", "2", "3", "130"]),
        (["demo", "--help"], ["0", "2", "4", "130"]),
        (["batch", "--help"], ["0", "2", "4", "130"]),
    ],
)
def test_help_lists_the_exit_statuses(argv, statuses, capsys):
    with pytest.raises(SystemExit):
        main(argv)
    text = capsys.readouterr().out
    section = text[text.index("exit statuses:") :]
    for status in statuses:
        assert f"\n  {status} " in section, section
    assert "  3 " not in section or "3" in statuses


def test_validate_as_of_rejects_later_dates(tmp_path, capsys):
    for name in ("organisations.csv", "question_bank.csv"):
        shutil.copy(SAMPLE_DIR / name, tmp_path / name)
    (tmp_path / "responses.csv").write_text(
        "response_id,respondent_id,org_code,unit,response_date,question_id,answer\n"
        "1,P1,ZA1,Ash Ward,2026-03-04,AE1,Always\n"
    )
    assert main(["validate", str(tmp_path), "--as-of", "2026-03-04"]) == EXIT_OK
    assert main(["validate", str(tmp_path), "--as-of", "2026-03-03"]) == EXIT_ROWS_REJECTED
    assert "date 2026-03-04 is after the as-of date 2026-03-03" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["validate", str(tmp_path), "--as-of", "03/03/2026"])
    assert info.value.code == EXIT_COULD_NOT_RUN
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_validate_names_the_file_each_table_came_from(tmp_path, capsys):
    for name in ("organisations.csv", "question_bank.csv"):
        shutil.copy(SAMPLE_DIR / name, tmp_path / name)
    assert main(["validate", str(tmp_path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "organisations.csv" in out and "no responses file" in out


def test_an_unexpected_error_is_one_line_without_traceback(monkeypatch, capsys):
    import pxlib.data

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pxlib.data, "load_data_dir", broken)
    monkeypatch.delenv("PXLIB_DEBUG", raising=False)
    assert main(["validate", str(SAMPLE_DIR)]) == EXIT_COULD_NOT_RUN
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "pxlib: unexpected error (RuntimeError): disk on fire. Please report it; "
        "run with PXLIB_DEBUG=1 for the traceback."
    ]
    monkeypatch.setenv("PXLIB_DEBUG", "1")
    with pytest.raises(RuntimeError, match="disk on fire"):
        main(["validate", str(SAMPLE_DIR)])


def test_a_pxlib_error_and_an_interrupt_have_their_statuses(monkeypatch, capsys):
    import pxlib.data

    def invalid(*args, **kwargs):
        raise DataValidationError("somewhere/responses.csv: cannot be read")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.delenv("PXLIB_DEBUG", raising=False)
    monkeypatch.setattr(pxlib.data, "load_data_dir", invalid)
    assert main(["validate", str(SAMPLE_DIR)]) == EXIT_COULD_NOT_RUN
    assert "somewhere/responses.csv: cannot be read" in capsys.readouterr().err
    monkeypatch.setattr(pxlib.data, "load_data_dir", interrupted)
    assert main(["validate", str(SAMPLE_DIR)]) == EXIT_INTERRUPTED


def test_demo_and_batch_return_reports_failed(monkeypatch, tmp_path, capsys):
    import pandas as pd

    import pxlib.cli
    import pxlib.report

    results = pd.DataFrame({"trust_code": ["ZA1", "ZA2"], "status": ["ok", "failed"]})
    monkeypatch.setattr(pxlib.cli, "ensure_kernel", lambda *a, **k: "kernel")
    monkeypatch.setattr(pxlib.report, "run_batch", lambda *a, **k: results)
    assert main(["demo", "--out", str(tmp_path)]) == EXIT_REPORTS_FAILED
    monkeypatch.setattr(pxlib.report, "run_batch", lambda *a, **k: results.iloc[:1])
    assert main(["demo", "--out", str(tmp_path)]) == EXIT_OK
    monkeypatch.setattr(pxlib.report, "run_batch_from_args", lambda args: 1)
    assert main(["batch", "--data", ".", "--out", str(tmp_path)]) == EXIT_REPORTS_FAILED
