"""``pxlib batch``: every organisation's reports in one command.

Planning (which organisations, which notebooks, which parameters), checking
everything that can be checked before a kernel starts, staging each
organisation's inputs, running the jobs in a spawn-safe process pool (or on a
Dask cluster), and writing ``results.csv``, the resume manifest, the log and
the index page.

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

import argparse
import ast
import contextlib
import dataclasses
import datetime as _dt
import errno
import hashlib
import json
import logging
import multiprocessing
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pandas as pd

from pxlib.errors import (
    EXIT_COULD_NOT_RUN,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REPORTS_FAILED,
    BatchError,
    ParameterError,
    PxlibError,
    PxlibWarning,
)
from pxlib.report import isolation
from pxlib.report.results import _atomic_write_text
from pxlib.report.runner import (
    Job,
    clean_error,
    execute_job,
    notebook_imports,
    python_version,
    worker_init,
)

__all__ = [
    "BATCH_PARAMETERS",
    "DEFAULT_NOTEBOOKS",
    "RESULT_COLUMNS",
    "add_batch_arguments",
    "run_batch",
    "run_batch_from_args",
    "select_notebooks",
    "select_organisations",
    "validate_parameters",
    "default_notebooks_dir",
]

log = logging.getLogger("pxlib.report")

#: parameters every notebook declares and the batch sets for each organisation
BATCH_PARAMETERS: tuple[str, ...] = ("trust_code", "data_dir", "output_dir", "interactive")
#: notebook prefixes run by default (the workshop is excluded)
DEFAULT_NOTEBOOKS: tuple[str, ...] = ("01", "02", "03", "04")
#: organisation types that ``all`` selects
BATCH_ORG_TYPES: tuple[str, ...] = ("trust", "other_provider")
_SAFE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}")
RESULT_COLUMNS: list[str] = ["trust_code", "notebook", "status", "seconds", "error"]
MANIFEST_NAME = ".pxlib-batch-manifest.json"
LOCK_NAME = ".pxlib-batch.lock"
#: where older versions staged inputs, inside <out>; removed at start
LEGACY_STAGING_NAME = ".staging"
#: private staging folders: ``pxlib-staging-<pid>-<random>`` in the temp folder
STAGING_PREFIX = "pxlib-staging-"
KERNELS_PREFIX = "pxlib-kernels-"
LOG_NAME = "batch.log"
#: the notebook parameter ``--as-of`` sets (in notebooks that declare it)
AS_OF_PARAMETER = "as_of"
CONFIG_KEYS = {
    "data",
    "out",
    "trusts",
    "notebooks",
    "workers",
    "resume",
    "params",
    "scheduler",
    "timeout",
    "start_timeout",
    "kernel",
    "notebooks_dir",
    "plotlyjs",
    "self_contained",
    "record_files",
    "aggregate_files",
    "org_filtered_files",
    "warm_imports",
    "as_of",
    "staging_dir",
}


def default_notebooks_dir() -> Path:
    """The repository's ``notebooks/`` folder (beside the ``pxlib`` package)."""
    import pxlib

    return Path(pxlib.__file__).resolve().parents[1] / "notebooks"


# --- notebooks and parameters ---------------------------------------------------------


def select_notebooks(
    notebooks_dir: str | Path, prefixes: Sequence[str] | None = None
) -> list[Path]:
    """Notebooks chosen by prefix (``["03", "04"]``), in file-name order.

    Without prefixes: those numbered 01 to 04, never a workshop notebook.
    """
    notebooks_dir = Path(notebooks_dir)
    if not notebooks_dir.is_dir():
        raise BatchError(f"notebooks folder {notebooks_dir} does not exist")
    candidates = sorted(
        p for p in notebooks_dir.glob("*.ipynb") if not p.name.startswith((".", "_"))
    )
    if prefixes is None:
        chosen = [
            p
            for p in candidates
            if p.name.startswith(DEFAULT_NOTEBOOKS) and "workshop" not in p.stem.lower()
        ]
        if not chosen:
            raise BatchError(
                f"no notebook numbered {DEFAULT_NOTEBOOKS[0]}–{DEFAULT_NOTEBOOKS[-1]} in {notebooks_dir}"
            )
        return chosen
    chosen: list[Path] = []
    for prefix in prefixes:
        prefix = str(prefix).removesuffix(".ipynb")
        matches = [p for p in candidates if p.stem.startswith(prefix)]
        if not matches:
            names = ", ".join(p.stem for p in candidates) or "none"
            raise BatchError(
                f"no notebook in {notebooks_dir} starts with '{prefix}' (available: {names})"
            )
        chosen += [p for p in matches if p not in chosen]
    return sorted(chosen)


