"""pxlib.data.normalise.strip_cells: the same cells as Python's str.strip, on both of its paths."""

import pandas as pd
import pytest

from pxlib.data.normalise import strip_cells

#: whitespace str.strip removes (ASCII, no-break, em and ideographic spaces, a unit separator)
#: around codes, beside a NUL and an empty cell, which it must leave alone
CELLS = ["ZA1", " ZA1", "ZA1\t", "\u00a0Ash Ward\u2003", " \u3000", "", "\x1f7\n", "x\x00 ", "é "]


@pytest.mark.parametrize("repeats", [1, 400])  # 9 cells: cell by cell; 3,600 cells: by value
def test_strip_cells_strips_as_str_strip(repeats):
    values = pd.Series(CELLS * repeats, index=range(100, 100 + 9 * repeats), name="org_code")
    out = strip_cells(values)
    assert out.tolist() == [cell.strip() for cell in CELLS * repeats]
    assert out.index.equals(values.index) and out.name == "org_code"


def test_strip_cells_reads_other_values_as_their_text():
    values = pd.Series([5, 2.5, " 7 "] * 1000)
    assert strip_cells(values).tolist() == ["5", "2.5", "7"] * 1000
