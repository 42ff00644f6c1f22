"""Notebook parameters of a batch: checked against what each notebook declares, typed.

``--param name=value`` pairs (:func:`parse_param_pairs`) and a config's
``params`` are checked against each notebook's cell tagged ``parameters``
(``papermill.inspect_notebook``) and converted to the declared type
(:func:`validate_parameters`); ``--as-of`` is a ``YYYY-MM-DD`` date
(:func:`check_as_of`) given to the notebooks that declare ``as_of``
(:func:`with_as_of`). Every problem is a :class:`~pxlib.errors.ParameterError`
or :class:`~pxlib.errors.BatchError` with a message for people.
"""

from __future__ import annotations

import ast
import datetime as _dt
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pxlib.errors import BatchError, ParameterError

__all__ = [
    "AS_OF_PARAMETER",
    "BATCH_PARAMETERS",
    "check_as_of",
    "parse_param_pairs",
    "validate_parameters",
    "with_as_of",
]

log = logging.getLogger("pxlib.report")

#: parameters every notebook declares and the batch sets for each organisation
BATCH_PARAMETERS: tuple[str, ...] = ("trust_code", "data_dir", "output_dir", "interactive")
#: the notebook parameter ``--as-of`` sets (in notebooks that declare it)
AS_OF_PARAMETER = "as_of"

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
    containers: dict[str, type | tuple[type, ...]] = {
        "list": list,
        "dict": dict,
        "tuple": (list, tuple),
        "set": (list, set),
    }
    expected = containers.get(base)
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
