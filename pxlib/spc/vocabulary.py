"""What people see of a chart's verdicts, defined once: point and assurance types,
their words, colours and marker symbols, and the names of chart kinds and rule sets.

Everything that draws or reports a chart (figures, icons, tables, captions, the batch
index) reads these names rather than writing its own, so that "improvement" is the same
blue and the same words everywhere.

Point types (``SPCResult.points['point_type']``, ``summary['variation_type']``), in the
order of :data:`pxlib.spc.rules.POINT_TYPES`' codes:

- ``common_cause``: no sign of change (grey);
- ``special_cause_improvement`` / ``special_cause_concern``: a signal in the direction
  of improvement (blue) or against it (orange);
- ``special_cause_neutral_high`` / ``special_cause_neutral_low``: a signal on a chart
  with no direction of improvement (purple).

Assurance types (``summary['assurance_type']``; empty without a target or direction):
``consistent_pass``, ``consistent_fail``, ``inconsistent``.

The colours are NHS England's *Making Data Count* (MDC) colours (see
``../shared/methods/spc.md``): common cause #7B7D7D, improvement #289DE0, concern
#FAB428, neutral #361475, target #DE1B1B. Every point type also has its own marker
symbol, so colour is never the only signal.
"""

from __future__ import annotations

from typing import Any

from pxlib.errors import ChartError

POINT_TYPES = (
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
)
ASSURANCE_TYPES = ("consistent_pass", "consistent_fail", "inconsistent")
DIRECTIONS = ("increase", "decrease", "neutral")

# --- colours (MDC) ------------------------------------------------------------------
COMMON_COLOUR = "#7B7D7D"
IMPROVEMENT_COLOUR = "#289DE0"
CONCERN_COLOUR = "#FAB428"
NEUTRAL_COLOUR = "#361475"
TARGET_COLOUR = "#DE1B1B"

POINT_COLOURS = dict(
    zip(
        POINT_TYPES,
        (COMMON_COLOUR, IMPROVEMENT_COLOUR, CONCERN_COLOUR, NEUTRAL_COLOUR, NEUTRAL_COLOUR),
        strict=True,
    )
)
ASSURANCE_COLOURS = {
    "consistent_pass": IMPROVEMENT_COLOUR,
    "consistent_fail": CONCERN_COLOUR,
    "inconsistent": COMMON_COLOUR,
}
#: plotly marker symbol of each point type
POINT_SYMBOLS = dict(
    zip(POINT_TYPES, ("circle", "diamond", "square", "triangle-up", "triangle-down"), strict=True)
)

# --- words ----------------------------------------------------------------------------
#: legend name of each point type
POINT_NAMES = {
    "common_cause": "Common cause variation",
    "special_cause_improvement": "Special cause: improvement",
    "special_cause_concern": "Special cause: concern",
    "special_cause_neutral_high": "Special cause: unusually high",
    "special_cause_neutral_low": "Special cause: unusually low",
}
#: a point type in two words or so, for panel headers
POINT_SHORT = {
    "common_cause": "common cause",
    "special_cause_improvement": "improvement",
    "special_cause_concern": "concern",
    "special_cause_neutral_high": "unusually high",
    "special_cause_neutral_low": "unusually low",
}
ASSURANCE_WORDS = {
    "consistent_pass": "Consistently meets the target",
    "consistent_fail": "Consistently fails the target",
    "inconsistent": "Hit and miss on the target",
}
ASSURANCE_SHORT = {
    "consistent_pass": "passes target",
    "consistent_fail": "fails target",
    "inconsistent": "hit and miss",
}
ASSURANCE_LABELS = {
    "consistent_pass": "Assurance: consistently meets the target",
    "consistent_fail": "Assurance: consistently fails the target",
    "inconsistent": "Assurance: hit and miss, the target is sometimes met and sometimes not",
}

#: legend name, MDC colour and marker symbol of each ``point_type``
POINT_STYLES: dict[str, dict[str, Any]] = {
    t: {"name": POINT_NAMES[t], "color": POINT_COLOURS[t], "symbol": POINT_SYMBOLS[t]}
    for t in POINT_TYPES
}

#: where a group sorts when those needing attention come first (lower first)
VARIATION_RANK = {
    "special_cause_concern": 0,
    "special_cause_neutral_high": 1,
    "special_cause_neutral_low": 1,
    "common_cause": 2,
    "special_cause_improvement": 3,
}
ASSURANCE_RANK = {"consistent_fail": 0, "inconsistent": 1, "": 2, "consistent_pass": 3}

