"""The driver diagram figure: every box once, every line from a child to its parent, boxes
of a column never overlapping, long texts wrapped inside their boxes, labels escaped, and
alt text naming each change idea and its cycles."""

from __future__ import annotations

import re
import warnings

import pandas as pd
import pytest
from conftest import SAMPLE_DIR

from pxlib.data import load_data_dir
from pxlib.spc.theme import LINE_HEIGHT, text_width_px
from pxlib.workbook import drivers

COLUMNS = ["org_code", "unit", "node_id", "level", "parent_id", "text"]
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
PAIR = re.compile(r"(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)")


@pytest.fixture(scope="module")
def sample():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_data_dir(SAMPLE_DIR, "ZA1",
                             as_of="2026-12-01")  # fmt: skip


def big_diagram() -> pd.DataFrame:
    """An aim, 3 primaries, 6 secondaries, 12 change ideas and one idea under a primary."""
    rows = [("Z", "", "A", "aim", "", "By March 2027, 95% of people leaving the clinic say "
             "they knew who to call, and carers say they were included " * 2)]  # fmt: skip
    for p in range(1, 4):
        rows.append(("Z", "", f"P{p}", "primary", "A", "staff have the time and skills " * p))
        for s in range(1, 3):
            rows.append(("Z", "", f"S{p}{s}", "secondary", f"P{p}", f"secondary {p}.{s}"))
            for c in range(1, 3):
                text = "a change idea long enough to wrap over lines " * c
                rows.append(("Z", "", f"C{p}{s}{c}", "change_idea", f"S{p}{s}", text))
    rows.append(("Z", "", "CX", "change_idea", "P3", "directly under a primary driver"))
    return pd.DataFrame(rows, columns=COLUMNS)


def big_pdsa() -> pd.DataFrame:
    return pd.DataFrame({
        "org_code": "Z", "unit": "U", "cycle_id": [f"Z-{i}" for i in range(1, 8)],
        "change_idea_id": ["C111"] * 5 + ["CX", "C212"],
        "start_date": pd.date_range("2026-01-01", periods=7, freq="14D"),
        "end_date": [*pd.date_range("2026-01-10", periods=6, freq="14D"), pd.NaT],
        "decision": ["adapt"] * 4 + ["adopt", None, None],
    })  # fmt: skip


def named(fig, prefix: str, kind: str = "shapes") -> dict[str, object]:
    items = fig.layout.shapes if kind == "shapes" else fig.layout.annotations
    return {i.name[len(prefix) :]: i for i in items if i.name and i.name.startswith(prefix)}


