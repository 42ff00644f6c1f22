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

Everything here must be importable in a spawned process (Windows, macOS) and
on a Dask worker: module-level functions and plain-data jobs only.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pxlib.report.export import strip_plotlyjs
from pxlib.report.io import atomic_write_text
from pxlib.report.results import RESULTS_SUFFIX

__all__ = ["Job", "execute_job", "clean_error", "WARM_IMPORTS", "notebook_imports", "worker_init"]

log = logging.getLogger("pxlib.report")

#: modules imported into a kernel while it waits for its report (no names bound),
#: besides those the notebooks import themselves (see :func:`notebook_imports`)
WARM_IMPORTS: tuple[str, ...] = ("numpy", "pandas", "plotly.graph_objects", "plotly.io")
#: imported when a notebook uses plotly: setting a plotly renderer imports nbformat,
#: whose JSON-schema validator takes over a second to import
_PLOTLY_EXTRAS: tuple[str, ...] = ("plotly.io", "nbformat")
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


def notebook_imports(
    paths: Iterable[str | Path], base: Iterable[str] = WARM_IMPORTS
) -> tuple[str, ...]:
    """Modules the notebooks import (top-level ``import`` / ``from ... import`` of code cells).

    A kernel started ahead imports these while the previous report runs, so
    the notebook's own import cell finds them loaded. Only absolute imports;
    cells that do not parse (magics) are read line by line.
    """
    import ast

    import nbformat

    found: dict[str, None] = dict.fromkeys(base)
    for path in paths:
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            source = "\n".join(
                line
                for line in str(cell.source).splitlines()
                if not line.lstrip().startswith(("%", "!"))
            )
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    found.update(dict.fromkeys(alias.name for alias in node.names))
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found[node.module] = None
    if any(m.split(".")[0] in ("plotly", "pxlib") for m in found):
        found.update(dict.fromkeys(_PLOTLY_EXTRAS))
    return tuple(m for m in found if m.split(".")[0] not in ("__future__",))


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


# --- per-worker state ---------------------------------------------------------

_STATE: dict[str, Any] = {"exporter": None, "kernel": None, "finalizer": None, "engine": None}


def _exporter(plotlyjs: str):
    from pxlib.report.export import ReportExporter

    exp = _STATE["exporter"]
    if exp is None or exp.plotlyjs != plotlyjs:
        exp = _STATE["exporter"] = ReportExporter(plotlyjs=plotlyjs)
    return exp


#: optional modules a report kernel does without. ``rfc3987_syntax`` (pulled in by
#: ``jsonschema[format-nongpl]``) builds a parser for one rarely used JSON-schema
#: format ("iri") at import, costing about 1.5 s of CPU in every kernel that
#: draws a plotly figure (plotly imports nbformat, nbformat imports jsonschema).
#: Without it jsonschema simply does not check that format.
KERNEL_BLOCKED_MODULES: tuple[str, ...] = ("rfc3987_syntax",)


def _warm_code(modules: tuple[str, ...]) -> str:
    """What a kernel runs as it starts (``exec_lines``): no name is left in its namespace.

    With pxlib in the kernel, :func:`pxlib.report.kernel_state.prepare` blocks
    :data:`KERNEL_BLOCKED_MODULES`, imports ``modules`` and takes the snapshot that
    lets the kernel be reset for another report; without it (another
    environment's kernel) the modules are imported and the kernel serves one report.
    """
    return (
        "try:\n"
        "    __import__('pxlib.report.kernel_state', fromlist=['prepare']).prepare(\n"
        f"        {list(KERNEL_BLOCKED_MODULES)!r}, {list(modules)!r})\n"
        "except ImportError:\n"
        "    import sys as _pxlib_sys\n"
        f"    for _pxlib_m in {list(KERNEL_BLOCKED_MODULES)!r}:\n"
        "        _pxlib_sys.modules.setdefault(_pxlib_m, None)\n"
        "    import importlib as _pxlib_il\n"
        f"    for _pxlib_m in {list(modules)!r}:\n"
        "        try:\n"
        "            _pxlib_il.import_module(_pxlib_m)\n"
        "        except Exception:\n"
        "            pass\n"
        "    del _pxlib_sys, _pxlib_il, _pxlib_m\n"
    )


def _is_ipykernel(km) -> bool:
    """Whether ``km`` starts an IPython kernel (which takes IPython's options)."""
    try:
        argv = km.kernel_spec.argv
    except Exception:
        return False
    return any("ipykernel" in str(arg) for arg in argv)


