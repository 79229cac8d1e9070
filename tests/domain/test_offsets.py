from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotations.domain.offsets import (
    SpanError,
    check_span,
    split_at_boundaries,
    trim_whitespace,
    word_step,
)

AWKWARD = "Dr 👩‍🔬 said: “café” and cafe\u0301\u00a0— ក្មែរ."


@st.composite
def text_and_spans(draw):
    text = draw(st.text(min_size=1, max_size=60))
    spans = []
    for span_id in range(draw(st.integers(0, 8))):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        spans.append((span_id, start, end))
    return text, spans


@given(text_and_spans())
def test_pieces_concatenate_to_the_text_and_list_exactly_the_covering_spans(case):
    text, spans = case
    pieces = split_at_boundaries(text, spans)
    assert "".join(p.text for p in pieces) == text
    assert pieces[0].start == 0 and pieces[-1].end == len(text)
    for left, right in pairwise(pieces):
        assert left.end == right.start
    for piece in pieces:
        assert piece.text == text[piece.start : piece.end] and piece.start < piece.end
        covering = {i for i, s, e in spans if s <= piece.start and piece.end <= e}
        assert set(piece.span_ids) == covering
        assert len(piece.span_ids) == len(covering)


def test_every_boundary_cuts_the_text_and_nested_spans_share_pieces():
    pieces = split_at_boundaries("abcdefgh", [(1, 1, 7), (2, 3, 5)])
    assert [(p.text, p.span_ids) for p in pieces] == [
        ("a", ()),
        ("bc", (1,)),
        ("de", (1, 2)),
        ("fg", (1,)),
        ("h", ()),
    ]


def test_empty_text_has_no_pieces():
    assert split_at_boundaries("", []) == []


def test_offsets_count_code_points_not_utf16_units():
    start = AWKWARD.index("said")
    # The emoji sequence is 3 code points (5 UTF-16 units): Python slicing is the reference.
    assert check_span(AWKWARD, start, start + 4, "said") == (start, start + 4)
    assert check_span(AWKWARD, str(start), str(start + 4), "said") == (start, start + 4)


@pytest.mark.parametrize(
    ("start", "end", "quote", "message"),
    [
        (0, 2, "Dx", "does not match"),
        (0, 999, None, "after the end of the text"),
        (-1, 2, None, "must not be negative"),
        ("-1", "2", None, "must not be negative"),
        ("1.5", "3", None, "whole number"),
        ("--5", "7", None, "whole number"),
        ("²", "7", None, "whole number"),
        (None, 3, None, "whole number"),
        (True, 3, None, "whole number"),
        (3, 3, None, "empty or reversed"),
        (5, 2, None, "empty or reversed"),
    ],
)
def test_check_span_refuses_bad_offsets_with_a_message(start, end, quote, message):
    with pytest.raises(SpanError, match=message):
        check_span(AWKWARD, start, end, quote)


def test_trim_whitespace_drops_spaces_newlines_and_no_break_spaces_at_both_ends():
    text = " \u00a0word one\n \t"
    assert trim_whitespace(text, 0, len(text)) == (2, 10)
    assert text[2:10] == "word one"


def test_trim_whitespace_refuses_whitespace_only():
    with pytest.raises(SpanError, match="Only whitespace"):
        trim_whitespace("a \u00a0\n b", 1, 5)


@given(st.text(max_size=30), st.data())
def test_trimmed_span_never_starts_or_ends_with_whitespace(text, data):
    if not text:
        return
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    try:
        s, e = trim_whitespace(text, start, end)
    except SpanError:
        assert text[start:end].strip() == ""
    else:
        assert start <= s < e <= end
        assert text[s:e] == text[start:end].strip()


def test_word_step_moves_by_whole_words_in_both_directions():
    text = "Officials said the “confession”."
    assert word_step(text, 0, 1) == 9
    assert word_step(text, 9, 1) == 14
    assert word_step(text, 14, -1) == 10
    assert text[word_step(text, 18, 1) - 10 : word_step(text, 18, 1)] == "confession"
    assert word_step(text, len(text), 1) == len(text)
    assert word_step(text, 0, -1) == 0


def test_word_step_keeps_combining_accents_and_khmer_clusters_inside_one_word():
    text = "cafe\u0301 ក្មែរ ok"
    assert word_step(text, 0, 1) == 5  # e + combining acute stays with its word
    assert word_step(text, 5, 1) == 11  # the whole Khmer word, coeng and vowel signs included
    assert word_step(text, 11, -1) == 6


@given(st.text(max_size=40), st.data())
def test_word_step_always_moves_towards_its_direction_and_stays_in_the_text(text, data):
    position = data.draw(st.integers(0, len(text)))
    assert position <= word_step(text, position, 1) <= len(text)
    assert 0 <= word_step(text, position, -1) <= position
