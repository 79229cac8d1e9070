"""Offset units: exact conversion to code points, refusal with a hint when it cannot be exact."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotations.domain.formats.offsets import OffsetIndex, TextOffsets, Unit, parse_unit
from tests.domain.formats.helpers import TEXT, at, utf16

FIRETRUCK = "👨🏻\u200d🚒 firemen drive firetrucks"


def test_doccano_issue_2290_example_converts_utf16_to_python_offsets():
    """doccano gives firetrucks 22–32 where Python slices 19–29 (doccano issue #2290)."""
    assert TextOffsets(FIRETRUCK, Unit.UTF16).span(22, 32) == (19, 29)
    assert FIRETRUCK[19:29] == "firetrucks"


def test_utf16_offsets_round_trip_through_code_points():
    index = OffsetIndex(TEXT, Unit.UTF16)
    for position in range(len(TEXT) + 1):
        assert index.to_codepoint(index.from_codepoint(position)) == position
    assert index.length == len(TEXT.encode("utf-16-le")) // 2


def test_a_utf16_offset_inside_a_surrogate_pair_is_refused():
    woman = utf16(TEXT, *at(TEXT, "👩"))[0]
    message = TextOffsets(TEXT, Unit.UTF16).span(woman + 1, woman + 4)
    assert message.startswith(f"offsets {woman + 1}–{woman + 4} fall inside a character")


def test_offsets_inside_a_character_hint_at_the_unit_that_fits():
    start, end = at(FIRETRUCK, "🚒 fire")
    message = TextOffsets(FIRETRUCK, Unit.UTF16).span(start, end)  # code points: 3–9
    assert message == (
        "offsets 3–9 fall inside a character; the file may count code points: "
        "try --offsets codepoints"
    )


def test_code_point_offsets_read_as_utf16_suggest_codepoints_when_the_quote_says_so():
    start, end = at(FIRETRUCK, "firetrucks")
    message = TextOffsets(FIRETRUCK, Unit.UTF16).span(start, end, quote="firetrucks")
    assert message == (
        "the text at offsets 19–29 is 've firetru' but the file says 'firetrucks'; "
        "the file may count code points: try --offsets codepoints"
    )


def test_utf16_offsets_read_as_code_points_suggest_utf16():
    message = TextOffsets(FIRETRUCK, Unit.CODEPOINTS).span(22, 32, quote="firetrucks")
    assert isinstance(message, str)
    assert message.endswith("the file may count UTF-16 code units: try --offsets utf16")


def test_grapheme_offsets_count_a_zwj_family_as_one():
    text = "👨\u200d👩\u200d👧\u200d👦 family"
    assert TextOffsets(text, Unit.GRAPHEMES).span(2, 8) == (8, 14)
    assert OffsetIndex(text, Unit.GRAPHEMES).from_codepoint(3) is None  # inside the cluster


def test_combining_accent_is_one_grapheme_but_two_code_points():
    text = "cafe\u0301 au lait"
    assert TextOffsets(text, Unit.GRAPHEMES).span(0, 4) == (0, 5)
    assert OffsetIndex(text, Unit.GRAPHEMES).from_codepoint(4) is None  # between e and accent
    assert TextOffsets(text, Unit.GRAPHEMES).span(0, 99) == (
        "offsets 0–99 go beyond the end of the text, which is 12 grapheme clusters long"
    )


def test_offsets_over_crlf_text_map_to_the_normalised_text():
    raw = "one\r\ntwo\rthree"
    offsets = TextOffsets(raw, Unit.CODEPOINTS)
    assert offsets.text == "one\ntwo\nthree"
    assert offsets.span(5, 8) == (4, 7)  # "two" after CRLF
    assert offsets.span(9, 14) == (8, 13)  # "three" after a lone CR
    assert (
        offsets.span(0, 4) == "offsets 0–4 split a CRLF line break, which import turns into one LF"
    )


def test_a_leading_byte_order_mark_shifts_offsets_by_one():
    offsets = TextOffsets("\ufeffHello", Unit.CODEPOINTS)
    assert offsets.text == "Hello"
    assert offsets.span(1, 6) == (0, 5)
    assert offsets.span(0, 1) == "offsets 0–1 cover only a byte-order mark, which import removes"


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (-1, 3, "offsets -1–3 are negative"),
        (4, 4, "offsets 4–4 are empty or reversed (start must be less than end)"),
        (0, 99, "offsets 0–99 go beyond the end of the text, which is 9 code points long"),
    ],
)
def test_impossible_offsets_are_refused(start, end, message):
    assert TextOffsets("some text", Unit.CODEPOINTS).span(start, end) == message


def test_unknown_unit_names_the_choices():
    assert parse_unit(None, Unit.UTF16) is Unit.UTF16
    assert parse_unit("UTF16", Unit.CODEPOINTS) is Unit.UTF16
    with pytest.raises(ValueError, match="use one of codepoints, utf16, graphemes"):
        parse_unit("bytes", Unit.UTF16)


@given(st.text(min_size=1, max_size=40), st.data())
def test_any_code_point_span_survives_utf16_both_ways(text, data):
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    start16, end16 = utf16(text, start, end)
    index = OffsetIndex(text, Unit.UTF16)
    assert (index.from_codepoint(start), index.from_codepoint(end)) == (start16, end16)
    assert (index.to_codepoint(start16), index.to_codepoint(end16)) == (start, end)
