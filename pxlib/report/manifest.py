"""The resume manifest (``<out>/.pxlib-batch-manifest.json``) and the job keys it holds.

After each finished job the batch records in the manifest what succeeded and
with which key (:func:`job_key`: pxlib, notebook, parameters, input hashes);
``--resume`` skips a job whose key is unchanged and whose report is still there.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pxlib.report.io import atomic_write_text
from pxlib.report.job import Job, JobResult

__all__ = ["MANIFEST_NAME", "Manifest", "job_key"]

log = logging.getLogger("pxlib.report")

MANIFEST_NAME = ".pxlib-batch-manifest.json"


def job_key(
    pxlib_version: str,
    notebook_sha: str,
    params: Mapping[str, Any],
    inputs: Mapping[str, str],
    extra: Mapping[str, Any],
) -> str:
    """The job's resume key: a hash of what makes its report (a change in any runs it again).

    pxlib's version, the notebook's hash, its parameters, its inputs' hashes
    and ``extra`` (the kernel, how plotly.js is written); never a path.
    """
    blob = json.dumps(
        {
            "pxlib": pxlib_version,
            "notebook": notebook_sha,
            "params": params,
            "inputs": inputs,
            **extra,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


class Manifest:
    """``{<org>/<notebook>: {key, finished, seconds}}`` of every successful run, saved after each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.jobs: dict[str, dict[str, Any]] = {}
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self.jobs = dict(data.get("jobs", {}))
            except (OSError, ValueError, AttributeError):
                log.warning("resume manifest %s unreadable: every job will run", path)

    def done(self, job: Job, out_dir: Path) -> bool:
        """Whether ``job`` succeeded with its key and its report and notebook are still there."""
        entry = self.jobs.get(job.label)
        folder = out_dir / job.trust_code
        return bool(
            entry
            and entry.get("key") == job.key
            and (folder / f"{job.notebook}.html").is_file()
            and (folder / f"{job.notebook}.ipynb").is_file()
        )

    def record(self, result: JobResult) -> None:
        """Keep a success (its key), forget a failure, and save."""
        if result.status == "ok":
            self.jobs[result.label] = {
                "key": result.key,
                "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "seconds": result.seconds,
            }
        elif result.status == "failed":
            self.jobs.pop(result.label, None)
        self.save()

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps({"version": 1, "jobs": self.jobs}, indent=1) + "\n")
