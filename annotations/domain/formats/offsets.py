"""Offset units of other tools, and their conversion to Framing's code points.

Framing counts 0-based, end-exclusive Unicode code points (Python ``text[start:end]``).
The tools it exchanges files with count in one of three units:

- ``codepoints``: Python, brat, Prodigy/spaCy, Label Studio 1.23.
- ``utf16``: UTF-16 code units, what JavaScript's ``String.length`` and Java count; a
  character outside the Basic Multilingual Plane (most emoji) counts 2. doccano by default,
  WebAnno TSV 3, UIMA CAS.
- ``graphemes``: extended grapheme clusters (UAX #29, via the ``regex`` module's ``\\X``),
  what doccano counts when a project has "Count grapheme clusters as one character".

Each format module states its default unit and the source of that fact.

The offsets in a file refer to the text *as the file holds it*. Framing stores the text
normalised (CRLF and CR become LF, a leading BOM is dropped), so `TextOffsets` converts in
two steps: file unit -> code points of the file's text -> code points of the stored text.
An offset that cannot be converted exactly (inside a surrogate pair or grapheme cluster,
between the CR and LF of a line break) is refused with a message that says so and, where
another unit fits, suggests ``--offsets <unit>``.
"""

from __future__ import annotations

from bisect import bisect_left
from enum import StrEnum
from functools import cached_property

import regex

from annotations.domain.textio import normalise_text

__all__ = ["OffsetIndex", "TextOffsets", "Unit", "grapheme_bounds", "parse_unit"]

_GRAPHEME = regex.compile(r"\X", regex.DOTALL)
_ASTRAL = "\U00010000"


class Unit(StrEnum):
    CODEPOINTS = "codepoints"
    UTF16 = "utf16"
    GRAPHEMES = "graphemes"


def parse_unit(value: str | Unit | None, default: Unit) -> Unit:
    """The unit named by ``--offsets`` (None means the format's default)."""
    if value is None:
        return default
    try:
        return Unit(str(value).strip().lower())
    except ValueError:
        names = ", ".join(unit.value for unit in Unit)
        raise ValueError(f"unknown offset unit {value!r}; use one of {names}") from None


def grapheme_bounds(text: str) -> list[int]:
    """Code-point positions where grapheme clusters start, plus ``len(text)``."""
    bounds = [match.start() for match in _GRAPHEME.finditer(text)]
    bounds.append(len(text))
    return bounds


class OffsetIndex:
    """Maps offsets in `unit` over `text` to code points and back."""

    def __init__(self, text: str, unit: Unit) -> None:
        self.text = text
        self.unit = unit
        if unit is Unit.UTF16 and (not text or max(text) < _ASTRAL):
            self.unit_is_identity = True
        else:
            self.unit_is_identity = unit is Unit.CODEPOINTS

    @cached_property
    def _positions(self) -> list[int]:
        """positions[i] = the offset, in this unit, of code point boundary i (ascending)."""
        if self.unit is Unit.UTF16:
            positions = [0] * (len(self.text) + 1)
            total = 0
            for i, char in enumerate(self.text):
                total += 2 if char >= _ASTRAL else 1
                positions[i + 1] = total
            return positions
        return grapheme_bounds(self.text)  # graphemes: offset g -> code point bounds[g]

    @property
    def length(self) -> int:
        """Length of the text in this unit."""
        if self.unit_is_identity:
            return len(self.text)
        if self.unit is Unit.UTF16:
            return self._positions[-1]
        return len(self._positions) - 1

    def to_codepoint(self, offset: int) -> int | None:
        """The code point at `offset`, or None if it falls inside a character or outside."""
        if not 0 <= offset <= self.length:
            return None
        if self.unit_is_identity:
            return offset
        if self.unit is Unit.UTF16:
            index = bisect_left(self._positions, offset)
            return index if self._positions[index] == offset else None
        return self._positions[offset]

    def from_codepoint(self, position: int) -> int | None:
        """`position` (code points) in this unit; None inside a grapheme cluster."""
        if not 0 <= position <= len(self.text):
            raise ValueError(f"position {position} is outside a text of {len(self.text)}")
        if self.unit_is_identity:
            return position
        if self.unit is Unit.UTF16:
            return self._positions[position]
        index = bisect_left(self._positions, position)
        return index if self._positions[index] == position else None


