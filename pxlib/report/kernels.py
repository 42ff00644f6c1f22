"""A report worker's kernels: starting them warm, keeping one between reports, the engine.

A kernel is started (not waited for) with the modules the notebooks import
already importing (:func:`start_kernel`, :func:`notebook_imports`), over IPC
sockets on POSIX. A worker keeps at most one kernel in :data:`_STATE`:
:func:`take_kernel` hands it to the next report, reset as new
(:mod:`pxlib.report.kernel_state`) when it made one already, or starts a new
one; :func:`keep_kernel` keeps it after a report that succeeded. The papermill
engine of :func:`register_engine` runs a notebook on that kernel and its client
and leaves the kernel running.

Importable in a spawned process (Windows, macOS) and on a Dask worker.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pxlib.report.job import Job

__all__ = [
    "KERNEL_BLOCKED_MODULES",
    "MAX_REPORTS_PER_KERNEL",
    "RESET_TIMEOUT",
    "WARM_IMPORTS",
    "Kernel",
    "block_unused_modules",
    "keep_kernel",
    "notebook_imports",
    "register_engine",
    "shutdown_kept_kernel",
    "start_kernel",
    "start_worker_kernel",
    "take_kernel",
    "warm_ahead",
]

log = logging.getLogger("pxlib.report")

#: modules imported into a kernel while it waits for its report (no names bound),
#: besides those the notebooks import themselves (see :func:`notebook_imports`)
WARM_IMPORTS: tuple[str, ...] = ("numpy", "pandas", "plotly.graph_objects", "plotly.io")
#: imported when a notebook uses plotly: setting a plotly renderer imports nbformat,
#: whose JSON-schema validator takes over a second to import
_PLOTLY_EXTRAS: tuple[str, ...] = ("plotly.io", "nbformat")
#: imported when a notebook uses pxlib: what the workbook imports only inside the
#: functions that need it, so that ``import pxlib`` (and the command line) stays quick,
#: but the first report of a kernel would otherwise wait for: the case-mix model and
#: openpyxl for NHS England's FFT files
_PXLIB_EXTRAS: tuple[str, ...] = ("pxlib.survey.casemix", "openpyxl")


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
    if any(m.split(".")[0] == "pxlib" for m in found):
        found.update(dict.fromkeys(_PXLIB_EXTRAS))
    return tuple(m for m in found if m.split(".")[0] not in ("__future__",))


#: optional modules the batch's processes and kernels do without. ``rfc3987_syntax``
#: (pulled in by ``jsonschema[format-nongpl]``) builds a parser for one rarely used
#: JSON-schema format ("iri") at import, costing about 1.5 s of CPU in every process
#: that imports nbformat (papermill, nbconvert, and plotly in a kernel). Without it
#: jsonschema simply does not check that format, which no notebook schema uses.
KERNEL_BLOCKED_MODULES: tuple[str, ...] = ("rfc3987_syntax",)


def block_unused_modules(names: Iterable[str] = KERNEL_BLOCKED_MODULES) -> None:
    """Make ``names`` unimportable in this process (the batch, a worker, a kernel as it
    starts), unless one is loaded already: jsonschema then goes without the format it checks."""
    import sys

    for name in names:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


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


def start_kernel(
    kernel_name: str,
    cwd: str | None,
    warm_imports: tuple[str, ...],
    runtime_dir: str | None = None,
) -> Kernel:
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
    return Kernel(km)


#: seconds a kernel has to reset itself between two reports (else a new one is started)
RESET_TIMEOUT = 60.0
#: reports one kernel makes before it is replaced by a new one (memory does not grow unbounded)
MAX_REPORTS_PER_KERNEL = 100

_KERNEL_STATE = "__import__('pxlib.report.kernel_state', fromlist=['reset'])"


class Kernel:
    """A started kernel, its client, and how many reports it has made."""

    def __init__(self, km: Any) -> None:
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

    def client(self, timeout: float) -> Any:
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


#: the worker's kept kernel, the finalizer that shuts it down at exit, the engine's name
_STATE: dict[str, Any] = {"kernel": None, "finalizer": None, "engine": None}


def shutdown_kept_kernel() -> None:
    """Shut down the kernel the worker keeps for its next report, if any (at the worker's exit)."""
    kernel = _STATE.get("kernel")
    _STATE["kernel"] = None
    if kernel is not None:
        kernel.shutdown()


def _spec(job: Job) -> tuple[Any, ...]:
    return (job.kernel_name, job.cwd, tuple(job.warm_imports), job.runtime_dir)


def take_kernel(job: Job) -> Kernel:
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
        kernel.shutdown()
    kernel = start_kernel(*spec)
    kernel.spec = spec
    return kernel


def keep_kernel(kernel: Kernel) -> None:
    """Keep ``kernel`` for the worker's next report (the one kept before is shut down)."""
    kernel.reports += 1
    old = _STATE.get("kernel")
    _STATE["kernel"] = kernel
    if old is not None and old is not kernel:
        old.shutdown()


def _keep_new_kernel(spec: tuple[Any, ...], when: str) -> None:
    """Start a kernel for ``spec`` and keep it for the worker's next report (if it starts)."""
    try:
        kernel = start_kernel(*spec)
        kernel.spec = spec
        _STATE["kernel"] = kernel
    except Exception as exc:  # the next job starts its own kernel
        log.debug("could not warm a kernel %s: %s", when, exc)


def warm_ahead(job: Job) -> None:
    """Start the worker's next kernel now, while this job's report runs (none kept yet)."""
    if _STATE.get("kernel") is None:
        _keep_new_kernel(_spec(job), "ahead")


def start_worker_kernel(
    kernel_name: str | None,
    cwd: str | None,
    warm_imports: tuple[str, ...],
    runtime_dir: str | None,
) -> None:
    """At a worker's start: its kept kernel shut down when it exits, and a first kernel started."""
    import atexit
    import multiprocessing.util

    if _STATE["finalizer"] is None:
        _STATE["finalizer"] = multiprocessing.util.Finalize(
            None, shutdown_kept_kernel, exitpriority=10
        )
        atexit.register(shutdown_kept_kernel)
    if kernel_name:
        _keep_new_kernel((kernel_name, cwd, tuple(warm_imports), runtime_dir), "at worker start")


# --- papermill engine that runs a notebook on the worker's kernel ------------------------


def register_engine() -> str:
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
