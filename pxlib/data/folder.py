"""Load a whole data folder for one organisation, and score the answers.

A data folder holds the files named in :data:`pxlib.data.schemas.FILE_NAMES`
(the layout of ``data/sample/``). :func:`load_data_dir` loads each file that is
present with its cross-checks (organisations known, answers on the question's
scale) and, given a ``trust_code``, keeps that organisation's record-level rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pxlib.data import loaders
from pxlib.data.schemas import FILE_NAMES, SCHEMAS, WEIGHTING_ATTRIBUTES
from pxlib.errors import DataValidationError

SCORE = {"happened": 1.0, "not_happened": 0.0, "excluded": float("nan")}


@dataclass
class WorkbookData:
    """The inputs of one run of the workbook, validated.

    Record-level tables (``responses``, ``pdsa_log``, ``margins``, ``units``) hold
    only ``trust_code``'s rows when one was given. ``rejected`` lists every row
    of every file that was set aside, with file, row, column and reason.
    """

    data_dir: Path
    trust_code: str | None
    organisations: pd.DataFrame
    units: pd.DataFrame
    question_bank: pd.DataFrame
    responses: pd.DataFrame
    pdsa_log: pd.DataFrame
    margins: pd.DataFrame
    fft: pd.DataFrame
    gpps: pd.DataFrame
    rejected: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def organisation(self) -> pd.Series | None:
        """The organisations-file row of ``trust_code``."""
        if self.trust_code is None:
            return None
        return self.organisations.set_index("org_code").loc[self.trust_code]

    @property
    def catchment_practices(self) -> pd.DataFrame:
        """GP practices in the organisation's catchment (or the practice itself)."""
        orgs = self.organisations
        if self.trust_code is None:
            return orgs[orgs["org_type"] == "gp_practice"]
        own = (orgs["catchment_of"] == self.trust_code) | (
            (orgs["org_code"] == self.trust_code) & (orgs["org_type"] == "gp_practice")
        )
        return orgs[own]

    def scored(self, measure_type: str | None = "outcome", question_ids=None) -> pd.DataFrame:
        """Respondent-level scores of the chosen questions (see :func:`score_responses`)."""
        return score_responses(
            self.responses, self.question_bank, measure_type=measure_type, question_ids=question_ids
        )


def _empty(schema_name: str) -> pd.DataFrame:
    return pd.DataFrame(columns=SCHEMAS[schema_name].column_names)


