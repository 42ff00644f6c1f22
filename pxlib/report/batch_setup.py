"""What ``pxlib batch`` checks before a kernel starts: which notebooks (and their
declared parameters, typed), which organisations, the ``--as-of`` date, a
``batch.yaml`` configuration, the kernel and the number of workers.

Every function raises :class:`~pxlib.errors.BatchError` or
:class:`~pxlib.errors.ParameterError` with a message for people; nothing here
writes a file.
"""

from __future__ import annotations

import ast
import datetime as _dt
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pxlib.errors import (
    BatchError,
    ParameterError,
    PxlibWarning,
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

#: parameters every notebook declares and the batch sets for each organisation
BATCH_PARAMETERS: tuple[str, ...] = ("trust_code", "data_dir", "output_dir", "interactive")
#: notebook prefixes run by default (the workshop is excluded)
DEFAULT_NOTEBOOKS: tuple[str, ...] = ("01", "02", "03", "04")
#: organisation types that ``all`` selects
BATCH_ORG_TYPES: tuple[str, ...] = ("trust", "other_provider")
_SAFE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}")
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
    "fresh_kernels",
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
