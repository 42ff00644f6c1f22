"""The Study step of each PDSA cycle, computed: the prediction beside what the data showed.

In the Model for Improvement every cycle states a prediction before the test
and studies the data against it afterwards; cycles are built into **ramps**,
each cycle testing the change at a larger scale (more staff, more patients,
more shifts) until it is ready to implement (Langley, Moen, Nolan, Nolan,
Norman & Provost, *The Improvement Guide*, 2nd ed., 2009, ch. 7).

For each cycle with a ``prediction_measure`` (a question of the question bank or
an audit ``measure_id``) the measured share is taken over the cycle's window,
``start_date`` to ``end_date`` inclusive (a cycle without an end date is still
under way: its window runs to ``as_of``, or to the last date in the data):

* an **audit** measure: the share ``done / opportunities`` summed over the
  unit's audit rows dated in the window; n = opportunities;
* a **survey** measure: the share of the unit's respondents answering in the
  window whose answer counts as happened (:meth:`pxlib.data.WorkbookData.scored`:
  don't-know and blank answers leave the denominator); n = respondents with a
  counted answer. With ``weighted=True`` the share and interval are a domain of
  the question's weighted design (:func:`pxlib.workbook.measures.measure_design`,
  each unit weighted to its own eligible patients).

The 95 % interval is the Wilson score interval (Wilson 1927, *JASA* 22:209-212),
with k of n and p = k / n, z = 1.96:
(p + z²/2n ± z √(p(1-p)/n + z²/4n²)) / (1 + z²/n), from
:func:`pxlib.survey.ci.wilson_interval`, pxlib's one
implementation. The **reading** compares the interval with the prediction:

* ``met``: the interval lies entirely on the predicted side (for ``at_least``,
  its lower end is at or above the prediction; for ``at_most``, its upper end at
  or below it);
* ``not met``: it lies entirely on the other side;
* ``unclear``: it straddles the prediction (more data, or a longer cycle, would tell);
* ``no data``: nothing was measured in the window; ``no numeric prediction``:
  the cycle has no ``prediction_value`` (its measured share is still given when
  it names a measure).

Numbers resting on fewer than the small-number threshold
(:func:`pxlib.disclosure.small_numbers`) are computed here but never shown:
:func:`study_sentence` and :func:`ramp_table` say they are too few to show.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.disclosure import small_numbers
from pxlib.survey.ci import wilson_interval

if TYPE_CHECKING:
    from datetime import date

    from pxlib.data.folder import WorkbookData

#: the readings of a cycle's Study step, in the order a team cares about
READINGS = ("met", "not met", "unclear", "no data", "no numeric prediction")
#: the columns of :func:`study_cycles`
STUDY_COLUMNS = [
    "org_code",
    "unit",
    "cycle_id",
    "ramp",
    "change_idea_id",
    "change_idea",
    "question",
    "scale",
    "owner",
    "start_date",
    "end_date",
    "open",
    "decision",
    "prediction",
    "comparison",
    "measure",
    "measure_name",
    "source",
    "n",
    "n_happened",
    "share",
    "ci_low",
    "ci_high",
    "weighted",
    "reading",
]
_LOG_COLUMNS = [
    "org_code",
    "unit",
    "cycle_id",
    "ramp",
    "change_idea_id",
    "change_idea",
    "question",
    "scale",
    "owner",
    "start_date",
    "end_date",
    "decision",
    "prediction_value",
    "prediction_comparison",
    "prediction_measure",
]
_COMPARISON_WORDS = {"at_least": "at least", "at_most": "at most"}
_KEY = ["org_code", "unit", "measure"]


def _last_date(data) -> pd.Timestamp:
    """The latest response or audit date in ``data`` (NaT when there is none)."""
    dates = [
        pd.to_datetime(table[col], errors="coerce").max()
        for table, col in ((data.responses, "response_date"), (data.audits, "audit_date"))
        if table is not None and col in table.columns and len(table)
    ]
    dates = [d for d in dates if pd.notna(d)]
    return max(dates) if dates else pd.NaT


def _cycles(data, as_of) -> pd.DataFrame:
    """The PDSA log with the Study columns' names, one row a cycle, windows closed."""
    log = data.pdsa_log.reindex(columns=_LOG_COLUMNS).copy()
    log = log.rename(
        columns={
            "prediction_value": "prediction",
            "prediction_comparison": "comparison",
            "prediction_measure": "measure",
        }
    )
    for col in ("start_date", "end_date"):
        log[col] = pd.to_datetime(log[col], errors="coerce")
    log["prediction"] = pd.to_numeric(log["prediction"], errors="coerce").astype(float)
    log["comparison"] = log["comparison"].where(
        log["comparison"].notna() | log["prediction"].isna(), "at_least"
    )
    end = pd.Timestamp(as_of).normalize() if as_of is not None else _last_date(data)
    log["open"] = log["end_date"].isna()
    log["end_date"] = log["end_date"].fillna(end)
    for col in ("unit", "measure"):
        log[col] = log[col].astype("string")
    return log.sort_values(["org_code", "unit", "start_date", "cycle_id"], ignore_index=True)


