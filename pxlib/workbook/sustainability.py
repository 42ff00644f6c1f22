"""Will the gains last? The NHS Sustainability Model self-assessment, and when to step down.

**The Sustainability Model** (NHS Institute for Innovation and Improvement,
*Sustainability Model and Guide*, 2010) asks a team to judge ten factors in
three domains (process, staff, organisation), each by choosing which of four
descriptions fits best. ``sustainability.csv`` (schema
:data:`pxlib.data.journey_schemas.SUSTAINABILITY`) records each assessor's level
per factor, 1 (the weakest description) to 4 (the strongest).

The official guide scores each description with its own weight per factor.
**pxlib does not claim those weights**: it reports each factor's mean level
(out of 4) over the assessors, with the lowest and highest, and the total as the
sum of the ten means (out of 40). These are a summary of the team's own
judgements for discussion, not the guide's published score; compare factors with
each other, not with the guide's thresholds.

- :data:`FACTORS`: the ten factors (keys as in
  :data:`~pxlib.data.journey_schemas.SUSTAINABILITY_FACTORS`, the file's choices),
  domains, labels and what to do when a factor is weak, defined once here;
- :func:`sustainability_summary`, :func:`sustainability_text`,
  :func:`sustainability_figure`, :func:`sustainability_alt`.

**Stepping down** (:func:`step_down`, rule :func:`step_down_rule`). Weekly
measurement is for learning while a change is tested; once the process is
reliable and holds, measuring less often frees staff time for the next change
(the hand-over from improvement to monitoring in Provost & Murray 2011, *The
Health Care Data Guide*). ``reliable_weeks`` is the team's choice (12 by
default, the MDC minimum for a baseline); pxlib states the rule, it does not
take it from a published standard. The rule here: a unit whose reading is **reliable**
(:mod:`pxlib.workbook.reading`) is put on its sustain chart, limits frozen from
the start of its reliable phase (:func:`pxlib.workbook.steps.sustain`); it may
step down from weekly to monthly measurement once it has held for
``reliable_weeks`` consecutive weeks with a value after those frozen weeks, none
of them a special cause of concern, and its sustain reading shows no concern.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.errors import ParameterError
from pxlib.escape import html_text, md_text
from pxlib.workbook import steps
from pxlib.workbook.gather import missing_file

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from pxlib.data.folder import WorkbookData

#: the levels of the model's descriptions (1 = weakest, 4 = strongest)
TOP_LEVEL = 4
DOMAINS = ("process", "staff", "organisation")
#: how many of the weakest factors the summary names (more when tied)
WEAKEST = 2
NOT_WEIGHTED = (
    "Mean level out of 4 per factor, total out of 40 (the sum of the ten means); the "
    "official guide's weights for each description are not applied."
)


@dataclass(frozen=True)
class Factor:
    """One factor of the Sustainability Model: its key, domain, label and what to do when weak."""

    key: str
    domain: str
    label: str
    action: str


FACTORS: tuple[Factor, ...] = (
    Factor(
        "benefits_beyond_helping_patients",
        "process",
        "Benefits beyond helping patients",
        "say what the change gives staff and the service too (less chasing, fewer "
        "complaints, time saved) and show it",
    ),
    Factor(
        "credibility_of_the_benefits",
        "process",
        "Credibility of the benefits",
        "share the charts and patients' own words widely, through people staff trust",
    ),
    Factor(
        "adaptability",
        "process",
        "Adaptability",
        "agree which parts may be adapted to a new unit or team and which must stay the same",
    ),
    Factor(
        "monitoring_progress",
        "process",
        "Effectiveness of the system to monitor progress",
        "name who keeps measuring, how often, and where the results are fed back",
    ),
    Factor(
        "staff_involvement_and_training",
        "staff",
        "Staff involvement and training to sustain the process",
        "involve staff of every shift in running it and build it into induction and training",
    ),
    Factor(
        "staff_behaviours",
        "staff",
        "Staff behaviours toward sustaining the change",
        "ask staff what would make the new way the normal way, and act on what they say",
    ),
    Factor(
        "senior_leadership",
        "staff",
        "Senior leadership engagement",
        "ask the executive sponsor to review the data regularly and remove the barriers "
        "the team names",
    ),
    Factor(
        "clinical_leadership",
        "staff",
        "Clinical leadership engagement",
        "find a respected clinician to champion the change among their peers",
    ),
    Factor(
        "fit_with_goals_and_culture",
        "organisation",
        "Fit with the organisation's strategic aims and culture",
        "link the Always Event to the organisation's strategy and quality priorities",
    ),
    Factor(
        "infrastructure",
        "organisation",
        "Infrastructure for sustainability",
        "build it into policies, job descriptions, documents and equipment, with time set aside",
    ),
)
_BY_KEY = {f.key: f for f in FACTORS}

SUMMARY_COLUMNS = (
    "unit",
    "assessed_on",
    "factor",
    "domain",
    "label",
    "mean_level",
    "min_level",
    "max_level",
    "assessors",
)


def sustainability_summary(data: WorkbookData) -> pd.DataFrame:
    """Each unit's latest self-assessment, one row per factor, in the model's order.

    Columns: ``unit``, ``assessed_on`` (the latest assessment date of the unit),
    ``factor`` (key), ``domain``, ``label``, ``mean_level`` (mean over the
    assessors, out of 4), ``min_level``, ``max_level``, ``assessors`` (how many
    scored the factor). Empty (with these columns) without a self-assessment.
    """
    table = getattr(data, "sustainability", None)
    if table is None or table.empty:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    latest = table.groupby("unit")["assessed_on"].transform("max")
    own = table[table["assessed_on"] == latest]
    out = own.groupby(["unit", "assessed_on", "factor"], as_index=False, sort=False).agg(
        mean_level=("level", "mean"),
        min_level=("level", "min"),
        max_level=("level", "max"),
        assessors=("assessor", "nunique"),
    )
    order = {f.key: i for i, f in enumerate(FACTORS)}
    out["domain"] = out["factor"].map(lambda k: _BY_KEY[k].domain)
    out["label"] = out["factor"].map(lambda k: _BY_KEY[k].label)
    out["assessors"] = out["assessors"].astype(int)
    out = out.assign(_o=out["factor"].map(order)).sort_values(["unit", "_o"], kind="stable")
    return out[list(SUMMARY_COLUMNS)].reset_index(drop=True)


def weakest(summary: pd.DataFrame, k: int = WEAKEST) -> pd.DataFrame:
    """The ``k`` factors with the lowest mean level (all of those tied with the k-th), lowest first."""
    if summary.empty:
        return summary
    ranked = summary.sort_values("mean_level", kind="stable")
    cut = ranked["mean_level"].iloc[min(k, len(ranked)) - 1]
    return ranked[ranked["mean_level"] <= cut]


def sustainability_text(summary: pd.DataFrame) -> str:
    """Markdown per unit: the total out of 40, the weakest factors named, and what to do.

    Without a self-assessment: which file to add (:func:`~pxlib.workbook.gather.missing_file`).
    """
    if summary.empty:
        return md_text(missing_file("sustainability"))
    parts = []
    for unit, own in summary.groupby("unit", sort=True):
        total = float(own["mean_level"].sum())
        n = int(own["assessors"].max())
        low = weakest(own)
        named = "; ".join(
            f"**{md_text(r.label)}** (mean {fmt.number(r.mean_level, 1)} of {TOP_LEVEL}): "
            f"{md_text(_BY_KEY[r.factor].action)}"
            for r in low.itertuples(index=False)
        )
        missing = len(FACTORS) - len(own)
        gap = (
            f" {fmt.count(missing, 'factor')} {fmt.plural(missing, 'was')} not scored, so the "
            "total is of the factors scored."
            if missing
            else ""
        )
        parts.append(
            f"**{md_text(unit)}**, self-assessment of {fmt.date(own['assessed_on'].iloc[0])} by "
            f"{fmt.count(n, 'assessor')}: total {fmt.number(total, 1)} out of "
            f"{TOP_LEVEL * len(FACTORS)}.{gap} Weakest: {named}."
        )
    return "\n\n".join(parts) + f"\n\n*{md_text(NOT_WEIGHTED)}*"


def _one_unit(summary: pd.DataFrame, unit: str | None) -> pd.DataFrame:
    units = list(dict.fromkeys(summary["unit"]))
    if unit is None:
        if len(units) != 1:
            raise ParameterError(f"the summary holds {len(units)} units: name one with unit=")
        unit = units[0]
    return summary[summary["unit"] == unit]


def sustainability_figure(summary: pd.DataFrame, unit: str | None = None) -> go.Figure:
    """A horizontal bar per factor (mean level, 0-4) with the lowest-highest range, by domain."""
    import plotly.graph_objects as go

    from pxlib.spc.theme import NHS_DARK_GREY, TEMPLATE

    own = _one_unit(summary, unit)
    colours = {"process": "#005EB8", "staff": "#41B6E6", "organisation": "#330072"}
    traces = []
    for domain in DOMAINS:
        rows = own[own["domain"] == domain]
        if rows.empty:
            continue
        mean = rows["mean_level"].astype(float)
        traces.append(
            go.Bar(
                x=mean.tolist(),
                y=[html_text(v) for v in rows["label"]],
                orientation="h",
                name=f"{domain.capitalize()} factors",
                marker_color=colours[domain],
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": (rows["max_level"] - mean).tolist(),
                    "arrayminus": (mean - rows["min_level"]).tolist(),
                    "color": NHS_DARK_GREY,
                    "thickness": 1.5,
                },
                hovertemplate="%{y}: mean %{x:.1f} of 4<extra></extra>",
            )
        )
    name = own["unit"].iloc[0] if len(own) else ""
    return go.Figure(
        data=traces,
        layout={
            "template": TEMPLATE,
            "title": {"text": html_text(f"Sustainability Model self-assessment: {name}")},
            "xaxis": {
                "title": {"text": "Mean level (1 = weakest description, 4 = strongest)"},
                "range": [0, TOP_LEVEL],
                "dtick": 1,
            },
            "yaxis": {"autorange": "reversed", "automargin": True},
            "barmode": "group",
            "height": 180 + 34 * len(own),
        },
    )


def sustainability_alt(summary: pd.DataFrame, unit: str | None = None) -> str:
    """The figure in words: every factor's mean by domain, and the weakest named."""
    own = _one_unit(summary, unit)
    by_domain = [
        f"{domain} factors: "
        + ", ".join(
            f"{r.label} {fmt.number(r.mean_level, 1)}"
            for r in own[own["domain"] == domain].itertuples(index=False)
        )
        for domain in DOMAINS
        if (own["domain"] == domain).any()
    ]
    low = weakest(own)
    return (
        f"Bar chart of the mean level (out of {TOP_LEVEL}) of each Sustainability Model factor "
        f"for {own['unit'].iloc[0]}, with bars from the lowest to the highest assessor's level. "
        + "; ".join(by_domain)
        + ". Weakest: "
        + " and ".join(low["label"])
        + f". {NOT_WEIGHTED}"
    )


