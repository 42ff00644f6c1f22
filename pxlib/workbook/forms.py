"""The data-collection forms: the weekly sheet staff fill in, and the easy-read card.

What keeps the measure the same measure on paper, week after week:

- **the question as written**: each question of the bank is printed word for
  word with its answers, and the person asking reads it exactly as written
  (rephrasing changes what is measured); answers that leave the denominator
  (``counts_as = excluded``, e.g. "Don't know") are not read out;
- **who asks**: never the person who gave the care (patients are kinder to
  the nurse in front of them);
- **every day, weekends too**: the patient columns are laid out by the
  week's :func:`pxlib.workbook.sampling.sampling_schedule`, so Saturday and
  Sunday have their own columns;
- **who is asked and who may answer for them**: the eligibility and proxy
  rules of :class:`CollectionRules`, the same text on the form and the plan;
- **the boxes the analysis uses**: age band, sex, ethnicity and deprivation
  quintile (:data:`pxlib.data.schemas.WEIGHTING_ATTRIBUTES`) with the categories
  of the margins the unit is weighted to (:func:`demographic_categories`), each
  with "Prefer not to say" (or "Not known" where the value is copied from the
  records, not asked), which is entered as a blank and weighted as missing.

The weekly sheet itself is :func:`pxlib.workbook.printable.data_collection_template`;
this module holds what it and the plan share (the A4 page, the rules, the
boxes, the schedule table) and the easy-read card
(:func:`easy_read_form`). Everything from data passes through
:func:`pxlib.escape.html_text`; numbers through :mod:`pxlib.fmt`. The pages are
self-contained A4 HTML (no script, no image or font from the network: the
easy-read faces are inline SVG).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from pxlib import fmt
from pxlib.data.sample import AGE_BANDS, DEPRIVATION, ETHNICITIES, SEXES
from pxlib.data.schemas import WEIGHTING_ATTRIBUTES
from pxlib.escape import html_text
from pxlib.workbook.sampling import DAYS, DEFAULT_ASKER

#: the A4 print stylesheet every printable page shares
PRINT_CSS = """
@page { size: A4; margin: 15mm; }
* { box-sizing: border-box; }
body { font-family: Arial, Helvetica, sans-serif; color: #212B32; font-size: 11pt; margin: 0 auto;
       padding: 0 4mm; max-width: 188mm; }