_TEXT_TRUE = {"true", "yes", "on", "1"}
_TEXT_FALSE = {"false", "no", "off", "0"}


def _declared_type(info: Mapping[str, Any]) -> tuple[str, bool]:
    """(base type name, None allowed) of a parameter from ``papermill.inspect_notebook``."""
    name = str(info.get("inferred_type_name") or "None").strip()
    optional = False
    if name.startswith(("Optional[", "typing.Optional[")) and name.endswith("]"):
        name, optional = name[name.index("[") + 1 : -1].strip(), True
    if "|" in name:
        parts = [p.strip() for p in name.split("|")]
        optional = "None" in parts
        parts = [p for p in parts if p != "None"]
        name = parts[0] if len(parts) == 1 else "any"
    if name in ("None", ""):  # no annotation: infer from the default
        try:
            default = ast.literal_eval(str(info.get("default")))
        except (ValueError, SyntaxError):
            return "any", True
        if default is None:
            return "any", True
        name = type(default).__name__
    base = name.split("[", 1)[0].lower().removeprefix("typing.")
    return base, optional


def _coerce(nb: str, name: str, value: Any, info: Mapping[str, Any], from_text: bool) -> Any:
    base, optional = _declared_type(info)

    def bad(expected: str) -> ParameterError:
        return ParameterError(
            f"parameter '{name}' of notebook {nb} expects {expected}; got {value!r}"
            + (" (quote text values in the config file)" if not from_text else "")
        )

    if from_text and optional and str(value).strip().lower() in ("none", "null"):
        return None
    if not from_text and value is None:
        if optional or base == "any":
            return None
        raise bad(f"a {base}")
    if base == "str":
        if from_text or isinstance(value, str):
            return str(value)
        raise bad("text")
    if base == "bool":
        if isinstance(value, bool):
            return value
        if from_text and str(value).strip().lower() in _TEXT_TRUE | _TEXT_FALSE:
            return str(value).strip().lower() in _TEXT_TRUE
        raise bad("true or false")
    if base == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if from_text:
            try:
                return int(str(value).strip())
            except ValueError:
                pass
        raise bad("a whole number")
    if base == "float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if from_text:
            try:
                return float(str(value).strip())
            except ValueError:
                pass
        raise bad("a number")
    if from_text:
        import yaml

        try:
            value = yaml.safe_load(str(value))
        except yaml.YAMLError as exc:
            raise bad(f"a {base} written as YAML") from exc
    expected = {"list": list, "dict": dict, "tuple": (list, tuple), "set": (list, set)}.get(base)
    if expected is not None and not isinstance(value, expected):
        raise bad(f"a {base}")
    return value


def validate_parameters(
    params: Mapping[str, Any] | None,
    declared: Mapping[str, Mapping[str, Mapping[str, Any]]],
    *,
    from_text: Iterable[str] = (),
) -> dict[str, dict[str, Any]]:
    """Check user parameters against each notebook's declared parameters.

    ``declared`` maps notebook stem -> ``papermill.inspect_notebook`` output.
    Names in ``from_text`` came from the command line as text and are
    converted to the declared type. Returns, per notebook, the parameters it
    declares (typed). Raises :class:`ParameterError` for a name no selected
    notebook declares, a value of the wrong type, a parameter the batch sets
    itself, or a notebook missing one of :data:`BATCH_PARAMETERS`.
    """
    params = dict(params or {})
    from_text = set(from_text)
    for nb, decl in declared.items():
        missing = [p for p in BATCH_PARAMETERS if p not in decl]
        if missing:
            raise ParameterError(
                f"notebook {nb} does not declare {', '.join(missing)} in its cell tagged "
                "'parameters'; every workbook notebook must"
            )
    reserved = sorted(set(params) & set(BATCH_PARAMETERS))
    if reserved:
        raise ParameterError(
            f"{', '.join(reserved)} cannot be given as --param: the batch sets them for each "
            "organisation (choose organisations with --trusts, data with --data)"
        )
    known = sorted({name for decl in declared.values() for name in decl} - set(BATCH_PARAMETERS))
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ParameterError(
            f"unknown parameter {', '.join(repr(u) for u in unknown)}: the selected notebooks "
            f"declare {', '.join(known) or 'no other parameters'}"
        )
    return {
        nb: {
            name: _coerce(nb, name, value, decl[name], name in from_text)
            for name, value in params.items()
            if name in decl
        }
        for nb, decl in declared.items()
    }


