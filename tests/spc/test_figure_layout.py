"""The layout of figures as a reader sees them: nothing overprints, nothing is cut.

Each test draws a figure from the real engine and measures it from the figure
object alone, with its own estimate of text size (Arial: a character is about
0.55 of the font size wide, lines 1.3 font sizes apart) and of where plotly puts
things (an autoranged x axis spans every x drawn on it, shapes included; a
panel's plotting area is its axis domains times the figure less its margins).
"""

from __future__ import annotations

import html
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from pxlib.errors import ChartWarning
from pxlib.spc import chart, funnel

CHAR_EM = 0.55  # an Arial character of ids and dates (measured in Chromium: 0.49 to 0.55)
WORDS_EM = 0.5  # of words and titles (measured: 0.45 to 0.49)
LINE = 1.3  # plotly's line spacing in multi-line labels
TICK_FONT = 13  # the template's font, which tick labels use
FLOAT_REPR = re.compile(r"\d\.\d{4,}")


# --- measuring a figure ------------------------------------------------------------


def plain(text: str | None) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", text or ""))


def lines_of(text: str | None) -> list[str]:
    return re.split(r"<br\s*/?>", text or "")


def text_px(text: str | None, size: float, em: float = CHAR_EM) -> float:
    return max(len(plain(line)) for line in lines_of(text)) * em * size


def plot_px(fig) -> tuple[float, float]:
    lay = fig.layout
    width = lay.width or 700
    height = lay.height or 450
    return width - lay.margin.l - lay.margin.r, height - lay.margin.t - lay.margin.b


def as_number(value) -> float:
    if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}", value):
        return pd.Timestamp(value).value / 1e6
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).value / 1e6
    return float(value)


def x_range(fig) -> tuple[float, float]:
    """The autoranged (shared) x axis: every x of the traces and shapes."""
    values = [as_number(v) for t in fig.data for v in (t.x or ()) if v is not None]
    values += [as_number(s.x0) for s in fig.layout.shapes if s.x0 is not None]
    return min(values), max(values)


def x_px(fig, value, axis_width_px: float) -> float:
    lo, hi = x_range(fig)
    return (as_number(value) - lo) / (hi - lo) * axis_width_px


def overlaps(a, b) -> bool:
    """Boxes (left, bottom, right, top) in pixels."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def assert_apart(boxes: dict[str, tuple]) -> None:
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not overlaps(boxes[a], boxes[b]), f"labels {a!r} and {b!r} overlap"


def figure_texts(fig) -> list[str]:
    """Every piece of text a reader sees or hovers, except hover templates."""
    out = [fig.layout.title.text or "", fig.layout.title.subtitle.text or ""]
    for t in fig.data:
        out.append(t.name or "")
        out += [str(v) for v in (t.text if isinstance(t.text, tuple) else [t.text or ""])]
    for a in fig.layout.annotations:
        out += [a.text or "", a.hovertext or ""]
    return out


# --- data ------------------------------------------------------------------------------


def weekly(units: list[str], weeks: int = 52, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for i, unit in enumerate(units):
        n = rng.integers(15, 30, weeks)
        frames.append(
            pd.DataFrame(
                {
                    "unit": unit,
                    "week": pd.date_range("2024-01-01", periods=weeks, freq="W-MON"),
                    "n": n,
                    "yes": rng.binomial(n, 0.7 + 0.02 * i),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def p_chart(data: pd.DataFrame, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChartWarning)  # short phases: trial limits
        return chart(data, "week", "yes", "n", kind="p", improvement="increase", **kw)


def pdsa_log(unit: str, starts, ids=None) -> pd.DataFrame:
    starts = pd.to_datetime(list(starts))
    return pd.DataFrame(
        {
            "unit": unit,
            "cycle_id": ids or [f"ZA1-{i + 1}" for i in range(len(starts))],
            "start_date": starts,
            "end_date": starts + pd.Timedelta(days=6),
            "change_idea": [f"Change idea {i + 1}" for i in range(len(starts))],
            "decision": "adapt",
        }
    )


# --- small multiples: titles clear of the row above's tick labels ----------------------------


def panels(fig) -> list[dict]:
    """Each panel: its x and y axis, its title annotation and its icon image."""
    lay = fig.layout
    out = []
    titles = [a for a in lay.annotations if a.xref == "paper" and (a.text or "").startswith("<b>")]
    names = [k for k in lay.to_plotly_json() if k.startswith("yaxis")]
    for name in sorted(names, key=lambda k: int(k[5:] or 1)):
        ya = lay[name]
        xa = lay["xaxis" + name[5:]]
        (title,) = [
            a for a in titles if math.isclose(a.x, xa.domain[0]) and math.isclose(a.y, ya.domain[1])
        ]
        images = [
            im for im in lay.images if math.isclose(im.x, xa.domain[0]) and im.y >= ya.domain[1]
        ]
        out.append({"x": xa, "y": ya, "title": title, "images": images})
    return out


def tick_labels_px(xaxis, widest_label: str) -> float:
    """Height of the ticks and tick labels under a panel: plotly turns crowded labels
    by 30 degrees when the figure leaves the angle to it."""
    angle = 30.0 if xaxis.tickangle in (None, "auto") else abs(float(xaxis.tickangle))
    w = text_px(widest_label, TICK_FONT)
    h = TICK_FONT * 1.2
    a = math.radians(angle)
    return 5 + 3 + w * math.sin(a) + h * math.cos(a)


def header_px(panel: dict, plot_h: float) -> float:
    """Height above a panel's plotting area that its title and icons take."""
    title = panel["title"]
    top = (title.yshift or 0) + len(lines_of(title.text)) * title.font.size * LINE
    if panel["images"]:  # the panel's own icons: the nearest above it
        im = min(panel["images"], key=lambda im: im.y)
        top = max(top, (im.y - panel["y"].domain[1] + im.sizey) * plot_h)
    return top


