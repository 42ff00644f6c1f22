"""The driver diagram as data: its tree of boxes, each change idea's PDSA cycles, in words.

A driver diagram sets out a team's theory of improvement: the **aim**; the
**primary drivers**, the few things that must be in place to reach it; the
**secondary drivers** that act on each primary driver; and the **change ideas**
the team will test (IHI, *Driver Diagram* tool, QI Essentials Toolkit, 2017;
Bennett & Provost, "What's your theory?", *Quality Progress* 2015). Change ideas
are tested in PDSA cycles, built into ramps (Langley et al., *The Improvement
Guide*, 2nd ed., 2009), so each change idea carries its cycles and what was
decided after each (adopt, adapt, abandon): :func:`decision_word`, coloured by
:data:`DECISION_COLOURS`.

:func:`diagram_rows` and :func:`cycles_by_idea` read ``driver_diagram.csv`` and the
PDSA log, :func:`forest` builds the trees of :class:`DriverNode`; :func:`driver_alt_text`
and :func:`driver_table` give the tree in words and as a table. The figure's layout
is :mod:`pxlib.workbook.drivers`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd

from pxlib.data.journey_schemas import DRIVER_LEVELS
from pxlib.data.schemas import PDSA_DECISIONS
from pxlib.spc.theme import (
    NHS_AQUA_GREEN,
    NHS_DARK_GREY,
    NHS_LIGHT_BLUE,
    NHS_MID_GREY,
    NHS_WARM_YELLOW,
)

#: what a cycle without a decision is called: still running, or ended undecided
UNDER_WAY, UNDECIDED = "under way", "no decision"
#: the one home of the colours of PDSA decisions (the words are
#: :data:`pxlib.data.schemas.PDSA_DECISIONS`); text is always dark on a pale tint
DECISION_COLOURS = dict(
    zip(PDSA_DECISIONS, (NHS_AQUA_GREEN, NHS_WARM_YELLOW, NHS_DARK_GREY), strict=True),
    **{UNDER_WAY: NHS_LIGHT_BLUE, UNDECIDED: NHS_MID_GREY},
)


def decision_word(decision: object, end_date: object = None) -> str:
    """A cycle's decision as it is shown: adopt, adapt, abandon, under way or no decision."""
    text = "" if decision is None or pd.isna(decision) else str(decision).strip().lower()
    if text in DECISION_COLOURS:
        return text
    return UNDER_WAY if end_date is None or pd.isna(end_date) else UNDECIDED


@dataclass
class DriverNode:
    """A box of the diagram: its level and text, children, cycles, and where it is drawn."""

    key: tuple[str, str]
    level: str
    text: str
    children: list[DriverNode] = field(default_factory=list)
    cycles: list[dict] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    height: float = 0.0  # the box
    band: float = 0.0  # the subtree
    y: float = 0.0  # the box's centre


def diagram_rows(diagram: pd.DataFrame, unit: str | None) -> pd.DataFrame:
    """The diagram's boxes of ``unit`` (and those with no unit), one row per box."""
    rows = diagram.reindex(columns=["org_code", "unit", "node_id", "level", "parent_id", "text"])
    rows = rows[rows["level"].isin(DRIVER_LEVELS) & rows["node_id"].notna()]
    if unit is not None:
        named = rows["unit"].astype("string").fillna("").str.strip()
        rows = rows[named.eq(str(unit)) | named.eq("")]
    rows = rows.astype({"org_code": "string", "node_id": "string"})
    return rows.drop_duplicates(["org_code", "node_id"]).reset_index(drop=True)


def cycles_by_idea(pdsa: pd.DataFrame | None, unit: str | None) -> dict[tuple, list[dict]]:
    """Each (org_code, change_idea_id)'s cycles, in the order they began."""
    if pdsa is None or len(pdsa) == 0 or "change_idea_id" not in pdsa.columns:
        return {}
    log = pdsa.reindex(
        columns=["org_code", "unit", "cycle_id", "change_idea_id", "start_date", "end_date",
                 "decision", "scale"]
    )  # fmt: skip
    log = log[log["change_idea_id"].notna() & log["change_idea_id"].astype(str).str.strip().ne("")]
    if unit is not None:
        log = log[log["unit"].astype("string").eq(str(unit)).fillna(False)]
    log = log.assign(start_date=pd.to_datetime(log["start_date"], errors="coerce"))
    out: dict[tuple, list[dict]] = {}
    for row in log.sort_values(["start_date", "cycle_id"]).to_dict("records"):
        row["word"] = decision_word(row["decision"], row["end_date"])
        out.setdefault((str(row["org_code"]), str(row["change_idea_id"])), []).append(row)
    return out