# --- stepping down from weekly measurement ----------------------------------------------------

#: the default number of consecutive weeks held on frozen limits before stepping down
RELIABLE_WEEKS = 12
STEP_DOWN_COLUMNS = (
    "unit",
    "verdict",
    "sustain_status",
    "weeks_held",
    "reliable_weeks",
    "eligible",
    "eligible_from",
    "weeks_needed",
    "advice",
)


def step_down_rule(reliable_weeks: int = RELIABLE_WEEKS) -> str:
    """The step-down rule in words (the one statement of it)."""
    return (
        "A unit may step down from weekly to monthly measurement once its reading is "
        f"reliable and it has held for {fmt.count(reliable_weeks, 'consecutive week')} on the "
        "sustain chart's frozen limits (weeks with a value after the frozen weeks, none a "
        "special cause of concern). If a concern appears later, it goes back to weekly "
        "measurement."
    )


def held_weeks(points: pd.DataFrame) -> tuple[int, pd.Timestamp | None, list]:
    """(weeks held, first week of the hold, the held weeks) of one unit's sustain-chart points.

    The held weeks are the unbroken run, up to the latest week, of weeks with a
    value after the frozen (``baseline``) weeks whose ``point_type`` is not a
    special cause of concern; weeks without a value neither make nor break it.
    """
    pts = points.sort_values("x")
    valued = np.isfinite(pts["y"].to_numpy(float))
    after = pts[valued & ~pts["baseline"].to_numpy(bool)]
    concern = after["point_type"].astype(str).eq("special_cause_concern").to_numpy()
    last_concern = np.flatnonzero(concern)
    held = after.iloc[last_concern[-1] + 1 :] if len(last_concern) else after
    weeks = list(held["x"])
    return len(weeks), (weeks[0] if weeks else None), weeks