@pytest.mark.parametrize(
    ("count", "size"),
    [(6, {}), (9, {}), (12, {"cols": 6, "width": 900}), (6, {"height": 420})],
    ids=["6 panels", "9 panels", "12 narrow panels", "6 panels in a set height"],
)
def test_panel_titles_clear_the_tick_labels_of_the_row_above(count, size):
    units = [
        f"Ward {i + 1}" + (" Respiratory and Elderly Care" if i % 3 == 0 else "")
        for i in range(count)
    ]
    fig = p_chart(weekly(units), by="unit", target=0.9).figure(**size)
    _, plot_h = plot_px(fig)
    found = panels(fig)
    assert len(found) == count
    per_row = size.get("cols", 4)
    rows = [found[r : r + per_row] for r in range(0, count, per_row)]
    assert len(rows) >= 2
    for upper, lower in zip(rows, rows[1:], strict=False):
        gap = (upper[0]["y"].domain[0] - lower[0]["y"].domain[1]) * plot_h
        below = max(tick_labels_px(p["x"], "Sep 2024") for p in upper)  # weekly over a year
        above = max(header_px(p, plot_h) for p in lower)
        assert gap >= below + above, (gap, below, above)


def test_long_panel_and_figure_titles_wrap_at_words_and_are_never_cut():
    long_unit = "Ward 7 & <Respiratory> and Elderly Care Assessment Unit"
    title = (
        "Did a member of staff explain what would happen next, in a way you could "
        "understand, before you left the ward today?"
    )
    fig = p_chart(weekly([long_unit, "Ash", "Birch", "Cedar"]), by="unit").figure(title=title)
    plot_w, _ = plot_px(fig)
    lay = fig.layout
    # the figure title: every line within the figure, every word kept, escaped as data
    assert len(lines_of(lay.title.text)) > 1
    room = lay.width - lay.margin.l
    assert all(text_px(line, 17, WORDS_EM) <= room for line in lines_of(lay.title.text))
    assert " ".join(plain(line) for line in lines_of(lay.title.text)) == title
    # each panel title within its panel, beside its icons
    for panel in panels(fig):
        width_px = (panel["x"].domain[1] - panel["x"].domain[0]) * plot_w
        text = panel["title"].text
        room = width_px - (panel["title"].xshift or 0)
        assert all(text_px(line, 13, WORDS_EM) <= room for line in lines_of(text)), text
    (mine,) = [p for p in panels(fig) if "Respiratory" in p["title"].text]
    name = mine["title"].text.split("</b>")[0].removeprefix("<b>")
    assert len(lines_of(name)) > 1
    assert " ".join(plain(line) for line in lines_of(name)) == long_unit
    assert "&lt;Respiratory&gt;" in name and "&amp;" in name  # still escaped