def forest(rows: pd.DataFrame, cycles: dict[tuple, list[dict]]) -> list[DriverNode]:
    """The diagram's trees (roots in file order); a box whose parent is absent is a root."""
    nodes = {
        (str(r.org_code), str(r.node_id)): DriverNode(
            (str(r.org_code), str(r.node_id)), r.level, "" if pd.isna(r.text) else str(r.text)
        )
        for r in rows.itertuples(index=False)
    }
    roots = []
    depth = {lv: i for i, lv in enumerate(DRIVER_LEVELS)}
    for r in rows.itertuples(index=False):
        node = nodes[(str(r.org_code), str(r.node_id))]
        node.cycles = cycles.get(node.key, []) if node.level == "change_idea" else []
        parent = nodes.get((str(r.org_code), str(r.parent_id))) if pd.notna(r.parent_id) else None
        if parent is not None and depth[parent.level] < depth[node.level]:
            parent.children.append(node)
        else:
            roots.append(node)
    return roots


def walk(nodes: list[DriverNode]) -> Iterator[DriverNode]:
    """Every box of the trees, each before its children."""
    for node in nodes:
        yield node
        yield from walk(node.children)


def chip_text(cycle: dict) -> str:
    """A cycle as its chip reads: ``ZA1-1 adapt``."""
    return f"{cycle['cycle_id']} {cycle['word']}"


def cycles_words(cycles: list[dict]) -> str:
    """``ZA1-1 adapt · ZA1-2 adapt``: a change idea's cycles and decisions, in order."""
    return " · ".join(chip_text(c) for c in cycles)


def _quoted(node: DriverNode) -> str:
    return f"“{node.text}”"


def _idea_words(node: DriverNode) -> str:
    head = f"change idea {node.key[1]} {_quoted(node)}"
    if not node.cycles:
        return head + " (not tested yet)"
    which = "cycle" if len(node.cycles) == 1 else "cycles"
    return f"{head} (PDSA {which} " + ", ".join(map(chip_text, node.cycles)) + ")"


def _node_words(node: DriverNode) -> str:
    """A box and everything under it, in words (a driver's children after a colon)."""
    if node.level == "change_idea":
        return _idea_words(node)
    head = f"{node.level} driver {_quoted(node)}"
    if not node.children:
        return head + " (no change ideas yet)"
    if node.level == "secondary":
        return head + " with " + " and ".join(_node_words(c) for c in node.children)
    return head + ": " + "; ".join(_node_words(c) for c in node.children)


def _sentence(words: str) -> str:
    return words[0].upper() + words[1:] + "."


def driver_alt_text(
    diagram: pd.DataFrame, pdsa: pd.DataFrame | None = None, *, unit: str | None = None
) -> str:
    """The driver diagram in words: the aim, each driver, each change idea and its cycles.

    "Driver diagram of Ash Ward. The aim is “…”. It has 2 primary drivers. Primary
    driver “…”: secondary driver “…” with change idea CI1 “…” (PDSA cycles ZA1-1
    adapt, ZA1-2 adapt); …"
    """
    rows = diagram_rows(diagram, unit)
    if rows.empty:
        return "No driver diagram has been recorded yet."
    parts = [f"Driver diagram{f' of {unit}' if unit is not None else ''}."]
    for root in forest(rows, cycles_by_idea(pdsa, unit)):
        if root.level != "aim":
            parts.append(_sentence(_node_words(root)))
            continue
        kids = root.children
        parts.append(f"The aim is {_quoted(root)}.")
        primaries = "primary " if all(k.level == "primary" for k in kids) else ""
        many = "driver" if len(kids) == 1 else "drivers"
        parts.append(f"It has {len(kids)} {primaries}{many}." if kids else "No drivers yet.")
        parts.extend(_sentence(_node_words(k)) for k in kids)
    return " ".join(parts)


def driver_table(
    diagram: pd.DataFrame, pdsa: pd.DataFrame | None = None, *, unit: str | None = None
) -> pd.DataFrame:
    """The tree as a tidy table for a printable page: one row per path to a leaf box.

    Columns: ``org_code``, ``aim``, ``primary_driver``, ``secondary_driver``,
    ``change_idea_id``, ``change_idea``, ``pdsa_cycles`` (:func:`cycles_words`);
    a level a path does not pass through is empty. Values are plain text: escape
    them where they are shown.
    """
    columns = ["org_code", "aim", "primary_driver", "secondary_driver", "change_idea_id",
               "change_idea", "pdsa_cycles"]  # fmt: skip
    rows = diagram_rows(diagram, unit)
    roots = forest(rows, cycles_by_idea(pdsa, unit))
    field_of = {"aim": "aim", "primary": "primary_driver", "secondary": "secondary_driver"}
    out = []

    def visit(node: DriverNode, path: dict) -> None:
        path = {**path}
        if node.level == "change_idea":
            path.update(
                change_idea_id=node.key[1],
                change_idea=node.text,
                pdsa_cycles=cycles_words(node.cycles),
            )
        else:
            path[field_of[node.level]] = node.text
        if not node.children:
            out.append({"org_code": node.key[0], **path})
        for child in node.children:
            visit(child, path)

    for root in roots:
        visit(root, {})
    return pd.DataFrame(out, columns=columns).fillna("")
