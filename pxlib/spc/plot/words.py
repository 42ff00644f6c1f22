"""The words of a figure: line names, the target as written, every fired rule as a
plain sentence in the hover, the icons' meaning and the figure's subtitle.

Point types, colours, chart kinds and rule set names come from
:mod:`pxlib.spc.vocabulary`; only words no other output writes are defined here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pxlib import fmt
from pxlib.escape import html_text
from pxlib.spc import rules as R
from pxlib.spc import vocabulary
from pxlib.spc.plot.values import as_text
from pxlib.spc.spec import ChartSpec

if TYPE_CHECKING:
    from pxlib.spc.result import SPCResult

LINE_NAMES = {
    "cl_mean": "Centre line (mean)",
    "cl_median": "Centre line (median)",
    "cl_runs": "Centre line: the runs show a change",
    "ucl": "Upper process limit",
    "lcl": "Lower process limit",
    "ucl_2s": "Upper 2-sigma line",
    "lcl_2s": "Lower 2-sigma line",
    "target": "Target",
    "data": "Data",
    "pdsa": "PDSA cycle",
}


def target_text(spec: ChartSpec, target: float) -> str:
    """The target as every legend, annotation and table of a figure writes it:
    :meth:`ChartSpec.format_value` with as few decimals as the target has (up to 1):
    "95%" on a chart in percent (97.5 % as "97.5%"), "95" on any other."""

    def shown(text: str) -> float:
        return float(text.rstrip("%").replace(",", ""))

    exact = shown(spec.format_value(target, 6))
    text = spec.format_value(target, 0)
    return text if abs(shown(text) - exact) < 1e-6 else spec.format_value(target, 1)


#: the family of each of the engine's rules (:data:`pxlib.spc.rules.RULE_IDS`): what
#: its sentence says
_FAMILIES = {
    "outside": "outside",
    "trend": "trend",
    "two_of_three": "two_of_three",
    "shift": "shift",
    "long_run": "long_run",
    "ihi_shift": "shift",
    "ihi_trend": "trend",
    "astronomical": "astronomical",
    "crossings": "crossings",
    "ihi_runs": "runs",
}
#: the family of each rule label the engine writes in ``special_cause``
_LABEL_FAMILIES = {label: _FAMILIES[R.RULE_IDS[rule]] for rule, label in R.RULE_LABELS.items()}


def _rule_kind(rule: str) -> str:
    """The family of a rule named in ``special_cause``: two_of_three, outside,
    astronomical, trend, crossings, runs, long_run, shift, or other. The engine's labels
    (:data:`pxlib.spc.rules.RULE_LABELS`) are looked up; other texts (tables written by
    hand) are recognised by their words."""
    family = _LABEL_FAMILIES.get(rule.strip())
    if family is not None:
        return family
    low = rule.strip().lower()
    if ("two" in low and "three" in low) or "2 of 3" in low:
        return "two_of_three"
    if "astronomical" in low:
        return "astronomical"
    if "outside" in low or "limit" in low or "sigma" in low:
        return "outside"
    if "trend" in low:
        return "trend"
    if "crossing" in low:
        return "crossings"
    if "too many" in low or "runs" in low:
        return "runs"
    if "longest" in low or "long run" in low:
        return "long_run"
    if "shift" in low or "above" in low or "below" in low:
        return "shift"
    return "other"


def _meaning(up: bool | None, improvement: str) -> str:
    if up is None:
        return "a sign the process has changed"
    if improvement == "neutral":
        return "special cause (no direction of improvement set)"
    return "improvement" if up == (improvement == "increase") else "concern"


def rule_in_words(
    rule: str,
    *,
    up: bool | None,
    count: int | None = None,
    improvement: str = "neutral",
) -> str:
    """One fired rule as a plain sentence: "7 points in a row above the centre line: improvement".

    ``rule`` is one item of the ``special_cause`` column (the rule labels of
    :mod:`pxlib.spc.rules`: outside limits, trend, two of three close to limits,
    shift, longest run, too few crossings, astronomical point, IHI runs; an
    unknown rule is written as it is). ``up`` is the pattern's direction (above
    the centre line or rising; None for rules without one), ``count`` the number
    of points in the pattern, ``improvement`` the chart's direction, which gives
    the meaning after the colon.
    """
    return _sentence(_rule_kind(rule), rule.strip(), up, count, improvement)


def _sentence(kind: str, label: str, up: bool | None, count: int | None, improvement: str) -> str:
    """A rule of family ``kind`` (:data:`_FAMILIES`) in words; ``label`` for an unknown one."""
    n = fmt.count(count, "point") if count else "points"
    side = "above" if up else "below"
    if kind == "two_of_three":
        words = f"2 of 3 points close to the {'upper' if up else 'lower'} process limit"
    elif kind == "outside":
        words = f"{side} the {'upper' if up else 'lower'} process limit"
    elif kind == "astronomical":
        words = f"an astronomical point (far {side} the other values)"
    elif kind == "trend":
        words = f"{n} in a row {'rising' if up else 'falling'}"
    elif kind == "crossings":
        words = "too few crossings of the centre line"
        up = None
    elif kind == "runs":
        words = "too few or too many runs around the centre line"
        up = None
    elif kind == "long_run":
        words = f"a run of {n} {side} the centre line, longer than chance allows"
    elif kind == "shift":
        words = f"{n} in a row {side} the centre line"
    else:
        words = label
    words = words[:1].upper() + words[1:]
    return f"{words}: {_meaning(up, improvement)}"


#: the families whose sentence gives the pattern's number of points
_COUNTED = ("trend", "shift", "long_run")


def signal_words(signals: pd.DataFrame, npoints: int, improvement: str) -> np.ndarray:
    """Hover lines of every point of ``SPCResult.points`` (one string each, "" where no
    rule fired): every rule that fired there, read from the result's tidy ``signals``
    frame (:mod:`pxlib.spc.signals`: rule, direction, run length), in words, in the
    frame's order (rule precedence)."""
    lines: list[list[str]] = [[] for _ in range(npoints)]
    for at, rule, direction, length in zip(
        signals["point"].to_numpy(),
        signals["rule"].astype(str).to_numpy(),
        signals["direction"].to_numpy(),
        signals["run_length"].to_numpy(),
        strict=True,
    ):
        kind = _FAMILIES[rule]
        up = None if direction == 0 else bool(direction > 0)
        count = int(length) if kind in _COUNTED else None
        lines[at].append(_sentence(kind, rule, up, count, improvement))
    out = np.full(npoints, "", dtype=object)
    for i, point_lines in enumerate(lines):
        if point_lines:
            out[i] = "<br>".join(html_text(line) for line in point_lines)
    return out


