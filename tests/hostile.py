"""The sample data made hostile: script in names, personal details in every free-text field.

:func:`write_hostile` copies ``data/sample`` and, for one trust, puts a script
payload into the organisation's name, a unit's name and every PDSA field, and
plants each form of personal detail that redaction must catch (:data:`PLANTED`)
into every free-text field: comments and the PDSA log's change idea,
prediction and what happened. Any dialog a browser opens on a report, or any
planted detail found in an output file, is a leak.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
TRUST = "ZA1"
UNIT = "Ash Ward"

#: script that runs if a value reaches a page unescaped (each opens a dialog)
PAYLOADS = (
    "<script>alert('script')</script>",
    '"><img src=x onerror=alert("img")>',
    "<svg onload=alert('svg')>",
    "[click](javascript:alert('link'))",
)
ORG_NAME = f"Zephyr {PAYLOADS[0]} Trust {PAYLOADS[1]}"
UNIT_NAME = f"Ash {PAYLOADS[1]} Ward {PAYLOADS[2]}"

#: personal details as people write them, and the text that must never appear in an output
PLANTED = {
    "phone, 0044": ("ring 0044 7700 900123 please", "7700 900123"),
    "phone, +44 (0)": ("call +44 (0)113 496 0777", "496 0777"),
    "phone, mobile": ("my mobile 07700-900-456", "900-456"),
    "NHS number, dots": ("NHS no 943.476.5919", "476.5919"),
    "NHS number, spaces": ("number 485 777 3456", "777 3456"),
    "postcode": ("I live at LS1 4AP", "LS1 4AP"),
    "postcode, lower case": ("post to ls2 9jt", "ls2 9jt"),
    "e-mail": ("write to jo.planted@example.nhs.uk", "jo.planted@"),
    "date of birth": ("DOB 03/04/1950 on file", "03/04/1950"),
    "titled name, lower case": ("dr quenby explained", "quenby"),
    "titled name": ("Nurse Okwuosa helped", "Okwuosa"),
}
PII_TEXT = "; ".join(text for text, _ in PLANTED.values())
FREE_TEXT = {
    "responses.csv": ["comment"],
    "pdsa_log.csv": ["change_idea", "prediction", "what_happened"],
}


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def write_hostile(folder: Path) -> Path:
    """A copy of the sample data at ``folder`` with payloads and planted details for :data:`TRUST`."""
    shutil.copytree(SAMPLE, folder)
    orgs = _read(folder / "organisations.csv")
    orgs.loc[orgs["org_code"] == TRUST, "org_name"] = ORG_NAME
    orgs.to_csv(folder / "organisations.csv", index=False)
    journey = ("team.csv", "codesign_sessions.csv", "what_matters.csv", "votes.csv",
               "driver_diagram.csv", "audits.csv", "spread_plan.csv", "sustainability.csv")  # fmt: skip
    for name in ("units.csv", "responses.csv", "pdsa_log.csv", "margins.csv", *journey):
        table = _read(folder / name)
        mine = (table["org_code"] == TRUST) & (table["unit"] == UNIT)
        table.loc[mine, "unit"] = UNIT_NAME
        if name == "pdsa_log.csv":
            own = table["org_code"] == TRUST
            table.loc[own, "cycle_id"] = table.loc[own, "cycle_id"] + PAYLOADS[2]
            for column in FREE_TEXT[name]:
                table.loc[own, column] = f"{PAYLOADS[3]} {PAYLOADS[1]} {PII_TEXT}"
        elif name == "responses.csv":
            own = table.index[table["org_code"] == TRUST]
            table.loc[own[::50], "comment"] = f"{PAYLOADS[1]} {PII_TEXT}"
        table.to_csv(folder / name, index=False)
    return folder
