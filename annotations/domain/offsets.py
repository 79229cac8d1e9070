"""Span offsets: validation, whitespace trimming and splitting text at span boundaries.

Offsets are 0-based and end-exclusive, counted in Unicode code points, so that
``text[start:end]`` in Python is the span. Browsers count UTF-16 code units; the page
converts before it sends offsets, and :func:`check_span` re-checks them against the
quote the browser saw, so a mismatch is refused rather than stored off by one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

# ASCII digits only: str.isdigit() also accepts "²" and "--5", which int() then rejects.
_INTEGER = re.compile(r"-?[0-9]+")


class SpanError(ValueError):
    """A span that cannot be stored; the message is shown to the coder as it is."""


def check_span(text: str, start: object, end: object, quote: str | None = None) -> tuple[int, int]:
    """Return ``(start, end)`` as ints, or raise :class:`SpanError` saying what is wrong."""
    start_i = _as_offset(start, "start")
    end_i = _as_offset(end, "end")
    if start_i >= end_i:
        raise SpanError(f"The span is empty or reversed (start {start_i}, end {end_i}).")
    if end_i > len(text):
        raise SpanError(f"The span ends at {end_i}, after the end of the text ({len(text)}).")
    if quote is not None and text[start_i:end_i] != quote:
        raise SpanError(
            "The selected text does not match the document at these offsets; "
            "reload the page and select again."
        )
    return start_i, end_i


def _as_offset(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise SpanError(f"The {name} offset must be a whole number.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise SpanError(f"The {name} offset must be a whole number.")
    if number < 0:
        raise SpanError(f"The {name} offset must not be negative.")
    return number


def trim_whitespace(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` past leading and trailing whitespace.

    Raises :class:`SpanError` when nothing but whitespace is selected.
    """
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        raise SpanError("Only whitespace is selected; select some text to tag.")
    return start, end


@dataclass(frozen=True)
class Piece:
    """A stretch of text between two consecutive span boundaries, with the spans covering it."""

    start: int
    end: int
    text: str
    span_ids: tuple[int, ...]


def split_at_boundaries(text: str, spans: Iterable[tuple[int, int, int]]) -> list[Piece]:
    """Split ``text`` at every span boundary.

    ``spans`` are ``(id, start, end)``. The pieces cover the whole text in order, so
    concatenating their ``text`` gives back ``text`` exactly; each piece lists the ids
    of the spans that cover it (sorted by start, then longest first, for stable layering).
    """
    spans = sorted(spans, key=lambda s: (s[1], -s[2], s[0]))
    cuts = {0, len(text)}
    for _, start, end in spans:
        cuts.add(start)
        cuts.add(end)
    bounds = sorted(cuts)
    # A sweep over sorted boundaries: spans open at their start and close at their end.
    opening: dict[int, list[int]] = {}
    closing: dict[int, set[int]] = {}
    for span_id, start, end in spans:
        opening.setdefault(start, []).append(span_id)
        closing.setdefault(end, set()).add(span_id)
    active: list[int] = []
    pieces: list[Piece] = []
    for left, right in pairwise(bounds):
        if left in closing:
            active = [s for s in active if s not in closing[left]]
        active.extend(opening.get(left, ()))
        pieces.append(Piece(left, right, text[left:right], tuple(active)))
    return pieces


def is_word_char(char: str) -> bool:
    """Letters, digits and combining marks: the marks keep "é" written as e + U+0301, and
    Khmer clusters such as "ក្មែរ", inside one word (the page's JS uses the same classes)."""
    return char.isalnum() or unicodedata.category(char).startswith("M")


def word_step(text: str, position: int, direction: int) -> int:
    """The next word boundary from ``position`` going left (-1) or right (+1)."""
    n = len(text)
    i = max(0, min(position, n))
    if direction > 0:
        while i < n and not is_word_char(text[i]):
            i += 1
        while i < n and is_word_char(text[i]):
            i += 1
        return i
    while i > 0 and not is_word_char(text[i - 1]):
        i -= 1
    while i > 0 and is_word_char(text[i - 1]):
        i -= 1
    return i


def char_step(text: str, position: int, direction: int) -> int:
    """One code point left (-1) or right (+1), within the text."""
    return max(0, min(len(text), position + (1 if direction > 0 else -1)))


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``[start, end)`` so that it neither starts nor ends inside a word (the
    coding page does the same before it shows and sends a selection)."""
    n = len(text)
    start, end = max(0, min(start, n)), max(0, min(end, n))
    while 0 < start < n and is_word_char(text[start - 1]) and is_word_char(text[start]):
        start -= 1
    while 0 < end < n and is_word_char(text[end - 1]) and is_word_char(text[end]):
        end += 1
    return start, end
