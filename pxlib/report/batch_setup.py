"""What ``pxlib batch`` checks before a kernel starts: which notebooks, which
organisations, a ``batch.yaml`` configuration, the kernel and the number of
workers. The notebooks' parameters and the ``--as-of`` date are checked in
:mod:`pxlib.report.params` (re-exported here).

Every function raises :class:`~pxlib.errors.BatchError` or
:class:`~pxlib.errors.ParameterError` with a message for people; nothing here
writes a file.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pxlib.errors import (
    BatchError,
    PxlibWarning,
)
from pxlib.report.params import (
    BATCH_PARAMETERS,
    check_as_of,
    parse_param_pairs,
    validate_parameters,
    with_as_of,
)

__all__ = [
    "BATCH_PARAMETERS",
    "DEFAULT_NOTEBOOKS",
    "CONFIG_KEYS",
    "default_notebooks_dir",
    "select_notebooks",
    "validate_parameters",
    "parse_param_pairs",
    "check_as_of",
    "with_as_of",
    "read_organisations",
    "select_organisations",
    "load_config",
]

log = logging.getLogger("pxlib.report")

#: notebook prefixes run by default (the workshop is excluded)
DEFAULT_NOTEBOOKS: tuple[str, ...] = ("01", "02", "03", "04")
#: organisation types that ``all`` selects
BATCH_ORG_TYPES: tuple[str, ...] = ("trust", "other_provider")
_SAFE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}")
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
    "fresh_kernels",
}


def default_notebooks_dir() -> Path:
    """The repository's ``notebooks/`` folder (beside the ``pxlib`` package)."""
    import pxlib

    return Path(pxlib.__file__).resolve().parents[1] / "notebooks"


# --- notebooks ----------------------------------------------------------------------


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