def parse_param_pairs(pairs: Iterable[str] | None) -> dict[str, str]:
    """``["k=v", ...]`` -> ``{"k": "v"}`` (values stay text until validated)."""
    out: dict[str, str] = {}
    for pair in pairs or ():
        name, sep, value = str(pair).partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param takes name=value; got {pair!r}")
        out[name.strip()] = value
    return out


_AS_OF_FORMAT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def check_as_of(value: object) -> str | None:
    """``--as-of`` as ``YYYY-MM-DD`` text; ``None`` when not given.

    A date from a YAML config (``as_of: 2026-12-02`` reads as a date) is
    accepted; anything but a real calendar date written ``YYYY-MM-DD`` is a
    :class:`~pxlib.errors.BatchError`.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value.isoformat()
    text = str(value).strip()
    if _AS_OF_FORMAT.fullmatch(text):
        try:
            return _dt.date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    raise BatchError(f"--as-of takes a date written YYYY-MM-DD (e.g. 2026-12-02); got {value!r}")


def with_as_of(
    typed: Mapping[str, Mapping[str, Any]],
    declared: Mapping[str, Mapping[str, Any]],
    as_of: str | None,
) -> dict[str, dict[str, Any]]:
    """``typed`` with ``as_of`` added for each notebook that declares it (others unchanged)."""
    out = {nb: dict(params) for nb, params in typed.items()}
    if as_of is None:
        return out
    if any(AS_OF_PARAMETER in params for params in typed.values()):
        raise ParameterError("give the date once: --as-of or --param as_of, not both")
    takers = [nb for nb, decl in declared.items() if AS_OF_PARAMETER in decl]
    for nb in takers:
        out[nb][AS_OF_PARAMETER] = as_of
    if not takers:
        log.warning("--as-of %s: none of the selected notebooks declares 'as_of'", as_of)
    return out


# --- organisations ------------------------------------------------------------------


def read_organisations(data_dir: str | Path) -> pd.DataFrame:
    """The organisations table (``organisations.csv`` or ``.xlsx``) as text columns.

    Found and read as validation finds and reads it (:func:`pxlib.data.find_input`,
    :func:`pxlib.data.read_table`), so the batch runs the organisations
    ``pxlib validate`` checked; codes stay strings ('010' is not 10) and are
    normalised as everywhere else (" ZA1 " is ZA1).
    """
    from pxlib.data import find_input, normalise_code, read_table

    path = find_input(data_dir, "organisations")
    if path is None:
        raise BatchError(
            f"{Path(data_dir) / 'organisations.csv'} not found (nor as .xlsx): "
            "the batch takes its organisations from it"
        )
    notes: list[str] = []
    orgs = read_table(path, notes=notes)
    for note in notes:
        log.info("%s", note)
    missing = [c for c in ("org_code", "org_type") if c not in orgs.columns]
    if missing:
        raise BatchError(f"{path}: missing column(s) {', '.join(missing)}")
    orgs["org_code"] = normalise_code(orgs["org_code"])
    if "org_name" not in orgs.columns:
        orgs["org_name"] = ""
    return orgs


def select_organisations(
    orgs: pd.DataFrame, trusts: str | Sequence[str] | None
) -> tuple[list[str], dict[str, str]]:
    """(codes to run, {code: reason} for codes that cannot run), in the order asked."""
    types = dict(zip(orgs["org_code"], orgs["org_type"], strict=False))
    if trusts is None or (isinstance(trusts, str) and trusts == "all") or list(trusts) == ["all"]:
        trusts = orgs.loc[orgs["org_type"].isin(BATCH_ORG_TYPES), "org_code"].tolist()
    elif isinstance(trusts, str):
        trusts = [trusts]
    ok: list[str] = []
    bad: dict[str, str] = {}
    for code in dict.fromkeys(str(t) for t in trusts):
        if not _SAFE_CODE.fullmatch(code):
            bad[code] = (
                f"organisation code {code!r} cannot name a report folder: use letters, digits, "
                "'-' and '_' only"
            )
        elif code not in types:
            bad[code] = f"organisation '{code}' is not in organisations.csv"
        elif types[code] not in BATCH_ORG_TYPES:
            bad[code] = (
                f"organisation '{code}' is a {types[code]}; batch reports are for "
                f"{' and '.join(BATCH_ORG_TYPES)} organisations"
            )
        else:
            ok.append(code)
    return ok, bad


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

    def record(self, row: Mapping[str, Any]) -> None:
        label = f"{row['trust_code']}/{row['notebook']}"
        if row["status"] == "ok":
            self.jobs[label] = {
                "key": row.get("key", ""),
                "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "seconds": row["seconds"],
            }
        elif row["status"] == "failed":
            self.jobs.pop(label, None)
        self.save()

    def save(self) -> None:
        _atomic_write_text(
            self.path, json.dumps({"version": 1, "jobs": self.jobs}, indent=1) + "\n"
        )


def _results_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    frame["seconds"] = pd.to_numeric(frame["seconds"]).astype(float)
    frame["error"] = frame["error"].fillna("").astype(str)
    return frame


def _write_results(path: Path, rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = _results_frame(rows)
    _atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))
    return frame


# --- executing jobs -------------------------------------------------------------------


def _pool_pass(
    jobs: list[Job],
    workers: int,
    on_result: Callable[[dict[str, Any]], None],
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
                        row = _failed_row(job, f"{type(exc).__name__}: {exc}")
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
    on_result: Callable[[dict[str, Any]], None],
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
                on_result(_failed_row(job, "WorkerDied: the process running this report died"))


def _failed_row(job: Job, error: str, status: str = "failed") -> dict[str, Any]:
    return {
        "trust_code": job.trust_code,
        "notebook": job.notebook,
        "status": status,
        "seconds": 0.0,
        "error": clean_error(error),
        "key": job.key,
    }


# --- configuration -------------------------------------------------------------------


def load_config(path: str | Path) -> dict[str, Any]:
    """A ``batch.yaml``: keys as the command-line options; paths relative to the file."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise BatchError(f"cannot read batch config {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise BatchError(f"batch config {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise BatchError(f"batch config {path} must be a mapping of option: value")
    data = {str(k).replace("-", "_"): v for k, v in data.items()}
    data["params"] = data.pop("params", None) or data.pop("param", None) or {}
    unknown = sorted(set(data) - CONFIG_KEYS)
    if unknown:
        raise BatchError(
            f"batch config {path}: unknown key(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(CONFIG_KEYS))})"
        )
    if not isinstance(data["params"], dict):
        raise BatchError(f"batch config {path}: 'params' must be a mapping of name: value")
    for key in ("data", "out", "notebooks_dir", "staging_dir"):
        if data.get(key) is not None:
            data[key] = str((path.parent / str(data[key])).resolve())
    if isinstance(data.get("trusts"), str | int):
        data["trusts"] = [str(data["trusts"])]
    if isinstance(data.get("notebooks"), str | int):
        data["notebooks"] = [str(data["notebooks"])]
    return data


def _check_kernel(name: str) -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel as exc:
        raise BatchError(
            f"Jupyter kernel '{name}' is not installed in this environment; install it with "
            f"`python -m ipykernel install --sys-prefix --name {name} --display-name "
            '"Python (pxlib)"` (make setup does this)'
        ) from exc
    exe = Path(spec.argv[0]) if spec.argv else Path()
    prefix = Path(os.path.abspath(sys.prefix))  # not resolved: venv pythons are symlinks
    if exe.is_absolute() and prefix not in Path(os.path.abspath(exe)).parents:
        warnings.warn(
            f"Jupyter kernel '{name}' runs {exe}, not this environment's Python ({sys.prefix}): "
            "reports may be made with other versions of pxlib and its dependencies; reinstall "
            f"the kernel with `python -m ipykernel install --sys-prefix --name {name}`",
            PxlibWarning,
            stacklevel=3,
        )


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


# --- leftovers of killed runs, kernel sockets, the log --------------------------------


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (it is never signalled)."""
    if pid <= 0:
        return False
    if os.name != "posix":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's process
        return True
    return True


def _windows_pid_alive(pid: int) -> bool:  # pragma: no cover - Windows only
    """``os.kill(pid, 0)`` would end the process on Windows: ask for its exit code."""
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.get_last_error() == 5  # ERROR_ACCESS_DENIED: it exists
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _owner_pid(folder: Path, prefix: str) -> int | None:
    """The PID in ``<prefix><pid>-<random>``, or None for another name."""
    pid, sep, _ = folder.name.removeprefix(prefix).partition("-")
    return int(pid) if sep and pid.isdigit() else None


def _remove_dead_folders(base: Path, prefix: str) -> list[Path]:
    """Remove this user's ``<prefix><pid>-*`` folders in ``base`` whose process is gone."""
    removed: list[Path] = []
    for old in base.glob(f"{prefix}*"):
        pid = _owner_pid(old, prefix)
        if pid is None or old.is_symlink() or not old.is_dir() or _pid_alive(pid):
            continue
        try:
            if hasattr(os, "getuid") and old.stat().st_uid != os.getuid():
                continue
        except OSError:  # removed as we looked
            continue
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old)
    return removed


@contextlib.contextmanager
def _kernel_runtime() -> Iterator[str | None]:
    """A folder for this run's kernel sockets (POSIX; None elsewhere), removed at the end.

    Folders left by runs that were killed (their process is gone) are removed
    first, so sockets of hard-killed kernels do not pile up in the temp folder.
    """
    if os.name != "posix":
        yield None
        return
    base = Path(tempfile.gettempdir())
    _remove_dead_folders(base, KERNELS_PREFIX)
    folder = tempfile.mkdtemp(prefix=f"{KERNELS_PREFIX}{os.getpid()}-", dir=base)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _remove_partial_writes(out_dir: Path) -> None:
    """Delete what a killed run left half-done in ``out_dir``.

    Temporary files (``.<name>.<random>.tmp``: every output is written to one
    and renamed into place, so a leftover is never a finished output) and
    report work folders (``<org>/.work-<notebook>``). Called under the
    ``--out`` lock: no other batch is writing there.
    """
    for leftover in [*out_dir.glob(".*.tmp"), *out_dir.glob("*/.*.tmp")]:
        leftover.unlink(missing_ok=True)
    for work in out_dir.glob("*/.work-*"):
        if work.is_dir() and not work.is_symlink():
            shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def _logging_to(path: Path) -> Iterator[None]:
    """Batch log records also go to ``path`` for the duration."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    if log.level == logging.NOTSET or log.level > logging.INFO:
        log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        handler.close()


# --- one batch at a time per output folder -------------------------------------------

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
#: hold the lock with flock (released by the OS however its holder ends); else O_EXCL
_HAVE_FLOCK: bool = fcntl is not None
#: flock errors of file systems without flock (some network shares): use the fallback
_NO_FLOCK_ERRNOS = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", 95)})
#: a fallback lock file nobody could read is taken over after this many seconds
_UNREADABLE_LOCK_SECONDS = 60.0


def _format_started(value: object) -> str:
    """``2026-12-02T03:10:27+00:00`` -> ``2026-12-02 03:10 UTC``."""
    try:
        when = _dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if when.tzinfo is not None:
        when = when.astimezone(_dt.UTC)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def busy_message(holder: Mapping[str, Any] | None, out_dir: Path) -> str:
    """The refusal a second batch into ``out_dir`` prints."""
    if holder:
        who = (
            f"another pxlib batch (PID {holder.get('pid', '?')} on {holder.get('host', '?')}, "
            f"started {_format_started(holder.get('started', '?'))})"
        )
    else:
        who = "another pxlib batch"
    return f"{who} is writing to {out_dir}; wait for it or choose another --out"


class OutLock:
    """One batch at a time writes to an output folder: ``<out>/.pxlib-batch.lock``.

    On POSIX the file is held with ``flock(LOCK_EX | LOCK_NB)``: the operating
    system releases it when the holder ends, even by SIGKILL, so a lock is
    never stale. Elsewhere it is created with ``O_CREAT | O_EXCL``, and one
    whose process (on this host) is gone is taken over. The file's content
    (JSON: pid, host, started) only names the holder in the refusal.
    Use as a context manager; :meth:`acquire` raises
    :class:`~pxlib.errors.BatchError` when another batch holds it.
    """

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / LOCK_NAME
        self._fd: int | None = None
        self._flocked = False

    def __enter__(self) -> OutLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock or raise :class:`BatchError` naming its holder."""
        if self._fd is not None:
            return
        fd = self._take_flock() if _HAVE_FLOCK else None
        self._flocked = fd is not None
        if fd is None:
            fd = self._take_exclusive()
        try:
            info = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            }
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, (json.dumps(info) + "\n").encode())
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Give the lock up and remove the file (a no-op when not held)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if self._flocked:  # removed while still held: a waiting opener sees it gone
            self.path.unlink(missing_ok=True)
            os.close(fd)
        else:  # Windows cannot remove an open file
            os.close(fd)
            self.path.unlink(missing_ok=True)

    def holder(self, wait: float = 0.0) -> dict[str, Any] | None:
        """The lock file's content (None when unreadable), read again for up to ``wait`` s.

        A holder writes it just after taking the lock, so a reader may briefly
        find it empty.
        """
        deadline = time.monotonic() + wait
        while True:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    return data
            except (OSError, ValueError):
                pass
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def _busy(self, holder: Mapping[str, Any] | None, fallback: bool = False) -> BatchError:
        message = busy_message(holder, self.out_dir)
        if fallback:  # a lock file is not released by the system: say how to clear one
            message += f" (if no batch is running there, delete {self.path})"
        return BatchError(message)

    def _open(self) -> tuple[int, bool]:
        """The lock file opened for writing, and whether this call created it."""
        while True:
            try:
                return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644), True
            except FileExistsError:
                pass
            try:
                return os.open(self.path, os.O_RDWR), False
            except FileNotFoundError:  # removed as we looked: create it
                continue

    def _take_flock(self) -> int | None:
        """The lock file, held with flock; None where its file system cannot flock."""
        while True:
            fd, created = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise self._busy(self.holder(wait=1.0)) from None
            except OSError as exc:
                os.close(fd)
                if exc.errno not in _NO_FLOCK_ERRNOS:
                    raise
                if created:
                    self.path.unlink(missing_ok=True)
                log.info("%s: this file system cannot flock; using an exclusive file", self.path)
                return None
            except BaseException:
                os.close(fd)
                raise
            try:
                same_file = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same_file = False
            if same_file:
                return fd
            os.close(fd)  # its holder removed it as we opened it: open the new one

    def _take_exclusive(self) -> int:
        for _ in range(5):
            try:
                return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = self.holder(wait=1.0)
                if not self._is_stale(holder):
                    raise self._busy(holder, fallback=True) from None
                log.info("taking over the lock of a batch that ended: %s", holder)
                self.path.unlink(missing_ok=True)
        raise self._busy(self.holder(), fallback=True)

    def _is_stale(self, holder: Mapping[str, Any] | None) -> bool:
        """A fallback lock whose process is gone (only checkable on this host)."""
        if holder is None:
            try:
                age = time.time() - self.path.stat().st_mtime
            except FileNotFoundError:
                return True
            return age > _UNREADABLE_LOCK_SECONDS
        pid = holder.get("pid")
        return (
            holder.get("host") == socket.gethostname()
            and isinstance(pid, int)
            and not _pid_alive(pid)
        )


