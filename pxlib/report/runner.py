"""Running one organisation–notebook job: the code that runs inside a worker.

A job is executed with papermill *in process* (no ``papermill`` CLI start-up)
against a kernel that the worker started ahead of time, and exported to HTML
by one :class:`~pxlib.report.export.ReportExporter` reused for every report of
the worker. With ``Job.reuse_kernel`` (the local batch's default) the worker
keeps its kernel and, before each report but the first, puts it back as new
(:mod:`pxlib.report.kernel_state`: no name, setting, cache or loaded input of one
report is left for the next); a kernel that cannot be reset, or whose report
failed, is shut down and a new one started. Otherwise (``--fresh-kernels``, a
Dask cluster) each kernel serves ONE report and is shut down after it, and the
next one is started, with numpy, pandas, plotly and pxlib imported, while the
previous report runs.

Outputs are written so that a killed run never leaves a report that looks
complete: the notebook writes into a work folder, and only after a successful
run are its files moved beside the reports and the ``.ipynb`` and ``.html``
written atomically (temporary file, then ``os.replace``).

The worker's kernels (starting, keeping, resetting, the papermill engine) are
in :mod:`pxlib.report.kernels`, the job and its outcome in
:mod:`pxlib.report.job`, the provenance table in :mod:`pxlib.report.provenance`.
Everything here must be importable in a spawned process (Windows, macOS) and
on a Dask worker: module-level functions and plain-data jobs only.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from pxlib.report.export import ReportExporter, strip_plotlyjs
from pxlib.report.io import atomic_write_text
from pxlib.report.job import Job, JobResult, clean_error
from pxlib.report.kernels import (
    WARM_IMPORTS,
    block_unused_modules,
    keep_kernel,
    notebook_imports,
    register_engine,
    start_worker_kernel,
    warm_ahead,
)
from pxlib.report.kernels import take_kernel as _take_kernel  # the name tests replace
from pxlib.report.provenance import add_provenance
from pxlib.report.results import RESULTS_SUFFIX

__all__ = [
    "Job",
    "JobResult",
    "execute_job",
    "execute_jobs",
    "clean_error",
    "WARM_IMPORTS",
    "notebook_imports",
    "worker_init",
]

log = logging.getLogger("pxlib.report")

#: the worker's HTML exporter, reused for every report it makes
_EXPORTER: dict[str, ReportExporter] = {}


def _exporter(plotlyjs: str) -> ReportExporter:
    exp = _EXPORTER.get("exporter")
    if exp is None or exp.plotlyjs != plotlyjs:
        exp = _EXPORTER["exporter"] = ReportExporter(plotlyjs=plotlyjs)  # type: ignore[arg-type]
    return exp


def worker_init(
    plotlyjs: str = "directory",
    kernel_name: str | None = None,
    cwd: str | None = None,
    warm_imports: tuple[str, ...] = WARM_IMPORTS,
    runtime_dir: str | None = None,
) -> None:
    """Pool initializer: build the exporter and start a first kernel while the pool fills."""
    block_unused_modules()
    start_worker_kernel(kernel_name, cwd, warm_imports, runtime_dir)
    _exporter(plotlyjs)


# --- one job ---------------------------------------------------------------------


class _KernelStartError(Exception):
    pass


def _is_kernel_failure(exc: BaseException) -> bool:
    """A kernel that failed to start or died (worth one retry), not a failing cell."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError | CellTimeoutError):
        return False
    if isinstance(exc, DeadKernelError | _KernelStartError | TimeoutError):
        return True
    try:
        import zmq

        if isinstance(exc, zmq.ZMQError):
            return True
    except ImportError:  # pragma: no cover
        pass
    msg = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("kernel" in msg or "address already in use" in msg)


def _promote(work: Path, dest: Path, skip: set[str]) -> None:
    """Move what the notebook wrote in ``work`` beside the reports (replacing)."""
    for item in sorted(work.iterdir()):
        if item.name in skip:
            continue
        target = dest / item.name
        if item.is_dir():
            if target.exists():
                shutil.rmtree(target)
        os.replace(item, target)