def step_down(
    rel: steps.Reliability, *, reliable_weeks: int = RELIABLE_WEEKS, freeze_weeks: int = 20
) -> pd.DataFrame:
    """Per unit: may it step down from weekly to monthly measurement (:func:`step_down_rule`)?

    ``rel`` is either the reliability of notebook 03/04 (every unit; the
    reliable ones are put on sustain charts with ``freeze_weeks`` frozen weeks,
    :func:`pxlib.workbook.steps.sustain`) or those sustain charts themselves
    (``steps.sustain(rel)``; only their units). Columns: ``unit``, ``verdict``
    (the unit's reading), ``sustain_status`` (holding / deteriorating, from
    :func:`pxlib.workbook.steps.sustain_status`; empty when not reliable),
    ``weeks_held``, ``reliable_weeks``, ``eligible``, ``eligible_from`` (the
    week the hold reached ``reliable_weeks``), ``weeks_needed`` (more weeks of
    holding needed, counting frozen weeks still to come; missing when the unit is
    not reliable or is deteriorating, as no count of weeks will do), ``advice``.
    """
    if (
        isinstance(reliable_weeks, bool)
        or int(reliable_weeks) != reliable_weeks
        or reliable_weeks < 1
    ):
        raise ParameterError(
            f"reliable_weeks must be a whole number of weeks, at least 1, not {reliable_weeks!r}"
        )
    reliable_weeks = int(reliable_weeks)
    if rel.plan.mode == "sustain":
        sustained, readings = rel, None
    else:
        spec = rel.result.spec
        sustained = steps.sustain(rel, freeze_weeks=freeze_weeks, rules=list(spec.rules))
        readings = rel.readings
    status = steps.sustain_status(sustained) if sustained is not None else None
    rows = []
    for unit in _units(readings, sustained):
        verdict = _verdict(readings, unit)
        row = {"unit": unit, "verdict": verdict, "reliable_weeks": reliable_weeks}
        on_sustain = status is not None and unit in set(status["unit"])
        if not on_sustain:
            row.update(
                sustain_status="",
                weeks_held=0,
                eligible=False,
                eligible_from=pd.NaT,
                weeks_needed=np.nan,
                advice=f"Keep measuring weekly: the reading is {verdict}; only a reliable unit may step down.",
            )
            rows.append(row)
            continue
        state = status.loc[status["unit"] == unit, "status"].iloc[0]
        pts = sustained.result.points
        own = pts[pts["unit"] == unit]
        held, _, weeks = held_weeks(own)
        frozen = int(own["baseline"].to_numpy(bool).sum())
        frozen_left = max(int(sustained.plan.freeze.get(unit, 0)) - frozen, 0)
        eligible = state == "holding" and held >= reliable_weeks
        needed = (
            np.nan if state != "holding" else float(max(reliable_weeks - held, 0) + frozen_left)
        )
        row.update(
            sustain_status=state,
            weeks_held=held,
            eligible=bool(eligible),
            eligible_from=pd.Timestamp(weeks[reliable_weeks - 1]) if eligible else pd.NaT,
            weeks_needed=0.0 if eligible else needed,
        )
        row["advice"] = _advice(row)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(STEP_DOWN_COLUMNS))


def _units(readings: pd.DataFrame | None, sustained) -> list:
    if readings is not None:
        return list(readings["unit"])
    return [] if sustained is None else list(sustained.readings["unit"])


def _verdict(readings: pd.DataFrame | None, unit) -> str:
    """The unit's verdict in the reading (a sustain chart holds reliable units only)."""
    if readings is None:
        return "reliable"
    return str(readings.loc[readings["unit"] == unit, "verdict"].iloc[0])


def _advice(row: dict) -> str:
    if row["sustain_status"] == "deteriorating":
        return (
            "Keep measuring weekly: the sustain chart shows a concern against the frozen "
            "limits; find out what changed."
        )
    if row["eligible"]:
        return (
            f"May step down to monthly measurement: held for {fmt.count(row['weeks_held'], 'week')} "
            f"on frozen limits, eligible since {fmt.date(row['eligible_from'])}. "
            "Hand the measure to the process owner and go back to weekly if a concern appears."
        )
    return (
        f"Keep measuring weekly: held for {fmt.count(row['weeks_held'], 'week')} on frozen limits; "
        f"{fmt.count(row['weeks_needed'], 'more week')} needed before stepping down."
    )
