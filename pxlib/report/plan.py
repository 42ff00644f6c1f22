"""What a batch will do, once checked: :class:`BatchPlan`, and its jobs.

:func:`~pxlib.report.batch.run_batch` checks its options and inputs
(:mod:`pxlib.report.batch_setup`) into a :class:`BatchPlan`; once each
organisation's inputs are staged, :func:`make_jobs` makes one
:class:`~pxlib.report.job.Job` per organisation × notebook (its parameters, its
resume key, how its report states it was made) and :func:`refused_results` a
``failed`` result for each notebook of an organisation that cannot run.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from pxlib.report import isolation
from pxlib.report.job import Job, JobResult
from pxlib.report.manifest import job_key
from pxlib.report.provenance import python_version

__all__ = ["BatchPlan", "make_jobs", "refused_results"]

log = logging.getLogger("pxlib.report")


@dataclasses.dataclass
class BatchPlan:
    """What a batch was asked to do, once checked (shared by the steps of :func:`run_batch`)."""

    data_dir: Path
    out_dir: Path
    nb_dir: Path
    nb_paths: list[Path]
    typed: dict[str, dict[str, Any]]
    orgs: pd.DataFrame
    codes: list[str]
    refused: dict[str, str]
    kernel_name: str
    scheduler: str | None
    timeout: float | None
    start_timeout: float
    plotlyjs: str
    resume: bool
    workers: int | None
    progress: bool | None
    warm: tuple[str, ...]
    run_date: str
    started: float
    staging_plan: isolation.StagingPlan
    fresh_kernels: bool = False


def make_jobs(
    batch: BatchPlan,
    staging_root: Path,
    hashes: Mapping[str, Mapping[str, str]],
    runtime_dir: str | None,
) -> list[Job]:
    """One job per organisation × notebook, reading the organisation's staged inputs."""
    import pxlib

    nb_sha = {p.stem: isolation.file_sha256(p) for p in batch.nb_paths}
    jobs: list[Job] = []
    for code in batch.codes:
        for path in batch.nb_paths:
            stem = path.stem
            parameters = {
                **batch.typed[stem],
                "trust_code": code,
                "data_dir": str(staging_root / code),
                "interactive": False,
            }
            # what reports show: the real data folder, not the temporary staged copy
            shown = {
                **parameters,
                "data_dir": str(batch.data_dir),
                "output_dir": str(batch.out_dir / code),
            }
            # paths are left out of the key: a moved output folder still resumes
            key = job_key(
                pxlib.__version__,
                nb_sha[stem],
                {k: v for k, v in parameters.items() if k != "data_dir"},
                hashes[code],
                {"kernel": batch.kernel_name, "plotlyjs": batch.plotlyjs},
            )
            jobs.append(
                Job(
                    trust_code=code,
                    notebook=stem,
                    notebook_path=str(path),
                    out_dir=str(batch.out_dir),
                    parameters=parameters,
                    kernel_name=batch.kernel_name,
                    cwd=str(batch.nb_dir),
                    timeout=batch.timeout,
                    start_timeout=batch.start_timeout,
                    plotlyjs=batch.plotlyjs,
                    key=key,
                    provenance={
                        "pxlib_version": pxlib.__version__,
                        "python": python_version(),
                        "notebook": path.name,
                        "notebook_sha256": nb_sha[stem],
                        "kernel": batch.kernel_name,
                        "parameters": shown,
                        "inputs": hashes[code],
                        "batch_started": batch.run_date,
                        "data_source": str(batch.data_dir),
                    },
                    warm_imports=batch.warm,
                    runtime_dir=runtime_dir,
                )
            )
    return jobs


def refused_results(batch: BatchPlan) -> list[JobResult]:
    """A ``failed`` result per notebook of each organisation that cannot run."""
    results: list[JobResult] = []
    for code, reason in batch.refused.items():
        for path in batch.nb_paths:
            results.append(JobResult.refused(code, path.stem, reason))
            log.error("%s/%s failed: %s", code, path.stem, reason)
    return results
