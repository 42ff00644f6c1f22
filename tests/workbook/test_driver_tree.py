"""The driver diagram's tree, built from hand-written rows: parents before or after their
children, a box whose parent is missing (or sits at a deeper level) is a root, other
units' boxes are left out, and each change idea carries its own unit's cycles in the
order they began."""

from __future__ import annotations

import pandas as pd

from pxlib.workbook import driver_tree

COLUMNS = ["org_code", "unit", "node_id", "level", "parent_id", "text"]


def rows() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("Z", "", "C1", "change_idea", "S1", "ask at discharge"),  # before its parent
            ("Z", "", "A", "aim", "", "everyone knows who to call"),
            ("Z", "", "P1", "primary", "A", "staff explain"),
            ("Z", "", "S1", "secondary", "P1", "a script"),
            ("Z", "", "P2", "primary", "GONE", "a parent not in the file"),
            ("Z", "", "S2", "secondary", "C1", "under a deeper level"),
            ("Z", "Other ward", "P9", "primary", "A", "another unit's box"),
        ],
        columns=COLUMNS,
    )


def pdsa() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "org_code": "Z",
            "unit": ["U", "U", "Other ward"],
            "cycle_id": ["Z-2", "Z-1", "Z-9"],
            "change_idea_id": "C1",
            "start_date": ["2026-03-01", "2026-01-01", "2026-02-01"],
            "end_date": ["2026-03-20", "2026-01-20", None],
            "decision": [None, "Adapt", None],
        }
    )


def test_forest_roots_children_and_cycles():
    table = driver_tree.diagram_rows(rows(), "U")
    assert "P9" not in set(table["node_id"])
    roots = driver_tree.forest(table, driver_tree.cycles_by_idea(pdsa(), "U"))
    assert [r.key[1] for r in roots] == ["A", "P2", "S2"]
    aim = roots[0]
    assert [n.key[1] for n in driver_tree.walk([aim])] == ["A", "P1", "S1", "C1"]
    idea = aim.children[0].children[0].children[0]
    assert [(c["cycle_id"], c["word"]) for c in idea.cycles] == [
        ("Z-1", "adapt"),
        ("Z-2", "no decision"),
    ]
    assert driver_tree.cycles_words(idea.cycles) == "Z-1 adapt · Z-2 no decision"
