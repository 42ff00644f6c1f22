"""Key results a notebook records for the batch index.

A notebook calls :func:`record_results` at its end with one small record per
unit (latest value, verdict, the Making Data Count icons ...). The records go
to ``<output_dir>/<notebook>.results.json`` beside the report, where the batch
index (:mod:`pxlib.report.index`) reads them. Keys the index does not know are
shown generically, so a notebook may record whatever summarises it.

Records hold summary figures only: never comments, answers or row-level data
(the index page is shared between organisations).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any

from pxlib.errors import PxlibError
from pxlib.report.io import atomic_write_text

__all__ = [
    "RecordResultsError",
    "record_results",
    "read_results",
    "json_safe",
    "unit_anchor",
    "unit_file",
    "RESULTS_SUFFIX",
]

RESULTS_SUFFIX = ".results.json"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower() or "unit"


def unit_anchor(unit: str) -> str:
    """The id of a unit's section in a report (``unit-ash-ward-3f2a``), linked from the index.

    Letters, digits and hyphens only, whatever the unit's name holds; the short
    hash keeps two names with the same letters ("Ash Ward", "Ash-Ward") apart.
    """
    digest = hashlib.sha1(str(unit).encode("utf-8")).hexdigest()[:4]
    return f"unit-{_slug(unit)[:40]}-{digest}"


def unit_file(output_dir: str | Path, trust_code: str, unit: str, what: str) -> Path:
    """``<output_dir>/<trust>_<unit>_<what>.html``: a unit's printable form or plan."""
    return Path(output_dir) / f"{trust_code}_{_slug(unit)}_{what}.html"


def organisation_file(output_dir: str | Path, trust_code: str, what: str) -> Path:
    """``<output_dir>/<trust>_<what>.html``: an organisation's printable page (its storyboard)."""
    return Path(output_dir) / f"{trust_code}_{what}.html"


class RecordResultsError(PxlibError, TypeError):
    """Results given to :func:`record_results` are not records of simple values."""


def json_safe(value: Any) -> Any:
    """``value`` made of plain JSON types.

    numpy and pandas scalars become Python numbers, missing values (NaN, NA,
    NaT, None) become ``null``, timestamps and periods become ISO text, arrays
    and Series become lists, paths become text. Anything else is refused.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if not math.isfinite(value) else value
    if isinstance(value, Decimal):
        return json_safe(float(value))
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    # numpy / pandas, imported lazily so a notebook pays nothing extra
    import numpy as np
    import pandas as pd

    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return json_safe(float(value))
    if isinstance(value, np.str_):
        return str(value)
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(pd.Timestamp(value).isoformat())
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, pd.Timedelta | np.timedelta64):
        return str(pd.Timedelta(value))
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, np.ndarray | pd.Series | pd.Index):
        return [json_safe(v) for v in np.asarray(value, dtype=object).tolist()]
    raise RecordResultsError(
        f"record_results takes numbers, text, dates and missing values; got a {type(value).__name__}"
    )


def record_results(
    output_dir: str | Path, notebook: str, results: Mapping[str, Any] | list[Mapping[str, Any]]
) -> Path:
    """Write a notebook's key results to ``<output_dir>/<notebook>.results.json``.

    ``results`` is one record (a dict) or a list of records, typically one per
    unit, with keys such as ``unit``, ``latest_value``, ``verdict``,
    ``variation_type`` and ``assurance_type`` (see ``SPCResult.summary``).
    Values may be numpy or pandas scalars. The file is replaced atomically and
    its path returned.
    """
    name = Path(str(notebook)).name
    if name.endswith(".ipynb"):
        name = name[: -len(".ipynb")]
    if not name or name in {".", ".."}:
        raise RecordResultsError("record_results needs the notebook's name, e.g. '03_measure'")
    records = [results] if isinstance(results, Mapping) else results
    if not isinstance(records, list | tuple) or not all(isinstance(r, Mapping) for r in records):
        raise RecordResultsError(
            "record_results takes a dict or a list of dicts (one per unit); "
            f"got a {type(results).__name__}"
        )
    payload = {
        "notebook": name,
        "recorded_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "results": [json_safe(dict(r)) for r in records],
    }
    path = Path(output_dir) / f"{name}{RESULTS_SUFFIX}"
    atomic_write_text(path, json.dumps(payload, indent=1, allow_nan=False) + "\n")
    return path


def read_results(path: str | Path) -> dict[str, Any]:
    """The payload written by :func:`record_results` (``notebook``, ``recorded_at``, ``results``)."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise RecordResultsError(f"{path} is not a results file written by record_results")
    return data