def _measure_names(data) -> tuple[dict[str, str], dict[str, str]]:
    """(audit measure -> its name, question -> its wording)."""
    audits = data.audits if data.audits is not None else pd.DataFrame()
    named = audits.reindex(columns=["measure_id", "measure_name"]).dropna()
    audit = named.drop_duplicates("measure_id").set_index("measure_id")["measure_name"]
    bank = data.question_bank.reindex(columns=["question_id", "wording"])
    bank = bank.dropna(subset=["question_id"]).drop_duplicates("question_id")
    survey = {
        str(q): str(w) if pd.notna(w) else str(q)
        for q, w in zip(bank["question_id"], bank["wording"], strict=True)
    }
    return {str(k): str(v) for k, v in audit.items()}, survey


def _windowed(cycles: pd.DataFrame, rows: pd.DataFrame, date: str) -> pd.DataFrame:
    """Each cycle's rows of its unit and measure dated in its window (a row may serve two cycles)."""
    merged = cycles[["cycle_id", *_KEY, "start_date", "end_date"]].merge(rows, on=_KEY)
    inside = merged[date].ge(merged["start_date"]) & merged[date].le(merged["end_date"])
    return merged[inside]


def _audit_counts(cycles: pd.DataFrame, audits: pd.DataFrame) -> pd.DataFrame:
    """n (opportunities) and n_happened (done) per cycle of an audit measure."""
    rows = audits.rename(columns={"measure_id": "measure"})
    rows = rows.reindex(columns=[*_KEY, "audit_date", "opportunities", "done"])
    rows["unit"] = rows["unit"].astype("string")
    rows["measure"] = rows["measure"].astype("string")
    inside = _windowed(cycles, rows, "audit_date")
    sums = inside.groupby(["org_code", "cycle_id"])[["opportunities", "done"]].sum()
    return sums.rename(columns={"opportunities": "n", "done": "n_happened"}).reset_index()


def _survey_counts(data, cycles: pd.DataFrame) -> pd.DataFrame:
    """Respondents with a counted answer (n) and how many said it happened, per cycle."""
    questions = sorted(cycles["measure"].dropna().unique())
    scored = data.scored(measure_type=None, question_ids=questions)
    rows = scored.rename(columns={"question_id": "measure"})
    rows = rows.loc[rows["happened"].notna(), [*_KEY, "response_date", "happened"]]
    rows["unit"] = rows["unit"].astype("string")
    rows["measure"] = rows["measure"].astype("string")
    rows["response_date"] = pd.to_datetime(rows["response_date"]).dt.normalize()
    inside = _windowed(cycles, rows, "response_date")
    grouped = inside.groupby(["org_code", "cycle_id"])["happened"]
    return pd.DataFrame({"n": grouped.size(), "n_happened": grouped.sum()}).reset_index()


