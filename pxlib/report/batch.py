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
    .pxlib-batch-manifest.json    what succeeded and with which inputs (for --resume)
    .staging/<org>/               the organisation's inputs while it runs

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
    aggregate_files: [organisations.csv, question_bank.csv, fft_monthly.csv, README.md]

Notebooks run with the notebooks folder as their working directory (as in
JupyterLab) and read their inputs only from ``data_dir``: the staged copy of
the organisation's own records (see :mod:`pxlib.report.isolation`).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import datetime as _dt
import hashlib
import json
import logging
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pandas as pd

from pxlib.errors import BatchError, ParameterError, PxlibError, PxlibWarning
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
STAGING_NAME = ".staging"
LOG_NAME = "batch.log"
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
    "record_files",
    "aggregate_files",
    "org_filtered_files",
    "warm_imports",
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


# --- organisations ------------------------------------------------------------------


def read_organisations(data_dir: str | Path) -> pd.DataFrame:
    """``organisations.csv`` as text columns (codes stay strings: '010' is not 10)."""
    path = Path(data_dir) / "organisations.csv"
    if not path.is_file():
        raise BatchError(f"{path} not found: the batch takes its organisations from it")
    orgs = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in ("org_code", "org_type") if c not in orgs.columns]
    if missing:
        raise BatchError(f"{path}: missing column(s) {', '.join(missing)}")
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
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return broken, seen_running


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
    for key in ("data", "out", "notebooks_dir"):
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


def _kernel_runtime_dir() -> str | None:
    """A folder for this run's kernel sockets (POSIX), removed when the run ends.

    Folders left by runs that were killed (their process is gone) are removed
    first, so sockets of hard-killed kernels do not pile up in the temp folder.
    """
    if os.name != "posix":
        return None
    base = Path(tempfile.gettempdir())
    for old in base.glob("pxlib-kernels-*"):
        try:
            os.kill(int(old.name.split("-")[2]), 0)
        except ProcessLookupError:
            shutil.rmtree(old, ignore_errors=True)
        except (ValueError, PermissionError, OSError):
            continue
    return tempfile.mkdtemp(prefix=f"pxlib-kernels-{os.getpid()}-", dir=base)


def _remove_partial_writes(out_dir: Path) -> None:
    """Delete temporary files a killed run left half-written (``.<name>.<random>.tmp``).

    Every output is written to such a file and renamed into place, so a leftover
    one is never a finished output; one batch at a time writes to an output folder.
    """
    for leftover in [*out_dir.glob(".*.tmp"), *out_dir.glob("*/.*.tmp")]:
        leftover.unlink(missing_ok=True)


