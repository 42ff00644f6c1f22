"""Themes in free-text comments: a configurable keyword dictionary, counted, with polarity.

No downloaded language models: a team (or its patient partners) owns a small
dictionary ``{theme: [keyword, ...]}`` and edits it. A comment mentions a theme
when any of the theme's keywords occurs in it as a word or the start of a word
(case-insensitive): ``"wait"`` matches "wait", "waited" and "waiting" but not
"await". Multi-word keywords ("go home") match with any spacing between words.

A mention is not a complaint: "the nurses were lovely" mentions kindness as
praise. Each mention therefore takes the polarity of its clause
(:mod:`pxlib.workbook.polarity`, a documented offline lexicon with negation
handling): "The nurses were lovely but nobody explained my tablets" praises
kindness and complains about information and medicines.
:func:`count_theme_polarity` counts, per theme, the comments raising it as a
problem (negative or mixed mentions) and those praising it, and ranks themes by
problems only: praise is what to keep, never a priority to fix.
:func:`count_themes` still counts mentions of either kind.

Comments are redacted (:func:`redact`) before they are counted or quoted:
phone numbers, email addresses, NHS-number-like strings and names after titles
such as Dr or Nurse never reach a report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.disclosure import redact_comments, small_numbers
from pxlib.errors import ColumnError
from pxlib.workbook import polarity
from pxlib.workbook.polarity import Lexicon

DEFAULT_THEMES: dict[str, tuple[str, ...]] = {
    "Information and explanation": (
        "explain",
        "explanation",
        "told",
        "not sure",
        "understand",
        "inform",
        "leaflet",
        "letter",
        "what would happen",
        "what happens",
    ),
    "Medicines": (
        "tablet",
        "medicine",
        "medication",
        "prescription",
        "pain relief",
        "painkiller",
        "pharmac",
    ),
    "Going home (discharge)": (
        "go home",
        "going home",
        "went home",
        "sent home",
        "discharge",
        "leaving",
        "follow-up",
        "follow up",
        "transport",
    ),
    "Waiting and delays": ("wait", "delay", "long time", "too long", "took ages", "last minute"),
    "Kindness and being listened to": (
        "kind",
        "listen",
        "lovely",
        "mattered",
        "what matters",
        "wonderful",
        "safe",
        "thank",
        "caring",
        "cared for",
        "friendly",
        "compassion",
        "respect",
        "dignity",
        "rude",
        "ignored",
        "talked down",
        "nuisance",
        "like a number",
    ),
    "Communication between staff": (
        "communication",
        "between doctors",
        "handover",
        "talk to each other",
        "repeat my story",
        "repeat myself",
        "same questions",
    ),
    "Food and drink": ("food", "meal", "drink", "portion", "sandwich", "hungry", "thirsty"),
    "Noise and sleep": ("noise", "noisy", "loud", "quiet", "sleep", "slept", "awake", "night"),
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


# --- polarity: praise or complaint -------------------------------------------------------------

#: what a comment's polarity counts as for a theme it mentions
PROBLEM = ("negative", "mixed")
PRAISE = ("positive", "mixed")


def comment_polarities(comments: pd.Series, lexicon: Lexicon | None = None) -> pd.Series:
    """Each comment's polarity: ``negative``, ``positive``, ``mixed`` (both) or
    ``neutral`` (neither; also a missing comment), by :mod:`pxlib.workbook.polarity`."""
    text = comments.astype("string").fillna("")
    labels = {t: polarity.comment_polarity(t, lexicon) for t in pd.unique(text)}
    return text.map(labels).astype(object).rename("polarity")


def theme_polarities(
    comments: pd.Series,
    themes: Mapping[str, Sequence[str]] | None = None,
    *,
    lexicon: Lexicon | None = None,
) -> pd.DataFrame:
    """One row per comment, one column per theme: how the comment mentions the theme.

    ``negative``, ``positive``, ``mixed`` (praise and complaint about the theme in
    different clauses), ``neutral`` (mentioned in clauses with no polarity), or
    ``""`` (not mentioned). Each keyword found takes the polarity of its clause
    (:func:`pxlib.workbook.polarity.mention_signs`); mentions are found exactly as
    :func:`theme_matches` finds them.
    """
    themes = DEFAULT_THEMES if themes is None else themes
    patterns = {name: keyword_pattern(words) for name, words in themes.items()}
    text = comments.astype("string").fillna("")
    per_text: dict[str, list[str]] = {}
    for t in pd.unique(text):
        clauses = polarity.clause_polarities(t, lexicon) if t.strip() else []
        row = []
        for pat in patterns.values():
            starts = [m.start() for m in pat.finditer(t)]
            if not starts:
                row.append("")
                continue
            signs = polarity.mention_signs(t, starts, lexicon, clauses=clauses)
            row.append(polarity.label(signs))
        per_text[t] = row
    values = [per_text[t] for t in text]
    return pd.DataFrame(values, index=comments.index, columns=list(patterns), dtype=object)


def _first_shown(texts: pd.Series, n: int, rule, per_theme: int) -> list[str]:
    if not rule.shows(n) or n == 0:
        return []
    return [str(t) for t in texts.dropna().drop_duplicates().head(per_theme)]


def count_theme_polarity(
    comments: pd.DataFrame,
    themes: Mapping[str, Sequence[str]] | None = None,
    *,
    by: str | Sequence[str] | None = None,
    comment: str = "comment",
    lexicon: Lexicon | None = None,
    min_respondents: int | None = None,
) -> pd.DataFrame:
    """Per (group and) theme: problems and praise, ranked by problems.

    Columns: the ``by`` columns, ``theme``, ``n_comments`` (in the group),
    ``n_mentions`` (comments mentioning the theme at all), ``n_negative``
    (comments raising it as a problem: a negative or mixed mention), ``n_positive``
    (comments praising it: a positive or mixed mention), ``problem_share`` =
    n_negative / n_comments, ``praise_share`` = n_positive / n_comments, ``rank``
    (1 = most problems in the group; themes with no problem share the last rank),
    ``problem_example`` and ``praise_example`` (one redacted comment each; empty
    where there is none or its count falls under the small-number rule of
    ``min_respondents``). Sorted by group, rank, then most praised.
    """
    themes = DEFAULT_THEMES if themes is None else themes
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    missing = [c for c in [comment, *by_cols] if c not in comments.columns]
    if missing:
        raise ColumnError(f"the comments table has no column(s) {missing}")
    frame = comments[by_cols].reset_index(drop=True)
    text = redact(comments[comment].astype("string")).reset_index(drop=True)
    table = theme_polarities(text, themes, lexicon=lexicon)
    rule = small_numbers(min_respondents)
    groups = frame.groupby(by_cols, sort=True, dropna=False).indices if by_cols else {(): None}
    rows = []
    for key, idx in groups.items():
        rows_of = slice(None) if idx is None else idx
        sub, sub_text = table.iloc[rows_of], text.iloc[rows_of]
        key = key if isinstance(key, tuple) else (key,)
        for name in themes:
            col = sub[name]
            neg, pos = col.isin(PROBLEM), col.isin(PRAISE)
            n_neg, n_pos = int(neg.sum()), int(pos.sum())
            bad = _first_shown(sub_text[neg.to_numpy()], n_neg, rule, 1)
            good = _first_shown(sub_text[pos.to_numpy()], n_pos, rule, 1)
            rows.append(
                {
                    **dict(zip(by_cols, key, strict=True)),
                    "theme": name,
                    "n_comments": len(sub),
                    "n_mentions": int(col.ne("").sum()),
                    "n_negative": n_neg,
                    "n_positive": n_pos,
                    "problem_example": bad[0] if bad else "",
                    "praise_example": good[0] if good else "",
                }
            )
    counted = ["theme", "n_comments", "n_mentions", "n_negative", "n_positive"]
    out = pd.DataFrame(rows, columns=[*by_cols, *counted, "problem_example", "praise_example"])
    n = out["n_comments"].clip(lower=1)
    out["problem_share"] = np.where(out["n_comments"] > 0, out["n_negative"] / n, np.nan)
    out["praise_share"] = np.where(out["n_comments"] > 0, out["n_positive"] / n, np.nan)
    grouped = out.groupby(by_cols, sort=False)["n_negative"] if by_cols else out["n_negative"]
    out["rank"] = grouped.rank(method="min", ascending=False).astype(int)
    out = out.sort_values(
        [*by_cols, "rank", "n_positive", "theme"],
        ascending=[True] * len(by_cols) + [True, False, True],
        kind="stable",
    ).reset_index(drop=True)
    cols = ["theme", "n_comments", "n_mentions", "n_negative", "n_positive"]
    cols += ["problem_share", "praise_share", "rank", "problem_example", "praise_example"]
    return out[[*by_cols, *cols]]


def polarity_examples(
    comments: pd.DataFrame,
    themes: Mapping[str, Sequence[str]] | None = None,
    *,
    per_theme: int = 2,
    comment: str = "comment",
    lexicon: Lexicon | None = None,
    min_respondents: int | None = None,
) -> pd.DataFrame:
    """Up to ``per_theme`` distinct redacted comments per theme and side: ``theme``,
    ``side`` ("problem" or "what to keep"), ``example``. A side whose count falls
    under the small-number rule of ``min_respondents`` gives no example."""
    themes = DEFAULT_THEMES if themes is None else themes
    text = redact(comments[comment].astype("string")).reset_index(drop=True)
    table = theme_polarities(text, themes, lexicon=lexicon)
    rule = small_numbers(min_respondents)
    rows = []
    for name in themes:
        for side, kinds in (("problem", PROBLEM), ("what to keep", PRAISE)):
            hit = table[name].isin(kinds).to_numpy()
            for t in _first_shown(text[hit], int(hit.sum()), rule, per_theme):
                rows.append({"theme": name, "side": side, "example": t})
    return pd.DataFrame(rows, columns=["theme", "side", "example"])


def polarity_text(counts: pd.DataFrame, *, min_respondents: int | None = None, top: int = 3) -> str:
    """Words naming the themes most raised as problems and the most praised, for
    captions and alt text (from :func:`count_theme_polarity`; counts under the
    small-number rule are left out)."""
    rule = small_numbers(min_respondents)

    def shown(col: str) -> pd.DataFrame:
        keep = counts[(counts[col] > 0) & ~rule.hides(counts[col])]
        return keep.sort_values(col, ascending=False, kind="stable").head(top)

    problems, praise = shown("n_negative"), shown("n_positive")
    first = (
        "Most raised as problems: "
        + "; ".join(f"{r.theme} ({fmt.percent(r.problem_share)})" for r in problems.itertuples())
        if len(problems)
        else "No theme is raised as a problem often enough to show"
    )
    second = (
        "What to keep (most praised): "
        + "; ".join(f"{r.theme} ({fmt.percent(r.praise_share)})" for r in praise.itertuples())
        if len(praise)
        else "no theme is praised often enough to show"
    )
    return f"{first}. {second}."


_POLARITY_SHOWN = (
    "theme", "n_comments", "n_negative", "problem_share", "n_positive", "praise_share", "note",
)  # fmt: skip


def polarity_table(counts: pd.DataFrame, *, min_respondents: int | None = None) -> pd.DataFrame:
    """:func:`count_theme_polarity` ready to show: each side's count and share hidden when
    its count falls under the small-number rule, with a ``note`` saying which.

    Columns: the group columns, ``theme``, ``n_comments``, ``n_negative``,
    ``problem_share``, ``n_positive``, ``praise_share``, ``note``.
    """
    rule = small_numbers(min_respondents)
    drop = ("problem_example", "praise_example", "rank", "n_mentions")
    keep = [c for c in counts.columns if c not in drop]
    out = counts[keep].copy()
    notes = pd.Series("", index=out.index)
    for n_col, share_col, side in (
        ("n_negative", "problem_share", "problems"),
        ("n_positive", "praise_share", "praise"),
    ):
        n = out[n_col].astype("float64")
        hide = pd.Series(rule.hides(n) & (n > 0).to_numpy(), index=out.index)
        out[n_col] = n.where(~hide)
        out[share_col] = out[share_col].astype("float64").where(~hide)
        notes = notes.where(~hide, notes + np.where(notes == "", "", "; ") + f"{side} {rule.note}")
    out["note"] = notes
    groups = [c for c in out.columns if c not in _POLARITY_SHOWN]
    return out[[*groups, *_POLARITY_SHOWN]]
