"""Printable HTML: the data-collection template and the one-page plan (A4).

Both are self-contained HTML documents (no scripts, no network) with a print
stylesheet for A4 paper (``@page { size: A4; margin: 15mm }``), so a ward can
print them from any browser. Text is escaped; nothing patient-level goes in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from pxlib.escape import html_text

PRINT_CSS = """
@page { size: A4; margin: 15mm; }
body { font-family: Arial, Helvetica, sans-serif; color: #212B32; font-size: 11pt; margin: 0 auto;
       max-width: 180mm; }
h1 { font-size: 16pt; color: #003087; margin: 0 0 4mm 0; }
h2 { font-size: 12.5pt; color: #005EB8; margin: 5mm 0 2mm 0; }
p, li { line-height: 1.35; margin: 1mm 0; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; }
caption { text-align: left; font-weight: bold; padding-bottom: 1mm; }
th, td { border: 1px solid #425563; padding: 1.5mm 2mm; text-align: left; vertical-align: top; }
th { background: #E8EDEE; }
td.box { width: 14mm; text-align: center; }
.vision { font-size: 13pt; font-style: italic; border-left: 3mm solid #005EB8; padding-left: 3mm; }
.small { font-size: 9pt; color: #425563; }
.synthetic { border: 1px solid #FFB81C; padding: 1mm 2mm; }
@media print {
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; }
  tr, .keep { break-inside: avoid; }
  .pagebreak { break-before: page; }
}
"""


def _doc(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html_text(title)}</title>\n<style>{PRINT_CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _e(text: object) -> str:
    return html_text(
        "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    )


def data_collection_template(
    question_bank: pd.DataFrame,
    *,
    unit: str,
    patients: int = 15,
    week_starting: dt.date | None = None,
    how_to_sample: str = "",
    organisation: str = "",
    synthetic_note: bool = False,
) -> str:
    """A printable form to ask ``patients`` patients this week's questions (one row each).

    One table per question of the bank (in its order), with a tick box per
    answer option; no names or identifiers are collected. Returns the HTML
    document as a string.
    """
    need = ["question_id", "wording", "answer"]
    missing = [c for c in need if c not in question_bank.columns]
    if missing:
        from pxlib.errors import ColumnError

        raise ColumnError(f"the question bank has no column(s) {missing}")
    if patients < 1:
        raise ValueError("patients must be at least 1")
    when = week_starting.strftime("%d %B %Y") if week_starting else "____ / ____ / ________"
    parts = [
        f"<h1>Always Event: weekly patient questions, {_e(unit)}</h1>",
        f"<p>{_e(organisation)}</p>" if organisation else "",
        f"<p><strong>Week starting (Monday):</strong> {_e(when)} &nbsp; "
        "<strong>Collected by (initials):</strong> ______</p>",
    ]
    if how_to_sample:
        parts.append(f"<p><strong>Who to ask:</strong> {_e(how_to_sample)}</p>")
    parts.append(
        '<p class="small">Ask each patient in your own words; tick one box per question. '
        "Do not write names, NHS numbers or other details that identify a patient.</p>"
    )
    if synthetic_note:
        parts.append('<p class="synthetic small">Made from SYNTHETIC sample data for training.</p>')
    header_patients = "".join(f'<th scope="col">{i}</th>' for i in range(1, patients + 1))
    for qid, rows in question_bank.groupby("question_id", sort=False):
        wording = rows["wording"].iloc[0]
        kind = rows["measure_type"].iloc[0] if "measure_type" in rows.columns else ""
        answers = list(dict.fromkeys(rows["answer"].astype(str)))
        body = "".join(
            f'<tr><th scope="row">{_e(a)}</th>' + '<td class="box">☐</td>' * patients + "</tr>"
            for a in answers
        )
        parts.append(
            '<table class="keep">'
            f"<caption>{_e(qid)} ({_e(kind)} measure): {_e(wording)}</caption>"
            f'<thead><tr><th scope="col">Answer / patient</th>{header_patients}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )
    parts.append(
        '<p class="small">Enter the ticks into the responses file each week '
        "(one row per answer) so the workbook can chart them.</p>"
    )
    return _doc(f"Data collection: {unit}", "\n".join(p for p in parts if p))


def _table(frame: pd.DataFrame, caption: str) -> str:
    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return (
        f"<table><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def one_page_plan(
    *,
    organisation: str,
    unit: str,
    vision: str,
    aim: str,
    aim_problems: Sequence[str] = (),
    measures: pd.DataFrame | None = None,
    sampling: str = "",
    checklist: pd.DataFrame | None = None,
    team: str = "",
    next_review: str = "",
    synthetic_note: bool = False,
    status: pd.Series | None = None,
) -> str:
    """The one-page Always Event plan: vision, aim, where the unit stands, measures, sampling,
    criteria, review.

    ``status``: the unit's reading (a row of :func:`pxlib.workbook.reading.read_units`):
    its verdict, evidence and next step are printed as they are, never re-judged.

    ``measures``: the measurement plan (e.g. columns measure, question,
    operational definition); ``checklist``: the four criteria table from
    :func:`pxlib.workbook.aims.criteria_checklist`. Returns the HTML document.
    """
    parts = [
        f"<h1>Always Event plan: {_e(unit)}</h1>",
        f"<p>{_e(organisation)} &middot; printed {dt.date.today():%d %B %Y}</p>",
    ]
    if synthetic_note:
        parts.append('<p class="synthetic small">Made from SYNTHETIC sample data for training.</p>')
    parts += [
        "<h2>Vision (in the patient's words)</h2>",
        f'<p class="vision">“{_e(vision)}”</p>',
        "<h2>Aim</h2>",
        f"<p>{_e(aim)}</p>",
    ]
    if aim_problems:
        parts.append("<ul>" + "".join(f"<li>To fix: {_e(p)}</li>" for p in aim_problems) + "</ul>")
    if status is not None:
        parts += [
            "<h2>Where the unit stands now</h2>",
            f"<p><strong>{_e(status['verdict'])}.</strong> {_e(status['reason'])}</p>",
            f"<p><em>Next step:</em> {_e(status['next_step'])}</p>",
        ]
    if measures is not None and len(measures):
        parts += [
            "<h2>Measures</h2>",
            _table(measures, "Family of measures and operational definitions"),
        ]
    if sampling:
        parts += ["<h2>Sampling plan</h2>", f"<p>{_e(sampling)}</p>"]
    if checklist is not None and len(checklist):
        cols = [c for c in ("criterion", "evidence", "met") if c in checklist.columns]
        parts += ["<h2>Always Event criteria</h2>", _table(checklist[cols], "The four criteria")]
    parts.append("<h2>Team and review</h2>")
    parts.append(f"<p><strong>Team:</strong> {_e(team) or '________________________________'}</p>")
    parts.append(
        f"<p><strong>Next review:</strong> {_e(next_review) or '____ / ____ / ________'}</p>"
    )
    return _doc(f"Always Event plan: {unit}", "\n".join(parts))


def write_html(document: str, path: str | Path) -> Path:
    """Write an HTML document (UTF-8), creating the folder; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    return path
