"""Printable HTML: the weekly data-collection sheet and the one-page plan (A4).

Both are self-contained HTML documents (no scripts, no network) with a print
stylesheet for A4 paper (:data:`pxlib.workbook.forms.PRINT_CSS`,
``@page { size: A4; margin: 15mm }``), so a ward can print them from any
browser. Text is escaped; nothing patient-level goes in.

The sheet protects the operational definition (see :mod:`pxlib.workbook.forms`):
the questions word for word with "read exactly as written", who asks (never the
person who gave the care), one column per patient laid out by the week's
sampling schedule (weekends included), who may answer for a patient, and the
demographic boxes of the margins the unit is weighted to. The easy-read card is
:func:`pxlib.workbook.forms.easy_read_form`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from pxlib import fmt
from pxlib.workbook.equality import attribute_words
from pxlib.workbook.forms import (
    NOT_KNOWN,
    PREFER_NOT,
    READ_AS_WRITTEN,
    CollectionRules,
    Demographic,
    demographic_categories,
    html_document,
    level_label,
    question_answers,
    read_out,
    rules_list,
    schedule_table,
)
from pxlib.workbook.forms import escape_value as _e
from pxlib.workbook.sampling import sampling_schedule

SHEET_CSS = """
table.grid { table-layout: fixed; }
table.grid th, table.grid td { padding: 0.8mm 1mm; }
table.grid col.label { width: 52mm; }
table.grid thead th { text-align: center; font-size: 9pt; }
table.grid thead th:first-child { text-align: left; }
table.grid tbody th { font-weight: normal; font-size: 9.5pt; vertical-align: middle; }
table.grid tbody th.read { font-weight: bold; }
table.grid tbody th.noread { font-style: italic; }
table.grid th.group { background: #F0F4F5; font-weight: bold; font-size: 9.5pt; }
table.grid td.box { width: auto; }
caption .wording { display: block; font-size: 11.5pt; margin: 0.8mm 0; }
caption .small { display: block; font-weight: normal; }
.code { color: #425563; font-size: 8pt; font-weight: normal; }
ul.rules li { margin: 1.2mm 0; }
table.schedule th, table.schedule td { padding: 1mm 1.5mm; font-size: 10pt; }
"""


PLAN_CSS = """
table th, table td { font-size: 9.5pt; padding: 1mm 1.5mm; }
"""


def _sheets(days: list[str], per_sheet: int) -> list[list[tuple[int, str]]]:
    """Patient columns ((number, day), ...) split evenly into sheets of at most ``per_sheet``."""
    cols = list(enumerate(days, start=1))
    size = math.ceil(len(cols) / max(1, math.ceil(len(cols) / per_sheet)))
    return [cols[i : i + size] for i in range(0, len(cols), size)]


def _grid_head(cols: list[tuple[int, str]], first: str, *, about: bool) -> str:
    """Two header rows: the day of each patient column (grouped), then the patient numbers."""
    groups: list[list] = []
    for _, day in cols:
        if groups and groups[-1][0] == day:
            groups[-1][1] += 1
        else:
            groups.append([day, 1])
    days = "".join(f'<th scope="colgroup" colspan="{n}">{_e(d[:3])}</th>' for d, n in groups)
    cls = ' class="about"' if about else ""
    nums = "".join(f'<th scope="col"{cls}>{_e(fmt.number(i))}</th>' for i, _ in cols)
    colgroup = '<colgroup><col class="label">' + "<col>" * len(cols) + "</colgroup>"
    return (
        f'{colgroup}<thead><tr><th scope="row">Day</th>{days}</tr>'
        f'<tr><th scope="col">{_e(first)}</th>{nums}</tr></thead>'
    )


def _tick_row(label: str, n: int, cls: str = "", code: str = "") -> str:
    tag = f' class="{cls}"' if cls else ""
    code_html = f' <span class="code">[{_e(code)}]</span>' if code else ""
    cells = '<td class="box"><span class="tick"></span></td>' * n
    return f'<tr><th scope="row"{tag}>{_e(label)}{code_html}</th>{cells}</tr>'


def _demographic_rows(d: Demographic, n: int) -> str:
    head = f'<tr><th scope="rowgroup" class="group" colspan="{n + 1}">{_e(d.question)}</th></tr>'
    rows = []
    for level in d.levels:
        label = level_label(d.variable, level)
        rows.append(_tick_row(label, n, code=level if label != level else ""))
    rows.append(_tick_row(PREFER_NOT if d.asked else NOT_KNOWN, n))
    return head + "".join(rows)


def _sheet(cols: list[tuple[int, str]], questions: list, demographics: list[Demographic]) -> str:
    """One sheet: who answered, each question's answers, the demographic boxes."""
    n = len(cols)
    blank = '<tr><th scope="row">Asked by (initials)</th>' + "<td></td>" * n + "</tr>"
    parts = [
        '<table class="grid keep"><caption>About each patient asked</caption>'
        + _grid_head(cols, "Patient", about=True)
        + f"<tbody>{blank}"
        + _tick_row("Answered by the patient", n)
        + _tick_row("Answered by a carer or relative (proxy)", n)
        + _tick_row("Professional interpreter used", n)
        + "</tbody></table>"
    ]
    for qid, wording, kind, pairs in questions:
        rows = "".join(_tick_row(a, n, "noread" if c == "excluded" else "read") for a, c in pairs)
        kind_text = f" ({_e(kind)} measure)" if kind else ""
        parts.append(
            f'<table class="grid keep"><caption>{_e(qid)}{kind_text}: read out'
            f'<span class="wording">“{_e(wording)}”</span>'
            f'<span class="small">then the answers in bold: {_e(read_out(pairs))}.</span>'
            "</caption>"
            + _grid_head(cols, "Answer / patient", about=False)
            + f"<tbody>{rows}</tbody></table>"
        )
    if demographics:
        parts.append(
            '<table class="grid keep"><caption>About the patient: ask these last, after the '
            "questions above</caption>"
            + _grid_head(cols, "Patient", about=True)
            + "<tbody>"
            + "".join(_demographic_rows(d, n) for d in demographics)
            + "</tbody></table>"
        )
    return "\n".join(parts)


def data_collection_template(
    question_bank: pd.DataFrame,
    *,
    unit: str,
    patients: int = 15,
    week_starting: dt.date | None = None,
    how_to_sample: str = "",
    organisation: str = "",
    synthetic_note: bool = False,
    schedule: pd.DataFrame | None = None,
    margins: pd.DataFrame | None = None,
    responses: pd.DataFrame | None = None,
    rules: CollectionRules | None = None,
    per_sheet: int = 15,
) -> str:
    """The weekly data-collection sheet: one column of tick boxes per patient, laid out by day.

    ``schedule``: from :func:`pxlib.workbook.sampling.sampling_schedule` (its
    ``ask`` column gives each day's patient columns; ``patients`` is then not
    used); by default ``sampling_schedule(patients)``, an even split over the
    seven days. One table per question of the bank (in its order), read out
    word for word; the demographic boxes of :func:`pxlib.workbook.forms.demographic_categories`
    (``margins`` of the unit, ``responses`` for categories the margins do not
    list); the rules of ``rules`` (:class:`~pxlib.workbook.forms.CollectionRules`).
    More than ``per_sheet`` patients are split over several sheets. No names or
    identifiers are collected. Returns the HTML document as a string.
    """
    questions = question_answers(question_bank)
    if schedule is None:
        if patients < 1:
            raise ValueError("patients must be at least 1")
        schedule = sampling_schedule(patients)
    if week_starting is not None and week_starting.weekday() != 0:
        raise ValueError(f"week_starting must be a Monday, not {fmt.date(week_starting)}")
    if per_sheet < 1:
        raise ValueError("per_sheet must be at least 1")
    days = [
        str(d) for d, k in zip(schedule["day"], schedule["ask"], strict=True) for _ in range(int(k))
    ]
    if not days:
        raise ValueError("the schedule asks nobody: give at least one patient a week")
    demographics = demographic_categories(margins, unit=unit, responses=responses)
    when = fmt.date(week_starting) if week_starting else "____ / ____ / ________"
    parts = [
        f"<h1>Always Event: patient questions, {_e(unit)}</h1>",
        f"<p>{_e(organisation)}</p>" if organisation else "",
        f"<p><strong>Week starting (Monday):</strong> {_e(when)}</p>",
        '<p class="synthetic small">Made from SYNTHETIC sample data for training.</p>'
        if synthetic_note
        else "",
        "<h2>Before you ask</h2>",
        f"<p><strong>{_e(READ_AS_WRITTEN)}</strong> If the patient asks, read it again. Read "
        "out the answers in bold; tick an answer in italics only when the patient gives it "
        "without being offered.</p>",
        rules_list(rules),
        f"<p><strong>How to choose patients:</strong> {_e(how_to_sample)}</p>"
        if how_to_sample
        else "",
        "<p>Ask on each day of the schedule, in that day's columns. If a patient declines or "
        "cannot answer, add a mark to the day's tally and ask the next patient leaving.</p>",
        schedule_table(schedule, tally=True),
        '<p class="small">Do not write names, NHS numbers, dates of birth, postcodes or anything '
        "else that identifies a patient.</p>",
    ]
    sheets = _sheets(days, per_sheet)
    for i, cols in enumerate(sheets, start=1):
        title = "Answers"
        if len(sheets) > 1:
            title = f"Answers, sheet {fmt.number(i)} of {fmt.number(len(sheets))}"
        parts += [
            f'<section class="pagebreak"><h2>{_e(title)}</h2>',
            _sheet(cols, questions, demographics),
            "</section>",
        ]
    parts.append(
        '<p class="small">Enter the ticks in the responses file each week: one row per answer, '
        "with the answer as printed and the patient's categories as the codes in brackets show "
        f"them. Leave the value blank for “{_e(PREFER_NOT)}” or “{_e(NOT_KNOWN)}”.</p>"
    )
    body = "\n".join(p for p in parts if p)
    return html_document(f"Data collection: {unit}", body, SHEET_CSS)


def _table(frame: pd.DataFrame, caption: str) -> str:
    """A frame as a captioned table; snake_case headers read as words, short columns unbroken."""
    head = "".join(
        f'<th scope="col">{_e(str(c).replace("_", " ").capitalize())}</th>' for c in frame.columns
    )
    short = [frame[c].astype(str).str.len().max() <= 14 if len(frame) else True for c in frame]
    rows = "".join(
        "<tr>"
        + "".join(
            ('<td class="short">' if s else "<td>") + f"{_e(v)}</td>"
            for v, s in zip(row, short, strict=True)
        )
        + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return (
        f"<table><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _quoted(answers: Sequence[str]) -> str:
    return ", ".join(f"“{a}”" for a in answers) or "(none)"


def operational_definition(
    question_bank: pd.DataFrame,
    *,
    unit: str = "the unit",
    measure_type: str = "outcome",
    rules: CollectionRules | None = None,
    weighted_by: Sequence[str] = (),
) -> pd.DataFrame:
    """The operational definition of each ``measure_type`` question, in the team's words.

    One row per part (``question_id``, ``part``, ``definition``): the question
    as asked, numerator, denominator, what leaves the denominator, who is
    included and excluded, who may answer, who asks, when, and (with
    ``weighted_by``, e.g. the unit's margin variables) the weighting.
    """
    r = rules or CollectionRules()
    rows = []
    for qid, wording, kind, pairs in question_answers(question_bank):
        if measure_type and kind != measure_type:
            continue
        happened = [a for a, c in pairs if c == "happened"]
        counted = [a for a, c in pairs if c in ("happened", "not_happened")]
        left_out = [a for a, c in pairs if c == "excluded"]
        parts = [
            ("Question", f"“{wording}” read exactly as written, answers {read_out(pairs)}"),
            ("Numerator", f"patients in the denominator who answer {_quoted(happened)}"),
            (
                "Denominator",
                f"eligible patients leaving {unit} in the week who were asked and answer "
                f"{_quoted(counted)}",
            ),
            (
                "Left out",
                (f"answers {_quoted(left_out)}; " if left_out else "")
                + "patients who decline or cannot answer (counted in the tally, not in the measure)",
            ),
            ("Included", "; ".join(r.included)),
            ("Excluded", "; ".join(r.excluded)),
            ("Who may answer", "; ".join(r.proxy)),
            ("Who asks", f"{r.who_asks}; never {r.never_asks}"),
            (
                "When",
                "every day by the sampling schedule; reported for each week, Monday to Sunday",
            ),
        ]
        if weighted_by:
            names = attribute_words(weighted_by)
            parts.append(
                ("Weighting", f"each week weighted to the unit's eligible patients by {names}")
            )
        rows += [{"question_id": qid, "part": p, "definition": d} for p, d in parts]
    return pd.DataFrame(rows, columns=["question_id", "part", "definition"])


def _definition_tables(definition: pd.DataFrame) -> list[str]:
    out = []
    for qid, rows in definition.groupby("question_id", sort=False):
        body = "".join(
            f'<tr><th scope="row">{_e(p)}</th><td>{_e(d)}</td></tr>'
            for p, d in zip(rows["part"], rows["definition"], strict=True)
        )
        out.append(
            f'<table class="definition"><caption>{_e(qid)}</caption>'
            f'<colgroup><col style="width: 34mm"><col></colgroup><tbody>{body}</tbody></table>'
        )
    return out


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
    schedule: pd.DataFrame | None = None,
    definition: pd.DataFrame | None = None,
    rules: CollectionRules | None = None,
) -> str:
    """The one-page Always Event plan: vision, aim, where the unit stands, measures, the
    operational definition, the sampling schedule, criteria, review.

    ``status``: the unit's reading (a row of :func:`pxlib.workbook.reading.read_units`):
    its verdict, evidence and next step are printed as they are, never re-judged.

    ``measures``: the measurement plan (e.g. columns measure, question,
    operational definition); ``definition``: the outcome's operational definition
    from :func:`pxlib.workbook.forms.operational_definition` (without it, the
    rules of ``rules`` say who is counted); ``schedule``: the week's
    :func:`pxlib.workbook.sampling.sampling_schedule`; ``checklist``: the four
    criteria table from :func:`pxlib.workbook.aims.criteria_checklist`.
    Returns the HTML document.
    """
    parts = [
        f"<h1>Always Event plan: {_e(unit)}</h1>",
        f"<p>{_e(organisation)} &middot; printed {_e(fmt.date(dt.date.today()))}</p>",
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
    parts.append("<h2>Operational definition: who is counted, who asks</h2>")
    if definition is not None and len(definition):
        parts += _definition_tables(definition)
    else:
        parts.append(rules_list(rules))
    parts.append(f"<p><strong>{_e(READ_AS_WRITTEN)}</strong></p>")
    if sampling or schedule is not None:
        parts += [
            '<section class="keep"><h2>Sampling plan</h2>',
            f"<p>{_e(sampling)}</p>" if sampling else "",
            schedule_table(schedule) if schedule is not None else "",
            "</section>",
        ]
    if checklist is not None and len(checklist):
        cols = [c for c in ("criterion", "evidence", "met") if c in checklist.columns]
        parts += ["<h2>Always Event criteria</h2>", _table(checklist[cols], "The four criteria")]
    parts.append("<h2>Team and review</h2>")
    parts.append(f"<p><strong>Team:</strong> {_e(team) or '________________________________'}</p>")
    parts.append(
        f"<p><strong>Next review:</strong> {_e(next_review) or '____ / ____ / ________'}</p>"
    )
    return html_document(f"Always Event plan: {unit}", "\n".join(p for p in parts if p), PLAN_CSS)


def write_html(document: str, path: str | Path) -> Path:
    """Write an HTML document (UTF-8), creating the folder; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    return path