def _start_kernel(
    kernel_name: str,
    cwd: str | None,
    warm_imports: tuple[str, ...],
    runtime_dir: str | None = None,
):
    """Start (not wait for) a kernel; it imports ``warm_imports`` before it is ready."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    km = AsyncKernelManager(kernel_name=kernel_name)
    if os.name == "posix":
        # IPC sockets: no TCP port race between parallel kernels (papermill #511),
        # and no unencrypted TCP traffic.
        folder = Path(runtime_dir) if runtime_dir else Path(tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        base = folder / f"pxk-{uuid.uuid4().hex[:12]}"
        km.transport = "ipc"
        km.connection_file = f"{base}.json"
        km.ip = f"{base}-ipc"
    extra = [f"--IPKernelApp.exec_lines={_warm_code(tuple(warm_imports))}"]
    if _is_ipykernel(km):
        # as nbclient does for the kernels it starts: no code history written to disk
        extra.append("--HistoryManager.hist_file=:memory:")
    run_sync(km.start_kernel)(
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        extra_arguments=extra,
    )
    return _Kernel(km)


#: seconds a kernel has to reset itself between two reports (else a new one is started)
RESET_TIMEOUT = 60.0
#: reports one kernel makes before it is replaced by a new one (memory does not grow unbounded)
MAX_REPORTS_PER_KERNEL = 100


_KERNEL_STATE = "__import__('pxlib.report.kernel_state', fromlist=['reset'])"


class _Kernel:
    """A started kernel, its client, and how many reports it has made."""

    def __init__(self, km) -> None:
        self.km = km
        self.kc = None
        self.reports = 0
        self.reusable = False  # its state was recorded before its first report
        self.spec: tuple[Any, ...] | None = None

    def alive(self) -> bool:
        from jupyter_core.utils import run_sync

        try:
            return bool(self.km.has_kernel and run_sync(self.km.is_alive)())
        except Exception:
            return False

    def client(self, timeout: float):
        """The kernel's client (one for the kernel's life), once the kernel is ready."""
        from jupyter_core.utils import run_sync

        if self.kc is None:
            kc = self.km.client()
            kc.start_channels()
            try:
                run_sync(kc.wait_for_ready)(timeout=timeout)
            except BaseException:
                kc.stop_channels()
                raise
            kc.allow_stdin = False
            self.kc = kc
        return self.kc

    def _call(self, expression: str, timeout: float) -> str:
        """``repr`` of ``expression`` evaluated in the kernel (binding no name), or raise."""
        from jupyter_core.utils import run_sync

        kc = self.client(timeout)
        reply = run_sync(kc.execute_interactive)(
            "",
            silent=True,
            store_history=False,
            user_expressions={"r": expression},
            timeout=timeout,
            output_hook=lambda msg: None,
        )
        content = reply.get("content", {})
        result = content.get("user_expressions", {}).get("r", {})
        if content.get("status") != "ok" or result.get("status") != "ok":
            raise RuntimeError(str(result.get("evalue") or content.get("evalue") or "failed"))
        return str(result.get("data", {}).get("text/plain", ""))

    def snapshot(self, timeout: float) -> bool:
        """Record the new kernel's state just before its first report; False: do not reuse it."""
        try:
            return self._call(f"{_KERNEL_STATE}.snapshot()", timeout) == "True"
        except Exception as exc:  # a kernel without pxlib: one report only
            log.debug("kernel state not recorded (%s): one report per kernel", exc)
            return False

    def reset(self, data_dir: str | None, timeout: float = RESET_TIMEOUT) -> str:
        """Clear the kernel for another report (:func:`pxlib.report.kernel_state.reset`).

        Returns "" when the kernel is as new, else why it is not (then it must not be used).
        """
        try:
            text = self._call(
                f"({_KERNEL_STATE}.reset({data_dir!r}), get_ipython().execution_count)", timeout
            )
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return "" if text == "([], 1)" else text

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        try:
            if self.kc is not None:
                self.kc.stop_channels()
        except Exception:
            pass
        self.kc = None
        try:
            if self.km.has_kernel:
                run_sync(self.km.shutdown_kernel)(now=True)
            run_sync(self.km.cleanup_resources)()
        except Exception:  # a kernel that is already gone
            pass


def _shutdown(kernel) -> None:
    kernel.shutdown()


def _shutdown_warm() -> None:
    kernel = _STATE.get("kernel")
    _STATE["kernel"] = None
    if kernel is not None:
        _shutdown(kernel)