def _weighted_shares(data, cycles: pd.DataFrame) -> pd.DataFrame:
    """Weighted share and interval per cycle of a survey measure: a domain of its design."""
    from pxlib.survey.summaries import domain_shares
    from pxlib.workbook.measures import measure_design

    rows = []
    for c in cycles.itertuples(index=False):
        wd = measure_design(data, str(c.measure)).weighted
        d = wd.data
        dates = pd.to_datetime(d["response_date"]).dt.normalize()
        within = (
            d["org_code"].eq(c.org_code).to_numpy()
            & d["unit"].astype("string").eq(c.unit).fillna(False).to_numpy()
            & dates.between(c.start_date, c.end_date).to_numpy()
        )
        if not within.any():
            continue
        got = domain_shares(wd, "happened", ["unit"], within=within)
        got = got[got["unit"].astype("string").eq(c.unit).fillna(False)]
        if len(got) and got["n_respondents"].iloc[0] > 0:
            g = got.iloc[0]
            rows.append(
                {
                    "org_code": c.org_code,
                    "cycle_id": c.cycle_id,
                    "n": g["n_respondents"],
                    "n_happened": g["n_happened"],
                    "share": g["share"],
                    "ci_low": g["ci_low"],
                    "ci_high": g["ci_high"],
                    "weighted": bool(g["weighted"]),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "org_code",
            "cycle_id",
            "n",
            "n_happened",
            "share",
            "ci_low",
            "ci_high",
            "weighted",
        ],
    )


def _reading(out: pd.DataFrame) -> pd.Series:
    """The reading of each cycle's interval against its prediction (module docstring)."""
    pred, lo, hi = out["prediction"], out["ci_low"], out["ci_high"]
    least = out["comparison"].ne("at_most")
    met = np.where(least, lo >= pred, hi <= pred)
    missed = np.where(least, hi < pred, lo > pred)
    no_data = out["n"].fillna(0).le(0) | out["share"].isna()
    reading = np.select(
        [pred.isna(), no_data, met, missed],
        ["no numeric prediction", "no data", "met", "not met"],
        "unclear",
    )
    return pd.Series(reading, index=out.index, dtype=object)


