"""A ranked shortlist of candidate Always Events, with the evidence for each.

Step 3 of the Always Events workflow ranks themes "by importance and by how
often they happen now". Each candidate links a question of the local survey
(how often it happens now) to comment themes (how much it matters to people,
from what they wrote). The priority is the product

    priority = gap × importance,

with gap = the (weighted) share of patients for whom it did **not** happen and
importance = the share of comments mentioning any of the candidate's themes.
A candidate both often missed and often mentioned comes first. The ranking is
a conversation starter for the co-design workshop, not a decision: the team
and its patient partners choose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from pxlib.disclosure import small_numbers
from pxlib.errors import ColumnError

DEFAULT_CANDIDATES: tuple[dict, ...] = (
    {
        "candidate": "Staff always explain what will happen after I leave, in a way I understand",
        "question_id": "AE1",
        "good_when": "happened",
        "themes": ("Information and explanation", "Going home (discharge)"),
    },
    {
        "candidate": "Someone always goes through my medicines with me before I leave",
        "question_id": "PR1",
        "good_when": "happened",
        "themes": ("Medicines",),
    },
    {
        "candidate": "Staff always ask me what matters to me about going home",
        "question_id": "PR2",
        "good_when": "happened",
        "themes": ("Kindness and being listened to",),
    },
    {
        "candidate": "I am never kept waiting more than two hours once I am told I can go home",
        "question_id": "BL1",
        "good_when": "not_happened",
        "themes": ("Waiting and delays",),
    },
)
"""Candidates for the sample's discharge focus; a team writes its own in the notebook."""


def _importance(
    comments_hits: pd.DataFrame | None, theme_counts: pd.DataFrame | None, themes: Sequence[str]
) -> tuple[float, int, int]:
    """(share of comments mentioning any theme, mentions, comments)."""
    if comments_hits is not None:
        cols = [t for t in themes if t in comments_hits.columns]
        n = len(comments_hits)
        k = int(comments_hits[cols].any(axis=1).sum()) if cols else 0
        return (k / n if n else np.nan), k, n
    if theme_counts is not None and len(theme_counts):
        sel = theme_counts[theme_counts["theme"].isin(list(themes))]
        n = int(theme_counts["n_comments"].max())
        k = int(sel["n_mentions"].max()) if len(sel) else 0  # at least this many mention one
        return (k / n if n else np.nan), k, n
    return np.nan, 0, 0


def shortlist(
    question_shares: pd.DataFrame,
    *,
    comment_themes: pd.DataFrame | None = None,
    theme_counts: pd.DataFrame | None = None,
    candidates: Sequence[Mapping] | None = None,
    min_respondents: int | None = None,
) -> pd.DataFrame:
    """Rank candidate Always Events by gap × importance, with the evidence in words.

    ``question_shares``: one row per question with ``question_id``, ``share``
    (for whom it "happened" in the question bank's scoring), ``ci_low``,
    ``ci_high``, ``n_respondents`` and ``weighted`` (as from
    :func:`pxlib.workbook.measures.weekly_share` with ``by=("org_code",)``).
    ``comment_themes``: a boolean table, one row per comment, one column per
    theme (:func:`pxlib.workbook.themes.theme_matches`), so that a comment
    mentioning two of a candidate's themes counts once; or ``theme_counts``
    (:func:`pxlib.workbook.themes.count_themes`), which counts the most
    mentioned theme only. ``candidates``: dicts with ``candidate``,
    ``question_id``, ``good_when`` ("happened" or "not_happened") and
    ``themes``. Candidates resting on fewer than ``min_respondents`` answers
    keep their rank but say so instead of giving figures.

    Returns: ``rank``, ``candidate``, ``question_id``, ``gap``, ``importance``,
    ``priority``, ``evidence``.
    """
    candidates = DEFAULT_CANDIDATES if candidates is None else tuple(candidates)
    need = ["question_id", "share", "n_respondents"]
    missing = [c for c in need if c not in question_shares.columns]
    if missing and len(question_shares):
        raise ColumnError(f"question_shares has no column(s) {missing}")
    if missing:  # no answers at all yet
        question_shares = pd.DataFrame(columns=need)
    shares = question_shares.drop_duplicates("question_id").set_index("question_id")
    rows = []
    for cand in candidates:
        qid = cand["question_id"]
        good_when = cand.get("good_when", "happened")
        if good_when not in ("happened", "not_happened"):
            raise ValueError(
                f"candidate {cand.get('candidate')!r}: good_when must be 'happened' or 'not_happened'"
            )
        themes = tuple(cand.get("themes", ()))
        imp, k, n_comments = _importance(comment_themes, theme_counts, themes)
        if qid in shares.index:
            row = shares.loc[qid]
            share = float(row["share"])
            n_resp = int(row["n_respondents"])
            good = share if good_when == "happened" else 1 - share
            gap = 1 - good
            lo, hi = row.get("ci_low", np.nan), row.get("ci_high", np.nan)
            if good_when == "not_happened":
                lo, hi = 1 - hi, 1 - lo
            gap_lo, gap_hi = 1 - hi, 1 - lo
            weighted = bool(row.get("weighted", False))
        else:
            gap, n_resp, gap_lo, gap_hi, weighted = np.nan, 0, np.nan, np.nan, False
        parts = []
        if n_resp == 0:
            parts.append(f"No answers to question {qid} yet.")
        elif not small_numbers(min_respondents).shows(n_resp):
            parts.append(
                f"Fewer than {small_numbers(min_respondents).threshold} answers to {qid}: figures not shown."
            )
        else:
            ci = (
                f" (95% CI {gap_lo:.0%} to {gap_hi:.0%})"
                if np.isfinite(gap_lo) and np.isfinite(gap_hi)
                else ""
            )
            parts.append(
                f"Does not happen for {gap:.0%}{ci} of {n_resp:,} patients asked ({qid}"
                f"{', weighted to the eligible patients' if weighted else ''})."
            )
        if n_comments == 0:
            parts.append("No comments to weigh importance.")
        elif not small_numbers(min_respondents).shows(k):
            parts.append(
                f"Fewer than {small_numbers(min_respondents).threshold} comments mention it ({', '.join(themes)})."
            )
        else:
            parts.append(
                f"Mentioned in {imp:.0%} of {n_comments:,} comments ({', '.join(themes)})."
            )
        rows.append(
            {
                "candidate": cand["candidate"],
                "question_id": qid,
                "gap": gap,
                "importance": imp,
                "priority": gap * imp if np.isfinite(gap) and np.isfinite(imp) else np.nan,
                "evidence": " ".join(parts),
            }
        )
    table = pd.DataFrame(rows)
    table = table.sort_values(
        ["priority", "gap"], ascending=False, na_position="last", kind="stable"
    )
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)
