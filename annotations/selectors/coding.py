"""Reads for the coding screen: the coder's own spans, drawn, listed and inspected."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.rendering import RenderedPiece, render_text, shorten
from ..models import Assignment, Code, Span


@dataclass(frozen=True, slots=True)
class SpanEntry:
    """A line of the span list, with its texts shortened once here rather than per render."""

    span: Span
    pk: str
    start: str
    quote: str
    note: str


@dataclass
class CodingScreen:
    assignment: Assignment
    codes: list[Code]
    spans: list[Span]
    pieces: list[RenderedPiece]
    groups: list[tuple[Code, list[SpanEntry]]]


def coding_screen(assignment: Assignment, *, selected_ids=frozenset()) -> CodingScreen:
    """Everything the coding page shows, for the coder's own spans only (2 queries).

    ``selected_ids`` are the spans the inspector shows, highlighted in the text.
    """
    document = assignment.document
    codes = list(Code.objects.filter(codebook__project_id=document.project_id))
    by_id = {code.pk: code for code in codes}
    spans = list(Span.objects.live().filter(assignment=assignment).order_by("start", "end", "pk"))
    for span in spans:
        span.code = by_id[span.code_id]  # no join: the codes are read anyway
    entries: dict[int, list[SpanEntry]] = {code.pk: [] for code in codes}
    for span in spans:
        entries[span.code_id].append(
            SpanEntry(
                span, str(span.pk), str(span.start), shorten(span.quote, 90), shorten(span.note, 80)
            )
        )
    return CodingScreen(
        assignment=assignment,
        codes=codes,
        spans=spans,
        pieces=render_text(
            document.text,
            spans,
            {code.pk: code.shortcut for code in codes},
            frozenset(selected_ids),
        ),
        groups=[(code, entries[code.pk]) for code in codes if entries[code.pk] or code.active],
    )


def spans_at(assignment: Assignment, offset: int) -> list[Span]:
    """The coder's live spans covering one character (the coder clicked a highlight)."""
    return list(assignment.spans.live().filter(start__lte=offset, end__gt=offset).order_by("start"))
