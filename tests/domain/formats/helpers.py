"""Shared texts and builders for the format tests: the hard cases every format must keep."""

from __future__ import annotations

import json

from hypothesis import strategies as st

from annotations.domain.formats import ExportAnnotation, ExportDocument, ExportSpan, FormatResult
from annotations.domain.textio import normalise_text

# ZWJ family, skin tones, a combining accent, Khmer, curly quotes, newlines and a blank line.
TEXT = (
    "“Framing” 👩🏽\u200d🔬 said cafe\u0301 👍🏿 twice.\n\n"
    "ភាសាខ្មែរ — 👨\u200d👩\u200d👧\u200d👦 family ‘quoted’ end.\n"
    "Last line"
)


def at(text: str, piece: str, occurrence: int = 0) -> tuple[int, int]:
    """Code-point (start, end) of `piece` in `text`."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(piece, start + 1)
    return start, start + len(piece)


def span(text: str, piece: str, code: str, note: str = "") -> ExportSpan:
    start, end = at(text, piece)
    return ExportSpan(start, end, code, note)


def study() -> list[ExportDocument]:
    """Two documents, two coders, overlapping and nested spans, notes, a coder with none."""
    alice = (
        span(TEXT, "“Framing”", "Quote", "opening quote"),
        span(TEXT, "👩🏽\u200d🔬 said", "Actor"),
        span(TEXT, "👩🏽\u200d🔬", "Emoji"),
        span(TEXT, "cafe\u0301 👍🏿", "Combining"),
        span(TEXT, "ភាសាខ្មែរ", "Khmer", "line one\nline two"),
        span(TEXT, "twice.\n\nភាសា", "Across lines"),
        span(TEXT, "👨\u200d👩\u200d👧\u200d👦", "Emoji"),
        span(TEXT, "Last line", "Economy"),
    )
    bob = (
        span(TEXT, "👩🏽\u200d🔬 said cafe\u0301", "Actor"),
        span(TEXT, "‘quoted’", "Quote"),
    )
    second = "Plain second document.\nWith 😀 emoji."
    return [
        ExportDocument(
            id="doc-1",
            text=TEXT,
            title="First",
            external_id="ext-1",
            annotations=(ExportAnnotation("alice", alice), ExportAnnotation("bob", bob)),
        ),
        ExportDocument(
            id="doc-2",
            text=second,
            annotations=(
                ExportAnnotation("alice", (span(second, "😀", "Emoji"),)),
                ExportAnnotation("carol", ()),
            ),
        ),
    ]


def expected(documents: list[ExportDocument], *, notes: bool = True) -> dict[str, set]:
    """text -> {(start, end, code, coder, note)} as the export holds them."""
    return {
        d.text: {
            (s.start, s.end, s.code, a.annotator, s.note if notes else "")
            for a in d.annotations
            for s in a.spans
        }
        for d in documents
    }


def imported(result: FormatResult, *, notes: bool = True) -> dict[str, set]:
    assert result.ok, [str(p) for p in result.problems]
    return {
        d.text: {(s.start, s.end, s.code, s.coder, s.note if notes else "") for s in d.spans}
        for d in result.documents
    }


def messages(result: FormatResult) -> list[str]:
    return [str(problem) for problem in result.problems]


def jsonl(*records: object) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def utf16(text: str, start: int, end: int) -> tuple[int, int]:
    """UTF-16 offsets of a code-point span, computed independently of the code under test."""
    return len(text[:start].encode("utf-16-le")) // 2, len(text[:end].encode("utf-16-le")) // 2


# Pieces that break naive offset code, mixed with arbitrary characters.
PIECES = ["a", " ", "\n", "é", "e\u0301", "😀", "👩🏽\u200d🔬", "ក្មែរ", "“", "”", "\t"]
CHARACTERS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\ufeff")
TEXTS = (
    st.lists(st.one_of(st.sampled_from(PIECES), CHARACTERS), min_size=1, max_size=25)
    .map("".join)
    .map(normalise_text)
    .filter(lambda text: text.strip())
)


@st.composite
def documents(draw, codes=("A", "B c", "Ü")):
    """One document with up to two coders' random spans (any boundaries, overlaps allowed)."""
    text = draw(TEXTS)
    annotations = []
    for coder in draw(
        st.lists(st.sampled_from(["ann", "bo b"]), min_size=1, max_size=2, unique=True)
    ):
        spans = set()
        for _ in range(draw(st.integers(0, 4))):
            start = draw(st.integers(0, len(text) - 1))
            end = draw(st.integers(start + 1, len(text)))
            spans.add(ExportSpan(start, end, draw(st.sampled_from(codes))))
        annotations.append(
            ExportAnnotation(coder, tuple(sorted(spans, key=lambda s: (s.start, s.end, s.code))))
        )
    return ExportDocument("d", text, annotations=tuple(annotations))
