"""Making Data Count variation and assurance icons, drawn here as small SVG.

NHS England's *Making Data Count* (MDC) summarises a chart with two icons:

- **variation**: what the latest point says about the process. Common cause (grey,
  no letter); special cause of improvement (blue) or concern (orange), marked
  ``H`` when the values are higher and ``L`` when lower; a neutral special cause
  (purple) when no direction of improvement is set.
- **assurance**: whether the process limits say the target will be met. ``P``
  (blue): the target lies outside the limits on the side of failure, so every
  point will pass; ``F`` (orange): the target lies outside the limits on the side
  of success, so every point will fail; ``?`` (grey): the target lies between the
  limits, so the process will sometimes meet it and sometimes not.

The colours and words are MDC's, defined in :mod:`pxlib.spc.vocabulary` (re-exported
here under their old names); the drawings are pxlib's own.
Every icon carries a letter or a shape as well as a colour (colour is never the
only signal) and a ``<title>`` with its meaning in plain words for screen readers.
"""

from __future__ import annotations

import base64
from typing import Any

import pandas as pd

from pxlib.escape import html_text as escape
from pxlib.spc.vocabulary import (
    ASSURANCE_TYPES,
    DIRECTIONS,
    POINT_COLOURS,
    POINT_TYPES,
    assurance_colour,
    assurance_label,
    assurance_words,
    variation_colour,
    variation_label,
    variation_side,
    variation_words,
)
from pxlib.spc.vocabulary import COMMON_COLOUR as COMMON
from pxlib.spc.vocabulary import CONCERN_COLOUR as CONCERN
from pxlib.spc.vocabulary import IMPROVEMENT_COLOUR as IMPROVEMENT
from pxlib.spc.vocabulary import NEUTRAL_COLOUR as NEUTRAL
from pxlib.spc.vocabulary import TARGET_COLOUR as TARGET
from pxlib.spc.vocabulary import check_direction as _check_direction  # noqa: F401 (old name)

_POINT_COLOURS = POINT_COLOURS

# mini-chart drawn inside the variation icon: 7 points, x from 9 to 31
_XS = (9, 12.7, 16.3, 20, 23.7, 27.3, 31)
_FLAT = (25, 22, 26, 23, 25, 22, 24)
_HIGH = (27, 28, 26, 23, 21, 19, 17)
_LOW = (17, 16, 18, 21, 23, 25, 27)


