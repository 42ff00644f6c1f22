"""Vision and aim statements: is the aim measurable and dated; the four criteria.

An Always Events aim statement is numeric and dated ("By December 2026, 95 % of
people discharged from Ash Ward will say staff always explained what would
happen next"). :func:`check_aim` reads the percentage and the date from the
text, compares them with the notebook's ``target`` and flags what is missing,
in words a team can act on. :func:`criteria_checklist` lays out the four
criteria an Always Event must meet (NHS England / Picker / IHI: important to
patients and families, evidence-based, measurable, affordable and sustainable)
as a checklist the team completes.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from pxlib.workbook.equality import attribute_words

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9

_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*(?:%|per\s*cent\b|percent\b)", re.IGNORECASE)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_UK_DATE = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b")
_DAY_MONTH_YEAR = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+("
    + "|".join(sorted(_MONTHS, key=len, reverse=True))
    + r")\.?,?\s+(\d{4})\b",
    re.IGNORECASE,
)
_MONTH_YEAR = re.compile(
    r"\b(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?,?\s+(\d{4})\b", re.IGNORECASE
)
_MONTH_ONLY = re.compile(
    r"\bby\s+(?:the\s+end\s+of\s+)?(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_WHO = re.compile(
    r"\b(patients?|people|person|families|carers?|parents?|residents?|service users?|women|men|"
    r"children|young people|everyone|discharged|admitted)\b",
    re.IGNORECASE,
)

CRITERIA = (
    (
        "Important to patients and families",
        "Did patients, families and carers say this matters, in 'What matters to you?' "
        "conversations or co-design workshops, in their own words?",
    ),
    (
        "Evidence-based",
        "Is it linked to better outcomes or experience in research or in your own data "
        "(survey results, FFT comments, complaints)?",
    ),
    (
        "Measurable",
        "Can you ask patients, every week, whether it happened for them, with a numeric, "
        "dated aim?",
    ),
    (
        "Affordable and sustainable",
        "Can staff do it for every patient, every time, with the resources you have, and keep "
        "doing it once the project team steps back?",
    ),
)
"""The four Always Event criteria and the question each asks of the team."""


@dataclass(frozen=True)
class AimCheck:
    """What :func:`check_aim` found in an aim statement."""

    text: str
    target: float | None
    """The percentage in the statement, as a proportion (0.95 for 95 %)."""
    by_when: dt.date | None
    """The date in the statement (the last day of the month when only a month is given)."""
    names_who: bool
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def measurable(self) -> bool:
        return self.target is not None

    @property
    def dated(self) -> bool:
        return self.by_when is not None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_table(self) -> pd.DataFrame:
        """The checks as a two-column table (``check``, ``result``) for display."""
        rows = [
            ("Has a numeric target", f"yes: {self.target:.0%}" if self.measurable else "no"),
            ("Has a date", f"yes: {self.by_when:%d %B %Y}" if self.dated else "no"),
            ("Says who it is for", "yes" if self.names_who else "not clear"),
        ]
        rows += [("Problem", p) for p in self.problems]
        rows += [("Note", n) for n in self.notes]
        return pd.DataFrame(rows, columns=["check", "result"])


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def find_date(text: str, today: dt.date) -> dt.date | None:
    """The deadline named in ``text``: ISO, UK numeric, '31 March 2027', 'March 2027' or 'by March'.

    A month without a year is its next occurrence after ``today`` (the end of
    that month). Returns None when no date is found.
    """
    if m := _ISO_DATE.search(text):
        return _safe_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _UK_DATE.search(text):
        return _safe_date(int(m[3]), int(m[2]), int(m[1]))
    if m := _DAY_MONTH_YEAR.search(text):
        return _safe_date(int(m[3]), _MONTHS[m[2].lower()], int(m[1]))
    if m := _MONTH_YEAR.search(text):
        return _month_end(int(m[2]), _MONTHS[m[1].lower()])
    if m := _MONTH_ONLY.search(text):
        month = _MONTHS[m[1].lower()]
        year = today.year if _month_end(today.year, month) >= today else today.year + 1
        return _month_end(year, month)
    return None


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def check_aim(
    aim: str,
    *,
    target: float | None = None,
    today: dt.date | None = None,
) -> AimCheck:
    """Check that an aim statement is measurable (a percentage) and dated (a future date).

    ``target`` (a proportion, e.g. 0.95) is the notebook's parameter: a
    different percentage in the text is reported as a problem, so the chart's
    target line and the written aim agree. ``today`` defaults to the current date.
    Problems are phrased as what to change.
    """
    today = today or dt.date.today()
    text = " ".join(str(aim or "").split())
    problems: list[str] = []
    notes: list[str] = []
    found = None
    percents = [float(m[1]) for m in _PERCENT.finditer(text)]
    if not text:
        problems.append(
            "The aim statement is empty: write what will improve, for whom, by how much and by when."
        )
    elif not percents:
        problems.append(
            "No percentage found: say how many patients it will happen for, e.g. '95%'."
        )
    else:
        if len(percents) > 1:
            notes.append(
                f"Several percentages found ({', '.join(f'{p:g}%' for p in percents)}); "
                f"the last, {percents[-1]:g}%, is taken as the target."
            )
        value = percents[-1]
        if not 0 < value <= 100:
            problems.append(f"{value:g}% is not a percentage between 0 and 100.")
        else:
            found = value / 100
            if target is not None and abs(found - target) > 1e-9:
                problems.append(
                    f"The aim says {value:g}% but the notebook's target is {target:.0%}: "
                    "make them the same."
                )
            if found < 0.8:
                notes.append(
                    "Aims below 80% are rare for an Always Event: it should happen for "
                    "(nearly) every patient."
                )
    when = find_date(text, today) if text else None
    if text and when is None:
        problems.append("No date found: say by when, e.g. 'By 31 March 2027'.")
    elif when is not None and when < today:
        problems.append(f"The date {when:%d %B %Y} has passed: choose a date in the future.")
    who = bool(_WHO.search(text))
    if text and not who:
        notes.append("Say whose experience it is about (e.g. 'patients discharged from Ash Ward').")
    return AimCheck(
        text=text, target=found, by_when=when, names_who=who, problems=problems, notes=notes
    )


def criteria_checklist(
    evidence: dict[str, str] | None = None,
    answers: dict[str, bool | None] | None = None,
) -> pd.DataFrame:
    """The four criteria as a checklist: ``criterion``, ``question``, ``evidence``, ``met``.

    ``evidence`` fills in what the workbook already knows per criterion (e.g.
    the aim check for "Measurable"); ``answers`` the team's own tick (True,
    False, or None for not yet decided). Criteria not named are left blank.
    """
    evidence = evidence or {}
    answers = answers or {}
    unknown = (set(evidence) | set(answers)) - {c for c, _ in CRITERIA}
    if unknown:
        raise ValueError(
            f"unknown criteria {sorted(unknown)}; the four are: {', '.join(c for c, _ in CRITERIA)}"
        )

    def tick(v: bool | None) -> str:
        return {True: "☑ yes", False: "☒ not yet"}.get(v, "☐ to decide")

    return pd.DataFrame(
        [
            {
                "criterion": c,
                "question": q,
                "evidence": evidence.get(c, ""),
                "met": tick(answers.get(c)),
            }
            for c, q in CRITERIA
        ]
    )


_MEASURE_ORDER = {"outcome": 0, "process": 1, "balancing": 2}
_MEASURE_WHY = {
    "outcome": "what patients report: is the Always Event happening for them?",
    "process": "is the team doing what makes it happen, reliably?",
    "balancing": "is anything else getting worse because of the change?",
}


def measurement_plan(
    question_bank: pd.DataFrame,
    *,
    weighted_by: Sequence[str] = (),
    frequency: str = "every week, for each unit",
) -> pd.DataFrame:
    """The family of measures with operational definitions, from the question bank.

    One row per question: ``measure`` (outcome, process, balancing), ``question_id``,
    ``question``, ``why``, ``counts_as_happened`` and ``left_out`` (answers that
    leave the denominator), ``better_when`` and ``operational_definition``: the
    numerator, denominator, frequency and weighting in one sentence.

    ``weighted_by``: the variables of the unit's eligible-patient margins
    (``margins.csv``, ``describes=eligible``) its shares are raked to, e.g.
    ``("age_band", "sex")``; empty when the unit's shares are not weighted (no
    such margins, or the team chose unweighted shares).
    """
    need = ["question_id", "wording", "measure_type", "answer", "counts_as"]
    missing = [c for c in need if c not in question_bank.columns]
    if missing:
        from pxlib.errors import ColumnError

        raise ColumnError(f"the question bank has no column(s) {missing}")
    rows = []
    for qid, g in question_bank.groupby("question_id", sort=False):
        kind = str(g["measure_type"].iloc[0])
        counts = g["counts_as"].astype(str)
        happened = [str(a) for a in g.loc[counts == "happened", "answer"]]
        not_happened = [str(a) for a in g.loc[counts == "not_happened", "answer"]]
        left_out = [str(a) for a in g.loc[counts == "excluded", "answer"]]
        better = "lower" if kind == "balancing" else "higher"
        definition = (
            f"Numerator: patients answering {' or '.join(repr(a) for a in happened) or '(none)'}. "
            f"Denominator: patients answering {' or '.join(repr(a) for a in happened + not_happened)}"
            + (f" ({', '.join(repr(a) for a in left_out)} left out)" if left_out else "")
            + f". Reported as a percentage {frequency}"
            + (
                ", weighted to the unit's eligible patients by "
                + attribute_words(weighted_by)
                + " (margins.csv)"
                if len(weighted_by)
                else ", unweighted"
            )
            + f"; {better} is better."
        )
        rows.append(
            {
                "measure": kind,
                "question_id": qid,
                "question": str(g["wording"].iloc[0]),
                "why": _MEASURE_WHY.get(kind, ""),
                "counts_as_happened": ", ".join(happened),
                "left_out": ", ".join(left_out),
                "better_when": better,
                "operational_definition": definition,
            }
        )
    out = pd.DataFrame(rows)
    if len(out):
        out = out.sort_values(
            "measure", key=lambda s: s.map(_MEASURE_ORDER).fillna(9), kind="stable"
        )
    return out.reset_index(drop=True)
