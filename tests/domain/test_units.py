"""Unit segmentation: the documented rules, and the fast path agreeing with the regex."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.domain.units import (
    TOKEN_PATTERN,
    char_spans,
    sentence_spans,
    token_spans,
    unit_bounds,
    units,
)

TEXT = 'He said: "Don\'t go." Then… left!  \n\n Headline\nnext line. 3.5 x_y ÀÉ 😀 end'


def pieces(text, spans):
    return [text[s:e] for s, e in spans]


def test_tokens_are_word_runs_and_single_punctuation_marks():
    assert pieces(TEXT, token_spans(TEXT)) == [
        "He", "said", ":", '"', "Don", "'", "t", "go", ".", '"', "Then", "…", "left", "!",
        "Headline", "next", "line", ".", "3", ".", "5", "x_y", "ÀÉ", "😀", "end",
    ]  # fmt: skip


def test_sentences_split_after_terminators_and_at_blank_lines_with_edges_trimmed():
    assert pieces(TEXT, sentence_spans(TEXT)) == [
        'He said: "Don\'t go."',
        "Then…",
        "left!",
        "Headline\nnext line.",
        "3.5 x_y ÀÉ 😀 end",
    ]
    assert pieces("Title\n \nBody text", sentence_spans("Title\n \nBody text")) == [
        "Title",
        "Body text",
    ]


def test_chars_are_every_non_whitespace_code_point():
    assert pieces("a b\u00a0c\n😀", char_spans("a b\u00a0c\n😀")) == ["a", "b", "c", "😀"]


def test_empty_and_blank_texts_have_no_units():
    for kind in ("token", "sentence", "char"):
        assert units("", kind) == []
        assert units(" \n\t ", kind) == []


def test_unknown_unit_kind_is_refused():
    with pytest.raises(ValueError, match="Unknown unit"):
        unit_bounds("text", "paragraph")


texts = st.text(
    alphabet=st.one_of(
        st.sampled_from([*" \n\t.!?…\"'”)],;:-_", "\u00a0", "\u2028", "\u3000"]),
        st.characters(codec="utf-8"),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(texts)
def test_fast_tokeniser_agrees_with_the_documented_regex(text):
    assert token_spans(text) == [m.span() for m in TOKEN_PATTERN.finditer(text)]
    assert char_spans(text) == [m.span() for m in re.finditer(r"\S", text)]


@settings(max_examples=150, deadline=None)
@given(texts)
def test_units_are_ordered_disjoint_and_never_start_or_end_with_whitespace(text):
    for kind in ("token", "sentence", "char"):
        found = units(text, kind)
        for (_, end), (next_start, _) in pairwise(found):
            assert end <= next_start
        for s, e in found:
            assert s < e
            assert not text[s].isspace() and not text[e - 1].isspace()
    covered = "".join(text[s:e] for s, e in sentence_spans(text))
    assert "".join(covered.split()) == "".join(text.split())