KIND_NAMES = {
    "run": "run chart",
    "i": "I control chart (individual values)",
    "mr": "moving range chart",
    "xbar": "x-bar control chart (subgroup means)",
    "s": "s control chart (subgroup standard deviations)",
    "t": "t control chart (time between events)",
    "p": "p control chart (proportions)",
    "pp": "p′ control chart (Laney, proportions)",
    "c": "c control chart (counts)",
    "u": "u control chart (rates)",
    "up": "u′ control chart (Laney, rates)",
    "g": "g control chart (cases between events)",
    "xmr": "XmR control chart (Making Data Count)",
}
RULE_SET_NAMES = {"anhoej": "Anhøj", "mdc": "Making Data Count", "ihi": "IHI"}


# --- checks ---------------------------------------------------------------------------


def check_direction(improvement: str) -> str:
    """``improvement`` if it is one of :data:`DIRECTIONS`, else ChartError."""
    if improvement not in DIRECTIONS:
        raise ChartError(f"improvement must be one of {', '.join(DIRECTIONS)}, not {improvement!r}")
    return improvement


def check_assurance(assurance_type: str) -> str:
    """``assurance_type`` if it is one of :data:`ASSURANCE_TYPES`, else ChartError."""
    if assurance_type not in ASSURANCE_TYPES:
        raise ChartError(
            f"unknown assurance type {assurance_type!r}: expected one of "
            f"{', '.join(ASSURANCE_TYPES)} (or empty when there is no target)"
        )
    return assurance_type


def unknown_point_type(point_type: object) -> ChartError:
    """The error for a value that is no point type."""
    return ChartError(
        f"unknown point or variation type {point_type!r}: expected one of {', '.join(POINT_TYPES)}"
    )


# --- point types ----------------------------------------------------------------------


def variation_side(point_type: str, improvement: str = "neutral") -> str | None:
    """``"high"``, ``"low"`` or None (common cause) for a point type and direction.

    Improvement with ``increase`` and concern with ``decrease`` are high values;
    the reverse are low; neutral types carry their side in the name.
    """
    check_direction(improvement)
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
    raise unknown_point_type(point_type)


def side_point_type(up: bool, improvement: str = "neutral") -> str:
    """The point type of a signal above (``up``) or below the centre line on a chart
    whose direction is ``improvement``."""
    if check_direction(improvement) == "neutral":
        return "special_cause_neutral_high" if up else "special_cause_neutral_low"
    better = up == (improvement == "increase")
    return "special_cause_improvement" if better else "special_cause_concern"


def variation_colour(point_type: str) -> str:
    """The MDC colour of a point type."""
    try:
        return POINT_COLOURS[point_type]
    except (KeyError, TypeError):
        raise unknown_point_type(point_type) from None


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


# --- assurance types ------------------------------------------------------------------


def assurance_words(assurance_type: str) -> str:
    """A short phrase for an assurance type, for tables and figure corners."""
    return ASSURANCE_WORDS[check_assurance(assurance_type)]


def assurance_colour(assurance_type: str) -> str:
    """The MDC colour of an assurance type."""
    return ASSURANCE_COLOURS[check_assurance(assurance_type)]


def assurance_label(assurance_type: str) -> str:
    """The meaning of an assurance icon in plain words."""
    return ASSURANCE_LABELS[check_assurance(assurance_type)]


def icon_phrases(
    variation_type: str, assurance_type: str, improvement: str, short: bool = False
) -> list[str]:
    """The two icons' meaning in words (plain text), variation then assurance; an empty
    type gives no phrase. ``short``: the two-word forms of panel headers."""
    parts = []
    if variation_type:
        words = variation_words(variation_type, improvement)
        parts.append(POINT_SHORT[variation_type] if short else words)
    if assurance_type:
        words = assurance_words(assurance_type)
        parts.append(ASSURANCE_SHORT[assurance_type] if short else words)
    return parts


__all__ = [
    "ASSURANCE_COLOURS",
    "ASSURANCE_LABELS",
    "ASSURANCE_RANK",
    "ASSURANCE_SHORT",
    "ASSURANCE_TYPES",
    "ASSURANCE_WORDS",
    "COMMON_COLOUR",
    "CONCERN_COLOUR",
    "DIRECTIONS",
    "IMPROVEMENT_COLOUR",
    "KIND_NAMES",
    "NEUTRAL_COLOUR",
    "POINT_COLOURS",
    "POINT_NAMES",
    "POINT_SHORT",
    "POINT_STYLES",
    "POINT_SYMBOLS",
    "POINT_TYPES",
    "RULE_SET_NAMES",
    "TARGET_COLOUR",
    "VARIATION_RANK",
    "assurance_colour",
    "assurance_label",
    "assurance_words",
    "check_assurance",
    "check_direction",
    "icon_phrases",
    "side_point_type",
    "unknown_point_type",
    "variation_colour",
    "variation_label",
    "variation_side",
    "variation_words",
]
