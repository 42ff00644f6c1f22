"""Set up and co-design: the team, who took part, what matters, and the team's own candidates.

The Always Events toolkit (NHS England, Picker and IHI) starts from a blank
canvas: patients, carers and staff say what matters, the team writes candidate
statements and votes on them, and the chosen Always Event meets four criteria:
important to patients and families, evidence-based, measurable, affordable and
sustainable. This module turns the journey files (``team.csv``,
``codesign_sessions.csv``, ``what_matters.csv``, ``votes.csv``) into the tables
and sentences notebooks 01 and 02 show. Without those files it says how to
gather them (:func:`pxlib.workbook.gather.missing_files`); it never invents candidates.

Patient partners and carers are counted, never named; the sponsor, lead and
facilitator are shown as written in ``team.csv``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.disclosure import small_numbers
from pxlib.escape import md_text

if TYPE_CHECKING:
    from pxlib.data.folder import WorkbookData

#: roles shown by name (the others are counted only)
NAMED_ROLES = ("executive_sponsor", "project_lead", "facilitator")
ROLE_WORDS = {
    "executive_sponsor": ("executive sponsor", "executive sponsors"),
    "project_lead": ("project lead", "project leads"),
    "facilitator": ("facilitator", "facilitators"),
    "patient_partner": ("patient partner", "patient partners"),
    "carer": ("carer", "carers"),
    "staff": ("member of staff", "members of staff"),
}
KIND_WORDS = {
    "conversation": ("conversation", "conversations"),
    "workshop": ("workshop", "workshops"),
    "survey": ("survey", "surveys"),
    "focus_group": ("focus group", "focus groups"),
    "observation": ("observation", "observations"),
}
CRITERIA = (
    "Important to patients and families",
    "Evidence-based",
    "Measurable",
    "Affordable and sustainable",
)
#: the gap below which an event is taken to happen (nearly) always already
ALREADY_ALWAYS = 0.05


def _unit_rows(table: pd.DataFrame, unit: str | None) -> pd.DataFrame:
    """Rows of ``unit`` and rows with no unit (the whole organisation's project)."""
    if unit is None or "unit" not in table.columns:
        return table
    return table[table["unit"].isna() | table["unit"].eq(unit)]


def project(data: WorkbookData, unit: str) -> dict:
    """The unit's ``project``, ``vision`` and ``aim`` as the team wrote them (None where not
    written): from ``team.csv``, the aim falling back to the driver diagram's aim node."""
    team = _unit_rows(data.team, unit)
    first = team.iloc[0] if len(team) else {}

    def written(value: object) -> str | None:
        return value if isinstance(value, str) and value.strip() else None

    diagram = data.driver_diagram
    aims = diagram.loc[(diagram["level"] == "aim") & diagram["unit"].eq(unit), "text"]
    return {
        "project": written(first.get("project")) if len(team) else None,
        "vision": written(first.get("vision")) if len(team) else None,
        "aim": (written(first.get("aim")) if len(team) else None)
        or (written(aims.iloc[0]) if len(aims) else None),
    }


def team_text(data: WorkbookData, unit: str | None = None) -> str:
    """The project in one paragraph of Markdown (values escaped): name, setting, start,
    named roles, who else is in it."""
    team = _unit_rows(data.team, unit)
    if team.empty:
        return ""
    first = team.iloc[0]
    parts = [f"**{md_text(first['project'])}**"]
    if isinstance(first.get("care_setting"), str) and first["care_setting"]:
        parts[0] += f" ({md_text(first['care_setting'])})"
    if pd.notna(first.get("start_date")):
        parts[0] += f", started {fmt.date(first['start_date'])}."
    else:
        parts[0] += "."
    for role in NAMED_ROLES:
        names = [m for m in team.loc[team["role"] == role, "member"] if isinstance(m, str) and m]
        if names:
            one, many = ROLE_WORDS[role]
            who = ", ".join(md_text(n) for n in names)
            parts.append(f"{(one if len(names) == 1 else many).capitalize()}: {who}.")
    counts = team["role"].value_counts()
    members = [
        fmt.count(counts[role], *ROLE_WORDS[role]) for role in ROLE_WORDS if role in counts.index
    ]
    parts.append(f"{fmt.count(len(team), 'member')}: {', '.join(members)}.")
    if not counts.get("patient_partner", 0) and not counts.get("carer", 0):
        parts.append(
            "No patient partner or carer is in the team yet: the toolkit asks for them from "
            "the first meeting."
        )
    return " ".join(parts)


def sessions_table(data: WorkbookData, unit: str | None = None) -> pd.DataFrame:
    """Co-design sessions in date order: date, kind, patients, carers, staff."""
    sessions = _unit_rows(data.codesign_sessions, unit)
    columns = ["session_id", "session_date", "kind", "patients", "carers", "staff"]
    out = sessions[columns].sort_values("session_date", kind="stable").reset_index(drop=True)
    out["kind"] = out["kind"].map(lambda k: KIND_WORDS.get(k, (k,))[0])
    return out.fillna({"patients": 0, "carers": 0, "staff": 0})


def sessions_text(data: WorkbookData, unit: str | None = None) -> str:
    """How many sessions of which kinds, when, and how many people took part."""
    sessions = sessions_table(data, unit)
    if sessions.empty:
        return ""
    kinds = data.codesign_sessions.loc[
        data.codesign_sessions["session_id"].isin(sessions["session_id"]), "kind"
    ].value_counts()
    kind_words = ", ".join(fmt.count(n, *KIND_WORDS[k]) for k, n in kinds.items())
    people = sessions[["patients", "carers", "staff"]].sum()
    return (
        f"{fmt.count(len(sessions), 'co-design session')} from "
        f"{fmt.date(sessions['session_date'].min())} to "
        f"{fmt.date(sessions['session_date'].max())} ({kind_words}): "
        f"{fmt.count(people['patients'], 'patient')}, {fmt.count(people['carers'], 'carer')} "
        f"and {fmt.count(people['staff'], 'member of staff', 'members of staff')} took part "
        "(counted per session: someone at two sessions counts twice)."
    )


def what_matters_by_theme(
    data: WorkbookData, unit: str | None = None, examples: int = 2
) -> pd.DataFrame:
    """What matters, per theme: how many statements, from whom, and examples (redacted on load)."""
    heard = _unit_rows(data.what_matters, unit)
    if heard.empty:
        return pd.DataFrame(columns=["theme", "statements", "voices", "examples"])
    heard = heard.assign(theme=heard["theme"].fillna("(no theme given)"))
    rows = []
    for theme, group in heard.groupby("theme", sort=False):
        voices = group["voice"].value_counts()
        rows.append(
            {
                "theme": theme,
                "statements": len(group),
                "voices": ", ".join(fmt.count(n, v) for v, n in voices.items()),
                "examples": " · ".join(f"“{s}”" for s in group["statement"].head(examples)),
            }
        )
    out = pd.DataFrame(rows).sort_values("statements", ascending=False, kind="stable")
    return out.reset_index(drop=True)


def _same_theme(a: object, b: object) -> bool:
    """Themes written differently in two files: one starts with the other, ignoring case."""
    if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
        return False
    a, b = a.strip().lower(), b.strip().lower()
    return a.startswith(b) or b.startswith(a)


def _survey_evidence(
    question: object, shares: pd.DataFrame, min_respondents: int | None, *, lower_better: bool
) -> tuple[str, str, float]:
    """(verdict, words, gap) for "evidence-based": for how many it does not hold now.

    The gap is 1 - share for a question where more is better, and the share itself
    for a balancing question (lower is better: "Did you wait more than two hours?"
    answered *yes* is what the candidate "never kept waiting" rules out).
    """
    if not isinstance(question, str) or question not in shares.index:
        return "unsure", "No local survey answers for it yet.", np.nan
    row = shares.loc[question]
    n = int(row["n_respondents"])
    rule = small_numbers(min_respondents)
    if not rule.shows(n):
        return "unsure", f"Fewer than {rule.threshold} answers to {question}: not shown.", np.nan
    if lower_better:
        gap, gap_low, gap_high = row["share"], row["ci_low"], row["ci_high"]
        how = f"{question} happened to them; fewer is better"
    else:
        gap, gap_low, gap_high = 1 - row["share"], 1 - row["ci_high"], 1 - row["ci_low"]
        how = question
    words = (
        f"Does not hold for {fmt.percent(gap)} ({fmt.percent(gap_low)} to "
        f"{fmt.percent(gap_high)}) of {fmt.count(n, 'patient')} asked now ({how})."
    )
    if gap_low >= ALREADY_ALWAYS:
        return "yes", words, gap
    if gap_high < ALREADY_ALWAYS:
        return "no", words + " It nearly always happens already.", gap
    return "unsure", words, gap


def rank_candidates(
    data: WorkbookData,
    question_shares: pd.DataFrame,
    *,
    comment_problems: pd.DataFrame | None = None,
    unit: str | None = None,
    min_respondents: int | None = None,
) -> pd.DataFrame:
    """The team's own candidates (``votes.csv``) ranked, each criterion with its evidence.

    Order: candidates meeting more of the four criteria first, then more votes,
    then the larger gap now (the share of patients for whom it does not happen).
    The criteria:

    - *important to patients and families*: met when patients and carers gave it
      at least their fair share of votes (their votes ÷ number of candidates);
      what-matters statements in the same theme are counted beside it;
    - *evidence-based*: met when the local survey shows a gap, the 95 % interval of
      the share for whom it does not hold (for a balancing question, the share
      for whom the unwanted event happened) lying wholly above
      :data:`ALREADY_ALWAYS`; not met when it lies wholly below (it already
      happens); comments complaining about its theme are given beside it;
    - *measurable*: met when a question of the question bank measures it;
    - *affordable and sustainable*: the team's own judgement (``affordable``).

    ``question_shares``: one row per question with ``share``, ``ci_low``,
    ``ci_high``, ``n_respondents`` (:func:`pxlib.workbook.steps.question_shares`).
    ``comment_problems``: per theme, ``n_negative`` (comments complaining about
    it) and ``n_comments``, as :func:`pxlib.workbook.themes.count_theme_polarity`
    gives them; praise never counts as a problem. The ranking starts the team's conversation;
    the team and its patient partners decide.
    """
    votes = _unit_rows(data.votes, unit)
    if votes.empty:
        return pd.DataFrame(columns=["rank", "candidate_id", "statement", "votes", *CRITERIA])
    shares = question_shares.drop_duplicates("question_id").set_index("question_id")
    counts = votes[["patient_votes", "carer_votes", "staff_votes"]].fillna(0)
    voice_votes = counts["patient_votes"] + counts["carer_votes"]
    fair_share = voice_votes.sum() / len(votes)
    bank = data.question_bank.drop_duplicates("question_id").set_index("question_id")
    wording = bank["wording"]
    kinds = bank["measure_type"].to_dict() if "measure_type" in bank.columns else {}
    heard = _unit_rows(data.what_matters, unit)
    rows = []
    for (_, cand), voices in zip(votes.iterrows(), voice_votes, strict=True):
        statements = int(sum(_same_theme(cand["theme"], t) for t in heard["theme"]))
        important = (
            f"{fmt.count(voices, 'vote')} of {fmt.number(voice_votes.sum())} from patients and "
            f"carers; {fmt.count(statements, 'what-matters statement')} in its theme."
        )
        met_important = "yes" if voice_votes.sum() and voices >= fair_share else "unsure"
        met_evidence, evidence, gap = _survey_evidence(
            cand["question_id"],
            shares,
            min_respondents,
            lower_better=kinds.get(cand["question_id"]) == "balancing",
        )
        evidence += _complaints(cand["theme"], comment_problems, min_respondents)
        question = cand["question_id"]
        if isinstance(question, str) and question in wording.index:
            met_measurable, measurable = "yes", f"Measured by {question}: “{wording[question]}”"
        else:
            met_measurable = "no"
            measurable = "No question in the question bank measures it yet: write one."
        affordable = cand.get("affordable")
        met_affordable = affordable if isinstance(affordable, str) else "unsure"
        judged = "the team's judgement" if isinstance(affordable, str) else "for the team to judge"
        rows.append(
            {
                "candidate_id": cand["candidate_id"],
                "statement": cand["statement"],
                "votes": int(counts.loc[cand.name].sum()),
                "gap": gap,
                CRITERIA[0]: f"{met_important}: {important}",
                CRITERIA[1]: f"{met_evidence}: {evidence}",
                CRITERIA[2]: f"{met_measurable}: {measurable}",
                CRITERIA[3]: f"{met_affordable} ({judged})",
                "criteria_met": [met_important, met_evidence, met_measurable, met_affordable].count(
                    "yes"
                ),
            }
        )
    table = pd.DataFrame(rows).sort_values(
        ["criteria_met", "votes", "gap"], ascending=False, na_position="last", kind="stable"
    )
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)


def _complaints(theme: object, problems: pd.DataFrame | None, min_respondents: int | None) -> str:
    """ " N of M comments complain about its theme." (or nothing when not known)."""
    if problems is None or problems.empty or not isinstance(theme, str):
        return ""
    match = problems[[_same_theme(theme, t) for t in problems["theme"]]]
    if match.empty:
        return ""
    row = match.iloc[0]
    k, n = int(row["n_negative"]), int(row["n_comments"])
    rule = small_numbers(min_respondents)
    if not rule.shows(k):
        return f" Fewer than {rule.threshold} comments complain about {theme}."
    return f" {fmt.number(k)} of {fmt.count(n, 'comment')} complain about {theme}."


def chosen_text(ranked: pd.DataFrame) -> str:
    """The sentence (Markdown, values escaped) under the ranking: which candidate leads."""
    if ranked.empty:
        return ""
    top = ranked.iloc[0]
    return (
        f"**{md_text(top['candidate_id'])}** leads: it meets {fmt.count(top['criteria_met'], 'criterion', 'criteria')} "
        f"of 4 and has {fmt.count(top['votes'], 'vote')}. The team and its patient partners decide; "
        "record the choice in the driver diagram's aim."
    )
