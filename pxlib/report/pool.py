"""The batch's spawn-safe process pool: jobs run in worker processes, a dying worker survived.

Each worker (``spawn``: the same on Linux, macOS and Windows) is started by
:func:`~pxlib.report.runner.worker_init` and runs one organisation's reports at a
time, one after another (:func:`organisation_chunks`,
:func:`~pxlib.report.runner.execute_jobs`), so that the kernel it keeps reuses the
inputs it loaded and weighted for that organisation's first report; every finished
job's :class:`~pxlib.report.job.JobResult` goes to ``on_result`` in the batch's
process. A worker that dies breaks the pool: :func:`run_pool` reruns the jobs it
may have been running one at a time and the others in a new pool. When the
batch is interrupted the workers are stopped, and ended if they do not stop.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from pxlib.report import runner
from pxlib.report.job import Job, JobResult
from pxlib.report.runner import worker_init

__all__ = ["WORKER_GRACE_SECONDS", "organisation_chunks", "run_pool"]

log = logging.getLogger("pxlib.report")


def organisation_chunks(jobs: list[Job], workers: int) -> list[list[Job]]:
    """The jobs a worker takes at once: every report of one organisation, in order.

    Only for jobs that keep their kernel (``reuse_kernel``); others go one at a time.
    With fewer organisations than workers, the largest chunks are halved until each
    worker has one (or every chunk holds a single report), so no core stands idle.
    """
    if not all(job.reuse_kernel for job in jobs):
        return [[job] for job in jobs]
    by_org: dict[str, list[Job]] = {}
    for job in jobs:
        by_org.setdefault(job.trust_code, []).append(job)
    chunks = list(by_org.values())
    while len(chunks) < workers:
        largest = max(range(len(chunks)), key=lambda i: len(chunks[i]))
        chunk = chunks[largest]
        if len(chunk) < 2:
            break
        half = (len(chunk) + 1) // 2
        chunks[largest : largest + 1] = [chunk[:half], chunk[half:]]
    return chunks


_FINISHED: Any = None  # in a worker: the queue its results go to as they are made


def _start_worker(finished: Any, init: tuple[Any, ...]) -> None:
    """Pool initializer: note the results queue, then :func:`~pxlib.report.runner.worker_init`."""
    global _FINISHED
    _FINISHED = finished
    worker_init(*init)


def _run_chunk(chunk: list[Job]) -> list[JobResult]:
    return runner.execute_jobs(chunk, _FINISHED)


def _running_label(chunk: list[Job]) -> str:
    return chunk[0].label if len(chunk) == 1 else chunk[0].trust_code


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
    chunks = organisation_chunks(jobs, workers)
    context = multiprocessing.get_context("spawn")
    finished = context.Queue()  # each result as its report is made
    delivered: set[str] = set()

    def deliver(row: JobResult) -> None:
        if row.label not in delivered:
            delivered.add(row.label)
            on_result(row)

    def drain() -> None:
        while True:
            try:
                deliver(finished.get_nowait())
            except queue.Empty:
                return

    with ProcessPoolExecutor(
        max_workers=min(workers, len(chunks)),
        mp_context=context,
        initializer=_start_worker,
        initargs=(finished, init),
    ) as pool:
        futures = {pool.submit(_run_chunk, chunk): chunk for chunk in chunks}
        pending = set(futures)
        try:
            while pending:
                running = [futures[f] for f in pending if f.running()]
                seen_running.update(job.label for chunk in running for job in chunk)
                on_start([_running_label(chunk) for chunk in running][:workers])
                try:  # woken by each report made, or after half a second
                    deliver(finished.get(timeout=0.5))
                    drain()
                except queue.Empty:
                    pass
                done = {f for f in pending if f.done()}
                pending -= done
                for fut in done:
                    chunk = futures[fut]
                    try:
                        rows = fut.result()
                    except BrokenProcessPool:
                        drain()
                        broken.extend(job for job in chunk if job.label not in delivered)
                        continue
                    except Exception as exc:  # pragma: no cover - execute_job catches
                        rows = [JobResult.failed(job, exc) for job in chunk]
                    for row in rows:
                        deliver(row)
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


def run_pool(
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
