"""``pxlib batch``: every organisation's reports in one command.

Planning (which organisations, which notebooks, which parameters), checking
everything that can be checked before a kernel starts, staging each
organisation's inputs, running the jobs in a spawn-safe process pool (or on a
Dask cluster), and writing ``results.csv``, the resume manifest, the log and
the index page. What is checked before a kernel starts lives in
:mod:`pxlib.report.batch_setup`, the care of folders, the lock, staging and
signals in :mod:`pxlib.report.batch_guard`, the command line in
:mod:`pxlib.report.batch_cli`; one job's run in :mod:`pxlib.report.runner`.

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
import hashlib
import json
import logging
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
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
    BATCH_PARAMETERS,
    DEFAULT_NOTEBOOKS,
    _check_kernel,
    _default_workers,
    check_as_of,
    default_notebooks_dir,
    read_organisations,
    select_notebooks,
    select_organisations,
    validate_parameters,
    with_as_of,
)
from pxlib.report.io import atomic_write_text
from pxlib.report.job import RESULT_COLUMNS, Job, JobResult
from pxlib.report.kernels import notebook_imports
from pxlib.report.provenance import python_version
from pxlib.report.runner import execute_job, worker_init

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


MANIFEST_NAME = ".pxlib-batch-manifest.json"
LOG_NAME = "batch.log"


# --- manifest, results ------------------------------------------------------------


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _job_key(
    pxlib_version: str,
    notebook_sha: str,
    params: Mapping[str, Any],
    inputs: Mapping[str, str],
    extra: Mapping[str, Any],
) -> str:
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
    return _sha256_bytes(blob.encode())


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
        entry = self.jobs.get(job.label)
        folder = out_dir / job.trust_code
        return bool(
            entry
            and entry.get("key") == job.key
            and (folder / f"{job.notebook}.html").is_file()
            and (folder / f"{job.notebook}.ipynb").is_file()
        )

    def record(self, result: JobResult) -> None:
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


def _results_frame(results: list[JobResult]) -> pd.DataFrame:
    frame = pd.DataFrame([r.row() for r in results], columns=RESULT_COLUMNS)
    frame["seconds"] = pd.to_numeric(frame["seconds"]).astype(float)
    frame["error"] = frame["error"].fillna("").astype(str)
    return frame


def _write_results(path: Path, results: list[JobResult]) -> pd.DataFrame:
    frame = _results_frame(results)
    atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))
    return frame


# --- executing jobs -------------------------------------------------------------------


def _pool_pass(
    jobs: list[Job],
    workers: int,
    on_result: Callable[[JobResult], None],
    on_start: Callable[[list[str]], None],
    init: tuple[Any, ...],
) -> tuple[list[Job], set[str]]:
    """One process pool over ``jobs``: (jobs lost to a broken pool, labels seen running)."""
    broken: list[Job] = []
    seen_running: set[str] = set()
    with ProcessPoolExecutor(
        max_workers=min(workers, len(jobs)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=worker_init,
        initargs=init,
    ) as pool:
        futures = {pool.submit(execute_job, job): job for job in jobs}
        pending = set(futures)
        try:
            while pending:
                running = [futures[f].label for f in pending if f.running()]
                seen_running.update(running)
                on_start(running[:workers])
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = futures[fut]
                    try:
                        row = fut.result()
                    except BrokenProcessPool:
                        broken.append(job)
                        continue
                    except Exception as exc:  # pragma: no cover - execute_job catches
                        row = JobResult.failed(job, exc)
                    on_result(row)
        except BaseException:
            # the executor has no public handle on its processes
            workers_now = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            _stop_workers(workers_now)
            raise
    return broken, seen_running


#: seconds an interrupted worker has to stop its notebook and kernel before it is ended
WORKER_GRACE_SECONDS = 10.0


def _stop_workers(processes: list[multiprocessing.Process]) -> None:
    """End the pool's workers after an interruption, so leaving the pool never waits for a cell.

    Each worker was sent SIGINT and normally stops its notebook and shuts its
    kernel down at once; one still running after :data:`WORKER_GRACE_SECONDS`
    (a cell that ignores the interruption) is terminated, then killed.
    """
    deadline = time.monotonic() + WORKER_GRACE_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            log.warning("worker %s did not stop when interrupted; ending it", process.pid)
            process.terminate()
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(5)


def _run_pool(
    jobs: list[Job],
    workers: int,
    on_result: Callable[[JobResult], None],
    on_start: Callable[[list[str]], None],
    init: tuple[Any, ...],
) -> None:
    """Jobs in a spawn-safe process pool; ``on_result`` for each finished row.

    Should a worker process die, the pool is broken for every job in it: the
    jobs that were running then are run again one at a time, each in a pool
    of its own (a job that kills that one too is recorded as failed), and the
    others go to a new pool. One organisation cannot stop the others.
    """
    remaining = list(jobs)
    while remaining:
        broken, seen_running = _pool_pass(remaining, workers, on_result, on_start, init)
        suspects = [j for j in broken if j.label in seen_running] or broken
        remaining = [j for j in broken if j not in suspects]
        if broken:
            log.warning(
                "a worker process died: %d report(s) rerun alone, %d in a new pool",
                len(suspects),
                len(remaining),
            )
        for job in suspects:
            lost, _ = _pool_pass([job], 1, on_result, on_start, init)
            if lost:
                on_result(JobResult.failed(job, "WorkerDied: the process running this report died"))


# --- the batch ---------------------------------------------------------------------


@dataclasses.dataclass
class _Batch:
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


def _make_jobs(
    batch: _Batch,
    staging_root: Path,
    hashes: Mapping[str, Mapping[str, str]],
    runtime_dir: str | None,
) -> list[Job]:
    """One job per organisation × notebook, reading the organisation's staged inputs."""
    import pxlib

    nb_sha = {p.stem: _sha256_bytes(p.read_bytes()) for p in batch.nb_paths}
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
            key = _job_key(
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


def _refused_results(batch: _Batch) -> list[JobResult]:
    """A ``failed`` result per notebook of each organisation that cannot run."""
    results: list[JobResult] = []
    for code, reason in batch.refused.items():
        for path in batch.nb_paths:
            results.append(JobResult.refused(code, path.stem, reason))
            log.error("%s/%s failed: %s", code, path.stem, reason)
    return results


def _run_jobs(
    batch: _Batch,
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


def _execute(batch: _Batch, staging_root: Path, runtime_dir: str | None) -> pd.DataFrame:
    """Stage, run, write ``results.csv`` and the index (called under the ``--out`` lock)."""
    import pxlib
    from pxlib.report.index import write_index

    hashes = isolation.stage_organisations(
        batch.data_dir, staging_root, batch.codes, batch.staging_plan
    )
    manifest = Manifest(batch.out_dir / MANIFEST_NAME)
    rows = _refused_results(batch)
    to_run: list[Job] = []
    for job in _make_jobs(batch, staging_root, hashes, runtime_dir):
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
    batch = _Batch(
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
    batch: _Batch, undo: contextlib.ExitStack, staging_base: Path, keep_staging: bool
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