def load_data_dir(
    data_dir: str | Path, trust_code: str | None = None, *, strict: bool = False
) -> WorkbookData:
    """Load and validate every input file of a data folder.

    ``organisations.csv`` and ``question_bank.csv`` are required; the other files
    are optional (an empty table stands in). With ``trust_code``, that code must
    be in the organisations file, and record-level tables keep its rows only.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataValidationError(f"{data_dir}: data folder not found")

    def path(name: str) -> Path:
        return data_dir / FILE_NAMES[name]

    for required in ("organisations", "question_bank"):
        if not path(required).exists():
            raise DataValidationError(
                f"{path(required)}: file not found (every data folder needs it)"
            )
    results: list[loaders.LoadResult] = []

    def keep(result: loaders.LoadResult) -> pd.DataFrame:
        results.append(result)
        return result.data

    orgs = keep(loaders.load_organisations(path("organisations"), strict=strict))
    if trust_code is not None and trust_code not in set(orgs["org_code"]):
        raise DataValidationError(
            f"unknown organisation '{trust_code}': not in {path('organisations')}"
        )
    bank = keep(loaders.load_question_bank(path("question_bank"), strict=strict))
    units = (
        keep(loaders.load_units(path("units"), organisations=orgs, strict=strict))
        if path("units").exists()
        else _empty("units")
    )
    responses = (
        keep(
            loaders.load_responses(
                path("responses"),
                organisations=orgs,
                question_bank=bank,
                units=units if len(units) else None,
                strict=strict,
            )
        )
        if path("responses").exists()
        else _empty("responses")
    )
    pdsa = (
        keep(loaders.load_pdsa_log(path("pdsa_log"), organisations=orgs, strict=strict))
        if path("pdsa_log").exists()
        else _empty("pdsa_log")
    )
    margins = (
        keep(
            loaders.load_margins(
                path("margins"),
                organisations=orgs,
                units=units if len(units) else None,
                strict=strict,
            )
        )
        if path("margins").exists()
        else _empty("margins")
    )
    fft = (
        keep(loaders.load_fft(path("fft"), strict=strict))
        if path("fft").exists()
        else _empty("fft")
    )
    gpps = (
        keep(loaders.load_gpps(path("gpps"), strict=strict))
        if path("gpps").exists()
        else _empty("gpps")
    )

    if trust_code is not None:
        responses, pdsa, margins, units = (
            t[t["org_code"] == trust_code].reset_index(drop=True)
            for t in (responses, pdsa, margins, units)
        )
    rejected = [r.rejected for r in results if not r.rejected.empty]
    rejected_all = (
        pd.concat([r[loaders.REJECTED_COLUMNS] for r in rejected], ignore_index=True)
        if rejected
        else pd.DataFrame(columns=loaders.REJECTED_COLUMNS)
    )
    return WorkbookData(
        data_dir=data_dir,
        trust_code=trust_code,
        organisations=orgs,
        units=units,
        question_bank=bank,
        responses=responses,
        pdsa_log=pdsa,
        margins=margins,
        fft=fft,
        gpps=gpps,
        rejected=rejected_all,
        notes=[n for r in results for n in r.notes],
    )


def score_responses(
    responses: pd.DataFrame,
    question_bank: pd.DataFrame,
    *,
    measure_type: str | None = "outcome",
    question_ids=None,
) -> pd.DataFrame:
    """One row per respondent and question, with ``happened`` scored from the question bank.

    ``happened`` is 1.0 where the answer counts as the Always Event happening, 0.0
    where it counts as not happening, and NaN where it leaves the denominator
    (don't know, not applicable, blank). Choose questions by ``measure_type``
    (outcome, process, balancing; None for all) or by ``question_ids``.
    Respondent attributes used for weighting are carried along.
    """
    bank = question_bank.copy()
    if "answer_key" not in bank.columns:
        bank["answer_key"] = loaders.normalise_answer(bank["answer"].fillna(""))
    chosen = bank
    if question_ids is not None:
        chosen = chosen[chosen["question_id"].isin(list(question_ids))]
    elif measure_type is not None:
        chosen = chosen[chosen["measure_type"] == measure_type]
    answers = responses[responses["question_id"].isin(set(chosen["question_id"]))].copy()
    answers["answer_key"] = loaders.normalise_answer(answers["answer"].fillna(""))
    scored = answers.merge(
        chosen[["question_id", "answer_key", "counts_as", "measure_type"]],
        on=["question_id", "answer_key"],
        how="left",
        validate="many_to_one",
    )
    # A blank answer leaves the denominator unless the bank scores blanks explicitly.
    scored["counts_as"] = scored["counts_as"].fillna("excluded")
    scored["measure_type"] = scored["question_id"].map(
        chosen.drop_duplicates("question_id").set_index("question_id")["measure_type"]
    )
    scored["happened"] = scored["counts_as"].map(SCORE).astype(float)
    attributes = [c for c in WEIGHTING_ATTRIBUTES if c in scored.columns]
    columns = [
        "org_code",
        "unit",
        "respondent_id",
        "response_date",
        "week",
        "question_id",
        "measure_type",
        "happened",
        *attributes,
    ]
    if "week" not in scored.columns:
        scored["week"] = loaders.iso_week_start(scored["response_date"])
    return scored[columns].reset_index(drop=True)
