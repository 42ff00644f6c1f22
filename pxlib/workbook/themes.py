"""Themes in free-text comments: a configurable keyword dictionary, counted.

No downloaded language models: a team (or its patient partners) owns a small
dictionary ``{theme: [keyword, ...]}`` and edits it. A comment mentions a theme
when any of the theme's keywords occurs in it as a word or the start of a word
(case-insensitive): ``"wait"`` matches "wait", "waited" and "waiting" but not
"await". Multi-word keywords ("go home") match with any spacing between words.

Comments are redacted (:func:`redact`) before they are counted or quoted:
phone numbers, email addresses, NHS-number-like strings and names after titles
such as Dr or Nurse never reach a report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from pxlib.disclosure import redact_comments
from pxlib.errors import ColumnError

DEFAULT_THEMES: dict[str, tuple[str, ...]] = {
    "Information and explanation": (
        "explain",
        "explained",
        "told",
        "not sure",
        "understand",
        "information",
        "letter",
        "what would happen",
        "what happens",
    ),
    "Medicines": ("tablet", "medicine", "medication", "prescription", "pain relief"),
    "Going home (discharge)": (
        "go home",
        "going home",
        "discharge",
        "leaving",
        "follow-up",
        "follow up",
    ),
    "Waiting and delays": ("wait", "delay", "long time", "last minute"),
    "Kindness and being listened to": (
        "kind",
        "listened",
        "lovely",
        "mattered",
        "what matters",
        "wonderful",
        "safe",
        "thank",
    ),
    "Communication between staff": ("communication", "between doctors", "handover"),
    "Food and drink": ("food", "meal", "drink"),
    "Noise and sleep": ("noise", "noisy", "sleep", "night"),
}
"""A starting dictionary for discharge-focused Always Events; edit it in the notebook."""


def redact(comments: pd.Series) -> pd.Series:
    """Comments with personal details replaced by markers (see
    :func:`pxlib.disclosure.redact_comments`). Missing comments stay missing."""
    return redact_comments(comments)


def keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str]:
    """One regex matching any keyword at a word start (spaces in a keyword match any spacing)."""
    if isinstance(keywords, str):
        keywords = [keywords]
    parts = [r"\s+".join(re.escape(w) for w in k.strip().split()) for k in keywords if k.strip()]
    if not parts:
        raise ValueError("a theme needs at least one non-empty keyword")
    return re.compile(r"\b(?:" + "|".join(parts) + ")", re.IGNORECASE)


def comments_per_respondent(responses: pd.DataFrame, comment: str = "comment") -> pd.DataFrame:
    """One row per respondent with a non-empty comment, redacted.

    The responses file repeats respondent attributes on every answer row; a
    respondent's comment is the first non-empty one. Columns: ``org_code``,
    ``unit``, ``respondent_id``, ``week`` (when present) and ``comment``.
    """
    if comment not in responses.columns:
        raise ColumnError(f"the responses have no {comment!r} column")
    keep = [
        c
        for c in ("org_code", "unit", "respondent_id", "week", "response_date")
        if c in responses.columns
    ]
    text = responses[comment].astype("string").str.strip()
    rows = responses.loc[text.fillna("").ne(""), keep].assign(comment=text)
    if "respondent_id" in rows.columns:
        rows = rows.drop_duplicates("respondent_id")
    rows = rows.reset_index(drop=True)
    rows["comment"] = redact(rows["comment"])
    return rows


def theme_matches(
    comments: pd.Series, themes: Mapping[str, Sequence[str]] | None = None
) -> pd.DataFrame:
    """A boolean table: one row per comment, one column per theme (does it mention it?)."""
    themes = DEFAULT_THEMES if themes is None else themes
    text = comments.astype("string").fillna("")
    return pd.DataFrame(
        {
            name: text.str.contains(keyword_pattern(words), regex=True).astype(bool)
            for name, words in themes.items()
        },
        index=comments.index,
    )


def count_themes(
    comments: pd.DataFrame,
    themes: Mapping[str, Sequence[str]] | None = None,
    *,
    by: str | Sequence[str] | None = None,
    comment: str = "comment",
) -> pd.DataFrame:
    """How many comments mention each theme, overall or per ``by`` group.

    Returns one row per (group and) theme: ``theme``, ``n_comments`` (comments in
    the group), ``n_mentions`` (comments mentioning the theme), ``share``
    (n_mentions / n_comments) and ``rank`` (1 = most mentioned within the group),
    sorted by group then rank. A comment can mention several themes.
    """
    themes = DEFAULT_THEMES if themes is None else themes
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    missing = [c for c in [comment, *by_cols] if c not in comments.columns]
    if missing:
        raise ColumnError(f"the comments table has no column(s) {missing}")
    hits = theme_matches(comments[comment], themes)
    frame = pd.concat(
        [comments[by_cols].reset_index(drop=True), hits.reset_index(drop=True)], axis=1
    )
    frame["_n"] = 1
    if by_cols:
        grouped = frame.groupby(by_cols, sort=True, dropna=False)
        mentions = grouped[list(themes)].sum()
        totals = grouped["_n"].sum()
    else:
        mentions = frame[list(themes)].sum().to_frame().T
        totals = pd.Series([len(frame)], index=mentions.index)
    long = mentions.stack().rename("n_mentions").reset_index()
    long = long.rename(columns={long.columns[-2]: "theme"})
    if by_cols:
        long = long.merge(totals.rename("n_comments").reset_index(), on=by_cols)
    else:
        long = long.drop(columns=[c for c in long.columns if c not in ("theme", "n_mentions")])
        long["n_comments"] = int(totals.iloc[0])
    long["n_mentions"] = long["n_mentions"].astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        long["share"] = np.where(
            long["n_comments"] > 0, long["n_mentions"] / long["n_comments"].clip(lower=1), np.nan
        )
    keys = by_cols or None
    long["rank"] = (
        (long.groupby(keys, sort=False)["n_mentions"] if keys else long["n_mentions"])
        .rank(method="min", ascending=False)
        .astype(int)
    )
    long = long.sort_values([*by_cols, "rank", "theme"], kind="stable").reset_index(drop=True)
    return long[[*by_cols, "theme", "n_comments", "n_mentions", "share", "rank"]]


def theme_examples(
    comments: pd.DataFrame,
    themes: Mapping[str, Sequence[str]] | None = None,
    *,
    per_theme: int = 2,
    comment: str = "comment",
) -> pd.DataFrame:
    """Up to ``per_theme`` distinct redacted example comments per theme (``theme``, ``example``)."""
    themes = DEFAULT_THEMES if themes is None else themes
    text = redact(comments[comment].astype("string"))
    hits = theme_matches(text, themes)
    rows = []
    for name in themes:
        chosen = pd.Series(text[hits[name]]).dropna().drop_duplicates().head(per_theme)
        rows.extend({"theme": name, "example": str(t)} for t in chosen)
    return pd.DataFrame(rows, columns=["theme", "example"])