def _is_missing(value: Any) -> bool:  # Any: pandas-stubs type pd.isna for known types only
    """None, NaN/NA or the empty string: no type, so no icon."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value)) or value == ""
    except (TypeError, ValueError):
        return False


def _dots(ys: tuple[float, ...], colours: list[str]) -> str:
    line = " ".join(f"{x:g},{y:g}" for x, y in zip(_XS, ys, strict=True))
    out = [f'<polyline points="{line}" fill="none" stroke="{COMMON}" stroke-width="1"/>']
    out += [
        f'<circle cx="{x:g}" cy="{y:g}" r="2.2" fill="{c}"/>'
        for x, y, c in zip(_XS, ys, colours, strict=True)
    ]
    return "".join(out)


def _letter(text: str, colour: str, y: float = 14, size: int = 11) -> str:
    return (
        f'<text x="20" y="{y:g}" font-family="Arial,Helvetica,sans-serif" font-size="{size}" '
        f'font-weight="bold" text-anchor="middle" fill="{colour}">{escape(text)}</text>'
    )


def _variation_body(point_type: str, improvement: str) -> tuple[str, str]:
    side = variation_side(point_type, improvement)
    colour = variation_colour(point_type)
    if side is None:
        body = _dots(_FLAT, [COMMON] * 7)
    else:
        ys = _HIGH if side == "high" else _LOW
        body = _dots(ys, [COMMON] * 3 + [colour] * 4) + _letter(
            "H" if side == "high" else "L", colour
        )
    return colour, body


def _assurance_body(assurance_type: str) -> tuple[str, str]:
    colour = assurance_colour(assurance_type)
    if assurance_type == "consistent_pass":
        ys, line_y, letter = (20, 17, 21, 18, 20, 17, 19), 28, "P"
    elif assurance_type == "consistent_fail":
        ys, line_y, letter = (29, 26, 30, 27, 29, 26, 28), 20, "F"
    else:
        ys, line_y, letter = (19, 29, 21, 28, 18, 27, 22), 24, "?"
    target = (
        f'<line x1="7" y1="{line_y}" x2="33" y2="{line_y}" stroke="{colour}" '
        'stroke-width="1.8" stroke-dasharray="3 1.5"/>'
    )
    return colour, target + _dots(ys, [COMMON] * 7) + _letter(letter, colour)


def _frame(colour: str, body: str, dx: float = 0) -> str:
    ring = f'<circle cx="20" cy="20" r="17.5" fill="#fff" stroke="{colour}" stroke-width="2.5"/>'
    if dx:
        return f'<g transform="translate({dx:g} 0)">{ring}{body}</g>'
    return ring + body


def _svg(inner: str, label: str, size: int, width_units: int = 40) -> str:
    width = round(size * width_units / 40)
    text = escape(label)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width_units} 40" '
        f'width="{width}" height="{size}" role="img" aria-label="{text}">'
        f"<title>{text}</title>{inner}</svg>"
    )


def variation_icon_svg(
    point_type_or_variation_type: str, improvement: str = "neutral", *, size: int = 40
) -> str:
    """A standalone SVG image of the MDC variation icon.

    ``point_type_or_variation_type`` is a ``point_type`` of ``SPCResult.points``
    or a ``variation_type`` of ``SPCResult.summary``; ``improvement`` the chart's
    direction (it decides whether an improvement is high ``H`` or low ``L``).
    An empty or missing type gives an empty string (no icon).
    """
    if _is_missing(point_type_or_variation_type):
        return ""
    colour, body = _variation_body(point_type_or_variation_type, improvement)
    label = variation_label(point_type_or_variation_type, improvement)
    return _svg(_frame(colour, body), label, size)


def assurance_icon_svg(assurance_type: str, *, size: int = 40) -> str:
    """A standalone SVG image of the MDC assurance icon.

    An empty or missing ``assurance_type`` (no target, or no direction of
    improvement) gives an empty string: there is no assurance to show.
    """
    if _is_missing(assurance_type):
        return ""
    colour, body = _assurance_body(assurance_type)
    return _svg(_frame(colour, body), assurance_label(assurance_type), size)


def icon_pair_svg(
    variation_type: str | None,
    assurance_type: str | None,
    improvement: str = "neutral",
    *,
    size: int = 40,
) -> str:
    """Both icons side by side in one SVG (variation left, assurance right).

    Used in figure corners: one image instead of two keeps the figure JSON small.
    Returns an empty string when there is neither icon.
    """
    parts, labels = [], []
    if variation_type is not None and not _is_missing(variation_type):
        colour, body = _variation_body(variation_type, improvement)
        parts.append((colour, body))
        labels.append(variation_label(variation_type, improvement))
    if assurance_type is not None and not _is_missing(assurance_type):
        colour, body = _assurance_body(assurance_type)
        parts.append((colour, body))
        labels.append(assurance_label(assurance_type))
    if not parts:
        return ""
    inner = "".join(_frame(c, b, dx=44 * i) for i, (c, b) in enumerate(parts))
    return _svg(inner, ". ".join(labels), size, width_units=44 * len(parts) - 4)


def svg_data_uri(svg: str) -> str:
    """An SVG string as a ``data:`` URI (for plotly layout images and ``<img>``)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


__all__ = [
    "ASSURANCE_TYPES",
    "COMMON",
    "CONCERN",
    "DIRECTIONS",
    "IMPROVEMENT",
    "NEUTRAL",
    "POINT_TYPES",
    "TARGET",
    "assurance_colour",
    "assurance_icon_svg",
    "assurance_label",
    "assurance_words",
    "icon_pair_svg",
    "svg_data_uri",
    "variation_colour",
    "variation_icon_svg",
    "variation_label",
    "variation_side",
    "variation_words",
]
