"""pxlib.report.job and pxlib.report.manifest: one result for every outcome, and resuming."""

from __future__ import annotations

import json
from pathlib import Path

from pxlib.report.job import RESULT_COLUMNS, Job, JobResult
from pxlib.report.manifest import Manifest, job_key


def _job(tmp_path: Path, key: str = "k1") -> Job:
    return Job("ZZ1", "03_measure", "03_measure.ipynb", str(tmp_path), {}, key=key)


def test_every_outcome_is_a_results_csv_row_with_the_jobs_key(tmp_path):
    job = _job(tmp_path)
    made = JobResult.ok(job, 1.5)
    assert made.row() == {
        "trust_code": "ZZ1",
        "notebook": "03_measure",
        "status": "ok",
        "seconds": 1.5,
        "error": "",
    }
    assert (
        list(made.row())
        == RESULT_COLUMNS
        == ["trust_code", "notebook", "status", "seconds", "error"]
    )
    assert made.key == "k1" and made.label == "ZZ1/03_measure" and made["status"] == "ok"
    assert JobResult.skipped(job).row()["status"] == "skipped"
    assert JobResult.skipped(job).key == "k1"


def test_a_failure_is_one_clean_line_and_an_exception_names_its_type(tmp_path):
    job = _job(tmp_path)
    text = JobResult.failed(job, "\x1b[31mboom\x1b[0m\n  on two lines").error
    assert text == "boom on two lines"
    died = JobResult.failed(job, ValueError("bad  value"), seconds=2.0)
    assert (died.status, died.error, died.seconds) == ("failed", "ValueError: bad value", 2.0)
    assert len(JobResult.failed(job, "x" * 1000).error) == 300


def test_a_refused_organisation_keeps_its_reason_as_written_and_has_no_key():
    refused = JobResult.refused("bad code!", "03_measure", "organisation code 'bad code!' ...")
    assert refused.row()["error"] == "organisation code 'bad code!' ..."
    assert (refused.status, refused.key) == ("failed", "")


def test_the_manifest_keeps_successes_forgets_failures_and_checks_the_report(tmp_path):
    path = tmp_path / ".pxlib-batch-manifest.json"
    job = _job(tmp_path)
    manifest = Manifest(path)
    manifest.record(JobResult.ok(job, 1.0))
    assert json.loads(path.read_text())["jobs"]["ZZ1/03_measure"]["key"] == "k1"
    assert not Manifest(path).done(job, tmp_path)  # no report on disk
    (tmp_path / "ZZ1").mkdir()
    for suffix in (".html", ".ipynb"):
        (tmp_path / "ZZ1" / f"03_measure{suffix}").write_text("x")
    assert Manifest(path).done(job, tmp_path)
    assert not Manifest(path).done(_job(tmp_path, key="k2"), tmp_path)  # something changed
    manifest.record(JobResult.failed(job, "boom"))
    assert not Manifest(path).done(job, tmp_path)


def test_a_job_key_changes_with_what_makes_the_report_and_not_with_order():
    base = job_key("1.0", "nb", {"a": 1, "b": 2}, {"x.csv": "h"}, {"kernel": "pxlib"})
    assert base == job_key("1.0", "nb", {"b": 2, "a": 1}, {"x.csv": "h"}, {"kernel": "pxlib"})
    assert base != job_key("1.0", "nb", {"a": 1, "b": 3}, {"x.csv": "h"}, {"kernel": "pxlib"})
    assert base != job_key("1.0", "nb", {"a": 1, "b": 2}, {"x.csv": "h2"}, {"kernel": "pxlib"})
