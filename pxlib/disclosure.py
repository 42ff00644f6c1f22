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

:func:`redact_comments` replaces personal details in free-text comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

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

    def hides(self, n) -> np.ndarray:
        """Which of the respondent counts ``n`` (array-like) may not be shown."""
        counts = pd.to_numeric(
            pd.Series(np.atleast_1d(np.asarray(n, dtype=object))), errors="coerce"
        )
        v = counts.to_numpy(float)
        return np.isnan(v) | ((v > 0) & (v < self.threshold))

    def shows(self, n) -> bool:
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
    value_cols=None,
    keep=(),
    fill=np.nan,
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
    value_cols=None,
    keep=(),
    fill=np.nan,
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
    option_cols,
    *,
    low: int = 1,
    high: int = 4,
    fill=np.nan,
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


def suppress(table: pd.DataFrame, rule: str = "gpps", **kwargs) -> pd.DataFrame:
    """Apply a suppression rule by name: ``"gpps"``, ``"fft"`` or ``"options"``."""
    if rule == "gpps":
        return suppress_gpps(table, **kwargs)
    if rule == "fft":
        return suppress_fft(table, **kwargs)
    if rule == "options":
        return suppress_option_counts(table, **kwargs)
    raise ValueError(f"unknown suppression rule {rule!r}; use 'gpps', 'fft' or 'options'")


# --- comment redaction ------------------------------------------------------

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_NHS = re.compile(r"(?<![\d+])\d{3}[ \-]?\d{3}[ \-]?\d{4}(?!\d)")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|\(?0)\d{2,4}\)?[\s\-]?\d{3,4}[\s\-]?\d{3,4}(?!\d)"
)
_NAME = re.compile(
    r"\b((?i:dr|doctor|nurse|matron|sister|prof|professor|mr|mrs|ms|miss|mx))(\.?)(\s+)"
    r"([A-Z][a-zA-Z'\-]+(?:\s+[A-Z][a-zA-Z'\-]+)?)"
)


def _redact_one(text: str) -> str:
    text = _EMAIL.sub("[email]", text)
    text = _NHS.sub("[nhs number]", text)
    text = _PHONE.sub("[phone]", text)
    text = _NAME.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}[name]", text)
    return text


def redact_comments(series: pd.Series) -> pd.Series:
    """Replace personal details in free-text comments with placeholders.

    * e-mail addresses -> ``[email]``;
    * NHS-number-like 10-digit strings (``4857773456``, ``485 777 3456``,
      ``485-777-3456``) -> ``[nhs number]``;
    * UK phone numbers (``07700 900123``, ``020 7946 0958``, ``+44 7700 900123``,
      ``(01632) 960001``) -> ``[phone]``;
    * a capitalised name (one or two words) after a title (Dr, Doctor, Nurse,
      Matron, Sister, Prof, Professor, Mr, Mrs, Ms, Miss, Mx; any case, optional
      full stop) -> ``Title [name]``.

    Missing values stay missing. Pattern-based: it lowers the risk, it does not
    replace reading comments before publication.
    """
    if not isinstance(series, pd.Series):
        series = pd.Series(series)
    out = series.map(lambda x: _redact_one(str(x)) if pd.notna(x) else x)
    return out.rename(series.name)