h1 { font-size: 16pt; color: #003087; margin: 4mm 0 3mm 0; }
h2 { font-size: 12.5pt; color: #005EB8; margin: 5mm 0 2mm 0; }
p, li { line-height: 1.35; margin: 1mm 0; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; }
caption { text-align: left; font-weight: bold; padding-bottom: 1mm; }
th, td { border: 1px solid #425563; padding: 1.5mm 2mm; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
td { overflow-wrap: anywhere; }
td.short, th.short { white-space: nowrap; overflow-wrap: normal; }
th { background: #E8EDEE; }
td.box { width: 14mm; text-align: center; }
.tick { display: inline-block; width: 4mm; height: 4mm; border: 0.4mm solid #212B32;
        vertical-align: middle; background: #FFFFFF; }
.vision { font-size: 13pt; font-style: italic; border-left: 3mm solid #005EB8; padding-left: 3mm; }
.small { font-size: 9pt; color: #425563; }
.synthetic { border: 1px solid #FFB81C; padding: 1mm 2mm; }
@media print {
  body { padding: 0; max-width: none; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; }
  tr, .keep { break-inside: avoid; }
  .pagebreak { break-before: page; }
  th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def escape_value(value: object) -> str:
    """A cell's value as escaped HTML text; None and NaN read as empty."""
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    return html_text("" if missing else str(value))


_e = escape_value


def html_document(title: str, body: str, css: str = "", *, body_class: str = "") -> str:
    """A self-contained A4 HTML page: :data:`PRINT_CSS` plus ``css``, no script, no network."""
    cls = f' class="{html_text(body_class)}"' if body_class else ""
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html_text(title)}</title>\n<style>{PRINT_CSS}{css}</style>\n</head>\n"
        f"<body{cls}>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


PREFER_NOT = "Prefer not to say"
NOT_KNOWN = "Not known"
READ_AS_WRITTEN = (
    "Read each question exactly as written. Do not rephrase it, explain it or add examples."
)


@dataclass(frozen=True)
class CollectionRules:
    """Who is asked, who may answer for a patient, and who asks: printed on the form and the plan."""

    who_asks: str = DEFAULT_ASKER
    never_asks: str = "the nurse, doctor or therapist who cared for the patient or discharged them"
    included: tuple[str, ...] = (
        "every patient aged 16 or over leaving the unit: home, to a care home or to another hospital",
        "on every day of the week, weekends and bank holidays included, by the sampling schedule",
        "asked on the day they leave, once their discharge has been explained",
    )
    excluded: tuple[str, ...] = (
        "patients moving to another ward of the same hospital (they have not left)",
        "patients who died, or who are receiving end-of-life care",
        "patients already asked during this stay, and patients who say no",
        "patients unable to answer when no carer or relative who was there can answer for them",
    )
    proxy: tuple[str, ...] = (
        "the patient answers whenever they can, with help to read or tick if needed",
        "if the patient cannot answer, a carer or relative who was there during the stay may answer "
        "about the patient's care: tick “Answered by a carer or relative” on the form",
        "staff never answer for a patient",
        "if the patient needs an interpreter, use a professional interpreter (not a relative), "
        "who reads the question as written",
    )


@dataclass(frozen=True)
class Demographic:
    """One box of the form that the weighting or the equality analysis uses."""

    variable: str
    question: str
    easy_question: str
    levels: tuple[str, ...]
    asked: bool = True


_DEFAULT_LEVELS = {
    "age_band": AGE_BANDS,
    "sex": SEXES,
    "ethnicity": ETHNICITIES,
    "deprivation_quintile": DEPRIVATION,
}
_QUESTIONS = {
    "age_band": ("Which age group are you in?", "How old are you?"),
    "sex": ("What is your sex?", "What is your sex?"),
    "ethnicity": ("What is your ethnic group?", "What is your ethnic group?"),
    "deprivation_quintile": (
        "Deprivation quintile of the home postcode (1 = most deprived): do not ask; copy it from "
        "the discharge list and never write the postcode",
        "",
    ),
}
_RECORDED = frozenset({"deprivation_quintile"})
_LABELS = {
    "female": "Female",
    "male": "Male",
    "Asian": "Asian or Asian British",
    "Black": "Black, Black British, Caribbean or African",
    "Mixed": "Mixed or multiple ethnic groups",
    "Other": "Another ethnic group",
    "75+": "75 or over",
}


def level_label(variable: str, level: str) -> str:
    """How a category reads on the form ("16 to 34", "1 (most deprived)")."""
    if level in _LABELS:
        return _LABELS[level]
    if variable == "age_band" and "-" in level:
        return level.replace("-", " to ")
    if variable == "deprivation_quintile" and level in ("1", "5"):
        return f"{level} ({'most' if level == '1' else 'least'} deprived)"
    return level


def _levels(frame: pd.DataFrame | None, column: str) -> list[str]:
    if frame is None or column not in frame.columns or not len(frame):
        return []
    values = frame[column].dropna().astype(str).str.strip()
    return list(dict.fromkeys(v for v in values if v))


def demographic_categories(
    margins: pd.DataFrame | None = None,
    *,
    unit: str | None = None,
    responses: pd.DataFrame | None = None,
) -> list[Demographic]:
    """The demographic boxes, one per weighting attribute, with the margins' own categories.

    For each of :data:`~pxlib.data.schemas.WEIGHTING_ATTRIBUTES` (and any other
    variable the margins list): the levels of the unit's margins rows (the
    margins it is weighted to), else of any margins rows, in the order listed;
    then any further level found in ``responses``; else the sample's coding.
    """
    rows = margins if margins is not None else pd.DataFrame(columns=["variable", "level"])
    if unit is not None and "unit" in rows.columns:
        own = rows[rows["unit"].astype("string").str.strip() == str(unit).strip()]
    else:
        own = rows.iloc[0:0]
    extra = [v for v in _levels(rows, "variable") if v not in WEIGHTING_ATTRIBUTES]
    out = []
    for var in (*WEIGHTING_ATTRIBUTES, *extra):
        levels = _levels(own[own["variable"] == var], "level") if len(own) else []
        if not levels and len(rows):
            levels = _levels(rows[rows["variable"] == var], "level")
        known = list(_DEFAULT_LEVELS.get(var, ()))
        more = sorted(
            set(_levels(responses, var)) - set(levels),
            key=lambda v, k=known: (k.index(v) if v in k else len(k), v),
        )
        levels = levels + more or list(_DEFAULT_LEVELS.get(var, ()))
        if not levels:
            continue
        name = var.replace("_", " ")
        question, easy = _QUESTIONS.get(var, (f"What is your {name}?", f"What is your {name}?"))
        out.append(Demographic(var, question, easy, tuple(levels), var not in _RECORDED))
    return out


def question_answers(
    question_bank: pd.DataFrame,
) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """(question_id, wording, measure_type, [(answer, counts_as), ...]) in the bank's order."""
    need = ["question_id", "wording", "answer"]
    missing = [c for c in need if c not in question_bank.columns]
    if missing:
        from pxlib.errors import ColumnError

        raise ColumnError(f"the question bank has no column(s) {missing}")
    out = []
    for qid, rows in question_bank.groupby("question_id", sort=False):
        kind = str(rows["measure_type"].iloc[0]) if "measure_type" in rows.columns else ""
        counts = rows["counts_as"] if "counts_as" in rows.columns else pd.Series("", rows.index)
        pairs = list(
            dict.fromkeys(zip(rows["answer"].astype(str), counts.astype(str), strict=True))
        )
        out.append((str(qid), str(rows["wording"].iloc[0]), kind, pairs))
    return out


def read_out(pairs: Sequence[tuple[str, str]]) -> str:
    said = [f"“{a}”" for a, c in pairs if c != "excluded"]
    return ", ".join(said[:-1]) + (" or " if len(said) > 1 else "") + said[-1] if said else ""


def _ordinal(k: float) -> str:
    n = int(k)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{fmt.number(n)}{suffix}"


def how_to_pick(row: Mapping) -> str:
    """ "every 3rd patient leaving" for a schedule row (or why nobody is asked that day)."""
    if row["ask"] == 0:
        return "nobody this week"
    k = row.get("every_kth")
    if k is None or (isinstance(k, float) and math.isnan(k)):
        return "spread over the day, morning to evening"
    return "every patient leaving" if k <= 1 else f"every {_ordinal(k)} patient leaving"


def rules_list(rules: CollectionRules | None = None) -> str:
    """The who-asks, eligibility and proxy rules as an HTML list (the form's and the plan's)."""
    r = rules or CollectionRules()
    items = [
        ("Who asks", f"{r.who_asks}; never {r.never_asks}."),
        ("Who to ask", "; ".join(r.included) + "."),
        ("Do not ask", "; ".join(r.excluded) + "."),
        ("Who may answer", "; ".join(r.proxy) + "."),
    ]
    lis = "".join(f"<li><strong>{_e(k)}:</strong> {_e(v)}</li>" for k, v in items)
    return f'<ul class="rules">{lis}</ul>'


def schedule_table(schedule: pd.DataFrame, *, tally: bool = False) -> str:
    """A :func:`~pxlib.workbook.sampling.sampling_schedule` as an HTML table with the week's total.

    ``tally``: an empty column to count, each day, the patients who declined.
    """
    cols = ["Day", "Patients to ask", "How to pick them", "Who asks"]
    cols += ["Declined or could not answer (tally)"] if tally else []
    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in cols)
    records = schedule.to_dict("records")
    one_asker = len({str(r["who_asks"]) for r in records}) == 1
    rows = []
    for i, r in enumerate(records):
        asker = f"<td>{_e(r['who_asks'])}</td>"
        if one_asker:  # the same people every day: said once
            asker = f'<td rowspan="{len(records)}">{_e(r["who_asks"])}</td>' if i == 0 else ""
        rows.append(
            f'<tr><th scope="row" class="short">{_e(r["day"])}</th>'
            f'<td class="short">{_e(fmt.number(r["ask"]))}</td><td>{_e(how_to_pick(r))}</td>'
            + asker
            + ("<td></td>" if tally else "")
            + "</tr>"
        )
    total = (
        f'<tr><th scope="row">Week</th><td>{_e(fmt.number(schedule["ask"].sum()))}</td>'
        f'<td colspan="{len(cols) - 2}"></td></tr>'
    )
    return (
        '<table class="schedule keep"><caption>Sampling schedule: every day of the week, '
        f"weekends included</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}{total}</tbody></table>"
    )


# --- the easy-read card -------------------------------------------------------------------------

EASY_CSS = """
body.easy { font-size: 16pt; max-width: 180mm; }
body.easy h1 { font-size: 22pt; margin-top: 0; }
body.easy h2 { font-size: 18pt; }
body.easy p, body.easy li { line-height: 1.5; }
ul.plain { list-style: none; padding: 0; }
ul.plain li { margin: 0.8mm 0; line-height: 1.35; }
.q { border-top: 0.6mm solid #005EB8; padding-top: 2mm; margin-top: 4mm; break-inside: avoid; }
.q.more { border-top: none; padding-top: 0; margin-top: 2mm; }
.q h2 { margin-top: 1mm; }
.q .wording { font-size: 18pt; font-weight: bold; margin: 1mm 0 2.5mm 0; }
.tiles { display: flex; flex-wrap: wrap; gap: 3mm; }
.tile { border: 0.5mm solid #425563; border-radius: 2mm; width: 32mm; padding: 1.5mm;
        text-align: center; box-sizing: border-box; }
.tile.wide { width: 56mm; }
.tile .word { display: block; font-size: 14pt; font-weight: bold; margin: 1mm 0;
              min-height: 2.6em; line-height: 1.3; }
.tile .tick { width: 8mm; height: 8mm; border-width: 0.6mm; }
svg.face { width: 13mm; height: 13mm; }
.staff { border: 0.4mm dashed #425563; padding: 2mm 3mm; margin-top: 6mm; font-size: 12pt;
         break-inside: avoid; }
.staff .tick { width: 4.5mm; height: 4.5mm; }
.staff span.opt { display: inline-block; margin: 0 3mm 1mm 0; white-space: nowrap; }
"""

_FACE = (
    '<svg class="face" viewBox="0 0 40 40" aria-hidden="true" focusable="false">'
    '<circle cx="20" cy="20" r="18" fill="#FFFFFF" stroke="#212B32" stroke-width="2"/>{inner}</svg>'
)
_EYES = '<circle cx="14" cy="16" r="2.3" fill="#212B32"/><circle cx="26" cy="16" r="2.3" fill="#212B32"/>'


def face_svg(mood: float | None) -> str:
    """An inline SVG face: ``mood`` from -1 (frown) to 1 (smile); None: a question mark."""
    if mood is None:
        inner = (
            '<text x="20" y="28" text-anchor="middle" font-size="22" font-family="Arial, '
            'sans-serif" font-weight="bold" fill="#212B32">?</text>'
        )
        return _FACE.format(inner=inner)
    m = max(-1.0, min(1.0, float(mood)))
    mouth_y, bend = 27 - 1.5 * m, 27 - 1.5 * m + 8 * m
    inner = _EYES + (
        f'<path d="M12 {mouth_y:.1f} Q20 {bend:.1f} 28 {mouth_y:.1f}" fill="none" '
        'stroke="#212B32" stroke-width="2.4" stroke-linecap="round"/>'
    )
    return _FACE.format(inner=inner)


def answer_moods(measure_type: str, pairs: Sequence[tuple[str, str]]) -> list[float | None]:
    """A mood per answer for its face: read-out answers from best (1) to worst (-1) in scale order.

    An answer is good when it counts as the Always Event happening (for a
    balancing measure: when it counts as not happening); the scale runs from its
    first answer, flipped when that first answer is the bad end. Answers that
    leave the denominator get None (a question mark).
    """
    said = [i for i, (_, c) in enumerate(pairs) if c != "excluded"]
    moods: list[float | None] = [None] * len(pairs)
    if not said:
        return moods
    first_good = (pairs[said[0]][1] == "happened") != (measure_type == "balancing")
    for rank, i in enumerate(said):
        t = 1 - 2 * rank / (len(said) - 1) if len(said) > 1 else 0.0
        moods[i] = t if first_good else -t
    return moods


def _tile(word: str, svg: str = "", *, wide: bool = False) -> str:
    cls = "tile wide" if wide else "tile"
    word_html = f'<span class="word">{_e(word)}</span>'
    return f'<div class="{cls}">{svg}{word_html}<span class="tick"></span></div>'


def _opt(label: str) -> str:
    return f'<span class="opt"><span class="tick"></span> {_e(label)}</span>'


def easy_read_form(
    question_bank: pd.DataFrame,
    *,
    unit: str,
    margins: pd.DataFrame | None = None,
    responses: pd.DataFrame | None = None,
    organisation: str = "",
    synthetic_note: bool = False,
) -> str:
    """The easy-read card: one per patient, large type, short sentences, a face by each answer.

    The questions keep their exact wording (the measure is the same measure);
    the sentences around them are short. The demographic questions asked are
    those of :func:`demographic_categories`; values copied from records and
    who asked go in the staff box at the end. Returns the HTML document.
    """
    questions = question_answers(question_bank)
    demographics = demographic_categories(margins, unit=unit, responses=responses)
    parts = [
        f"<h1>Your care on {_e(unit)}</h1>",
        f"<p>{_e(organisation)}</p>" if organisation else "",
        '<p class="synthetic small">Made from SYNTHETIC sample data for training.</p>'
        if synthetic_note
        else "",
        '<ul class="plain">',
        "<li>We want to know about your care.</li>",
        f"<li>There are {_e(fmt.count(len(questions), 'question'))} about your care.</li>",
        "<li>You do not have to answer.</li>",
        "<li>Your care will not change, whatever you say.</li>",
        "<li>Do not write your name.</li>",
        "<li>Tick one box for each question.</li>",
        "<li>Someone can read the questions to you. They read them just as they are written.</li>",
        "</ul>",
    ]
    for number, (_, wording, kind, pairs) in enumerate(questions, start=1):
        moods = answer_moods(kind, pairs)
        tiles = "".join(_tile(a, face_svg(m)) for (a, _), m in zip(pairs, moods, strict=True))
        parts.append(
            f'<section class="q"><h2>Question {fmt.number(number)}</h2>'
            f'<p class="wording">{_e(wording)}</p><div class="tiles">{tiles}</div></section>'
        )
    about = [d for d in demographics if d.asked]
    for i, d in enumerate(about):
        wide = max(len(level_label(d.variable, lv)) for lv in d.levels) > 14
        tiles = "".join(_tile(level_label(d.variable, lv), wide=wide) for lv in d.levels)
        tiles += _tile("I'd rather not say", wide=wide)
        head = "<h2>About you</h2>" if i == 0 else ""
        parts.append(
            f'<section class="q{" more" if i else ""}">{head}'
            f'<p class="wording">{_e(d.easy_question)}</p><div class="tiles">{tiles}</div></section>'
        )
    parts.append(
        '<section class="q"><h2>Who filled in this card?</h2><div class="tiles">'
        + _tile("Me", wide=True)
        + _tile("A carer or relative, for me", wide=True)
        + "</div></section><p>Thank you.</p>"
    )
    staff = [
        "<strong>For staff.</strong> Day: " + "".join(_opt(day[:3]) for day in DAYS),
        "Professional interpreter used: " + _opt("yes"),
        "Asked by (initials): ______ (never the person who gave the care)",
    ]
    for d in (d for d in demographics if not d.asked):
        staff.append(
            f"{_e(d.question)}: "
            + "".join(_opt(level_label(d.variable, lv)) for lv in d.levels)
            + _opt(NOT_KNOWN)
        )
    parts.append('<div class="staff">' + "".join(f"<p>{s}</p>" for s in staff) + "</div>")
    body = "\n".join(p for p in parts if p)
    return html_document(f"Easy read: {unit}", body, EASY_CSS, body_class="easy")