def _remove_stale(dest: Path, stem: str) -> None:
    for suffix in (".html", ".ipynb", RESULTS_SUFFIX):
        (dest / f"{stem}{suffix}").unlink(missing_ok=True)


def _run_once(job: Job, work: Path, partial: Path, engine: str) -> Any:
    """The executed notebook (its kernel kept for the next report if it may be, else shut down)."""
    import nbformat
    import papermill

    nb_in = nbformat.read(job.notebook_path, as_version=4)
    try:
        kernel = _take_kernel(job)
    except Exception as exc:
        raise _KernelStartError(f"the kernel '{job.kernel_name}' did not start: {exc}") from exc
    if job.warm_next and not job.reuse_kernel:
        warm_ahead(job)
    params = {**job.parameters, "output_dir": str(work)}
    keep = False
    try:
        if job.reuse_kernel and not kernel.reports:
            kernel.reusable = kernel.snapshot(job.start_timeout)
        nb = papermill.execute_notebook(
            nb_in,
            str(partial),
            parameters=params,
            engine_name=engine,
            kernel_name=job.kernel_name,
            progress_bar=False,
            request_save_on_cell_execute=False,
            start_timeout=job.start_timeout,
            execution_timeout=job.timeout,
            pxlib_kernel=kernel,
        )
        keep = job.reuse_kernel and kernel.reusable
        return nb
    finally:
        # a kernel whose report failed (a cell error, a timeout, a dead kernel) is never reused
        if keep:
            keep_kernel(kernel)
        else:
            kernel.shutdown()


def _make_report(job: Job, dest: Path, work: Path, partial: Path) -> None:
    """Run the notebook (one retry after a kernel failure), then write its report beside the others."""
    import nbformat

    engine = register_engine()
    dest.mkdir(parents=True, exist_ok=True)
    nb = None
    for attempt in (1, 2):
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        try:
            nb = _run_once(job, work, partial, engine)
            break
        except Exception as exc:
            if attempt == 1 and _is_kernel_failure(exc):
                log.warning("%s: kernel failure (%s), retrying once", job.label, type(exc).__name__)
                continue
            raise
    run_date = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    add_provenance(nb, job.provenance, run_date)
    _promote(work, dest, skip={partial.name})
    atomic_write_text(dest / f"{job.notebook}.ipynb", nbformat.writes(strip_plotlyjs(nb)))
    page = _exporter(job.plotlyjs).export(
        nb, title=f"{job.notebook} – {job.trust_code}", plotlyjs_src="../plotly.min.js"
    )
    atomic_write_text(dest / f"{job.notebook}.html", page)
    (dest / f"{job.notebook}.failed.ipynb").unlink(missing_ok=True)


def _keep_failure(dest: Path, stem: str, partial: Path) -> None:
    """No report that looks made; the executed notebook with its error kept for the team."""
    try:
        _remove_stale(dest, stem)
        if partial.exists():
            os.replace(partial, dest / f"{stem}.failed.ipynb")
    except OSError:
        pass


def execute_job(job: Job) -> JobResult:
    """Run one job; never raises (but ``KeyboardInterrupt``, ``SystemExit``): its result."""
    t0 = time.perf_counter()
    dest = Path(job.out_dir) / job.trust_code
    work = dest / f".work-{job.notebook}"
    partial = work / f".{job.notebook}.partial.ipynb"
    error: Exception | None = None
    try:
        _make_report(job, dest, work, partial)
    except Exception as exc:
        error = exc
        _keep_failure(dest, job.notebook, partial)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seconds = round(time.perf_counter() - t0, 3)
    if error is None:
        return JobResult.ok(job, seconds)
    return JobResult.failed(job, error, seconds=seconds, timeout=job.timeout)


def execute_jobs(jobs: list[Job], finished: Any = None) -> list[JobResult]:
    """Run ``jobs`` one after another in this worker (one organisation's reports, so that
    its kernel serves them all); never raises (but ``KeyboardInterrupt``, ``SystemExit``).

    ``finished``: a queue that gets each result as soon as its report is made, so the
    batch records it at once (an interrupted run keeps every report already made).
    """
    results = []
    for job in jobs:
        result = execute_job(job)
        if finished is not None:
            finished.put(result)
        results.append(result)
    return results