def _remove_legacy_staging(out_dir: Path) -> None:
    """Remove ``<out>/.staging`` left by older versions (record-level data; under the lock)."""
    legacy = out_dir / LEGACY_STAGING_NAME
    if legacy.is_symlink():
        legacy.unlink()
    elif legacy.is_dir():
        shutil.rmtree(legacy, ignore_errors=True)
        log.info("removed %s, staged inputs left by an older pxlib", legacy)


# --- private staging ------------------------------------------------------------------


def _staging_base(staging_dir: str | Path | None, out_dir: Path) -> Path:
    """Where the private staging folder goes: ``staging_dir`` or the temp folder.

    Refused inside ``out_dir`` (the folder people share).
    """
    base = Path(staging_dir or tempfile.gettempdir()).resolve()
    if base == out_dir or base.is_relative_to(out_dir):
        raise BatchError(
            f"the staging folder {base} is inside --out {out_dir}: staged inputs hold "
            "record-level data and must be kept outside the folder of reports"
        )
    return base


def _remove_staging(root: Path, out_dir: Path) -> None:
    """Delete a staging folder this batch made (never anything inside ``out_dir``)."""
    if root.resolve().is_relative_to(out_dir):  # pragma: no cover - refused at start
        raise BatchError(f"refusing to delete {root}: it is inside --out {out_dir}")
    shutil.rmtree(root, ignore_errors=True)
    if root.exists():
        log.warning(
            "could not remove the staging folder %s: delete it (it holds record-level data)", root
        )