def study_cycles(
    data: WorkbookData, *, as_of: str | date | None = None, weighted: bool = False
) -> pd.DataFrame:
    """One row per PDSA cycle: its prediction beside the share measured in its window.

    ``data`` is a :class:`pxlib.data.WorkbookData`. Columns (:data:`STUDY_COLUMNS`):
    the cycle's ``org_code``, ``unit``, ``cycle_id``, ``ramp``, ``change_idea_id``,
    ``change_idea``, ``question``, ``scale``, ``owner``, ``decision``; its window
    ``start_date``/``end_date`` (``open``: no end date was recorded, so the window
    runs to ``as_of`` or the data's last date); ``prediction`` (a fraction) and
    ``comparison`` (at_least/at_most); ``measure`` (its id) and ``measure_name``
    (the question's wording or the audit's name); ``source`` (audit, survey, or
    empty when the cycle names no measure); ``n`` (opportunities audited, or
    respondents with a counted answer), ``n_happened``, ``share``, ``ci_low``,
    ``ci_high`` (95 % Wilson), ``weighted``; and the ``reading`` (:data:`READINGS`).
    An id that is both an audit measure and a question is read as the audit.
    Nothing is suppressed here: use :func:`study_sentence` or :func:`ramp_table`
    to show it.
    """
    cycles = _cycles(data, as_of)
    audit_names, wordings = _measure_names(data)
    audits = data.audits if data.audits is not None else pd.DataFrame()
    measure = cycles["measure"]
    audit_ids = set(audits.get("measure_id", pd.Series(dtype=str)).dropna().astype(str))
    is_audit = measure.isin(list(audit_ids)).fillna(False).astype(bool)
    is_survey = ~is_audit & measure.isin(list(wordings)).fillna(False).astype(bool)
    cycles["source"] = np.select([is_audit, is_survey], ["audit", "survey"], "")
    cycles["measure_name"] = (
        measure.map(audit_names).where(is_audit, measure.map(wordings)).where(measure.notna())
    )
    cycles["measure_name"] = cycles["measure_name"].fillna(measure)

    counts = [_audit_counts(cycles[is_audit], audits)] if is_audit.any() else []
    if is_survey.any() and not weighted:
        counts.append(_survey_counts(data, cycles[is_survey]))
    columns = ["org_code", "cycle_id", "n", "n_happened"]
    counted = pd.concat(
        [c.reindex(columns=columns) for c in counts] or [pd.DataFrame(columns=columns)]
    )
    counted = counted.astype({"n": float, "n_happened": float})
    with np.errstate(divide="ignore", invalid="ignore"):
        share = counted["n_happened"] / counted["n"]
    counted["ci_low"], counted["ci_high"] = wilson_interval(share, counted["n"])
    with np.errstate(divide="ignore", invalid="ignore"):
        counted["share"] = np.where(counted["n"] > 0, counted["n_happened"] / counted["n"], np.nan)
    counted["weighted"] = False
    if is_survey.any() and weighted:
        counted = pd.concat([counted, _weighted_shares(data, cycles[is_survey])], ignore_index=True)
    out = cycles.merge(counted, on=["org_code", "cycle_id"], how="left")
    has_measure = out["source"].ne("")
    out["n"] = out["n"].where(out["n"].notna() | ~has_measure, 0.0)
    out["weighted"] = out["weighted"].astype("boolean").fillna(False).astype(bool)
    out["reading"] = _reading(out)
    return out[STUDY_COLUMNS]


# --- words ----------------------------------------------------------------------------------


def _interval(lo: float, hi: float) -> str:
    """``65–88%``: the two ends in the house percent style, the sign written once."""
    return f"{fmt.percent(lo).removesuffix('%')}–{fmt.percent(hi)}"


def _counted(row) -> str:
    """``32 opportunities audited`` or ``32 answers``."""
    n = row["n"]
    if row["source"] == "audit":
        return f"{fmt.count(n, 'opportunity', 'opportunities')} audited"
    return fmt.count(n, "answer")


def _text(value) -> str:
    """A cell as text: empty when missing."""
    return "" if value is None or pd.isna(value) else str(value)


def _predicted(row) -> str:
    words = _COMPARISON_WORDS.get(str(row["comparison"]), "at least")
    return f"Predicted {words} {fmt.percent(row['prediction'])}"


def study_sentence(
    row: pd.Series | Mapping[Any, Any], *, min_respondents: int | None = None
) -> str:
    """The words a team reads for one cycle (a row of :func:`study_cycles`).

    "Predicted at least 85%, measured 78% (65–88%, 32 opportunities audited): not
    met." A share resting on fewer than the small-number threshold is not shown:
    "…; 7 opportunities audited in the cycle: too few to show (fewer than 10)."
    """
    rule = small_numbers(min_respondents)
    has_prediction = pd.notna(row["prediction"])
    head = _predicted(row) if has_prediction else "No numeric prediction"
    source = row["source"]
    if not source:
        if has_prediction:
            return head + ", but the cycle names no measure to compare it with."
        return (
            head + ": add prediction_value and prediction_measure to the PDSA log to compare "
            "the prediction with the data."
        )
    n = row["n"]
    if pd.isna(n) or n <= 0 or pd.isna(row["share"]):
        what = "audits" if source == "audit" else "answers"
        return (
            f"{head}; no {what} of {row['measure']} between {fmt.date(row['start_date'])} and "
            f"{fmt.date(row['end_date'])}: no data to study."
        )
    if not rule.shows(n):
        return (
            f"{head}; {_counted(row)} in the cycle: too few to show (fewer than {rule.threshold})."
        )
    weighted = ", weighted" if row.get("weighted", False) else ""
    measured = (
        f"measured {fmt.percent(row['share'])} "
        f"({_interval(row['ci_low'], row['ci_high'])}, {_counted(row)}{weighted})"
    )
    if not has_prediction:
        return f"{head}; {measured}."
    reading = row["reading"]
    if reading == "unclear":
        return f"{head}, {measured}: unclear (the interval includes the prediction)."
    return f"{head}, {measured}: {reading}."


