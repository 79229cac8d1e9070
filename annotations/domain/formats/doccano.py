"""doccano JSONL: read its sequence-labelling exports, write files doccano imports.

Offsets: doccano's editor counts UTF-16 code units (JavaScript string indices) unless the
project has "Count grapheme clusters as one character", and its JSONL import and export
pass offsets through unchanged. Source: doccano issue #2290 ("Sequence labels are
TypeScript/JavaScript-style": in "👨🏻‍🚒 firemen drive firetrucks" doccano gives
firetrucks 22–32, Python 19–29), and Framing's NOTES (checked by rendering in Chromium).
So the default unit is UTF-16; ``--offsets graphemes`` reads grapheme-mode projects.

Record shapes (doccano's backend/data_export, catalog and formatters):
- ``{"text", "label": [[start, end, "L"], ...], "Comments": [...], <meta keys>}`` for a
  sequence-labelling project; older releases wrote ``labels``;
- ``{"text", "entities": [{"id", "label", "start_offset", "end_offset"}], "relations":
  [{"id", "from_id", "to_id", "type"}], "Comments"}`` with relation labelling;
- ``{"text", "cats": [...], "label": [...]}`` for intent detection (categories + spans),
  and ``"label": ["A", "B"]`` for text classification (categories only).

The export is a ZIP: ``all.jsonl`` for a project with "Share annotations across all
users" (collaborative), otherwise one ``<username>.jsonl`` per member holding every
example with that member's labels (doccano's data_export/celery_tasks.py). Spans in a
per-user file go to that user; spans in ``all.jsonl`` or a lone file have no coder.
Every member's file lists every example, so a user counts as having coded a document only
where they marked a span (doccano does not say who opened an example and found nothing).

doccano comments belong to a whole example, not a span. Framing writes a span's note as a
comment ``[start, end, "CODE"] note`` (offsets in the file's unit) and reads such comments
back as notes; other comments are reported as skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import PurePosixPath
from typing import Any

from annotations.domain.formats.common import (
    Collector,
    decode,
    is_int,
    read_meta,
    text_problem,
    where,
)
from annotations.domain.formats.files import (
    Notes,
    Source,
    entries,
    iter_jsonl,
    json_line,
    unique_names,
)
from annotations.domain.formats.model import ExportDocument, FormatResult
from annotations.domain.formats.offsets import OffsetIndex, TextOffsets, Unit, parse_unit

__all__ = ["DEFAULT_UNIT", "RECORD_KEYS", "read_doccano", "read_record", "write_doccano"]

# UTF-16 code units: doccano issue #2290; graphemes in grapheme mode (see above).
DEFAULT_UNIT = Unit.UTF16
ALL_FILE = "all"  # doccano's collaborative export: all.jsonl

_SPAN_KEYS = ("label", "labels", "entities", "annotations")
_KNOWN_KEYS = {
    *_SPAN_KEYS,
    "text",
    "data",
    "relations",
    "cats",
    "Comments",
    "comments",
    "meta",
    "id",
    "title",
    "external_id",
    "outlet",
    "url",
    "published",
    "publication_date",
    "date",
}
_NOTE = re.compile(r'\[(\d+), (\d+), ("(?:[^"\\]|\\.)*")\] (.*)', re.DOTALL)


def read_doccano(
    name: str, data: Source, *, offsets: str | None = None, coder: str | None = None
) -> FormatResult:
    """Read a doccano JSONL file or export ZIP. `coder` names the annotator of a lone file."""
    unit = parse_unit(offsets, DEFAULT_UNIT)
    out = Collector("doccano", unit)
    files = entries(name, data)
    in_archive = len(files) > 1 or files[0][0] != name
    for path, content in files:
        stem, suffix = PurePosixPath(path).stem, PurePosixPath(path).suffix.lower()
        if suffix not in {".jsonl", ".json"}:
            out.skip("file", path, "not a doccano JSONL file")
            continue
        file_coder = coder
        if in_archive and stem != ALL_FILE:
            file_coder = stem  # doccano's per-member export: <username>.jsonl
        text, error = decode(content)
        if error:
            out.problem(path, None, error)
            continue
        for line, record in iter_jsonl(path, text, out):
            _read_record(path, line, record, file_coder, out)
    return out.result()


def _read_record(
    name: str,
    line: int,
    record: dict[str, Any],
    coder: str | None,
    out: Collector,
    known: frozenset[str] | set[str] = _KNOWN_KEYS,
) -> None:
    place = where(name, line)
    text_key = "text" if "text" in record else "data" if "data" in record else None
    if text_key is None:
        out.problem(name, line, "missing required key 'text'")
        return
    raw = record[text_key]
    error = text_problem(raw, text_key)
    errors: list[str] = [error] if error else []
    meta = read_meta(record, errors)
    if errors:
        for message in errors:
            out.problem(name, line, message)
        return
    document = out.document(raw, meta, place)
    offsets = TextOffsets(raw, out.unit)
    notes = _notes(record, place, out)
    for key in _SPAN_KEYS:
        if key in record:
            _read_spans(record[key], key, document, offsets, notes, coder, name, line, out)
    for relation in _as_list(record.get("relations")):
        out.skip("relation", place, "relations are not imported", _describe(relation))
    for category in _as_list(record.get("cats")):
        out.skip("category", place, "document categories are not imported", str(category))
    for key in sorted(set(record) - known):
        out.skip("attribute", place, "metadata key not imported", key)
    for start, end, code in notes:
        out.skip("comment", place, "note refers to no span in this record", f"{start}–{end} {code}")


# Framing's own JSONL shares doccano's record shape (plain.py reads it with these).
read_record = _read_record
RECORD_KEYS = _KNOWN_KEYS


def _read_spans(
    items: Any,
    key: str,
    document: Any,
    offsets: TextOffsets,
    notes: dict[tuple[int, int, str], str],
    coder: str | None,
    name: str,
    line: int,
    out: Collector,
) -> None:
    if not isinstance(items, list):
        out.problem(name, line, f"'{key}' must be a list")
        return
    for number, item in enumerate(items, start=1):
        label = f"{key} {number} {json.dumps(item, ensure_ascii=False)[:80]}"
        if isinstance(item, str):  # text classification: a category of the whole text
            out.skip("category", where(name, line), "document categories are not imported", item)
            continue
        span_coder = coder
        if isinstance(item, list) and len(item) == 3:
            start, end, code = item
        elif isinstance(item, dict) and "start_offset" in item:
            start, end, code = item.get("start_offset"), item.get("end_offset"), item.get("label")
            if item.get("user") is not None:
                span_coder = str(item["user"])
            if is_int(code):
                out.problem(
                    name,
                    line,
                    f"{label}: the label is doccano's internal label id ({code}), not its "
                    "name; export from doccano 1.2 or later, which writes label names",
                )
                continue
        else:
            out.problem(name, line, f'{label}: must be [start, end, "label"]')
            continue
        note = notes.pop((start, end, code), "") if is_int(start) and is_int(end) else ""
        out.add_span(
            document,
            offsets,
            start,
            end,
            code,
            name=name,
            line=line,
            coder=span_coder,
            note=note,
            label=label,
        )


def _notes(record: dict[str, Any], place: str, out: Collector) -> dict[tuple[int, int, str], str]:
    """Framing's span notes among the record's comments; other comments are skipped."""
    notes: dict[tuple[int, int, str], str] = {}
    for comment in _as_list(record.get("Comments", record.get("comments"))):
        text = comment.get("text") if isinstance(comment, dict) else comment
        match = _NOTE.fullmatch(text) if isinstance(text, str) else None
        if match:
            code = json.loads(match.group(3))
            notes[(int(match.group(1)), int(match.group(2)), code)] = match.group(4)
        else:
            out.skip(
                "comment",
                place,
                "doccano comments belong to the whole text, not to a span",
                f"{text!s:.60}",
            )
    return notes


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _describe(relation: Any) -> str:
    if isinstance(relation, dict):
        return f"{relation.get('type', '?')}: {relation.get('from_id')} -> {relation.get('to_id')}"
    return str(relation)[:60]


def write_doccano(
    documents: Iterable[ExportDocument],
    *,
    offsets: str | None = None,
    layout: str = "per_coder",
) -> Iterator[tuple[str, bytes]]:
    """doccano JSONL, like doccano's own export ZIP.

    layout "per_coder": one ``<annotator>.jsonl`` per annotator, holding the documents that
    annotator has an annotation for (doccano's layout for a non-collaborative project).
    layout "single": one ``all.jsonl``, one line per document with every annotator's
    spans merged; doccano has nowhere to record who made a span, so coders are lost.
    """
    unit = parse_unit(offsets, DEFAULT_UNIT)
    notes = Notes("doccano")
    if unit is not Unit.CODEPOINTS:
        notes.add(
            f"Offsets count {unit.value} (doccano's default is utf16); Framing's own files "
            "count code points."
        )
    if layout == "single":
        lines = []
        for document in documents:
            spans = {s for a in document.annotations for s in a.spans}
            lines.append(_line(document, sorted(spans, key=_order), unit, notes, "all"))
        if lines:
            yield f"{ALL_FILE}.jsonl", "".join(f"{line}\n" for line in lines).encode("utf-8")
        notes.add("all.jsonl merges every annotator's spans: doccano records no annotator.")
        yield from notes.files()
        return
    if layout != "per_coder":
        raise ValueError(f"unknown doccano layout {layout!r}; use per_coder or single")
    per_annotator: dict[str, list[str]] = {}
    for document in documents:
        for annotation in document.annotations:
            line = _line(document, annotation.spans, unit, notes, annotation.annotator)
            per_annotator.setdefault(annotation.annotator, []).append(line)
    names = unique_names(per_annotator)
    for annotator, lines in per_annotator.items():
        if names[annotator] != annotator:
            notes.add(f"Annotator {annotator!r} is written as {names[annotator]}.jsonl.")
        yield f"{names[annotator]}.jsonl", "".join(f"{line}\n" for line in lines).encode()
    yield from notes.files()


def _order(span: Any) -> tuple[int, int, str, str]:
    return (span.start, span.end, span.code, span.note)


def _line(
    document: ExportDocument, spans: Sequence[Any], unit: Unit, notes: Notes, annotator: str
) -> str:
    index = OffsetIndex(document.text, unit)
    labels: list[list[Any]] = []
    comments: list[str] = []
    for span in sorted(spans, key=_order):
        start, end = index.from_codepoint(span.start), index.from_codepoint(span.end)
        if start is None or end is None:
            notes.add(
                f"Document {document.id}, {annotator}: span {span.start}–{span.end} "
                f"{span.code!r} starts or ends inside a grapheme cluster and is left out."
            )
            continue
        labels.append([start, end, span.code])
        if span.note:
            comments.append(
                f"[{start}, {end}, {json.dumps(span.code, ensure_ascii=False)}] {span.note}"
            )
    record: dict[str, Any] = {"text": document.text, "label": labels, **document.meta()}
    if comments:
        record["Comments"] = comments
    return json_line(record)
