"""brat standoff: pairs of ``.txt`` and ``.ann`` files, one folder per coder.

Offsets: code points. brat's standoff page (brat.nlplab.org/standoff.html): offsets are
0-based character offsets into the ``.txt`` file, start included, end excluded; brat's
server is Python and slices the text as Python does; Framing's NOTES lists brat among the
tools that count code points. The ``.txt`` is never modified by brat, so offsets refer to
the file's text as it is (with CRLF, if it has any); Framing normalises after converting.

``.ann`` lines read (standoff.html): ``T1<TAB>Label 0 5<TAB>text`` become spans, the text
checked against the slice; ``#1<TAB>AnnotatorNotes T1<TAB>note`` become the span's note;
relations (R), events (E), attributes (A, M), normalisations (N) and equivalences (*) are
reported as skipped. A discontinuous span ``0 5;6 10`` is refused, except where every gap
is only line breaks and spaces with a line break in it: that is how brat writes one span
across lines (its ``.ann`` is line-oriented, brat issue #786), and it is read as one span.

brat has no annotator field: Framing writes one folder per coder and reads the folder a
``.ann`` sits in as its coder (or the `coder` given). Type names in brat may not contain
spaces and some punctuation, so codes are mapped to safe names; ``framing-codes.json``
(and visual.conf's ``[labels]``) record the mapping, and reading applies it back.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import replace
from itertools import pairwise
from pathlib import PurePosixPath

from annotations.domain.formats.common import Collector, decode, where
from annotations.domain.formats.files import (
    Notes,
    Source,
    entries,
    json_problem,
    loads,
    safe_file_name,
    unique_names,
)
from annotations.domain.formats.model import (
    ExportAnnotation,
    ExportDocument,
    FormatResult,
    ImportedSpan,
)
from annotations.domain.formats.offsets import TextOffsets, Unit, parse_unit

__all__ = ["DEFAULT_UNIT", "brat_type_names", "read_brat", "write_brat"]

# Code points: brat standoff.html offsets index the .txt as Python does (see above).
DEFAULT_UNIT = Unit.CODEPOINTS
CODES_FILE = "framing-codes.json"
CONFIG_FILES = {"annotation.conf", "visual.conf", "tools.conf", "kb_shortcuts.conf"}
_FRAGMENT = re.compile(r"(\d+) (\d+)")
_SKIPPED_LINES = {
    "R": ("relation", "relations are not imported"),
    "E": ("relation", "events are not imported (their trigger spans are)"),
    "*": ("relation", "equivalences are not imported"),
    "A": ("attribute", "attributes are not imported"),
    "M": ("attribute", "attributes are not imported"),
    "N": ("attribute", "normalisations are not imported"),
}


def read_brat(
    name: str,
    data: Source,
    *,
    offsets: str | None = None,
    coder: str | None = None,
    coder_from_folder: bool = True,
) -> FormatResult:
    unit = parse_unit(offsets, DEFAULT_UNIT)
    out = Collector("brat", unit)
    texts: dict[str, tuple[str, bytes]] = {}
    anns: dict[str, tuple[str, bytes]] = {}
    mapping: dict[str, str] = {}
    for path, content in entries(name, data):
        pure = PurePosixPath(path)
        if pure.name == Notes.FILE:
            out.skip("file", path, "Framing's notes on an export")
        elif pure.name == CODES_FILE:
            mapping = _read_mapping(path, content, out)
        elif pure.name in CONFIG_FILES:
            out.skip("file", path, "brat configuration is not imported")
        elif pure.suffix == ".txt":
            texts[str(pure.with_suffix(""))] = (path, content)
        elif pure.suffix == ".ann":
            anns[str(pure.with_suffix(""))] = (path, content)
        else:
            out.skip("file", path, "not a brat .txt or .ann file")
    for stem, (path, _content) in anns.items():
        if stem not in texts:
            out.problem(path, None, f"has no matching {PurePosixPath(stem).name}.txt")
    for stem, (text_path, text_bytes) in texts.items():
        raw, error = decode(text_bytes)
        if error:
            out.problem(text_path, None, error)
            continue
        if not raw.strip():
            out.problem(text_path, None, "the text file is empty")
            continue
        document = out.document(raw, {}, text_path)
        if stem not in anns:
            continue
        folder = PurePosixPath(stem).parent.name
        ann_coder = coder if coder is not None else (folder or None) if coder_from_folder else None
        ann_path, ann_bytes = anns[stem]
        _read_ann(ann_path, ann_bytes, TextOffsets(raw, unit), document, ann_coder, mapping, out)
    return out.result()


def _read_mapping(path: str, content: bytes, out: Collector) -> dict[str, str]:
    try:
        mapping = loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        out.problem(path, None, "invalid UTF-8; save the file with UTF-8 encoding")
        return {}
    except ValueError as err:  # invalid or unusable JSON
        out.problem(path, None, json_problem(err))
        return {}
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        out.problem(path, None, 'must map brat type names to codes: {"Type": "code"}')
        return {}
    return mapping


def _read_ann(
    path: str,
    content: bytes,
    offsets: TextOffsets,
    document: object,
    coder: str | None,
    mapping: dict[str, str],
    out: Collector,
) -> None:
    text, error = decode(content)
    if error:
        out.problem(path, None, error)
        return
    spans: dict[str, tuple[int, ImportedSpan]] = {}
    notes: dict[str, list[str]] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        ident = line.split("\t", 1)[0]
        kind = ident[:1]
        if kind == "T":
            span = _text_bound(path, number, line, offsets, coder, mapping, out)
            if span is not None:
                spans[ident] = (number, span)
        elif kind == "#":
            fields = line.split("\t", 2)
            target = fields[1].split(" ") if len(fields) > 1 else []
            if len(target) == 2 and target[0] == "AnnotatorNotes" and len(fields) == 3:
                notes.setdefault(target[1], []).append(fields[2])
            else:
                out.skip("comment", where(path, number), "comment lines are not imported")
        elif kind in _SKIPPED_LINES:
            what, reason = _SKIPPED_LINES[kind]
            out.skip(
                what, where(path, number), reason, line.split("\t")[1][:60] if "\t" in line else ""
            )
        else:
            out.problem(path, number, f"not a brat annotation line (id {ident[:20]!r})")
    for target in notes:
        if target not in spans:
            out.skip("comment", path, "note on an annotation that is not a span", target)
    for ident, (_number, span) in spans.items():
        note = "\n".join(notes.get(ident, []))
        out.span(document, replace(span, note=note))
    if coder is not None:
        out.coder(document, coder)


def _text_bound(
    path: str,
    number: int,
    line: str,
    offsets: TextOffsets,
    coder: str | None,
    mapping: dict[str, str],
    out: Collector,
) -> ImportedSpan | None:
    fields = line.split("\t", 2)
    if len(fields) < 2 or " " not in fields[1]:
        out.problem(path, number, "a text-bound line must be 'T1<TAB>Type start end<TAB>text'")
        return None
    kind, _, ranges = fields[1].partition(" ")
    quote = fields[2] if len(fields) == 3 else None
    pieces = []
    for piece in ranges.split(";"):
        match = _FRAGMENT.fullmatch(piece.strip())
        if match is None:
            out.problem(path, number, f"offsets {ranges!r} are not 'start end'")
            return None
        pieces.append((int(match.group(1)), int(match.group(2))))
    start, end = pieces[0][0], pieces[-1][1]
    if len(pieces) > 1:
        converted = [offsets.span(s, e) for s, e in pieces]
        bad = next((c for c in converted if isinstance(c, str)), None)
        if bad is not None:
            out.problem(path, number, bad)
            return None
        index = offsets.index(offsets.unit)
        raw = [(index.to_codepoint(s) or 0, index.to_codepoint(e) or 0) for s, e in pieces]
        gaps = [offsets.raw[e:s] for (_, e), (s, _) in pairwise(raw)]
        if not all(_is_line_gap(gap) for gap in gaps):
            out.problem(
                path,
                number,
                f"discontinuous span {ranges!r}: Framing spans are one stretch of text; "
                "split it into separate spans in brat, or join the pieces",
            )
            return None
        if quote is not None:  # brat joins the fragments' texts with a space
            quote_ok = quote == " ".join(offsets.raw[s:e] for s, e in raw)
            quote = offsets.raw[raw[0][0] : raw[-1][1]] if quote_ok else quote
    converted_span = offsets.span(start, end, quote)
    if isinstance(converted_span, str):
        out.problem(path, number, converted_span)
        return None
    return ImportedSpan(
        start=converted_span[0],
        end=converted_span[1],
        code=mapping.get(kind, kind),
        coder=coder,
        where=where(path, number),
    )


def _is_line_gap(gap: str) -> bool:
    return "\n" in gap and not gap.strip(" \t\r\n")


def brat_type_names(codes: Iterable[str]) -> dict[str, str]:
    """code -> a brat type name: ASCII letters, digits, '_' and '-', starting with a letter."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for code in codes:
        if code in names:
            continue
        ascii_name = unicodedata.normalize("NFKD", code).encode("ascii", "ignore").decode()
        base = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_-]", "_", ascii_name)).strip("_-")
        if not base or not base[0].isalpha():
            base = f"C_{base}" if base else "Code"
        candidate, n = base, 2
        while candidate in used:
            candidate, n = f"{base}-{n}", n + 1
        used.add(candidate)
        names[code] = candidate
    return names


