"""The coding page's text as pieces and lanes: what the template draws, prepared once here.

The annotation page renders every piece of a long article with its stacked highlights
(about 700 pieces and 1,000 layers for 330 spans). What the template would otherwise
compute per layer is prepared here as text: rendering integers in a template goes through
number localisation, and it and the lookups dominated the page's render time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .offsets import split_at_boundaries


class Drawn(Protocol):
    """What a span needs to be drawn: an id, offsets, a code and the code's shortcut."""

    pk: int
    start: int
    end: int
    code_id: int


@dataclass(frozen=True, slots=True)
class Layer:
    """One span's stretch inside a piece of text: the opening tag's attribute values."""

    span_id: str
    classes: str  # "hl code-<id> lane-<n>", plus " first" where the span begins, " selected"
    key: str  # the code's shortcut label where the span begins, "" elsewhere
    count: str  # on the innermost layer where a stack begins: how many spans are stacked


@dataclass(frozen=True, slots=True)
class RenderedPiece:
    text: str
    layers: tuple[Layer, ...]


def assign_lanes(spans: Sequence[Drawn]) -> dict[int, int]:
    """Give overlapping spans different lanes (greedy interval partitioning), so every
    span keeps one underline level along its whole length and none hides another."""
    lanes: dict[int, int] = {}
    lane_ends: list[int] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end, s.pk)):
        for lane, end in enumerate(lane_ends):
            if end <= span.start:
                lane_ends[lane] = span.end
                lanes[span.pk] = lane
                break
        else:
            lanes[span.pk] = len(lane_ends)
            lane_ends.append(span.end)
    return lanes


def render_text(
    text: str,
    spans: Sequence[Drawn],
    shortcuts: dict[int, str],
    selected_ids: frozenset[int] = frozenset(),
) -> list[RenderedPiece]:
    """The text cut at every span boundary, each piece with its layers, outermost first.

    ``shortcuts`` maps a code id to its key label ("" for none, shown as "•").
    """
    by_id = {span.pk: span for span in spans}
    lanes = assign_lanes(spans)
    rendered = []
    for piece in split_at_boundaries(text, [(s.pk, s.start, s.end) for s in spans]):
        # Outermost element first: the highest lane has the deepest underline.
        ordered = sorted(piece.span_ids, key=lambda i: -lanes[i])
        firsts = [by_id[i].start == piece.start for i in ordered]
        # A badge where a stack begins says how many spans are stacked there.
        badge = str(len(ordered)) if len(ordered) > 1 and any(firsts) else ""
        layers = []
        for n, (span_id, first) in enumerate(zip(ordered, firsts, strict=True)):
            span = by_id[span_id]
            classes = f"hl code-{span.code_id} lane-{lanes[span_id]}"
            if first:
                classes += " first"
            if span_id in selected_ids:
                classes += " selected"
            layers.append(
                Layer(
                    span_id=str(span_id),
                    classes=classes,
                    key=(shortcuts.get(span.code_id) or "•") if first else "",
                    count=badge if n == len(ordered) - 1 else "",
                )
            )
        rendered.append(RenderedPiece(piece.text, tuple(layers)))
    return rendered


def shorten(text: str, length: int) -> str:
    """At most ``length`` characters, ending in "…" when cut (no Unicode normalisation)."""
    return text if len(text) <= length else text[: length - 1] + "…"


QUOTE_MARKS = frozenset("\"'“”‘’«»„‚‹›「」『』")
APOSTROPHES = frozenset("'’")


def _has_quote_marks(text: str) -> bool:
    for i, char in enumerate(text):
        if char not in QUOTE_MARKS:
            continue
        # An apostrophe inside a word ("Asia’s", "don't") is no quotation mark.
        inside_word = 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha()
        if not (char in APOSTROPHES and inside_word):
            return True
    return False


def quoted(text: str) -> str:
    """``text`` in curly quotation marks, unless it holds quotation marks of its own: a
    quote such as “They are all fake,” would otherwise show two pairs."""
    return text if _has_quote_marks(text) else f"“{text}”"
