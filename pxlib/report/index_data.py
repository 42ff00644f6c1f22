"""What the batch index shows, gathered: each unit's merged record, each organisation's reports.

:func:`gather` reads the results table and every made report's
``<notebook>.results.json`` (:func:`load_records`) and merges each unit's
records (:func:`merge_units`); :mod:`pxlib.report.index` writes the page from
it. :func:`is_suppressed` applies the one small-number rule of
:mod:`pxlib.disclosure` to a record, whatever the notebook recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pxlib.disclosure import SMALL_NUMBER_THRESHOLD, small_numbers
from pxlib.report.results import RESULTS_SUFFIX, RecordResultsError, read_results

__all__ = [
    "COUNT_KEYS",
    "IndexData",
    "SUPPRESS_BELOW",
    "VALUE_KEYS",
    "gather",
    "is_suppressed",
    "load_records",
    "merge_units",
    "record_count",
]

#: records with fewer respondents than this show no values (the one rule of pxlib.disclosure)
SUPPRESS_BELOW = SMALL_NUMBER_THRESHOLD
_RULE = small_numbers(SUPPRESS_BELOW)
#: keys that hold a record's respondent count, in the order they are looked for
COUNT_KEYS = ("n_respondents", "respondents", "n")
#: keys that hold a record's value (hidden when the record is suppressed)
VALUE_KEYS = ("latest_value", "value", "estimate", "latest", "mean", "proportion")


def record_count(record: Mapping[str, Any]) -> float | None:
    """The record's respondent count (the first of :data:`COUNT_KEYS` that is a number), or None."""
    for key in COUNT_KEYS:
        n = record.get(key)
        if isinstance(n, int | float) and not isinstance(n, bool):
            return float(n)
    return None


def is_suppressed(record: Mapping[str, Any]) -> bool:
    """Whether the record rests on fewer respondents than :data:`SUPPRESS_BELOW` (its values hidden)."""
    n = record_count(record)
    return n is not None and not _RULE.shows(n)


def load_records(out_dir: Path, code: str, notebook: str) -> list[Mapping[str, Any]]:
    """The records of ``<out>/<code>/<notebook>.results.json`` ([] if missing or unreadable)."""
    path = out_dir / code / f"{notebook}{RESULTS_SUFFIX}"
    if not path.is_file():
        return []
    try:
        return [r for r in read_results(path)["results"] if isinstance(r, Mapping)]
    except (OSError, ValueError, RecordResultsError):
        return []


def merge_units(
    out_dir: Path, code: str, notebooks: Sequence[str], made: set[str]
) -> dict[str, dict[str, Any]]:
    """{unit: record} from every made report of ``code``.

    Records that carry a verdict (the unit's reading, notebooks 03 and 04) are
    merged first, so the latest value, n and status are the reading's; for any
    other key the first notebook giving it wins. ``_notebooks`` lists the
    unit's reports in notebook order.
    """
    loaded = {nb: load_records(out_dir, code, nb) for nb in notebooks if nb in made}
    reading_first = sorted(loaded, key=lambda nb: not any("verdict" in r for r in loaded[nb]))
    units: dict[str, dict[str, Any]] = {}
    for nb in reading_first:
        for rec in loaded[nb]:
            name = rec.get("unit")
            if name is None or str(name) == "":
                continue
            merged = units.setdefault(str(name), {"_notebooks": set()})
            merged["_notebooks"].add(nb)
            for key, value in rec.items():
                merged.setdefault(key, value)
    for merged in units.values():
        merged["_notebooks"] = [nb for nb in notebooks if nb in merged["_notebooks"]]
    return units


@dataclass(frozen=True)
class IndexData:
    """Everything the index page shows, read from the batch's outputs."""

    codes: list[str]  # organisations, in the results' order
    names: dict[str, str]  # organisation code -> name
    by_pair: dict[tuple[str, str], Any]  # (code, notebook) -> its results row
    units: list[tuple[str, str, dict[str, Any]]]  # (code, unit, merged record), in page order


def gather(
    out_dir: Path, results: pd.DataFrame, organisations: pd.DataFrame, notebooks: Sequence[str]
) -> IndexData:
    """The index's data: organisations and their names, results by report, every unit's record.

    A unit's records come from its organisation's made reports only (``ok`` or
    ``skipped``: a failed report's results file is not read).
    """
    org_names = (
        organisations["org_name"] if "org_name" in organisations else [""] * len(organisations)
    )
    names = dict(zip(organisations["org_code"].astype(str), org_names, strict=False))
    codes = list(dict.fromkeys(results["trust_code"].astype(str)))
    by_pair = {(str(r.trust_code), str(r.notebook)): r for r in results.itertuples(index=False)}
    units: list[tuple[str, str, dict[str, Any]]] = []
    for code in codes:
        made = {
            nb
            for nb in notebooks
            if (code, nb) in by_pair and str(by_pair[(code, nb)].status) in ("ok", "skipped")
        }
        units.extend(
            (code, unit, rec) for unit, rec in merge_units(out_dir, code, notebooks, made).items()
        )
    return IndexData(codes, names, by_pair, units)