def write_brat(
    documents: Iterable[ExportDocument],
    *,
    offsets: str | None = None,
    codes: Iterable[str] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """``<coder>/<document>.txt`` and ``.ann`` per annotation, then the configuration."""
    unit = parse_unit(offsets, DEFAULT_UNIT)
    if unit is not Unit.CODEPOINTS:
        raise ValueError("brat counts code points; it has no other offset unit")
    notes = Notes("brat")
    types = brat_type_names(codes or ())
    folders: dict[str, str] = {}
    used_files: dict[str, set[str]] = {}
    for document in documents:
        for annotation in document.annotations:
            if annotation.annotator not in folders:
                folders.update(unique_names([*folders, annotation.annotator]))
            folder = folders[annotation.annotator]
            taken = used_files.setdefault(folder, set())
            stem, n = safe_file_name(document.id), 2
            base = stem
            while stem.lower() in taken:
                stem, n = f"{base}-{n}", n + 1
            taken.add(stem.lower())
            lines = _ann_lines(document, annotation, types, notes)
            yield f"{folder}/{stem}.txt", document.text.encode("utf-8")
            yield f"{folder}/{stem}.ann", "".join(f"{line}\n" for line in lines).encode()
    for annotator, folder in folders.items():
        if folder != annotator:
            notes.add(f"Annotator {annotator!r} is written to the folder {folder}/.")
    yield "annotation.conf", _annotation_conf(types).encode("utf-8")
    yield "visual.conf", _visual_conf(types).encode("utf-8")
    yield (
        CODES_FILE,
        json.dumps(
            {name: code for code, name in types.items()}, ensure_ascii=False, indent=2
        ).encode("utf-8"),
    )
    renamed = [f"{code!r} as {name}" for code, name in types.items() if code != name]
    if renamed:
        notes.add(
            "Codes renamed for brat (framing-codes.json maps them back): " + "; ".join(renamed)
        )
    yield from notes.files()


def _ann_lines(
    document: ExportDocument,
    annotation: ExportAnnotation,
    types: dict[str, str],
    notes: Notes,
) -> list[str]:
    lines: list[str] = []
    number = 0
    for span in sorted(annotation.spans, key=lambda s: (s.start, s.end, s.code)):
        if span.code not in types:
            types.update(brat_type_names([*types, span.code]))
        pieces = [
            (span.start + m.start(), span.start + m.end())
            for m in re.finditer(r"[^\n]+", document.text[span.start : span.end])
        ]
        where_ = f"Document {document.id}, {annotation.annotator}, span {span.start}–{span.end}"
        if not pieces:
            notes.add(f"{where_} covers only line breaks, which brat cannot hold; left out.")
            continue
        if pieces[0][0] != span.start or pieces[-1][1] != span.end:
            notes.add(
                f"{where_} begins or ends with a line break, which brat cannot hold; "
                "written without it."
            )
        number += 1
        ranges = ";".join(f"{s} {e}" for s, e in pieces)
        quote = " ".join(document.text[s:e] for s, e in pieces)
        lines.append(f"T{number}\t{types[span.code]} {ranges}\t{quote}")
        if span.note:
            note = " ".join(span.note.splitlines())
            if note != span.note:
                notes.add(f"{where_}: the note's line breaks are written as spaces.")
            lines.append(f"#{number}\tAnnotatorNotes T{number}\t{note}")
    return lines


def _annotation_conf(types: dict[str, str]) -> str:
    entities = "".join(f"{name}\n" for name in types.values())
    return (
        "# Written by Framing: one entity type per code (framing-codes.json maps names back).\n"
        f"[entities]\n{entities}\n"
        "[relations]\n"
        "# Framing's spans may overlap and nest.\n"
        "<OVERLAP>\tArg1:<ENTITY>, Arg2:<ENTITY>, <OVL-TYPE>:<ANY>\n\n"
        "[events]\n\n[attributes]\n"
    )


def _visual_conf(types: dict[str, str]) -> str:
    labels = "".join(
        f"{name} | {' '.join(code.replace('|', '/').split())}\n" for code, name in types.items()
    )
    return f"[labels]\n{labels}\n[drawing]\n"
