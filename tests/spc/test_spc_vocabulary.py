"""pxlib.spc.vocabulary: one home for point types, their words, colours and symbols.

Expectations come from NHS England's Making Data Count guidance (its colours and icon
meanings) and from properties a reader relies on (colour is never the only signal; the
old import paths give the same objects)."""

from __future__ import annotations

import pytest

from pxlib.errors import ChartError
from pxlib.spc import figures, icons, rules, vocabulary

# Making Data Count's colours (NHS England, "Making Data Count: getting started")
MDC = {"common": "#7B7D7D", "improvement": "#289DE0", "concern": "#FAB428", "neutral": "#361475"}


def test_point_types_in_the_engines_code_order():
    assert list(rules.POINT_TYPES) == list(vocabulary.POINT_TYPES)
    assert vocabulary.POINT_TYPES[0] == "common_cause"


def test_mdc_colours():
    c = vocabulary.POINT_COLOURS
    assert c["common_cause"] == MDC["common"]
    assert c["special_cause_improvement"] == MDC["improvement"]
    assert c["special_cause_concern"] == MDC["concern"]
    assert c["special_cause_neutral_high"] == c["special_cause_neutral_low"] == MDC["neutral"]
    assert vocabulary.assurance_colour("consistent_pass") == MDC["improvement"]
    assert vocabulary.assurance_colour("consistent_fail") == MDC["concern"]
    assert vocabulary.assurance_colour("inconsistent") == MDC["common"]


def test_colour_is_never_the_only_signal():
    symbols = [vocabulary.POINT_SYMBOLS[t] for t in vocabulary.POINT_TYPES]
    assert len(set(symbols)) == len(symbols)
    names = [vocabulary.POINT_NAMES[t] for t in vocabulary.POINT_TYPES]
    assert len(set(names)) == len(names)


def test_every_type_has_words_in_every_table():
    for table in (vocabulary.POINT_NAMES, vocabulary.POINT_SHORT, vocabulary.VARIATION_RANK):
        assert set(table) == set(vocabulary.POINT_TYPES)
    for table in (
        vocabulary.ASSURANCE_WORDS,
        vocabulary.ASSURANCE_SHORT,
        vocabulary.ASSURANCE_LABELS,
        vocabulary.ASSURANCE_COLOURS,
    ):
        assert set(table) == set(vocabulary.ASSURANCE_TYPES)


def test_attention_ranks_put_concern_first_and_improvement_last():
    rank = vocabulary.VARIATION_RANK
    assert min(rank, key=rank.get) == "special_cause_concern"
    assert max(rank, key=rank.get) == "special_cause_improvement"
    arank = vocabulary.ASSURANCE_RANK
    assert arank["consistent_fail"] < arank["inconsistent"] < arank[""] < arank["consistent_pass"]


@pytest.mark.parametrize(
    ("up", "improvement", "expected"),
    [
        (True, "increase", "special_cause_improvement"),
        (False, "increase", "special_cause_concern"),
        (True, "decrease", "special_cause_concern"),
        (False, "decrease", "special_cause_improvement"),
        (True, "neutral", "special_cause_neutral_high"),
        (False, "neutral", "special_cause_neutral_low"),
    ],
)
def test_side_point_type_and_variation_side_are_inverse(up, improvement, expected):
    ptype = vocabulary.side_point_type(up, improvement)
    assert ptype == expected
    assert vocabulary.variation_side(ptype, improvement) == ("high" if up else "low")


def test_words_follow_the_side_of_the_values():
    assert vocabulary.variation_words("special_cause_improvement", "decrease") == (
        "Improvement (lower values)"
    )
    assert vocabulary.variation_label("special_cause_concern", "increase").endswith(
        "concern (lower values)"
    )
    assert vocabulary.icon_phrases("common_cause", "inconsistent", "increase", short=True) == [
        "common cause",
        "hit and miss",
    ]
    assert vocabulary.icon_phrases("", "", "neutral") == []


def test_unknown_names_are_refused():
    with pytest.raises(ChartError, match="special_cause_bogus"):
        vocabulary.variation_colour("special_cause_bogus")
    with pytest.raises(ChartError, match="improvement must be"):
        vocabulary.check_direction("up")
    with pytest.raises(ChartError, match="assurance"):
        vocabulary.assurance_words("sometimes")


def test_old_names_are_the_vocabularys():
    assert icons.COMMON == vocabulary.COMMON_COLOUR
    assert icons.IMPROVEMENT == vocabulary.IMPROVEMENT_COLOUR
    assert icons.CONCERN == vocabulary.CONCERN_COLOUR
    assert icons.NEUTRAL == vocabulary.NEUTRAL_COLOUR
    assert icons.TARGET == vocabulary.TARGET_COLOUR == "#DE1B1B"
    assert icons.POINT_TYPES is vocabulary.POINT_TYPES
    assert icons.variation_words is vocabulary.variation_words
    assert figures.POINT_STYLES is vocabulary.POINT_STYLES
    assert figures.KIND_NAMES is vocabulary.KIND_NAMES
