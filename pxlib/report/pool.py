"""The batch's spawn-safe process pool: jobs run in worker processes, a dying worker survived.

Each worker (``spawn``: the same on Linux, macOS and Windows) is started by
:func:`~pxlib.report.runner.worker_init` and runs
:func:`~pxlib.report.runner.execute_job` for one job at a time; every finished
job's :class:`~pxlib.report.job.JobResult` goes to ``on_result`` in the batch's
process. A worker that dies breaks the pool: :func:`run_pool` reruns the jobs it
may have been running one at a time and the others in a new pool. When the
batch is interrupted the workers are stopped, and ended if they do not stop.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from pxlib.report.job import Job, JobResult
from pxlib.report.runner import execute_job, worker_init

__all__ = ["WORKER_GRACE_SECONDS", "run_pool"]

log = logging.getLogger("pxlib.report")


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
