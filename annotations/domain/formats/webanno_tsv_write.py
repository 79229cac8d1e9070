"""Write WebAnno TSV 3.3: one file per document and annotator, as INCEpTION exports them.

Layout ``annotation/<document>/<annotator>.tsv`` with one custom span layer
``webanno.custom.Framing|code|note``. Offsets are UTF-16 code units (see webanno_tsv).

TSV can only annotate whole tokens, so the writer makes tokens to fit the spans: words
(letters with their marks, digits) and single grapheme clusters otherwise, cut further at
every span boundary, and a whitespace stretch becomes a token where a span starts or ends
on it (INCEpTION reads a token's offsets, not its text). Sentences start at the first token
of a line that no span crosses; each sentence's ``#Text=`` lines hold everything up to the
next sentence, so line breaks, blank lines and indentation survive INCEpTION's rebuild of
the text exactly.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from itertools import pairwise

import regex

from annotations.domain.formats.files import Notes, safe_file_name, unique_names
from annotations.domain.formats.model import ExportAnnotation, ExportDocument, ExportSpan
from annotations.domain.formats.offsets import OffsetIndex, Unit, parse_unit
from annotations.domain.formats.webanno_tsv import DEFAULT_UNIT, escape_text, escape_value

__all__ = ["LAYER", "sentences_for", "tokens_for", "tsv_document", "write_webanno_tsv"]

LAYER = "webanno.custom.Framing"
HEADER = f"#FORMAT=WebAnno TSV 3.3\n#T_SP={LAYER}|code|note\n\n"
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}\p{Pc}]+|\X", regex.DOTALL)
_NEEDS_ESCAPE = regex.compile(r"[\x00-\x1f\\]")


def write_webanno_tsv(
    documents: Iterable[ExportDocument], *, offsets: str | None = None
) -> Iterator[tuple[str, bytes]]:
    unit = parse_unit(offsets, DEFAULT_UNIT)
    if unit is Unit.GRAPHEMES:
        raise ValueError("WebAnno TSV offsets are UTF-16 code units (or code points)")
    notes = Notes("WebAnno TSV")
    if unit is not Unit.UTF16:
        notes.add("Offsets count code points; INCEpTION expects UTF-16 code units.")
    names: dict[str, str] = {}
    used_documents: set[str] = set()
    for document in documents:
        folder, n = safe_file_name(document.id), 2
        base = folder
        while folder.lower() in used_documents:
            folder, n = f"{base}-{n}", n + 1
        used_documents.add(folder.lower())
        for annotation in document.annotations:
            if annotation.annotator not in names:
                names.update(unique_names([*names, annotation.annotator]))
            content = tsv_document(document.text, annotation, unit)
            yield f"annotation/{folder}/{names[annotation.annotator]}.tsv", content.encode()
    for annotator, name in names.items():
        if name != annotator:
            notes.add(f"Annotator {annotator!r} is written as {name}.tsv.")
    yield from notes.files()


def tsv_document(text: str, annotation: ExportAnnotation, unit: Unit = Unit.UTF16) -> str:
    """One TSV 3.3 file for one annotator's spans on `text`."""
    spans = sorted(annotation.spans, key=lambda s: (s.start, -s.end, s.code, s.note))
    tokens, covered = tokens_for(text, spans)
    starts = [start for start, _ in tokens]
    on_token: list[list[int]] = [[] for _ in tokens]
    token_count: list[int] = []
    for number, span in enumerate(spans):
        first, last = bisect_left(starts, span.start), bisect_right(starts, span.end - 1)
        token_count.append(last - first)
        for position in range(first, last):
            on_token[position].append(number)
    stacked = {number for numbers in on_token if len(numbers) > 1 for number in numbers}
    ids: dict[int, int] = {}
    for number in range(len(spans)):
        if token_count[number] > 1 or number in stacked:
            ids[number] = len(ids) + 1
    index = OffsetIndex(text, unit)
    parts = [HEADER]
    for sentence_number, (first, last, end) in enumerate(sentences_for(text, tokens, covered), 1):
        parts.append("\n")
        begin = tokens[first][0]
        parts.extend(f"#Text={escape_text(line)}\n" for line in text[begin:end].split("\n"))
        for position in range(first, last):
            start, stop = tokens[position]
            token = text[start:stop]
            shown = escape_text(token) if _NEEDS_ESCAPE.search(token) else token
            codes, notes = _cells([spans[n] for n in on_token[position]], on_token[position], ids)
            parts.append(
                f"{sentence_number}-{position - first + 1}\t"
                f"{index.from_codepoint(start)}-{index.from_codepoint(stop)}\t"
                f"{shown}\t{codes}\t{notes}\t\n"
            )
    return "".join(parts)


def _cells(spans: list[ExportSpan], numbers: list[int], ids: dict[int, int]) -> tuple[str, str]:
    if not spans:
        return "_", "_"
    codes, notes = [], []
    for span, number in zip(spans, numbers, strict=True):
        suffix = f"[{ids[number]}]" if number in ids else ""
        codes.append(escape_value(span.code) + suffix)
        notes.append((escape_value(span.note) if span.note else "*") + suffix)
    return "|".join(codes), "|".join(notes)


def tokens_for(text: str, spans: list[ExportSpan]) -> tuple[list[tuple[int, int]], bytearray]:
    """Token (start, end) pairs covering every span boundary, and which characters they hold."""
    covered = bytearray(len(text))
    cuts = {0, len(text)}
    for match in _WORD.finditer(text):
        if not match.group().isspace():
            covered[match.start() : match.end()] = b"\x01" * (match.end() - match.start())
            cuts.update(match.span())
    for span in spans:
        covered[span.start : span.end] = b"\x01" * (span.end - span.start)
        cuts.update((span.start, span.end))
    bounds = sorted(cuts)
    tokens = [(a, b) for a, b in pairwise(bounds) if covered[a]]
    if not tokens or tokens[0][0] != 0:  # a sentence, so the first token, must start at 0
        tokens.insert(0, (0, bounds[1]))
        covered[0 : bounds[1]] = b"\x01" * bounds[1]
    return tokens, covered


def sentences_for(
    text: str, tokens: list[tuple[int, int]], covered: bytearray
) -> list[tuple[int, int, int]]:
    """(first token, token after the last, end of the sentence's text) per sentence."""
    firsts = [0] + [
        position
        for position, (start, _) in enumerate(tokens)
        if position and text[start - 1] == "\n" and not covered[start - 1]
    ]
    sentences = []
    for number, first in enumerate(firsts):
        last = firsts[number + 1] if number + 1 < len(firsts) else len(tokens)
        end = tokens[last][0] - 1 if last < len(tokens) else len(text)
        sentences.append((first, last, end))
    return sentences
