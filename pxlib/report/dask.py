"""Running batch jobs on a Dask distributed cluster (``pxlib batch --scheduler ADDRESS``).

Optional: needs ``dask`` and ``distributed`` (``pip install pxlib[batch-dask]``).
The jobs are the same :class:`~pxlib.report.job.Job` objects the process
pool runs, executed by :func:`~pxlib.report.runner.execute_job` on the
workers, so the outputs are the same. Requirements of the cluster:

* every worker runs ONE thread (``dask worker --nthreads 1``, or
  ``LocalCluster(threads_per_worker=1)``): a worker process keeps one HTML
  exporter and starts one kernel at a time;
* workers see the output folder at the same path (a shared file system), have
  pxlib installed and the named kernel registered in their environment;
* workers see the staged inputs too: they are staged in a private folder in
  the temp folder of the machine running ``pxlib batch``, which is enough for
  a cluster on that machine; across machines give ``--staging-dir`` on the
  shared file system (outside ``--out``).

An interrupted batch (Ctrl-C, SIGTERM) closes its client, so no new report
starts; reports already running on a worker cannot be stopped from here and
fail once their staged inputs are removed.

Kernels are not warmed ahead on a cluster: a worker cannot know whether
another job will follow, and a warmed kernel left behind would outlive it.
"""

from __future__ import annotations

from collections.abc import Callable

from pxlib.errors import BatchError
from pxlib.report.job import Job, JobResult
from pxlib.report.runner import execute_job

__all__ = ["run_on_dask"]


def _check_worker(kernel_name: str) -> str:
    """Runs on a worker: '' when the kernel exists there, else the reason."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        return f"Jupyter kernel '{kernel_name}' is not installed on worker"
    return ""


def run_on_dask(jobs: list[Job], address: str, on_result: Callable[[JobResult], None]) -> None:
    """Run ``jobs`` on the cluster at ``address``; ``on_result`` for each finished row."""
    try:
        from dask.distributed import Client, as_completed
    except ImportError as exc:
        raise BatchError(
            "--scheduler needs dask and distributed: pip install 'pxlib[batch-dask]' "
            "(or pip install dask distributed)"
        ) from exc
    try:
        client = Client(address, set_as_default=False, timeout=30)
    except OSError as exc:
        raise BatchError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    try:
        threads = client.nthreads()
        if not threads:
            raise BatchError(f"the Dask cluster at {address} has no workers")
        many = sorted(w for w, n in threads.items() if n != 1)
        if many:
            raise BatchError(
                f"Dask workers must run one thread each (start them with --nthreads 1); "
                f"{len(many)} of {len(threads)} run more"
            )
        problems = {w: p for w, p in client.run(_check_worker, jobs[0].kernel_name).items() if p}
        if problems:
            raise BatchError(f"{next(iter(problems.values()))} {next(iter(problems))}")
        with client.as_current():
            futures = {
                client.submit(
                    execute_job, job, pure=False, key=f"pxlib-batch-{job.key[:12]}-{job.label}"
                ): job
                for job in jobs
            }
            for fut in as_completed(list(futures)):
                job = futures[fut]
                try:
                    row = fut.result()
                except Exception as exc:  # the worker died (KilledWorker ...)
                    row = JobResult.failed(job, exc)
                on_result(row)
    finally:
        client.close()