class TextOffsets:
    """Converts a file's span offsets over its raw text into stored-text code points."""

    def __init__(self, raw: str, unit: Unit) -> None:
        self.raw = raw
        self.unit = unit
        self.text = normalise_text(raw)
        self._indexes: dict[Unit, OffsetIndex] = {}

    def index(self, unit: Unit) -> OffsetIndex:
        if unit not in self._indexes:
            self._indexes[unit] = OffsetIndex(self.raw, unit)
        return self._indexes[unit]

    @cached_property
    def _normalised_position(self) -> list[int | None]:
        """raw code point boundary -> normalised boundary (None between CR and LF)."""
        mapping: list[int | None] = []
        boms = len(self.raw) - len(self.raw.lstrip("\ufeff"))
        position = 0
        for i, char in enumerate(self.raw):
            if i < boms:
                mapping.append(0)
                continue
            if i > 0 and self.raw[i - 1] == "\r" and char == "\n":
                mapping.append(None)  # the LF of a CRLF disappears with its CR's slot
                continue
            mapping.append(position)
            position += 1
        mapping.append(position)
        return mapping

    def _normalise(self, position: int) -> int | None:
        if self.raw == self.text:
            return position
        return self._normalised_position[position]

    def span(self, start: int, end: int, quote: str | None = None) -> tuple[int, int] | str:
        """``(start, end)`` in stored-text code points, or a message saying what is wrong.

        `quote` is the text the file says the span covers, compared with the raw slice.
        """
        shown = f"offsets {start}–{end}"
        if start < 0 or end < 0:
            return f"{shown} are negative"
        if start >= end:
            return f"{shown} are empty or reversed (start must be less than end)"
        index = self.index(self.unit)
        if end > index.length:
            hint = self._hint(start, end, quote)
            return (
                f"{shown} go beyond the end of the text, which is {index.length} "
                f"{_unit_noun(self.unit)} long{hint}"
            )
        raw_start, raw_end = index.to_codepoint(start), index.to_codepoint(end)
        if raw_start is None or raw_end is None:
            what = "a grapheme cluster" if self.unit is Unit.GRAPHEMES else "a character"
            return f"{shown} fall inside {what}{self._hint(start, end, quote)}"
        if quote is not None and self.raw[raw_start:raw_end] != quote:
            found = self.raw[raw_start:raw_end]
            return (
                f"the text at {shown} is {_show(found)} but the file says {_show(quote)}"
                f"{self._hint(start, end, quote)}"
            )
        new_start, new_end = self._normalise(raw_start), self._normalise(raw_end)
        if new_start is None or new_end is None:
            return f"{shown} split a CRLF line break, which import turns into one LF"
        if new_start >= new_end:
            return f"{shown} cover only a byte-order mark, which import removes"
        return new_start, new_end

    def _hint(self, start: int, end: int, quote: str | None) -> str:
        for unit in (Unit.UTF16, Unit.CODEPOINTS, Unit.GRAPHEMES):
            if unit is self.unit:
                continue
            index = self.index(unit)
            raw_start, raw_end = index.to_codepoint(start), index.to_codepoint(end)
            if raw_start is None or raw_end is None:
                continue
            if quote is not None and self.raw[raw_start:raw_end] != quote:
                continue
            return f"; the file may count {_unit_noun(unit)}: try --offsets {unit.value}"
        return ""


def _unit_noun(unit: Unit) -> str:
    return {
        Unit.CODEPOINTS: "code points",
        Unit.UTF16: "UTF-16 code units",
        Unit.GRAPHEMES: "grapheme clusters",
    }[unit]


def _show(value: str, limit: int = 60) -> str:
    shown = value if len(value) <= limit else value[: limit - 1] + "…"
    return repr(shown)
