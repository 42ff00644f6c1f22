"""What may be shown: small-number suppression and comment redaction.

**One small-number rule for everything the workbook shows** (:class:`SmallNumbers`):
a figure (a count, a percentage, a chart point, a hover, a caption's number, a
``results.json`` value, an index cell, a form) resting on fewer than
``threshold`` unweighted respondents is not shown. The default threshold is
10, as the GP Patient Survey publishes; a team may raise it (or lower it with
its information governance lead's agreement) through :func:`small_numbers`,
which every display function and notebook parameter ``min_respondents`` goes
through. Zero respondents disclose nothing and are not hidden.

Suppression rules for national files (NHS England's published practice; see methods/survey.md):

* **GP Patient Survey** (:func:`suppress_gpps`): a result based on fewer than
  ``threshold`` (10) unweighted respondents is suppressed.
* **GP Patient Survey, response options** (:func:`suppress_option_counts`): for
  small practices, option counts of 1-4 are suppressed with the next lowest.
* **Friends and Family Test** (:func:`suppress_fft`): *primary* suppression of
  any unit with 0 < responses < ``threshold`` (5); *secondary* suppression, in
  every parent with exactly one suppressed child, of the next smallest child
  with responses (so the primary cannot be recovered from the parent's total);
  *cascading*: every descendant of a suppressed unit is suppressed too. The
  rules are applied until nothing changes.

Suppressed values become ``fill`` (NaN by default; GPPS files use -97) and the
reason is recorded in a column (``suppression_reason``; empty when shown).
Apply a rule to any table before it is shown or exported.

:func:`redact_comments` replaces personal details in free text (comments, PDSA notes,
co-design notes): every free-text column is redacted when it is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from pxlib.errors import ColumnError, DataValidationError

REASON_COL = "suppression_reason"
#: the workbook's small-number threshold: GPPS suppresses results from fewer than 10 respondents
SMALL_NUMBER_THRESHOLD = 10


@dataclass(frozen=True)
class SmallNumbers:
    """What may be shown: nothing resting on fewer than ``threshold`` unweighted respondents.

    ``hides(n)`` is true where 0 < n < threshold (missing n: true, since nothing
    says the figure is safe); ``note`` is the words shown in place of a hidden
    figure.
    """

    threshold: int = SMALL_NUMBER_THRESHOLD

    def __post_init__(self) -> None:
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int | np.integer):
            raise DataValidationError(
                f"the small-number threshold must be a whole number of respondents, not {self.threshold!r}"
            )
        if self.threshold < 1:
            raise DataValidationError(
                f"the small-number threshold must be at least 1, not {self.threshold}"
            )

    def hides(self, n: ArrayLike | Sequence[float | None]) -> np.ndarray:
        """Which of the respondent counts ``n`` (array-like) may not be shown."""
        counts = pd.to_numeric(
            pd.Series(np.atleast_1d(np.asarray(n, dtype=object))), errors="coerce"
        )
        v = counts.to_numpy(float)
        return np.isnan(v) | ((v > 0) & (v < self.threshold))

    def shows(self, n: float | None) -> bool:
        """Whether one figure resting on ``n`` respondents may be shown."""
        return not bool(self.hides([n])[0])

    @property
    def note(self) -> str:
        return f"fewer than {self.threshold} answers: not shown"


def small_numbers(threshold: int | None = None) -> SmallNumbers:
    """The small-number rule at ``threshold`` (None: the default of :data:`SMALL_NUMBER_THRESHOLD`)."""
    return SmallNumbers() if threshold is None else SmallNumbers(threshold)


def _value_cols(table: pd.DataFrame, value_cols, keep: list[str]) -> list[str]:
    if value_cols is None:
        return [
            c
            for c in table.columns
            if c not in keep
            and c != REASON_COL
            and pd.api.types.is_numeric_dtype(table[c])
            and not pd.api.types.is_bool_dtype(table[c])
        ]
    missing = [c for c in value_cols if c not in table.columns]
    if missing:
        raise ColumnError(f"suppression: value columns {missing} are not in the table")
    return list(value_cols)


def _mask(table: pd.DataFrame, cols: list[str], hide: np.ndarray, fill) -> pd.DataFrame:
    out = table.copy()
    for c in cols:
        s = out[c]
        if fill is None or (isinstance(fill, float) and np.isnan(fill)):
            s = s.astype(float) if pd.api.types.is_integer_dtype(s) else s
            out[c] = s.mask(hide)
        else:
            out[c] = s.mask(hide, fill)
    return out


def _counts(table: pd.DataFrame, n_col: str) -> np.ndarray:
    if n_col not in table.columns:
        raise ColumnError(
            f"suppression needs the unweighted count column {n_col!r}; the table has "
            f"{list(table.columns)}"
        )
    n = pd.to_numeric(table[n_col], errors="coerce").to_numpy(dtype=float)
    if np.isnan(n).any():
        raise DataValidationError(
            f"suppression: column {n_col!r} has {int(np.isnan(n).sum())} missing count(s); "
            "a missing count cannot be judged safe to show"
        )
    return n


def suppress_gpps(
    table: pd.DataFrame,
    n_col: str = "n_respondents",
    *,
    threshold: int = 10,
    value_cols: Sequence[str] | None = None,
    keep: Sequence[str] = (),
    fill: Any = np.nan,
    reason_col: str = REASON_COL,
) -> pd.DataFrame:
    """GP Patient Survey rule: suppress results with fewer than ``threshold`` respondents.

    ``value_cols`` (default: every numeric column except ``keep``) are replaced
    by ``fill`` where ``n_col`` < threshold; ``reason_col`` says why.
    """
    n = _counts(table, n_col)
    hide = n < threshold
    cols = _value_cols(table, value_cols, list(keep))
    out = _mask(table, cols, hide, fill)
    out[reason_col] = np.where(hide, f"fewer than {threshold} respondents", "")
    return out


def suppress_fft(
    table: pd.DataFrame,
    n_col: str = "Total Responses",
    *,
    id_col: str = "unit",
    parent_col: str | None = "parent",
    threshold: int = 5,
    value_cols: Sequence[str] | None = None,
    keep: Sequence[str] = (),
    fill: Any = np.nan,
    reason_col: str = REASON_COL,
) -> pd.DataFrame:
    """Friends and Family Test rule: primary, secondary and cascading suppression.

    The table holds one row per unit at any level of a hierarchy (trust, site,
    ward...); ``parent_col`` names each row's parent's ``id_col`` (missing at the
    top). See the module docstring for the rule. ``keep`` columns (and the id and
    parent columns) are never masked.
    """
    n = _counts(table, n_col)
    if id_col not in table.columns:
        raise ColumnError(f"suppression: id column {id_col!r} is not in the table")
    ids = table[id_col].astype(str).to_numpy()
    if pd.Series(ids).duplicated().any():
        raise DataValidationError(f"suppression: ids in {id_col!r} must be unique")
    if parent_col is not None and parent_col in table.columns:
        par = table[parent_col]
        parents = np.where(par.isna(), "", par.astype(str).to_numpy())
    else:
        parents = np.full(len(table), "", dtype=object)
    reason = np.full(len(table), "", dtype=object)
    primary = (n > 0) & (n < threshold)
    reason[primary] = f"primary: fewer than {threshold} responses"
    frame = pd.DataFrame({"id": ids, "parent": parents, "n": n})
    for _ in range(len(table) + 1):
        changed = False
        sup = reason != ""
        # cascade down from suppressed parents
        sup_ids = set(ids[sup])
        cascade = ~sup & np.isin(parents, list(sup_ids)) & (parents != "")
        if cascade.any():
            reason[cascade] = "cascade: parent suppressed"
            changed = True
            sup = reason != ""
        # secondary: a parent with exactly one suppressed child
        frame["sup"] = sup
        has_parent = frame["parent"] != ""
        nsup = frame[has_parent].groupby("parent")["sup"].sum()
        lone = nsup[nsup == 1].index
        cand = frame[has_parent & frame["parent"].isin(lone) & ~frame["sup"] & (frame["n"] > 0)]
        if len(cand):
            pick = cand.sort_values(["n", "id"]).groupby("parent").head(1).index.to_numpy()
            reason[pick] = [f"secondary: next smallest in {p}" for p in frame.loc[pick, "parent"]]
            changed = True
        if not changed:
            break
    hide = reason != ""
    cols = _value_cols(table, value_cols, [id_col, parent_col or "", *keep])
    out = _mask(table, cols, hide, fill)
    out[reason_col] = reason.astype(str)
    return out


def suppress_option_counts(
    table: pd.DataFrame,
    option_cols: Sequence[str],
    *,
    low: int = 1,
    high: int = 4,
    fill: Any = np.nan,
    reason_col: str = REASON_COL,
) -> pd.DataFrame:
    """GP Patient Survey rule for response-option counts (small practices).

    In each row (one question; one column per response option), counts from
    ``low`` to ``high`` (1-4) are suppressed; where that hides a single option,
    the next lowest remaining count in the row is suppressed too, so the hidden
    one cannot be worked out from the total. ``reason_col`` lists the options
    hidden in each row ("" when none).
    """
    cols = list(option_cols)
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise ColumnError(f"suppression: option columns {missing} are not in the table")
    x = table[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    hide = (x >= low) & (x <= high)
    single = hide.sum(axis=1) == 1
    rest = np.where(hide | np.isnan(x) | (x <= 0), np.inf, x)
    nxt = np.argmin(rest, axis=1)
    ok = single & np.isfinite(rest[np.arange(len(x)), nxt])
    hide[np.flatnonzero(ok), nxt[ok]] = True
    out = table.copy()
    for j, c in enumerate(cols):
        s = out[c]
        if fill is None or (isinstance(fill, float) and np.isnan(fill)):
            s = s.astype(float) if pd.api.types.is_integer_dtype(s) else s
            out[c] = s.mask(hide[:, j])
        else:
            out[c] = s.mask(hide[:, j], fill)
    out[reason_col] = ["; ".join(c for c, h in zip(cols, row, strict=True) if h) for row in hide]
    return out


def suppress(table: pd.DataFrame, rule: str = "gpps", **kwargs: Any) -> pd.DataFrame:
    """Apply a suppression rule by name: ``"gpps"``, ``"fft"`` or ``"options"``."""
    if rule == "gpps":
        return suppress_gpps(table, **kwargs)
    if rule == "fft":
        return suppress_fft(table, **kwargs)
    if rule == "options":
        return suppress_option_counts(table, **kwargs)
    raise ValueError(f"unknown suppression rule {rule!r}; use 'gpps', 'fft' or 'options'")


# --- free-text redaction ------------------------------------------------------

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}\s?[/.\-]\s?\d{1,2}\s?[/.\-]\s?\d{2,4}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{2,4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{2,4}})"
)
_BIRTH_DATE = re.compile(
    rf"(?i)\b(d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|birth\s?day|born(?:\s+on)?)"
    rf"(\s*(?:is|was|:|-|=)?\s*)({_DATE})"
)
_POSTCODE = re.compile(r"(?i)\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s?\d[A-Z]{2}\b")
# a run of digits with the separators people type between them: spaces, dots, hyphens, brackets
_NUMBERISH = re.compile(r"(?<![\w+])(?:\+|\(\s?)?\d[\d \t.\-()]{6,20}\d(?!\w)")
TITLES = (
    "dr doctor nurse matron sister midwife prof professor mr mrs ms miss mx sir dame rev revd"
).split()
# Words that follow a title in ordinary sentences and are not names ("the nurse was kind").
_NOT_NAMES = frozenset(
    """a an the and or but so to of on in at by for with from about after before as if
    was is were are be been being has had have did does do who which that this these those
    there here then than when where while what whom whose why how said says told asked came
    come went gave give made make took take saw see seen looked listened explained helped
    answered called rang phoned checked treated visited spoke talked showed arrived left
    kept put got get let also always never not just very really so too all any each every
    i me my we our us you your he him his she her they them their it its one team teams
    staff ward wards station bay room rounds round desk shift shifts office clinic unit
    in-charge practitioner practitioners led lead specialist specialists consultant
    associate assistant assistants students student manager managers there's who's
    would could should will can may might must didn't wasn't couldn't wouldn't
    quickly kindly straight straightaway immediately again later soon today yesterday
    drove brought stayed waited sat stood noticed knew felt thought understood wanted
    needed tried seemed sorted arranged discharged prescribed examined reassured
    apologised smiled cared looking being doing getting coming going
    kind lovely great good nice amazing brilliant fantastic excellent rude busy
    helpful friendly caring wonderful patient""".split()
)
_NAME_WORD = r"[A-Za-z][A-Za-z'\u2019\-]*"
_NAME = re.compile(
    rf"\b((?i:{'|'.join(sorted(TITLES, key=len, reverse=True))}))(\.?)(\s+)"
    rf"({_NAME_WORD})(?:(\s+)({_NAME_WORD}))?"
)


def _number(match: re.Match) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    international = text.startswith("+") or digits.startswith("0044")
    if international and digits.lstrip("0").startswith("44") and 11 <= len(digits) <= 14:
        return "[phone]"
    if digits.startswith("0") and 10 <= len(digits) <= 11:
        return "[phone]"
    if len(digits) == 10:
        return "[nhs number]"
    return text


def _is_name(word: str | None) -> bool:
    return word is not None and bool(word) and word.lower().strip("'\u2019-") not in _NOT_NAMES


def _name(match: re.Match) -> str:
    title, dot, space, first, gap, second = match.groups()
    if not _is_name(first):
        return match.group(0)
    rest = f"{gap}{second}" if second and not _is_name(second) else ""
    return f"{title}{dot}{space}[name]{rest}"


def redact_text(text: str) -> str:
    """One free-text value with personal details replaced by placeholders.

    See :func:`redact_comments` for what is caught and what is not.
    """
    text = _EMAIL.sub("[email]", text)
    text = _BIRTH_DATE.sub(lambda m: f"{m.group(1)}{m.group(2)}[date of birth]", text)
    text = _POSTCODE.sub("[postcode]", text)
    text = _NUMBERISH.sub(_number, text)
    return _NAME.sub(_name, text)


def redact_comments(series: pd.Series) -> pd.Series:
    """Replace personal details in free text with placeholders (comments, PDSA notes, ...).

    * e-mail addresses -> ``[email]``;
    * a date after "DOB", "D.O.B.", "date of birth", "born (on)" or "birthday"
      (``03/04/1950``, ``1950-04-03``, ``3rd April 1950``, ``April 3, 1950``)
      -> ``DOB [date of birth]``;
    * full UK postcodes in any case (``LS1 4AP``, ``sw1a1aa``) -> ``[postcode]``;
    * UK phone numbers in the forms people write them (``07700 900123``,
      ``020 7946 0958``, ``(01632) 960001``, ``+44 7700 900123``,
      ``+44 (0)20 7946 0958``, ``0044 7700 900123``, with spaces, dots or
      hyphens) -> ``[phone]``;
    * any other 10-digit number with or without separators (an NHS number:
      ``943 476 5919``, ``943-476-5919``, ``943.476.5919``, ``9434765919``)
      -> ``[nhs number]``;
    * one or two words after a title (Dr, Doctor, Nurse, Matron, Sister, Midwife,
      Prof, Professor, Mr, Mrs, Ms, Miss, Mx, Sir, Dame, Father, Rev; any case,
      optional full stop) -> ``Title [name]``, unless the word is an ordinary
      one ("the nurse was kind", "Sister on the ward").

    Not caught, so comments still need a human read before publication: names
    without a title ("Jane was lovely"), names after a role word that is not a
    title ("the porter, Dave"), addresses other than the postcode, bare dates
    with no birth word, numbers written as words, e-mail addresses spelt out
    ("jo at nhs dot net"), and details in another language.

    Missing values stay missing; the index and name are kept.
    """
    if not isinstance(series, pd.Series):
        series = pd.Series(series)
    text = series.notna() & series.astype(str).str.strip().ne("")
    redacted = {value: redact_text(str(value)) for value in pd.unique(series[text])}
    out = series.astype(object).copy()
    out[text] = series[text].map(redacted)
    out.name = series.name
    return out


def redact_free_text(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``frame`` with every listed free-text column that it has redacted (a copy)."""
    present = [c for c in columns if c in frame.columns]
    if not present:
        return frame
    out = frame.copy()
    for column in present:
        out[column] = redact_comments(out[column])
    return out
