"""Small helpers every national section uses: the trust's code and name, the organisation
list, a "name (code)" label, months written out, and a figure title that fits the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from pxlib.errors import PxlibError
from pxlib.workbook.national_insight.files import NationalFiles

__all__ = [
    "labelled",
    "month_span",
    "month_text",
    "normalised_code",
    "org_name",
    "organisations_for",
    "title_html",
]


def normalised_code(trust_code: str) -> str:
    """The organisation code as the files write it (:func:`pxlib.data.normalise_code`)."""
    from pxlib.data import normalise_code

    return str(normalise_code(str(trust_code)))


def organisations_for(
    data_dir: str | Path | NationalFiles, organisations: pd.DataFrame | None
) -> pd.DataFrame | None:
    """``organisations`` if given, else the data folder's ``organisations.csv`` (None when
    it is absent or unreadable)."""
    if organisations is not None:
        return organisations
    if isinstance(data_dir, NationalFiles):
        data_dir = data_dir.folder.parent
    from pxlib.data import find_input, load_organisations

    try:
        path = find_input(data_dir, "organisations")
        return None if path is None else load_organisations(path).data
    except PxlibError:
        return None


def org_name(code: str, organisations: pd.DataFrame | None, fallback: str = "") -> str:
    """The organisation's name in ``organisations`` (``fallback`` when it has none)."""
    if organisations is not None and {"org_code", "org_name"} <= set(organisations.columns):
        rows = organisations[organisations["org_code"].astype(str) == code]
        if len(rows) and str(rows["org_name"].iloc[0]).strip():
            return str(rows["org_name"].iloc[0]).strip()
    return fallback


def labelled(name: str, code: str) -> str:
    """``name (code)``, or the code alone when there is no other name."""
    return f"{name} ({code})" if name and name != code else code


def month_text(value: Any) -> str:
    """A month as ``Jan 2025``."""
    return pd.Timestamp(value).strftime("%b %Y")


def month_span(periods: Iterable[Any]) -> str:
    """``Jan 2025 to Mar 2025`` (one month when the periods hold one)."""
    stamps = pd.to_datetime(pd.Series(periods)).dropna()
    first, last = stamps.min(), stamps.max()
    return month_text(first) if first == last else f"{month_text(first)} to {month_text(last)}"


def title_html(text: str) -> str:
    """A figure title broken to fit the report column (the template's 17 px title font)."""
    from pxlib.spc.theme import wrapped_html

    return wrapped_html(text, 860, size=17)
