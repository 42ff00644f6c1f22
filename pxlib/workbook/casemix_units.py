"""Notebook 01: the organisation's units compared after case mix, from its own survey.

A ward whose patients are older or sicker may score lower for reasons that are not its
care. :func:`casemix_section` fits the case-mix model of :func:`pxlib.survey.casemix.
casemix_adjust` to every respondent of the organisation's local survey (the outcome
measure, one answer per respondent and question, unweighted) with the attributes the
survey records (:data:`CASEMIX_COVARIATES`), and draws each unit's adjusted share against
its expected range, a funnel: units are never ranked. The reference rate is the
organisation's own (all its respondents), so the funnel asks "does this ward differ from
the others, once its patients' mix is allowed for?"

**Small numbers** (:func:`pxlib.disclosure.small_numbers`): the model uses every answer;
a unit with fewer than ``min_respondents`` answers is left off the funnel and the table,
and the text says so.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import pandas as pd

from pxlib import fmt
from pxlib.disclosure import small_numbers
from pxlib.errors import PxlibError
from pxlib.escape import markdown, md_text
from pxlib.workbook.national_insight import Section

if TYPE_CHECKING:
    from pxlib.data.folder import WorkbookData

__all__ = ["CASEMIX_COVARIATES", "CASEMIX_TITLE", "casemix_section"]

#: respondent attributes adjusted for, where the survey records them
CASEMIX_COVARIATES: tuple[str, ...] = ("age_band", "sex", "ethnicity", "deprivation_quintile")
CASEMIX_TITLE = "Our own survey: units compared after case mix"
_WORDS = {
    "age_band": "age band",
    "sex": "sex",
    "ethnicity": "ethnicity",
    "deprivation_quintile": "deprivation",
}


def _respondents(data) -> pd.DataFrame:
    """One row per answer to the outcome measure: unit, ``happened`` (0/1, missing for
    don't know) and the respondent's attributes."""
    from pxlib.workbook.measure_design import scored_answers

    scored = scored_answers(data, "outcome", None)  # cached on ``data``: scored once per notebook
    return scored.dropna(subset=["happened"]).reset_index(drop=True)


def casemix_section(
    data: WorkbookData,
    *,
    covariates: tuple[str, ...] = CASEMIX_COVARIATES,
    min_respondents: int | None = None,
) -> Section:
    """The case-mix adjusted funnel of the organisation's units (module docstring), as a
    :class:`~pxlib.workbook.national_insight.Section` with its table and alt text; a
    sentence instead when there are fewer than two units with answers."""
    from pxlib.survey.casemix import casemix_adjust

    rule = small_numbers(min_respondents)
    answers = _respondents(data)
    units = answers["unit"].nunique() if len(answers) else 0
    if units < 2:
        return Section(
            "casemix",
            CASEMIX_TITLE,
            "A case-mix adjusted comparison needs answers from at least two units of the "
            "local survey; "
            + (
                f"this organisation has {fmt.count(units, 'unit')} with answers."
                if units
                else "this organisation has none yet."
            ),
            available=False,
        )
    used = tuple(c for c in covariates if c in answers and answers[c].notna().any())
    named = answers.rename(columns=_WORDS)  # the model's terms in words, for what people read
    try:
        result = casemix_adjust(named, "unit", "happened", [_WORDS.get(c, c) for c in used])
    except PxlibError as exc:
        return Section(
            "casemix",
            CASEMIX_TITLE,
            f"The case-mix model could not be fitted: {md_text(str(exc))}",
            available=False,
        )
    hidden = rule.hides(result.units["n"].to_numpy())
    shown = result.units[~hidden].reset_index(drop=True)
    left_out = result.units.loc[hidden, "unit"].astype(str).tolist()
    visible = dataclasses.replace(result, units=shown)
    adjusted_for = ", ".join(_WORDS.get(c, c) for c in used) or "nothing (no attributes recorded)"
    figure = (
        visible.figure(
            title="Share for whom the Always Event happened, adjusted for case mix",
            y_title="Adjusted share",
            reference="organisation's rate",
            x_title="Answers",
            width=1000,
        )
        if len(shown)
        else None
    )
    outside = shown[shown["reading"] != "within expected range"]
    text = markdown(
        "Each unit's share of answers saying the Always Event happened, **adjusted for who its "
        "patients are** ({adjusted}): the share it would have if its patients were like the "
        "organisation's as a whole (indirect standardisation: its observed answers over those "
        "its patients' mix predicts, times the organisation's share of {rate}). The expected "
        "range is where a unit of that size lands by chance alone (99.8 %); a unit outside it "
        "differs by more than chance and case mix explain. A funnel, not a league table. "
        "{n} answers, unweighted; the workbook's method, in the way NCPES adjusts (its "
        "official case-mix variables are unconfirmed).",
        adjusted=adjusted_for,
        rate=fmt.percent(result.national_rate),
        n=fmt.number(result.n_respondents),
    )
    if len(outside):
        text += " " + markdown(
            "Outside the expected range: {names}.",
            names="; ".join(
                f"{u} ({r})" for u, r in zip(outside["unit"], outside["reading"], strict=True)
            ),
        )
    else:
        text += " Every unit shown is within its expected range."
    if left_out:
        text += " " + markdown(
            "Not shown (fewer than {k} answers): {names}.",
            k=rule.threshold,
            names=", ".join(left_out),
        )
    table = pd.DataFrame(
        {
            "Unit": shown["unit"].astype(str),
            "Answers": shown["n"].map(fmt.number),
            "Observed": shown["observed_rate"].map(lambda v: fmt.percent(v, 1)),
            "Expected from case mix": shown["expected_rate"].map(lambda v: fmt.percent(v, 1)),
            "Adjusted": shown["adjusted"].map(lambda v: fmt.percent(v, 1)),
            "99.8 % expected range": [
                f"{fmt.percent(lo, 1)} to {fmt.percent(hi, 1)}"
                for lo, hi in zip(shown["lower998"], shown["upper998"], strict=True)
            ],
            "Reading": shown["reading"].astype(str),
        }
    )
    return Section(
        "casemix",
        CASEMIX_TITLE,
        text,
        table=table,
        table_caption="Units compared after case mix (unweighted answers to the outcome measure)",
        figure=figure,
        alt=(
            visible.alt_text(
                what="shares for whom the Always Event happened", reference="organisation's rate"
            )
            if len(shown)
            else ""
        ),
        data=shown,
    )