# --- PDSA cycles and phases: labels that do not run together ---------------------------------


def pdsa_notes(fig) -> list:
    return [a for a in fig.layout.annotations if a.hovertext and a.y == 0 and "domain" in a.yref]


def label_boxes(fig, notes, axis_width_px: float, size: float) -> dict[str, tuple]:
    """Boxes of the labels shown (not those on hover only): centred over their x,
    ``ay`` pixels above the x axis."""
    boxes = {}
    for a in notes:
        if not plain(a.text).strip():
            continue
        cx = x_px(fig, a.x, axis_width_px) + (a.ax or 0)
        cy = -(a.ay or 0)
        w, h = text_px(a.text, size) + 4, size * LINE
        boxes[plain(a.text)] = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    return boxes


def test_pdsa_labels_of_cycles_a_week_apart_do_not_overlap():
    data = weekly(["Ash"], weeks=40)
    starts = pd.date_range("2024-04-01", periods=6, freq="7D")  # 6 cycles within 6 weeks
    fig = p_chart(data, target=0.9).figure(annotations=pdsa_log("Ash", starts))
    plot_w, _ = plot_px(fig)
    notes = pdsa_notes(fig)
    ids = [f"ZA1-{i}" for i in range(1, 7)]
    # every cycle keeps its line and its arrow, and says which cycle it is on hover
    assert sorted(plain(a.hovertext).split(" (")[0] for a in notes) == ids
    lines = {s.x0 for s in fig.layout.shapes if s.line.dash == "dot" and s.x0 == s.x1}
    assert {pd.Timestamp(v).strftime("%Y-%m-%d") for v in starts} <= lines
    boxes = label_boxes(fig, notes, plot_w, notes[0].font.size)
    assert boxes, "no cycle is labelled"
    assert_apart(boxes)


def test_crowded_pdsa_labels_in_a_narrow_panel_stack_at_most_three_high():
    data = weekly(["Ash", "Birch", "Cedar", "Damson", "Elm", "Fir"])
    starts = pd.date_range("2024-03-04", periods=6, freq="9D")  # 6 cycles within 8 weeks
    fig = p_chart(data, by="unit").figure(annotations=pdsa_log("Ash", starts), order="data")
    plot_w, _ = plot_px(fig)
    notes = pdsa_notes(fig)
    assert len(notes) == 6
    panel_w = (fig.layout.xaxis.domain[1] - fig.layout.xaxis.domain[0]) * plot_w
    shown = [a for a in notes if plain(a.text).strip()]
    assert len({a.ay for a in shown}) <= 3
    assert_apart(label_boxes(fig, notes, panel_w, notes[0].font.size))
    for a in notes:  # shown or on hover only, each names its cycle on hover
        assert re.match(r"<b>ZA1-\d</b>", a.hovertext)


def test_phase_labels_a_week_apart_do_not_run_together():
    data = weekly(["Ash"], weeks=40)
    weeks = sorted(data["week"].unique())
    fig = p_chart(data, phases=[weeks[12], weeks[13], weeks[14]]).figure()
    plot_w, _ = plot_px(fig)
    notes = [a for a in fig.layout.annotations if a.y == 1 and a.yref == "y domain"]
    assert len(notes) == 4
    boxes = {}
    for a in notes:
        if not plain(a.text).strip():
            assert plain(a.hovertext).startswith("Phase")  # on hover only
            continue
        left = x_px(fig, a.x, plot_w)
        bottom = a.yshift or 0
        boxes[plain(a.text)] = (
            left,
            bottom,
            left + text_px(a.text, a.font.size),
            bottom + a.font.size * LINE,
        )
    assert "Phase 1" in boxes and len(boxes) >= 3
    assert_apart(boxes)


# --- funnel: every point named, outliers labelled apart ----------------------------------------


def funnel_result():
    n = np.array([40, 60, 90, 120, 150, 200, 210, 300, 400, 500.0])
    yes = np.round(n * 0.8)
    yes[5] = 194  # 97 %: above the upper limit
    yes[6] = 202  # 96 %: above it too, at nearly the same n
    yes[8] = 272  # 68 %: below the lower limit
    table = pd.DataFrame({"ward": [f"Ward {c}" for c in "ABCDEFGHIJ"], "yes": yes, "n": n})
    return funnel(table, "ward", "yes", "n", kind="p")