@contextlib.contextmanager
def _private_staging(base: Path, out_dir: Path, keep: bool = False) -> Iterator[Path]:
    """A new ``<base>/pxlib-staging-<pid>-<random>`` (mode 0700), removed at the end.

    Staging folders of batches whose process is gone (killed outright) are
    removed first. ``keep=True`` leaves this one (to debug) and logs where it is.
    """
    base.mkdir(parents=True, exist_ok=True)
    for old in _remove_dead_folders(base, STAGING_PREFIX):
        log.info("removed %s, staged inputs of a batch that was killed", old)
    root = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=base))
    try:
        yield root
    finally:
        if keep:
            log.warning(
                "staging kept in %s (keep_staging): it holds record-level data; delete it when done",
                root,
            )
        else:
            _remove_staging(root, out_dir)


# --- SIGTERM ends a batch as Ctrl-C does ---------------------------------------------


class BatchTerminated(KeyboardInterrupt):
    """SIGTERM arrived during a batch; handled as Ctrl-C (clean-up runs, exit 130)."""


def _interrupt_workers() -> None:
    """Pass an interruption on to the pool's workers (as a terminal's Ctrl-C reaches them)."""
    if os.name != "posix":
        return
    try:
        children = multiprocessing.active_children()
    except Exception:  # pragma: no cover - the pool changing as we look
        return
    for child in children:
        if child.pid:
            with contextlib.suppress(OSError):
                os.kill(child.pid, signal.SIGINT)


