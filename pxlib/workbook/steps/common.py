"""What every notebook step starts from: whose data these are, their units, where files go.

:func:`organisation_label`, :func:`about_data` (the "whose data" line each
notebook opens with), :func:`units_of`, :func:`default_unit` and
:func:`output_path` (the file the batch index links for a unit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from pxlib.errors import DataValidationError
from pxlib.escape import md_text

if TYPE_CHECKING:
    from pathlib import Path

    from pxlib.data.folder import WorkbookData


def organisation_label(data: WorkbookData) -> str:
    """'<organisation name> (<code>)', or the code alone when the name is unknown."""
    code = data.trust_code or "all organisations"
    try:
        row = data.organisation
    except KeyError:
        row = None
    name = str(row["org_name"]) if row is not None and "org_name" in row.index else ""
    return f"{name} ({code})" if name else str(code)


def about_data(data: WorkbookData) -> str:
    """A Markdown line saying whose data these are, how many respondents, units and weeks."""
    label = organisation_label(data)
    resp = data.responses
    parts = [f"**Organisation:** {md_text(label)}."]
    if resp is not None and len(resp):
        n_people = resp["respondent_id"].nunique() if "respondent_id" in resp.columns else len(resp)
        weeks = pd.to_datetime(resp["response_date"])
        parts.append(
            f"**Local survey:** {n_people:,} respondents in {resp['unit'].nunique()} units, "
            f"{weeks.min():%d %b %Y} to {weeks.max():%d %b %Y}."
        )
    else:
        parts.append("**Local survey:** no answers yet.")
    if "(synthetic)" in label or "synthetic" in str(getattr(data, "data_dir", "")).lower():
        parts.append("*These are SYNTHETIC sample data for training: no real patient or service.*")
    elif str(getattr(data, "data_dir", "")).replace("\\", "/").rstrip("/").endswith("data/sample"):
        parts.append("*These are SYNTHETIC sample data for training: no real patient or service.*")
    return " ".join(parts)


def default_unit(data: WorkbookData) -> str:
    """The unit a team most likely starts with: most PDSA cycles logged, then most answers."""
    units = units_of(data)
    if not units:
        raise DataValidationError("the organisation has no units with survey answers")
    resp = data.responses
    answers = (
        resp.groupby("unit")["respondent_id"].nunique() if len(resp) else pd.Series(dtype=float)
    )
    log = data.pdsa_log
    cycles = log.groupby("unit").size() if len(log) else pd.Series(dtype=float)
    ranked = sorted(units, key=lambda u: (-cycles.get(u, 0), -answers.get(u, 0), u))
    return ranked[0]


def units_of(data: WorkbookData, weekly: pd.DataFrame | None = None) -> list[str]:
    """The organisation's units with survey answers (sorted), else those in units.csv."""
    if weekly is not None and len(weekly):
        return sorted(weekly["unit"].unique())
    if data.responses is not None and len(data.responses):
        return sorted(data.responses["unit"].unique())
    return sorted(data.units["unit"].unique()) if len(data.units) else []


def output_path(output_dir: str | Path, trust_code: str, unit: str, what: str) -> Path:
    """``<output_dir>/<trust>_<unit>_<what>.html`` with a file-safe unit name (the index links it)."""
    from pxlib.report.results import unit_file

    return unit_file(output_dir, trust_code, unit, what)