def ramp_table(
    data: WorkbookData,
    *,
    as_of: str | date | None = None,
    weighted: bool = False,
    min_respondents: int | None = None,
    unit: str | None = None,
) -> pd.DataFrame:
    """The cycles of each ramp in order, for display: scale, prediction, measured, decision.

    One row per cycle, ramps in the order they began, cycles within a ramp by start
    date (cycles without a ramp last, each on its own): ``ramp``, ``step`` (1, 2, … in
    the ramp), ``cycle_id``, ``unit``, ``change_idea_id``, ``change_idea``, ``scale``, ``question``,
    ``window`` (its dates), ``predicted`` ("at least 60%"), ``measured`` ("45%
    (35–55%)"), ``n``, ``reading``, ``decision`` and ``study`` (:func:`study_sentence`).
    Every figure resting on fewer than ``min_respondents`` is replaced by words
    (the small-number rule); the table holds text, ready to show.
    """
    study = study_cycles(data, as_of=as_of, weighted=weighted)
    if unit is not None:
        study = study[study["unit"].eq(unit).fillna(False)]
    study = study.copy()
    study["ramp"] = study["ramp"].astype("string").fillna("")
    began = study.groupby("ramp")["start_date"].transform("min")
    study["_last_"] = study["ramp"].eq("")
    study["_began_"] = began.where(~study["_last_"], study["start_date"])
    study = study.sort_values(["_last_", "_began_", "ramp", "start_date", "cycle_id"])
    rule = small_numbers(min_respondents)
    shows = ~rule.hides(study["n"]) & study["n"].fillna(0).gt(0).to_numpy()
    rows = []
    for r, show in zip(study.to_dict("records"), shows, strict=True):
        prediction = (
            f"{_COMPARISON_WORDS.get(str(r['comparison']), 'at least')} "
            f"{fmt.percent(r['prediction'])}"
            if pd.notna(r["prediction"])
            else ""
        )
        if not r["source"]:
            measured, n, reading = "", "", r["reading"]
        elif pd.isna(r["share"]):
            measured, n, reading = "no data", "0", r["reading"]
        elif show:
            measured = f"{fmt.percent(r['share'])} ({_interval(r['ci_low'], r['ci_high'])})"
            n, reading = fmt.number(r["n"]), r["reading"]
        else:
            measured = n = f"fewer than {rule.threshold}"
            reading = "too few to show"
        rows.append(
            {
                "ramp": r["ramp"],
                "cycle_id": r["cycle_id"],
                "unit": _text(r["unit"]),
                "change_idea_id": _text(r["change_idea_id"]),
                "change_idea": _text(r["change_idea"]),
                "scale": _text(r["scale"]),
                "question": _text(r["question"]),
                "window": f"{fmt.date(r['start_date'])} – {fmt.date(r['end_date'])}"
                + (" (under way)" if r["open"] else ""),
                "predicted": prediction,
                "measured": measured,
                "n": n,
                "reading": reading,
                "decision": _text(r["decision"]),
                "study": study_sentence(r, min_respondents=min_respondents),
            }
        )
    out = pd.DataFrame(rows, columns=[
        "ramp", "cycle_id", "unit", "change_idea_id", "change_idea", "scale", "question", "window",
        "predicted", "measured", "n", "reading", "decision", "study",
    ])  # fmt: skip
    step = out.groupby("ramp").cumcount() + 1
    out.insert(1, "step", step.where(out["ramp"].ne(""), 1).astype(int))
    return out.reset_index(drop=True)