def test_funnel_names_every_point_and_labels_the_outliers_apart():
    r = funnel_result()
    outliers = set(r.points.loc[r.points["signal"], "ward"])
    assert outliers == {"Ward F", "Ward G", "Ward I"}
    fig = r.figure(improvement="increase")
    plot_w, plot_h = plot_px(fig)
    # hover: each point's unit name
    named = {}
    for t in fig.data:
        if "markers" in (t.mode or "") and t.x is not None and len(t.x) and t.x[0] is not None:
            assert "%{text}" in t.hovertemplate
            named.update(dict(zip(t.text, zip(t.x, t.y, strict=True), strict=True)))
    assert set(named) == set(r.points["ward"])
    # outliers: a label with the name beside each, in pixels apart from one another
    xs = np.concatenate([np.asarray(t.x, dtype=float) for t in fig.data])
    ys = np.concatenate([np.asarray(t.y, dtype=float) for t in fig.data])
    log_x = fig.layout.xaxis.type == "log"
    xs, ys = (np.log10(xs) if log_x else xs), ys
    x_lo, x_hi, y_lo, y_hi = np.nanmin(xs), np.nanmax(xs), np.nanmin(ys), np.nanmax(ys)

    def px(x, y):
        x = math.log10(x) if log_x else x
        return (x - x_lo) / (x_hi - x_lo) * plot_w, (y - y_lo) / (y_hi - y_lo) * plot_h

    boxes = {}
    for t in fig.data:  # labels drawn as the points' text
        if "text" in (t.mode or ""):
            for name, x, y in zip(t.text, t.x, t.y, strict=True):
                cx, cy = px(x, y)
                h = (t.textfont.size or 12) * LINE
                w = text_px(name, t.textfont.size or 12)
                cy += (h / 2 + 5) * (1 if "top" in t.textposition else -1)
                boxes[plain(name)] = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    for a in fig.layout.annotations:  # labels drawn as annotations
        if plain(a.text) in named:
            x, y = named[plain(a.text)]
            cx, cy = px(x, y)
            cx, cy = cx + (a.ax or 0), cy - (a.ay or 0)
            w, h = text_px(a.text, a.font.size), a.font.size * LINE
            boxes[plain(a.text)] = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    assert set(boxes) == outliers
    assert_apart(boxes)


# --- numbers in figure text ---------------------------------------------------------------------


def test_targets_read_alike_in_the_charts_own_format():
    data = weekly(["Ash"], weeks=30)
    data["score"] = data["yes"] / data["n"] * 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChartWarning)
        pct = chart(data, "week", "yes", "n", kind="p", multiply=100, target=95)
        run = chart(data, "week", "score", kind="run", target=95.0)
    cases = [
        ("Target (95%)", p_chart(data, target=0.95).figure()),  # a proportion
        ("Target (95%)", p_chart(data, target=0.1 * 9.5).figure()),  # 0.9500000000000001
        ("Target (95%)", pct.figure()),  # a percentage
        ("Target (97.5%)", p_chart(data, target=0.975).figure()),
        ("Target (95)", run.figure()),  # a score, not in percent
    ]
    for expected, fig in cases:
        names = [t.name for t in fig.data if (t.name or "").startswith("Target")]
        assert names == [expected], (expected, names)
    table = p_chart(data, target=0.95).summary_table().data
    assert table["Target"].tolist() == ["95%"]


def test_no_float_noise_in_figure_text():
    # x in years since the start (a week is 1/52), cycles and a phase at such x
    data = weekly(["Ash"], weeks=30).assign(t=lambda d: np.arange(len(d)) / 52)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChartWarning)
        r = chart(data, "t", "yes", "n", kind="p", target=0.1 * 9.5, phases=[10 / 52])
    log = pd.DataFrame(
        {
            "start_date": [10 / 52, 20 / 52],
            "end_date": [11 / 52, 21 / 52],
            "change_idea": ["Teach-back", "Prompt card"],
            "cycle_id": [1.0, 2.0],  # read from a spreadsheet as numbers
        }
    )
    fig = r.figure(annotations=log)
    bad = [t for t in figure_texts(fig) if FLOAT_REPR.search(t)]
    assert not bad, bad
    marks = [a for a in fig.layout.annotations if a.hovertext and a.y == 0]
    assert sorted(plain(a.text) for a in marks) == ["1", "2"]