@contextlib.contextmanager
def _sigterm_interrupts(forward_to_workers: bool) -> Iterator[None]:
    """For the duration, SIGTERM raises :class:`BatchTerminated` in the main thread.

    So ``finally`` clauses run (staging removed, lock released). A further
    SIGTERM during the clean-up is ignored; the previous handler is restored at
    the end. Does nothing outside the main thread (signals go to it only).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    fired = False

    def on_sigterm(signum: int, frame: object) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        if forward_to_workers:
            _interrupt_workers()
        raise BatchTerminated("SIGTERM")

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


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


def _refused_rows(batch: _Batch) -> list[dict[str, Any]]:
    """A ``failed`` row per notebook of each organisation that cannot run."""
    rows: list[dict[str, Any]] = []
    for code, reason in batch.refused.items():
        for path in batch.nb_paths:
            rows.append(
                {
                    "trust_code": code,
                    "notebook": path.stem,
                    "status": "failed",
                    "seconds": 0.0,
                    "error": reason,
                }
            )
            log.error("%s/%s failed: %s", code, path.stem, reason)
    return rows


def _run_jobs(
    batch: _Batch,
    to_run: list[Job],
    n_workers: int,
    runtime_dir: str | None,
    record: Callable[[dict[str, Any]], None],
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

    def on_result(row: dict[str, Any]) -> None:
        record(row)
        counts["ok" if row["status"] == "ok" else "failed"] += 1
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
    rows = _refused_rows(batch)
    to_run: list[Job] = []
    for job in _make_jobs(batch, staging_root, hashes, runtime_dir):
        if batch.resume and manifest.done(job, batch.out_dir):
            rows.append(_failed_row(job, "", status="skipped"))
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

    def record(row: dict[str, Any]) -> None:
        rows.append(row)
        manifest.record(row)
        _write_results(results_path, rows)
        if row["status"] == "ok":
            log.info("%s/%s ok in %.1f s", row["trust_code"], row["notebook"], row["seconds"])
        else:
            log.error("%s/%s failed: %s", row["trust_code"], row["notebook"], row["error"])

    _run_jobs(batch, to_run, n_workers, runtime_dir, record)

    order = {c: i for i, c in enumerate([*batch.codes, *batch.refused])}
    nb_order = {p.stem: i for i, p in enumerate(batch.nb_paths)}
    rows.sort(key=lambda r: (order.get(r["trust_code"], 1e9), nb_order.get(r["notebook"], 1e9)))
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


# --- command line ----------------------------------------------------------------------


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``pxlib batch`` options to ``parser``."""
    parser.add_argument(
        "--data", metavar="DIR", help="folder of input files with organisations.csv"
    )
    parser.add_argument(
        "--out", metavar="DIR", help="folder the reports, index and results.csv go to"
    )
    parser.add_argument(
        "--trusts",
        nargs="+",
        metavar="CODE",
        help="organisation codes, or 'all' (every trust and other provider; the default)",
    )
    parser.add_argument(
        "--notebooks",
        nargs="+",
        metavar="PREFIX",
        help="notebooks by file-name prefix, e.g. 03 04 (default: 01 to 04, not the workshop)",
    )
    parser.add_argument(
        "--workers", type=int, metavar="N", help="parallel reports (default: the cores)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        default=None,
        help="skip reports whose inputs, parameters, notebook and pxlib version are unchanged",
    )
    parser.add_argument(
        "--param",
        action="extend",
        nargs="+",
        metavar="NAME=VALUE",
        help="a notebook parameter (checked against the notebooks' parameters cells)",
    )
    parser.add_argument("--config", metavar="FILE", help="batch.yaml with any of these options")
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask distributed cluster (workers with one thread each; shared file system)",
    )
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="longest a cell may run (default 600)"
    )
    parser.add_argument("--kernel", metavar="NAME", help="Jupyter kernel name (default: pxlib)")
    parser.add_argument(
        "--notebooks-dir", metavar="DIR", help="folder of notebooks (default: the workbook's)"
    )
    parser.add_argument(
        "--plotlyjs",
        choices=("directory", "embed"),
        help="plotly.js written once beside the reports (default) or embedded in each",
    )
    parser.add_argument(
        "--self-contained",
        action="store_true",
        default=None,
        help="embed plotly.js in every report (about 4.8 MB each) so a report copied on its "
        "own still draws its charts (same as --plotlyjs embed)",
    )
    parser.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="the date the reports are as of, given to every notebook that declares 'as_of'",
    )
    parser.add_argument(
        "--staging-dir",
        metavar="DIR",
        help="where each organisation's inputs are staged while its reports run, never inside "
        "--out (default: the temp folder; on a Dask cluster of several machines, a folder "
        "every worker sees)",
    )
    parser.add_argument(
        "--fresh-kernels",
        action="store_true",
        default=None,
        help="a new kernel for every report (slower; by default each worker keeps its kernel "
        "and clears it between reports)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_batch_from_args(args: argparse.Namespace) -> int:
    """Run ``pxlib batch``; return its exit status (:mod:`pxlib.errors`).

    ``EXIT_OK`` (0) every report made or unchanged; ``EXIT_COULD_NOT_RUN`` (2)
    bad set-up or another batch writing to ``--out``; ``EXIT_REPORTS_FAILED``
    (4) some reports failed; ``EXIT_INTERRUPTED`` (130) Ctrl-C or SIGTERM.
    """
    try:
        config = load_config(args.config) if getattr(args, "config", None) else {"params": {}}

        def pick(name: str, attr: str | None = None, default: Any = None) -> Any:
            value = getattr(args, attr or name, None)
            return value if value is not None else config.get(name, default)

        data, out = pick("data"), pick("out")
        if not data or not out:
            raise BatchError(
                "pxlib batch needs --data DIR and --out DIR (or data: and out: in --config)"
            )
        cli_params = parse_param_pairs(getattr(args, "param", None))
        params = {**config.get("params", {}), **cli_params}
        trusts = pick("trusts", default="all")
        frame = run_batch(
            data,
            out,
            trusts=trusts,
            notebooks=pick("notebooks"),
            workers=pick("workers"),
            resume=bool(pick("resume", default=False)),
            params=params,
            notebooks_dir=pick("notebooks_dir"),
            kernel_name=pick("kernel", default="pxlib"),
            scheduler=pick("scheduler"),
            timeout=pick("timeout", default=600.0),
            start_timeout=config.get("start_timeout", 60.0),
            plotlyjs="embed"
            if pick("self_contained", default=False)
            else pick("plotlyjs", default="directory"),
            progress=False if getattr(args, "no_progress", False) else None,
            text_params=cli_params.keys(),
            record_files=config.get("record_files", isolation.RECORD_FILES),
            aggregate_files=config.get("aggregate_files", isolation.AGGREGATE_FILES),
            org_filtered_files=config.get("org_filtered_files", isolation.ORG_FILTERED_AGGREGATES),
            warm_imports=config.get("warm_imports"),
            as_of=pick("as_of"),
            staging_dir=pick("staging_dir"),
            fresh_kernels=bool(pick("fresh_kernels", default=False)),
        )
    except PxlibError as exc:
        print(f"pxlib batch: {exc}", file=sys.stderr)
        return EXIT_COULD_NOT_RUN
    except KeyboardInterrupt:
        print("pxlib batch: interrupted; run again with --resume to finish", file=sys.stderr)
        return EXIT_INTERRUPTED
    out_path = Path(out).resolve()
    n_failed = int((frame["status"] == "failed").sum())
    print(
        f"{int((frame['status'] == 'ok').sum())} reports made, "
        f"{int((frame['status'] == 'skipped').sum())} unchanged, {n_failed} failed "
        f"(details in {out_path / 'results.csv'}).\nIndex: {out_path / 'index.html'}"
    )
    return EXIT_REPORTS_FAILED if n_failed else EXIT_OK