def _add_log_handler(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    if log.level == logging.NOTSET or log.level > logging.INFO:
        log.setLevel(logging.INFO)
    return handler


# --- the batch ---------------------------------------------------------------------


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
    keep_staging: bool = False,
) -> pd.DataFrame:
    """Run notebooks for organisations; return the results table (``results.csv``).

    ``trusts``: ``"all"`` (every trust and other provider in
    ``<data>/organisations.csv``) or a list of codes; ``notebooks``: prefixes
    (``["03", "04"]``; default 01–04); ``params``: extra notebook parameters,
    checked against each notebook's declared ones (names in ``text_params``
    are text from a command line, converted to the declared type). Each
    organisation's notebooks read a staged copy of its own inputs.

    Set-up problems raise :class:`~pxlib.errors.BatchError` or
    :class:`~pxlib.errors.ParameterError` before anything runs; a failing
    organisation is a ``failed`` row and never stops the others.
    """
    import papermill

    import pxlib
    from pxlib.report.export import write_plotlyjs
    from pxlib.report.index import write_index

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

    # 1. everything checkable before a kernel starts
    nb_paths = select_notebooks(nb_dir, notebooks)
    declared = {p.stem: papermill.inspect_notebook(str(p)) for p in nb_paths}
    typed = validate_parameters(params, declared, from_text=text_params)
    orgs = read_organisations(data_dir)
    codes, refused = select_organisations(orgs, trusts)
    if not codes and not refused:
        raise BatchError(f"no trust or other provider in {data_dir / 'organisations.csv'}")
    if scheduler is None:
        _check_kernel(kernel_name)
    plan = isolation.plan_staging(data_dir, record_files, aggregate_files, org_filtered_files)
    warm = tuple(warm_imports) if warm_imports is not None else notebook_imports(nb_paths)

    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_partial_writes(out_dir)
    handler = _add_log_handler(out_dir / LOG_NAME)
    runtime_dir = _kernel_runtime_dir() if scheduler is None else None
    try:
        log.info(
            "batch started: pxlib %s, %d organisation(s), notebooks %s, data %s",
            pxlib.__version__,
            len(codes) + len(refused),
            ", ".join(declared),
            data_dir,
        )
        if plotlyjs == "directory":
            write_plotlyjs(out_dir)
        staging_root = out_dir / STAGING_NAME
        hashes = isolation.stage_organisations(data_dir, staging_root, codes, plan)

        # 2. jobs, and what --resume can skip
        manifest = Manifest(out_dir / MANIFEST_NAME)
        nb_sha = {p.stem: _sha256_bytes(p.read_bytes()) for p in nb_paths}
        jobs: list[Job] = []
        rows: list[dict[str, Any]] = []
        for code in codes:
            for path in nb_paths:
                stem = path.stem
                parameters = {
                    **typed[stem],
                    "trust_code": code,
                    "data_dir": str(staging_root / code),
                    "interactive": False,
                }
                shown = {**parameters, "output_dir": str(out_dir / code)}
                # paths are left out of the key: a moved output folder still resumes
                key = _job_key(
                    pxlib.__version__,
                    nb_sha[stem],
                    {k: v for k, v in parameters.items() if k != "data_dir"},
                    hashes[code],
                    {"kernel": kernel_name, "plotlyjs": plotlyjs},
                )
                jobs.append(
                    Job(
                        trust_code=code,
                        notebook=stem,
                        notebook_path=str(path),
                        out_dir=str(out_dir),
                        parameters=parameters,
                        kernel_name=kernel_name,
                        cwd=str(nb_dir),
                        timeout=timeout,
                        start_timeout=start_timeout,
                        plotlyjs=plotlyjs,
                        key=key,
                        provenance={
                            "pxlib_version": pxlib.__version__,
                            "python": python_version(),
                            "notebook": path.name,
                            "notebook_sha256": nb_sha[stem],
                            "kernel": kernel_name,
                            "parameters": shown,
                            "inputs": hashes[code],
                            "batch_started": run_date,
                            "data_source": str(data_dir),
                        },
                        warm_imports=warm,
                        runtime_dir=runtime_dir,
                    )
                )
        for code, reason in refused.items():
            for path in nb_paths:
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
        to_run: list[Job] = []
        for job in jobs:
            if resume and manifest.done(job, out_dir):
                rows.append(_failed_row(job, "", status="skipped"))
                log.info("%s skipped: unchanged since its last success", job.label)
            else:
                to_run.append(job)
        n_workers = min(int(workers or _default_workers()), max(1, len(to_run)))
        if scheduler is None:  # warm a kernel ahead only where another job will follow
            to_run = [
                dataclasses.replace(job, warm_next=i < len(to_run) - n_workers)
                for i, job in enumerate(to_run)
            ]
        results_path = out_dir / "results.csv"
        _write_results(results_path, rows)

        # 3. run
        from tqdm.auto import tqdm

        bar = tqdm(
            total=len(to_run),
            desc="pxlib batch",
            unit="report",
            file=sys.stderr,
            disable=(not progress) if progress is not None else None,
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
            rows.append(row)
            manifest.record(row)
            _write_results(results_path, rows)
            counts["ok" if row["status"] == "ok" else "failed"] += 1
            if row["status"] == "ok":
                log.info("%s/%s ok in %.1f s", row["trust_code"], row["notebook"], row["seconds"])
            else:
                log.error("%s/%s failed: %s", row["trust_code"], row["notebook"], row["error"])
            bar.update(1)
            on_start([])

        try:
            if to_run and scheduler is not None:
                from pxlib.report.dask import run_on_dask

                run_on_dask(to_run, scheduler, on_result)
            elif to_run:
                _run_pool(
                    to_run,
                    n_workers,
                    on_result,
                    on_start,
                    (plotlyjs, kernel_name, str(nb_dir), warm, runtime_dir),
                )
        except KeyboardInterrupt:
            log.warning("batch interrupted: finished reports are kept; run again with --resume")
            raise
        finally:
            bar.close()

        # 4. tidy up, index
        order = {c: i for i, c in enumerate([*codes, *refused])}
        nb_order = {p.stem: i for i, p in enumerate(nb_paths)}
        rows.sort(key=lambda r: (order.get(r["trust_code"], 1e9), nb_order.get(r["notebook"], 1e9)))
        frame = _write_results(results_path, rows)
        if not keep_staging:
            failed_orgs = set(frame.loc[frame["status"] == "failed", "trust_code"])
            for code in codes:
                if code not in failed_orgs:
                    shutil.rmtree(staging_root / code, ignore_errors=True)
            if staging_root.exists() and not any(staging_root.iterdir()):
                staging_root.rmdir()
        write_index(
            out_dir,
            frame,
            orgs,
            [p.stem for p in nb_paths],
            run_info={
                "pxlib_version": pxlib.__version__,
                "run_date": run_date,
                "data_dir": str(data_dir),
                "parameters": {k: v for p in typed.values() for k, v in p.items()},
                "seconds": round(time.perf_counter() - started, 1),
            },
        )
        n_failed = int((frame["status"] == "failed").sum())
        log.info(
            "batch finished in %.1f s: %d ok, %d skipped, %d failed",
            time.perf_counter() - started,
            int((frame["status"] == "ok").sum()),
            int((frame["status"] == "skipped").sum()),
            n_failed,
        )
        return frame
    finally:
        log.removeHandler(handler)
        handler.close()
        if runtime_dir:
            shutil.rmtree(runtime_dir, ignore_errors=True)


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
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_batch_from_args(args: argparse.Namespace) -> int:
    """Run ``pxlib batch``; exit status 0 all ok, 1 any failure, 2 bad set-up."""
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
            plotlyjs=pick("plotlyjs", default="directory"),
            progress=False if getattr(args, "no_progress", False) else None,
            text_params=cli_params.keys(),
            record_files=config.get("record_files", isolation.RECORD_FILES),
            aggregate_files=config.get("aggregate_files", isolation.AGGREGATE_FILES),
            org_filtered_files=config.get("org_filtered_files", isolation.ORG_FILTERED_AGGREGATES),
            warm_imports=config.get("warm_imports"),
        )
    except PxlibError as exc:
        print(f"pxlib batch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pxlib batch: interrupted; run again with --resume to finish", file=sys.stderr)
        return 130
    out_path = Path(out).resolve()
    n_failed = int((frame["status"] == "failed").sum())
    print(
        f"{int((frame['status'] == 'ok').sum())} reports made, "
        f"{int((frame['status'] == 'skipped').sum())} unchanged, {n_failed} failed "
        f"(details in {out_path / 'results.csv'}).\nIndex: {out_path / 'index.html'}"
    )
    return 1 if n_failed else 0
