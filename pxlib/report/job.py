"""What a batch job is and what comes of it: :class:`Job` in, :class:`JobResult` out.

A :class:`Job` is one organisation × notebook run, plain data pickled to a
worker (a spawned process or a Dask worker). Every outcome of a job, whoever
decides it, is one :class:`JobResult`: made (``ok``), ``failed`` (a cell
error, a timeout, a kernel or worker that died, an organisation refused before
anything ran) or ``skipped`` (unchanged since its last success, ``--resume``).
Its fields are the columns of ``results.csv`` (:data:`RESULT_COLUMNS`) and the
job's resume key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pxlib.report.kernels import WARM_IMPORTS

__all__ = [
    "ERROR_LIMIT",
    "Job",
    "JobResult",
    "RESULT_COLUMNS",
    "clean_error",
    "describe_error",
]

#: the columns of ``results.csv``, in order (the fields of :class:`JobResult` but its key)
RESULT_COLUMNS: list[str] = ["trust_code", "notebook", "status", "seconds", "error"]
ERROR_LIMIT = 300
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class Job:
    """One organisation × notebook run (plain data: it is pickled to workers)."""

    trust_code: str
    notebook: str  # file stem
    notebook_path: str
    out_dir: str
    parameters: dict[str, Any]  # output_dir is set per run (a work folder)
    kernel_name: str = "pxlib"
    cwd: str | None = None
    timeout: float | None = 600.0
    start_timeout: float = 60.0
    plotlyjs: str = "directory"
    key: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    warm_imports: tuple[str, ...] = WARM_IMPORTS
    warm_next: bool = False
    runtime_dir: str | None = None  # where kernels' IPC sockets go (removed by the batch)
    #: keep the kernel, reset, for the worker's next report (see :mod:`pxlib.report.kernel_state`)
    reuse_kernel: bool = False

    @property
    def label(self) -> str:
        return f"{self.trust_code}/{self.notebook}"


def clean_error(text: object, limit: int = ERROR_LIMIT) -> str:
    """One line of error text: ANSI colours stripped, personal details redacted, truncated.

    Shown in ``results.csv`` and the index (pages every organisation shares):
    e-mail addresses, phone and NHS numbers and names after a title are
    replaced (:func:`pxlib.disclosure.redact_comments`) in case a message
    quotes data.
    """
    import pandas as pd

    from pxlib.disclosure import redact_comments

    text = " ".join(_ANSI.sub("", str(text)).split())
    text = str(redact_comments(pd.Series([text], dtype=object)).iloc[0])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_error(exc: BaseException, timeout: float | None = None) -> str:
    """What went wrong, as a facilitator reads it (before :func:`clean_error`).

    A failing cell is named by its execution count, a cell timeout by the
    limit (``timeout`` seconds); anything else is ``Type: message``.
    """
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        where = f"cell {exc.exec_count}: " if exc.exec_count is not None else ""
        return f"{where}{exc.ename}: {exc.evalue}"
    if isinstance(exc, CellTimeoutError):
        return f"CellTimeoutError: a cell ran longer than the timeout ({timeout} s)"
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class JobResult:
    """The outcome of one job: a ``results.csv`` row (:data:`RESULT_COLUMNS`) and the job's key."""

    trust_code: str
    notebook: str  # file stem
    status: str  # ok / failed / skipped
    seconds: float = 0.0
    error: str = ""
    key: str = ""  # the job's resume key (:func:`pxlib.report.manifest.job_key`), not a column

    @property
    def label(self) -> str:
        return f"{self.trust_code}/{self.notebook}"

    @classmethod
    def ok(cls, job: Job, seconds: float) -> JobResult:
        """The job made its report in ``seconds``."""
        return cls(job.trust_code, job.notebook, "ok", seconds, "", job.key)

    @classmethod
    def failed(
        cls,
        job: Job,
        error: BaseException | str,
        *,
        seconds: float = 0.0,
        timeout: float | None = None,
    ) -> JobResult:
        """The job failed: ``error`` (an exception, :func:`describe_error`, or its text) cleaned."""
        text = error if isinstance(error, str) else describe_error(error, timeout)
        return cls(job.trust_code, job.notebook, "failed", seconds, clean_error(text), job.key)

    @classmethod
    def skipped(cls, job: Job) -> JobResult:
        """The job did not run: its report is unchanged since its last success (``--resume``)."""
        return cls(job.trust_code, job.notebook, "skipped", 0.0, "", job.key)

    @classmethod
    def refused(cls, trust_code: str, notebook: str, reason: str) -> JobResult:
        """A ``failed`` row for an organisation that cannot run at all (``reason`` shown as is)."""
        return cls(trust_code, notebook, "failed", 0.0, reason)

    def row(self) -> dict[str, Any]:
        """The ``results.csv`` row: :data:`RESULT_COLUMNS` and their values."""
        return {column: getattr(self, column) for column in RESULT_COLUMNS}

    def __getitem__(self, column: str) -> Any:
        """``result["status"]``: a field read as a column, as from the row dicts of before."""
        return getattr(self, column)
