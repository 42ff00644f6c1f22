"""``pxlib batch``: every organisation's reports in one command.

Planning (which organisations, which notebooks, which parameters), checking
everything that can be checked before a kernel starts, staging each
organisation's inputs, running the jobs in a spawn-safe process pool (or on a
Dask cluster), and writing ``results.csv``, the resume manifest, the log and
the index page. What is checked before a kernel starts lives in
:mod:`pxlib.report.batch_setup`, the plan and its jobs in
:mod:`pxlib.report.plan`, the resume manifest in :mod:`pxlib.report.manifest`,
the process pool in :mod:`pxlib.report.pool`, the care of folders, the lock,
staging and signals in :mod:`pxlib.report.batch_guard`, the command line in
:mod:`pxlib.report.batch_cli`; one job's run in :mod:`pxlib.report.runner` and
its outcome, a :class:`~pxlib.report.job.JobResult`, in :mod:`pxlib.report.job`.

Output layout (``<out>``)::

    index.html                    one row per organisation
    results.csv                   trust_code, notebook, status, seconds, error
    batch.log                     what ran, when, and how it ended
    plotly.min.js                 written once, referenced by every report
    <org>/<notebook>.html         the report: code hidden, loads nothing from a network
    <org>/<notebook>.ipynb        the executed notebook
    <org>/<notebook>.results.json key results recorded by the notebook
    <org>/<notebook>.failed.ipynb the executed notebook with its error (failures only)
    <org>/.work-<notebook>/       while that report runs (a killed run's: removed at the next start)
    .pxlib-batch-manifest.json    what succeeded and with which inputs (for --resume)
    .pxlib-batch.lock             while a batch runs: one batch at a time per <out>

Each organisation's inputs (record-level rows, comments included) are staged
OUTSIDE ``<out>``, in a private temporary folder (``pxlib-staging-<pid>-*``,
mode 0700, in the system temp folder or ``--staging-dir``) that is removed
however the batch ends: success, failed reports, an error, Ctrl-C or SIGTERM.
A batch killed outright (SIGKILL) cannot tidy up; the next batch removes
staging folders whose process is gone. ``<out>`` is the folder people share:
it holds reports, never the staged inputs.

One batch at a time writes to an ``<out>``: a second one is refused at once,
naming the first (its PID, host and start time). The lock is held with
``flock`` (POSIX), so the operating system releases it if its holder is killed.

Exit statuses of ``pxlib batch`` (:mod:`pxlib.errors`): 0 every report made,
2 the batch could not run (bad options or inputs, a busy ``<out>``), 4 the
batch ran but some reports failed, 130 interrupted (Ctrl-C, SIGTERM).

Usage::

    pxlib batch --data data/sample --out build/reports --trusts all --notebooks 03 04 \\
        --workers 2 --param min_respondents=10 --resume
    pxlib batch --config batch.yaml        # any option as a key; paths relative to the file

    # batch.yaml
    data: ../data/sample
    out: ../build/reports
    trusts: [ZA1, ZA2]
    notebooks: ["03", "04"]
    params: {min_respondents: 10, rules: mdc}
    as_of: 2026-12-02                      # given to the notebooks that declare as_of
    aggregate_files: [organisations.csv, question_bank.csv, fft_monthly.csv, README.md]

Notebooks run with the notebooks folder as their working directory (as in
JupyterLab) and read their inputs only from ``data_dir``: the staged copy of
the organisation's own records (see :mod:`pxlib.report.isolation`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import logging
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pxlib.errors import (
    BatchError,
)
from pxlib.report import isolation
from pxlib.report.batch_guard import (
    BatchTerminated,
    OutLock,
    _kernel_runtime,
    _logging_to,
    _private_staging,
    _remove_legacy_staging,
    _remove_partial_writes,
    _sigterm_interrupts,
    _staging_base,
)
from pxlib.report.batch_setup import (
    DEFAULT_NOTEBOOKS,
    _check_kernel,
    _default_workers,
    default_notebooks_dir,
    read_organisations,
    select_notebooks,
    select_organisations,
)
from pxlib.report.io import atomic_write_text
from pxlib.report.job import RESULT_COLUMNS, Job, JobResult
from pxlib.report.kernels import block_unused_modules, notebook_imports
from pxlib.report.manifest import MANIFEST_NAME, Manifest
from pxlib.report.params import BATCH_PARAMETERS, check_as_of, validate_parameters, with_as_of
from pxlib.report.plan import BatchPlan, make_jobs, refused_results
from pxlib.report.pool import run_pool as _run_pool  # the name tests replace

__all__ = [
    "BATCH_PARAMETERS",
    "DEFAULT_NOTEBOOKS",
    "RESULT_COLUMNS",
    "run_batch",
    "select_notebooks",
    "select_organisations",
    "validate_parameters",
    "default_notebooks_dir",
]

log = logging.getLogger("pxlib.report")

LOG_NAME = "batch.log"


# --- results.csv ------------------------------------------------------------------


def _results_frame(results: list[JobResult]) -> pd.DataFrame:
    frame = pd.DataFrame([r.row() for r in results], columns=RESULT_COLUMNS)
    frame["seconds"] = pd.to_numeric(frame["seconds"]).astype(float)
    frame["error"] = frame["error"].fillna("").astype(str)
    return frame


def _write_results(path: Path, results: list[JobResult]) -> pd.DataFrame:
    frame = _results_frame(results)
    atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))
    return frame


# --- the batch ---------------------------------------------------------------------


def _run_jobs(
    batch: BatchPlan,
    to_run: list[Job],
    n_workers: int,
    runtime_dir: str | None,
    record: Callable[[JobResult], None],
) -> None:
    """Run ``to_run`` (process pool or Dask) behind a progress bar; ``record`` each row."""
    from tqdm.auto import tqdm

    bar = tqdm(
        total=len(to_run),
        desc="pxlib batch",
        unit="report",
        file=sys.stderr,
        disable=(not batch.progress) if batch.progress is not None else None,
        dynamic_ncols=True,
    )
    counts = {"ok": 0, "failed": 0}

    def on_start(running: list[str]) -> None:
        shown_running = ", ".join(sorted(running)[:3]) + ("…" if len(running) > 3 else "")
        bar.set_postfix_str(
            f"ok {counts['ok']} · failed {counts['failed']} · running {shown_running or '-'}",
            refresh=True,
        )

    def on_result(result: JobResult) -> None:
        record(result)
        counts["ok" if result.status == "ok" else "failed"] += 1
        bar.update(1)
        on_start([])

    try:
        if to_run and batch.scheduler is not None:
            from pxlib.report.dask import run_on_dask

            run_on_dask(to_run, batch.scheduler, on_result)
        elif to_run:
            init = (batch.plotlyjs, batch.kernel_name, str(batch.nb_dir), batch.warm, runtime_dir)
            _run_pool(to_run, n_workers, on_result, on_start, init)
    finally:
        bar.close()


def _execute(batch: BatchPlan, staging_root: Path, runtime_dir: str | None) -> pd.DataFrame:
    """Stage, run, write ``results.csv`` and the index (called under the ``--out`` lock)."""
    import pxlib
    from pxlib.report.index import write_index

    hashes = isolation.stage_organisations(
        batch.data_dir, staging_root, batch.codes, batch.staging_plan
    )
    manifest = Manifest(batch.out_dir / MANIFEST_NAME)
    rows = refused_results(batch)
    to_run: list[Job] = []
    for job in make_jobs(batch, staging_root, hashes, runtime_dir):
        if batch.resume and manifest.done(job, batch.out_dir):
            rows.append(JobResult.skipped(job))
            log.info("%s skipped: unchanged since its last success", job.label)
        else:
            to_run.append(job)
    n_workers = min(int(batch.workers or _default_workers()), max(1, len(to_run)))
    if batch.scheduler is None:
        # each worker keeps its kernel, reset between reports (pxlib.report.kernel_state);
        # with fresh kernels, one is warmed ahead where another job will follow
        to_run = [
            dataclasses.replace(
                job,
                warm_next=i < len(to_run) - n_workers,
                reuse_kernel=not batch.fresh_kernels,
            )
            for i, job in enumerate(to_run)
        ]
    results_path = batch.out_dir / "results.csv"
    _write_results(results_path, rows)

    def record(result: JobResult) -> None:
        rows.append(result)
        manifest.record(result)
        _write_results(results_path, rows)
        if result.status == "ok":
            log.info("%s ok in %.1f s", result.label, result.seconds)
        else:
            log.error("%s failed: %s", result.label, result.error)

    _run_jobs(batch, to_run, n_workers, runtime_dir, record)

    order = {c: i for i, c in enumerate([*batch.codes, *batch.refused])}
    nb_order = {p.stem: i for i, p in enumerate(batch.nb_paths)}
    rows.sort(key=lambda r: (order.get(r.trust_code, 1e9), nb_order.get(r.notebook, 1e9)))
    frame = _write_results(results_path, rows)
    write_index(
        batch.out_dir,
        frame,
        batch.orgs,
        [p.stem for p in batch.nb_paths],
        run_info={
            "pxlib_version": pxlib.__version__,
            "run_date": batch.run_date,
            "data_dir": str(batch.data_dir),
            "parameters": {k: v for p in batch.typed.values() for k, v in p.items()},
            "seconds": round(time.perf_counter() - batch.started, 1),
        },
    )
    log.info(
        "batch finished in %.1f s: %d ok, %d skipped, %d failed",
        time.perf_counter() - batch.started,
        int((frame["status"] == "ok").sum()),
        int((frame["status"] == "skipped").sum()),
        int((frame["status"] == "failed").sum()),
    )
    return frame


def run_batch(
    data_dir: str | Path,
    out_dir: str | Path,
    trusts: str | Sequence[str] | None = "all",
    notebooks: Sequence[str] | None = None,
    workers: int | None = None,
    resume: bool = False,
    params: Mapping[str, Any] | None = None,
    notebooks_dir: str | Path | None = None,
    kernel_name: str = "pxlib",
    *,
    scheduler: str | None = None,
    timeout: float | None = 600.0,
    start_timeout: float = 60.0,
    plotlyjs: str = "directory",
    progress: bool | None = None,
    text_params: Iterable[str] = (),
    record_files: Iterable[str] = isolation.RECORD_FILES,
    aggregate_files: Iterable[str] = isolation.AGGREGATE_FILES,
    org_filtered_files: Iterable[str] = isolation.ORG_FILTERED_AGGREGATES,
    warm_imports: Iterable[str] | None = None,
    as_of: str | _dt.date | None = None,
    staging_dir: str | Path | None = None,
    keep_staging: bool = False,
    fresh_kernels: bool = False,
) -> pd.DataFrame:
    """Run notebooks for organisations; return the results table (``results.csv``).

    ``trusts``: ``"all"`` (every trust and other provider in
    ``<data>/organisations.csv``) or a list of codes; ``notebooks``: prefixes
    (``["03", "04"]``; default 01–04); ``params``: extra notebook parameters,
    checked against each notebook's declared ones (names in ``text_params``
    are text from a command line, converted to the declared type); ``as_of``:
    a ``YYYY-MM-DD`` date given as the parameter ``as_of`` to the notebooks
    that declare one. Each organisation's notebooks read a staged copy of its
    own inputs, in a private folder under ``staging_dir`` (default: the temp
    folder; never inside ``out_dir``) removed however the batch ends, unless
    ``keep_staging`` (to debug; its place is logged). On this machine (no
    ``scheduler``) each worker keeps its kernel from one report to the next and
    clears it in between (:mod:`pxlib.report.kernel_state`: no name, cache or loaded
    input of one report is left for the next; a kernel that cannot be cleared is
    replaced); ``fresh_kernels`` starts a new kernel for every report instead, for
    notebooks that change the state of the modules they import.

    Set-up problems raise :class:`~pxlib.errors.BatchError` or
    :class:`~pxlib.errors.ParameterError` before anything is written, and so
    does another batch writing to ``out_dir``; a failing organisation is a
    ``failed`` row and never stops the others. SIGTERM (in the main thread)
    raises :class:`BatchTerminated`, a ``KeyboardInterrupt``, after clean-up.
    """
    block_unused_modules()  # before papermill imports nbformat
    import papermill

    started = time.perf_counter()
    run_date = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    data_dir = Path(data_dir).resolve()
    out_dir = Path(out_dir).resolve()
    nb_dir = Path(notebooks_dir).resolve() if notebooks_dir else default_notebooks_dir()
    if not data_dir.is_dir():
        raise BatchError(f"data folder {data_dir} does not exist")
    if plotlyjs not in ("directory", "embed"):
        raise BatchError("plotlyjs must be 'directory' or 'embed'")
    if workers is not None and int(workers) < 1:
        raise BatchError("--workers must be at least 1")
    if timeout is not None and timeout <= 0:
        timeout = None
    as_of_text = check_as_of(as_of)
    staging_base = _staging_base(staging_dir, out_dir)

    # 1. everything checkable before a kernel starts (and before anything is written)
    nb_paths = select_notebooks(nb_dir, notebooks)
    declared = {p.stem: papermill.inspect_notebook(str(p)) for p in nb_paths}
    typed = with_as_of(
        validate_parameters(params, declared, from_text=text_params), declared, as_of_text
    )
    orgs = read_organisations(data_dir)
    codes, refused = select_organisations(orgs, trusts)
    if not codes and not refused:
        raise BatchError(f"no trust or other provider in {data_dir / 'organisations.csv'}")
    if scheduler is None:
        _check_kernel(kernel_name)
    batch = BatchPlan(
        data_dir=data_dir,
        out_dir=out_dir,
        nb_dir=nb_dir,
        nb_paths=nb_paths,
        typed=typed,
        orgs=orgs,
        codes=codes,
        refused=refused,
        kernel_name=kernel_name,
        scheduler=scheduler,
        timeout=timeout,
        start_timeout=start_timeout,
        plotlyjs=plotlyjs,
        resume=resume,
        workers=workers,
        progress=progress,
        warm=tuple(warm_imports) if warm_imports is not None else notebook_imports(nb_paths),
        run_date=run_date,
        started=started,
        staging_plan=isolation.plan_staging(
            data_dir, record_files, aggregate_files, org_filtered_files
        ),
        fresh_kernels=bool(fresh_kernels),
    )

    # 2. the run: every step undone in reverse however it ends
    with contextlib.ExitStack() as undo:
        undo.enter_context(_sigterm_interrupts(forward_to_workers=scheduler is None))
        out_dir.mkdir(parents=True, exist_ok=True)
        undo.enter_context(OutLock(out_dir))  # before anything else is written to <out>
        _remove_partial_writes(out_dir)
        # at the end too, still under the lock: a worker ended mid-report leaves its work folder
        undo.callback(_remove_partial_writes, out_dir)
        undo.enter_context(_logging_to(out_dir / LOG_NAME))
        try:
            return _run_locked(batch, undo, staging_base, keep_staging)
        except KeyboardInterrupt as exc:
            how = "terminated (SIGTERM)" if isinstance(exc, BatchTerminated) else "interrupted"
            log.warning("batch %s: finished reports are kept; run again with --resume", how)
            raise


def _run_locked(
    batch: BatchPlan, undo: contextlib.ExitStack, staging_base: Path, keep_staging: bool
) -> pd.DataFrame:
    """The batch once ``<out>`` is locked and logged to: kernels' folder, plotly.js, staging."""
    import pxlib
    from pxlib.report.export import write_plotlyjs

    log.info(
        "batch started: pxlib %s, %d organisation(s), notebooks %s, data %s",
        pxlib.__version__,
        len(batch.codes) + len(batch.refused),
        ", ".join(p.stem for p in batch.nb_paths),
        batch.data_dir,
    )
    _remove_legacy_staging(batch.out_dir)
    runtime_dir = undo.enter_context(_kernel_runtime()) if batch.scheduler is None else None
    if batch.plotlyjs == "directory":
        write_plotlyjs(batch.out_dir)
    staging_root = undo.enter_context(
        _private_staging(staging_base, batch.out_dir, keep=keep_staging)
    )
    return _execute(batch, staging_root, runtime_dir)