def _spec(job: Job) -> tuple[Any, ...]:
    return (job.kernel_name, job.cwd, tuple(job.warm_imports), job.runtime_dir)


def _take_kernel(job: Job):
    """The worker's kernel for this kind of job, reset if it made a report already, or a new one.

    A kernel that cannot be reset (or has made :data:`MAX_REPORTS_PER_KERNEL`
    reports) is shut down and a new one started.
    """
    spec = _spec(job)
    kernel = _STATE.get("kernel")
    _STATE["kernel"] = None
    if kernel is not None:
        usable = kernel.spec == spec and kernel.alive()
        if usable and kernel.reports:
            why = (
                "it made no snapshot"
                if not kernel.reusable
                else "it made enough reports"
                if kernel.reports >= MAX_REPORTS_PER_KERNEL
                else kernel.reset(job.parameters.get("data_dir"))
            )
            if why:
                log.info("%s: a new kernel (the last one is not reused: %s)", job.label, why)
                usable = False
        if usable:
            return kernel
        _shutdown(kernel)
    kernel = _start_kernel(*spec)
    kernel.spec = spec
    return kernel


def _keep_kernel(kernel) -> None:
    """Keep ``kernel`` for the worker's next report (the one kept before is shut down)."""
    kernel.reports += 1
    old = _STATE.get("kernel")
    _STATE["kernel"] = kernel
    if old is not None and old is not kernel:
        _shutdown(old)


def _warm_ahead(job: Job) -> None:
    if _STATE.get("kernel") is None:
        spec = _spec(job)
        try:
            kernel = _start_kernel(*spec)
            kernel.spec = spec
            _STATE["kernel"] = kernel
        except Exception as exc:  # the next job starts its own kernel
            log.debug("could not warm a kernel ahead: %s", exc)


def worker_init(
    plotlyjs: str = "directory",
    kernel_name: str | None = None,
    cwd: str | None = None,
    warm_imports: tuple[str, ...] = WARM_IMPORTS,
    runtime_dir: str | None = None,
) -> None:
    """Pool initializer: build the exporter and start a first kernel while the pool fills."""
    import atexit
    import multiprocessing.util

    if _STATE["finalizer"] is None:
        _STATE["finalizer"] = multiprocessing.util.Finalize(None, _shutdown_warm, exitpriority=10)
        atexit.register(_shutdown_warm)
    if kernel_name:
        spec = (kernel_name, cwd, tuple(warm_imports), runtime_dir)
        try:
            kernel = _start_kernel(*spec)
            kernel.spec = spec
            _STATE["kernel"] = kernel
        except Exception as exc:
            log.debug("could not warm a kernel at worker start: %s", exc)
    _exporter(plotlyjs)


# --- papermill engine that runs a notebook on the worker's kernel ------------------------


def _register_engine() -> str:
    """A papermill engine like nbclient's, on our pre-started kernel and client, left running."""
    from papermill.engines import NBClientEngine, papermill_engines

    name = "pxlib-nbclient"
    if _STATE.get("engine"):
        return name

    class _Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            from papermill.clientwrap import PapermillNotebookClient
            from papermill.engines import logger
            from papermill.utils import merge_kwargs, remove_args

            kwargs = remove_args(["input_path"], **kwargs)
            kernel = kwargs.pop("pxlib_kernel")
            start_timeout = kwargs.pop("start_timeout", 60)
            execution_timeout = kwargs.pop("execution_timeout", None)
            final = merge_kwargs(
                remove_args(["timeout", "startup_timeout"], **kwargs),
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
            )
            client = PapermillNotebookClient(nb_man, km=kernel.km, **final)
            # the kernel's own client, kept with it; the caller shuts the kernel down
            # or keeps it for the next report
            client.kc = kernel.client(start_timeout)
            return client.execute(cleanup_kc=False)

    papermill_engines.register(name, _Engine)
    _STATE["engine"] = name
    return name


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


def _error_text(exc: BaseException, timeout: float | None) -> str:
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        where = f"cell {exc.exec_count}: " if exc.exec_count is not None else ""
        return clean_error(f"{where}{exc.ename}: {exc.evalue}")
    if isinstance(exc, CellTimeoutError):
        return clean_error(f"CellTimeoutError: a cell ran longer than the timeout ({timeout} s)")
    return clean_error(f"{type(exc).__name__}: {exc}")


