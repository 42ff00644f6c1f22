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

The colours are MDC's (see ``methods/spc.md``); the drawings are pxlib's own.
Every icon carries a letter or a shape as well as a colour (colour is never the
only signal) and a ``<title>`` with its meaning in plain words for screen readers.
"""

from __future__ import annotations

import base64

import pandas as pd

from pxlib.errors import ChartError
from pxlib.escape import html_text as escape

# MDC colours
COMMON = "#7B7D7D"
IMPROVEMENT = "#289DE0"
CONCERN = "#FAB428"
NEUTRAL = "#361475"
TARGET = "#DE1B1B"

POINT_TYPES = (
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
)
ASSURANCE_TYPES = ("consistent_pass", "consistent_fail", "inconsistent")
DIRECTIONS = ("increase", "decrease", "neutral")

# mini-chart drawn inside the variation icon: 7 points, x from 9 to 31
_XS = (9, 12.7, 16.3, 20, 23.7, 27.3, 31)
_FLAT = (25, 22, 26, 23, 25, 22, 24)
_HIGH = (27, 28, 26, 23, 21, 19, 17)
_LOW = (17, 16, 18, 21, 23, 25, 27)


def _is_missing(value: object) -> bool:
    """None, NaN/NA or the empty string: no type, so no icon."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value)) or value == ""
    except (TypeError, ValueError):
        return False


def _check_direction(improvement: str) -> str:
    if improvement not in DIRECTIONS:
        raise ChartError(f"improvement must be one of {', '.join(DIRECTIONS)}, not {improvement!r}")
    return improvement


def variation_side(point_type: str, improvement: str = "neutral") -> str | None:
    """``"high"``, ``"low"`` or None (common cause) for a point type and direction.

    Improvement with ``increase`` and concern with ``decrease`` are high values;
    the reverse are low; neutral types carry their side in the name.
    """
    _check_direction(improvement)
    if point_type == "common_cause":
        return None
    if point_type == "special_cause_neutral_high":
        return "high"
    if point_type == "special_cause_neutral_low":
        return "low"
    up = improvement != "decrease"
    if point_type == "special_cause_improvement":
        return "high" if up else "low"
    if point_type == "special_cause_concern":
        return "low" if up else "high"
    raise _unknown_point_type(point_type)


_POINT_COLOURS = dict(
    zip(POINT_TYPES, (COMMON, IMPROVEMENT, CONCERN, NEUTRAL, NEUTRAL), strict=True)
)


def variation_colour(point_type: str) -> str:
    """The MDC colour of a point type."""
    try:
        return _POINT_COLOURS[point_type]
    except (KeyError, TypeError):
        raise _unknown_point_type(point_type) from None


def _unknown_point_type(point_type: object) -> ChartError:
    return ChartError(
        f"unknown point or variation type {point_type!r}: expected one of {', '.join(POINT_TYPES)}"
    )


def variation_label(point_type: str, improvement: str = "neutral") -> str:
    """The meaning of a variation icon in plain words."""
    side = variation_side(point_type, improvement)
    if point_type == "common_cause":
        return "Common cause variation: no sign of change"
    values = f"{side}er values" if side else ""
    if point_type == "special_cause_improvement":
        return f"Special cause variation: improvement ({values})"
    if point_type == "special_cause_concern":
        return f"Special cause variation: concern ({values})"
    return f"Special cause variation: unusually {side} values (no direction of improvement set)"


def variation_words(point_type: str, improvement: str = "neutral") -> str:
    """A short phrase for a variation type, for tables and figure corners."""
    side = variation_side(point_type, improvement)
    if point_type == "common_cause":
        return "Common cause (no sign of change)"
    if point_type == "special_cause_improvement":
        return f"Improvement ({side}er values)"
    if point_type == "special_cause_concern":
        return f"Concern ({side}er values)"
    return f"Unusually {side} values"


def assurance_words(assurance_type: str) -> str:
    """A short phrase for an assurance type, for tables and figure corners."""
    return {
        "consistent_pass": "Consistently meets the target",
        "consistent_fail": "Consistently fails the target",
        "inconsistent": "Hit and miss on the target",
    }[_check_assurance(assurance_type)]


def assurance_colour(assurance_type: str) -> str:
    """The MDC colour of an assurance type."""
    return {"consistent_pass": IMPROVEMENT, "consistent_fail": CONCERN, "inconsistent": COMMON}[
        _check_assurance(assurance_type)
    ]


def _check_assurance(assurance_type: str) -> str:
    if assurance_type not in ASSURANCE_TYPES:
        raise ChartError(
            f"unknown assurance type {assurance_type!r}: expected one of "
            f"{', '.join(ASSURANCE_TYPES)} (or empty when there is no target)"
        )
    return assurance_type


def assurance_label(assurance_type: str) -> str:
    """The meaning of an assurance icon in plain words."""
    return {
        "consistent_pass": "Assurance: consistently meets the target",
        "consistent_fail": "Assurance: consistently fails the target",
        "inconsistent": "Assurance: hit and miss, the target is sometimes met and sometimes not",
    }[_check_assurance(assurance_type)]


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
    if not _is_missing(variation_type):
        colour, body = _variation_body(variation_type, improvement)
        parts.append((colour, body))
        labels.append(variation_label(variation_type, improvement))
    if not _is_missing(assurance_type):
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