def extent(shape) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) of a box drawn as a path."""
    pairs = [tuple(map(float, p)) for p in PAIR.findall(shape.path)]  # corners are Q controls
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    return min(xs), max(xs), min(ys), max(ys)


def check_structure(fig, diagram: pd.DataFrame) -> dict[str, tuple]:
    boxes = named(fig, "box ")
    assert sorted(boxes) == sorted(diagram["node_id"])  # every box once
    assert len([s for s in fig.layout.shapes if s.name.startswith("box ")]) == len(diagram)
    box = {k: extent(v) for k, v in boxes.items()}
    links = named(fig, "link ")
    children = diagram[diagram["parent_id"].astype(str).str.len() > 0]
    assert sorted(links) == sorted(
        f"{p} -> {c}" for p, c in zip(children["parent_id"], children["node_id"], strict=True)
    )
    for name, line in links.items():
        parent, child = name.split(" -> ")
        x0, y0, xm, y_child, x1 = map(float, NUMBER.findall(line.path))
        px0, px1, py0, py1 = box[parent]
        cx0, cx1, cy0, cy1 = box[child]
        assert x0 == pytest.approx(px1) and py0 < y0 < py1  # from the parent's right edge
        assert x1 == pytest.approx(cx0) and cy0 < y_child < cy1  # to the child's left edge
        assert px1 < xm < cx0
    order = {lv: i for i, lv in enumerate(drivers.DRIVER_LEVELS)}
    level = dict(zip(diagram["node_id"], diagram["level"], strict=True))
    for name in links:
        parent, child = name.split(" -> ")
        assert order[level[parent]] < order[level[child]]
    for lv in set(level.values()):  # boxes of a column do not overlap, in file order
        col = [box[n] for n in diagram["node_id"] if level[n] == lv]
        assert len({(b[0], b[1]) for b in col}) == 1
        tops = sorted(col, key=lambda b: b[2])
        assert all(a[3] < b[2] for a, b in zip(tops, tops[1:], strict=False))
    lefts = {lv: box[n][0] for n, lv in level.items()}
    assert sorted(lefts, key=lefts.get) == sorted(lefts, key=order.get)  # left to right
    return box


def test_the_sample_diagram_has_every_box_once_and_every_line_to_its_parent(sample):
    diagram = sample.driver_diagram
    fig = drivers.driver_figure(diagram, sample.pdsa_log, unit="Ash Ward")
    box = check_structure(fig, diagram)
    # a box sits between its first and last child
    assert box["S1"][2] < (box["P1"][2] + box["P1"][3]) / 2 < box["S2"][3]
    chips = named(fig, "cycle ", "annotations")
    assert sorted(chips) == ["ZA1-1 of CI1", "ZA1-2 of CI1", "ZA1-3 of CI2"]
    assert chips["ZA1-1 of CI1"].text == "ZA1-1 adapt"
    assert chips["ZA1-3 of CI2"].bordercolor == drivers.DECISION_COLOURS["adopt"]
    assert named(fig, "cycles ", "annotations")["CI3"].text == "<i>not tested yet</i>"
    heads = [a.text for a in named(fig, "heading ", "annotations").values()]
    assert heads == ["<b>Aim</b>", "<b>Primary drivers</b>", "<b>Secondary drivers</b>",
                     "<b>Change ideas</b>", "<b>PDSA cycles</b>"]  # fmt: skip


@pytest.mark.parametrize("width", [900, 1280])
def test_a_dozen_change_ideas_with_long_texts_fit_without_overlaps(width):
    diagram, pdsa = big_diagram(), big_pdsa()
    fig = drivers.driver_figure(diagram, pdsa, width=width)
    box = check_structure(fig, diagram)
    texts = named(fig, "text ", "annotations")
    for node, (x0, x1, y0, y1) in box.items():
        lines = texts[node].text.split("<br>")
        assert max(text_width_px(line, 12, bold=True) for line in lines) <= x1 - x0 - 8
        assert len(lines) * 12 * LINE_HEIGHT <= y1 - y0
    assert len(texts["A"].text.split("<br>")) > 3  # the long aim wraps
    assert box["CX"][0] == box["C111"][0]  # an idea under a primary: the change-idea column
    # chips stay in their change idea's band, clear of the next idea's
    chips = named(fig, "cycle ", "annotations")
    last = max(a.y for k, a in chips.items() if k.endswith("of C111"))
    assert last + 20 < box["C112"][2]
    assert chips["Z-6 of CX"].text == "Z-6 no decision"
    assert chips["Z-7 of C212"].text == "Z-7 under way"
    assert fig.layout.height > box["CX"][3]
    assert fig.layout.yaxis.range[0] >= max(b[3] for b in box.values())


def test_every_label_is_escaped():
    diagram = pd.DataFrame(
        [("Z", "<b>U</b>", "A", "aim", "", "<script>alert(1)</script> aim"),
         ("Z", "<b>U</b>", "<i>", "primary", "A", 'a "driver" & more'),
         ("Z", "<b>U</b>", "C1", "change_idea", "<i>", "idea <img src=x onerror=alert(1)>")],
        columns=COLUMNS,
    )  # fmt: skip
    pdsa = pd.DataFrame({"org_code": ["Z"], "unit": ["<b>U</b>"], "cycle_id": ["<s>1"],
                         "change_idea_id": ["C1"], "start_date": ["2026-01-01"],
                         "end_date": ["2026-01-09"], "decision": ["adopt"],
                         "scale": ["<u>ward</u>"]})  # fmt: skip
    fig = drivers.driver_figure(diagram, pdsa, unit="<b>U</b>")
    texts = [a.text for a in fig.layout.annotations] + [fig.layout.title.text]
    texts += [a.hovertext for a in fig.layout.annotations if a.hovertext]
    texts += list(fig.data[0].hovertext)
    joined = " ".join(texts)
    assert "&lt;script&gt;" in joined and "&lt;img" in joined and "&lt;s&gt;1 adopt" in joined
    assert "&lt;u&gt;ward" in joined and "&lt;b&gt;U&lt;/b&gt;" in fig.layout.title.text
    for tag in ("<script", "<img", "<s>", "<u>", "<b>U", "<i>"):
        assert tag not in joined
    assert "&#34;driver&#34; &amp; more" in joined


def test_alt_text_names_the_aim_drivers_each_change_idea_and_its_cycles(sample):
    diagram = sample.driver_diagram
    text = drivers.driver_alt_text(diagram, sample.pdsa_log, unit="Ash Ward")
    for words in diagram["text"]:
        assert f"“{words}”" in text
    assert "change idea CI1 “Teach-back: the patient tells the plan back” (PDSA cycles ZA1-1 " \
           "adapt, ZA1-2 adapt)" in text  # fmt: skip
    assert "(PDSA cycle ZA1-3 adopt)" in text
    assert text.count("(not tested yet)") == 2  # CI3 and CI4
    assert "It has 2 primary drivers." in text
    assert drivers.driver_alt_text(diagram.iloc[:0], None).startswith("No driver diagram")


def test_the_table_has_one_row_per_path_to_a_leaf(sample):
    table = drivers.driver_table(sample.driver_diagram, sample.pdsa_log, unit="Ash Ward")
    assert list(table["change_idea_id"]) == ["CI1", "CI2", "CI3", "CI4"]
    assert table.loc[0, "pdsa_cycles"] == "ZA1-1 adapt · ZA1-2 adapt"
    assert table.loc[3, "secondary_driver"] == "" and table.loc[3, "pdsa_cycles"] == ""
    assert table["aim"].str.startswith("By 31 March 2027").all()
    assert set(table.loc[:1, "primary_driver"]) == {
        "Every patient hears the plan in words they understand"
    }


def test_the_unit_filter_keeps_the_units_and_the_organisations_boxes():
    diagram = pd.DataFrame(
        [("Z", "", "A", "aim", "", "aim"), ("Z", "U1", "P1", "primary", "A", "one"),
         ("Z", "U2", "P2", "primary", "A", "two")],
        columns=COLUMNS,
    )  # fmt: skip
    fig = drivers.driver_figure(diagram, unit="U1")
    assert sorted(named(fig, "box ")) == ["A", "P1"]
    assert "heading cycles" not in {a.name for a in fig.layout.annotations}  # no log given
    empty = drivers.driver_figure(diagram.iloc[:0])
    assert "No driver diagram yet" in empty.layout.annotations[0].text


def test_decision_words():
    assert drivers.decision_word(" Adopt ") == "adopt"
    assert drivers.decision_word(None, pd.Timestamp("2026-01-01")) == "no decision"
    assert drivers.decision_word("", pd.NaT) == "under way"
    assert set(drivers.DECISION_COLOURS) == {"adopt", "adapt", "abandon", "under way",
                                             "no decision"}  # fmt: skip


def test_chips_whose_ids_look_like_tags_stay_inside_the_figure():
    """A cycle id with "<" is drawn as text (escaped), so it is measured as drawn: chips
    wrap onto new rows instead of running past the figure's right edge."""
    diagram, pdsa = big_diagram(), big_pdsa()
    pdsa["cycle_id"] = [f"Z-{i}<svg onload=alert('svg')>" for i in range(1, 8)]
    fig = drivers.driver_figure(diagram, pdsa)
    right = fig.layout.xaxis.range[1]
    chips = named(fig, "cycle ", "annotations")
    assert len(chips) == 7
    for chip in chips.values():
        drawn = text_width_px(chip.text, chip.font.size) + 2 * (chip.borderpad + chip.borderwidth)
        assert chip.x + drawn <= right, chip.text


def test_the_default_width_fits_a_report_column():
    from pxlib.report.export import REPORT_CSS

    column = int(re.search(r"main\.pxlib-report\{max-width:(\d+)px", REPORT_CSS).group(1))
    assert drivers.driver_figure(big_diagram(), big_pdsa()).layout.width <= column