def _param_text(value: Any) -> str:
    """A parameter's value as typed in a parameters cell, without Python's quotes."""
    if isinstance(value, str):
        return value if value else "(empty)"
    if isinstance(value, list | tuple):
        return ", ".join(map(_param_text, value)) or "(none)"
    return str(value)


def _provenance_html(prov: dict[str, Any], run_date: str) -> str:
    """One table: the software, the notebook, when, the data folder, each parameter and input file."""
    from pxlib import fmt
    from pxlib.escape import html_text as esc

    def row(what: str, value: str, code: bool = False) -> str:
        shown = f"<code>{esc(value)}</code>" if code else esc(value)
        return f'<tr><th scope="row">{esc(what)}</th><td>{shown}</td></tr>'

    when = fmt.date(run_date) + (f", {run_date[11:16]} UTC" if len(run_date) >= 16 else "")
    rows = [
        row("pxlib", str(prov.get("pxlib_version", ""))),
        row("Python", str(prov.get("python", ""))),
        row(
            "Notebook",
            f"{prov.get('notebook', '')} (sha256 {str(prov.get('notebook_sha256', ''))[:16]}…)",
        ),
        row("Kernel", str(prov.get("kernel", ""))),
        row("Run", when),
        row("Data folder", f"{prov.get('data_source', '')} (this organisation's rows only)"),
        *(row(f"Parameter: {k}", _param_text(v)) for k, v in prov.get("parameters", {}).items()),
        *(
            row(f"Input: {name}", f"sha256 {digest}", code=True)
            for name, digest in prov.get("inputs", {}).items()
        ),
    ]
    return (
        '<div class="pxlib-provenance">\n<h2>How this report was made</h2>\n'
        f"<table>{''.join(rows)}</table>\n</div>"
    )


def _add_provenance(nb, job: Job, run_date: str) -> None:
    import nbformat

    prov = {**job.provenance, "run_date": run_date}
    nb.metadata["pxlib"] = prov
    cell = nbformat.v4.new_markdown_cell(_provenance_html(prov, run_date))
    cell.metadata["tags"] = ["pxlib-provenance"]
    nb.cells.append(cell)


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


def _run_once(job: Job, work: Path, partial: Path, engine: str):
    import nbformat
    import papermill

    nb_in = nbformat.read(job.notebook_path, as_version=4)
    try:
        kernel = _take_kernel(job)
    except Exception as exc:
        raise _KernelStartError(f"the kernel '{job.kernel_name}' did not start: {exc}") from exc
    if job.warm_next and not job.reuse_kernel:
        _warm_ahead(job)
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
            _keep_kernel(kernel)
        else:
            _shutdown(kernel)


def execute_job(job: Job) -> dict[str, Any]:
    """Run one job; never raises. Returns the results.csv row (plus ``key``)."""
    import nbformat

    t0 = time.perf_counter()
    dest = Path(job.out_dir) / job.trust_code
    work = dest / f".work-{job.notebook}"
    partial = work / f".{job.notebook}.partial.ipynb"
    row: dict[str, Any] = {
        "trust_code": job.trust_code,
        "notebook": job.notebook,
        "status": "failed",
        "seconds": 0.0,
        "error": "",
        "key": job.key,
    }
    try:
        engine = _register_engine()
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
                    log.warning(
                        "%s: kernel failure (%s), retrying once", job.label, type(exc).__name__
                    )
                    continue
                raise
        run_date = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        _add_provenance(nb, job, run_date)
        _promote(work, dest, skip={partial.name})
        atomic_write_text(dest / f"{job.notebook}.ipynb", nbformat.writes(strip_plotlyjs(nb)))
        page = _exporter(job.plotlyjs).export(
            nb, title=f"{job.notebook} – {job.trust_code}", plotlyjs_src="../plotly.min.js"
        )
        atomic_write_text(dest / f"{job.notebook}.html", page)
        (dest / f"{job.notebook}.failed.ipynb").unlink(missing_ok=True)
        row["status"] = "ok"
    except BaseException as exc:
        if not isinstance(exc, Exception):  # KeyboardInterrupt / SystemExit: let it end the worker
            raise
        row["error"] = _error_text(exc, job.timeout)
        try:
            _remove_stale(dest, job.notebook)
            if (
                partial.exists()
            ):  # the executed notebook with its error, for the organisation's team
                os.replace(partial, dest / f"{job.notebook}.failed.ipynb")
        except OSError:
            pass
    finally:
        shutil.rmtree(work, ignore_errors=True)
        row["seconds"] = round(time.perf_counter() - t0, 3)
    return row


def python_version() -> str:
    return sys.version.split()[0]