def _blocks(flag: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Block id and block length of runs of consecutive flagged points with equal key."""
    change = np.ones(len(flag), dtype=bool)
    change[1:] = (flag[1:] != flag[:-1]) | (key[1:] != key[:-1])
    block = np.cumsum(change)
    sizes = np.bincount(block)
    return block, sizes[block]


def signal_texts(
    rules: list[list[str]],
    y: np.ndarray,
    cl: np.ndarray,
    ucl: np.ndarray,
    improvement: str,
    counted: np.ndarray | None = None,
) -> list[str]:
    """Hover lines of every point of one group (sorted by x): each fired rule in words,
    with the size of its pattern counted from the neighbouring points flagged by the
    same rule on the same side (shift, run) or in the same direction (trend).

    ``counted``: the points the rules look at (included in the limits); a pattern is
    counted over those only, as the rules count it, so a point left out of the limits
    in the middle of a shift neither breaks it nor adds to it. The others are counted
    among themselves.

    For a result built by hand from tables, without the engine's ``signals`` frame; a
    chart drawn from the engine reads that frame (:func:`signal_words`)."""
    m = len(rules)
    if counted is not None and not np.all(counted):
        texts = np.full(m, "", dtype=object)
        for part in (np.flatnonzero(counted), np.flatnonzero(~counted)):
            if len(part):
                texts[part] = signal_texts(
                    [rules[i] for i in part], y[part], cl[part], ucl[part], improvement
                )
        return list(texts)
    out: list[list[str]] = [[] for _ in range(m)]
    names = sorted({r for rs in rules for r in rs})
    if not names:
        return [""] * m
    with np.errstate(invalid="ignore"):
        above = y > cl
        diff = np.diff(y)
    for name in names:
        kind = _rule_kind(name)
        flag = np.array([name in rs for rs in rules])
        if kind == "trend":
            prev = np.concatenate([[np.nan], diff])
            nxt = np.concatenate([diff, [np.nan]])
            flagged_prev = np.concatenate([[False], flag[:-1]])
            up = np.where(flagged_prev & np.isfinite(prev), prev > 0, nxt > 0)
            block, length = _blocks(flag, up)
            # a peak or trough shared by two trends belongs to both
            start = flag & np.concatenate([[True], (up[1:] != up[:-1]) | ~flag[:-1]])
            shared = np.zeros(block.max() + 1, dtype=int)
            shared[block[start & flagged_prev]] = 1
            length = length + shared[block]
        elif kind == "outside":
            up = np.where(np.isfinite(ucl), y > ucl, above)
            _, length = _blocks(flag, up)
        else:
            up = above
            _, length = _blocks(flag, up)
        for i in np.flatnonzero(flag):
            out[i].append(
                rule_in_words(
                    name,
                    up=bool(up[i]),
                    count=int(length[i]) if kind in _COUNTED else None,
                    improvement=improvement,
                )
            )
    return ["<br>".join(html_text(s) for s in lines) for lines in out]


def split_rules(values: np.ndarray) -> list[list[str]]:
    return [[r.strip() for r in as_text(v).split(";") if r.strip()] for v in values]


def icon_words(
    types: tuple[str, str], improvement: str, short: bool = False, capital: bool = False
) -> str:
    return " · ".join(html_text(p) for p in icon_phrases(types, improvement, short, capital))


def icon_phrases(
    types: tuple[str, str], improvement: str, short: bool = False, capital: bool = False
) -> list[str]:
    """The icons' meaning in words (plain text): variation, then assurance."""
    variation, assurance = types
    parts = vocabulary.icon_phrases(variation, assurance, improvement, short)
    if capital:
        parts = [p[:1].upper() + p[1:] for p in parts]
    return parts


def subtitle(result: SPCResult) -> str:
    kind = vocabulary.KIND_NAMES.get(result.kind, f"{result.kind} chart")
    rules = ", ".join(vocabulary.RULE_SET_NAMES.get(r, r) for r in result.rules)
    out = kind
    if rules:
        out += f" · rules: {rules}"
    direction = {"increase": "higher is better", "decrease": "lower is better"}.get(
        result.improvement
    )
    if direction:
        out += f" · {direction}"
    return html_text(out)
