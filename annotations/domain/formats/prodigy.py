"""Prodigy / spaCy JSONL: read ``prodigy db-out`` exports, write files ``db-in`` reads.

Offsets: code points. Prodigy's span ``start``/``end`` are character offsets into
``text`` as spaCy computes them (``Span.start_char``/``end_char``), which are Python string
indices, i.e. code points; brat, Prodigy and spaCy count code points per Framing's NOTES.

A record is ``{"text", "spans": [{"start", "end", "label", "token_start", "token_end",
"text"?}], "answer": "accept" | "reject" | "ignore", "_annotator_id", "_session_id",
"meta": {...}}``. With named multi-user sessions Prodigy sets ``_annotator_id`` to
``<dataset>-<session name>``; Framing keeps it as the file names it. Only accepted answers
are imported; a record without ``answer`` (a prepared input file) is read as it is.
spaCy's ``Doc.to_json()`` ``ents`` ([{"start", "end", "label"}]) are read like spans.
Framing writes a span's note as an extra ``"note"`` key in the span, which Prodigy keeps.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from annotations.domain.formats.common import Collector, decode, read_meta, text_problem, where
from annotations.domain.formats.files import Notes, Source, entries, iter_jsonl, json_line
from annotations.domain.formats.model import ExportDocument, FormatResult
from annotations.domain.formats.offsets import OffsetIndex, TextOffsets, Unit, parse_unit

__all__ = ["DEFAULT_UNIT", "read_prodigy", "write_prodigy"]

# Code points: spaCy Span.start_char/end_char are Python string indices (see above).
DEFAULT_UNIT = Unit.CODEPOINTS
OUTPUT_FILE = "annotations.jsonl"

# Keys that carry no annotation (hashes, view settings, tokenisation Prodigy derives).
_QUIET_KEYS = {
    "text",
    "spans",
    "ents",
    "answer",
    "meta",
    "tokens",
    "_input_hash",
    "_task_hash",
    "_view_id",
    "_timestamp",
    "_session_id",
    "_annotator_id",
    "_is_binary",
    "priority",
    "score",
    "pattern",
    "html",
    "title",
    "external_id",
    "id",
    "outlet",
    "url",
    "published",
    "publication_date",
    "date",
}


def read_prodigy(name: str, data: Source, *, offsets: str | None = None) -> FormatResult:
    unit = parse_unit(offsets, DEFAULT_UNIT)
    out = Collector("Prodigy", unit)
    for path, content in entries(name, data):
        if not path.lower().endswith((".jsonl", ".json")):
            out.skip("file", path, "not a Prodigy JSONL file")
            continue
        text, error = decode(content)
        if error:
            out.problem(path, None, error)
            continue
        for line, record in iter_jsonl(path, text, out):
            _read_record(path, line, record, out)
    return out.result()


def _read_record(name: str, line: int, record: dict[str, Any], out: Collector) -> None:
    place = where(name, line)
    answer = record.get("answer", "accept")
    if answer != "accept":
        spans = len(record.get("spans") or [])
        out.skip("record", place, f"answer is '{answer}', not 'accept'", f"{spans} spans")
        return
    if "text" not in record:
        out.problem(name, line, "missing required key 'text'")
        return
    raw = record["text"]
    errors = [error] if (error := text_problem(raw)) else []
    meta = read_meta(record, errors)
    for message in errors:
        out.problem(name, line, message)
    if errors:
        return
    document = out.document(raw, meta, place)
    offsets = TextOffsets(raw, out.unit)
    coder = record.get("_annotator_id") or record.get("_session_id")
    coder = str(coder) if coder is not None else None
    for key in ("spans", "ents"):
        items = record.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            out.problem(name, line, f"'{key}' must be a list")
            continue
        for number, item in enumerate(items, start=1):
            label = f"{key} {number}"
            if not isinstance(item, dict):
                out.problem(name, line, f'{label}: must be {{"start", "end", "label"}}')
                continue
            quote = item.get("text") if isinstance(item.get("text"), str) else None
            note = item.get("note") if isinstance(item.get("note"), str) else ""
            out.add_span(
                document,
                offsets,
                item.get("start"),
                item.get("end"),
                item.get("label"),
                name=name,
                line=line,
                coder=coder,
                note=note,
                quote=quote,
                label=label,
            )
    for relation in record.get("relations") or []:
        out.skip("relation", place, "relations are not imported", str(relation)[:60])
    if "accept" in record or "options" in record:
        out.skip("category", place, "choice answers are not imported", str(record.get("accept")))
    if "label" in record:
        out.skip(
            "category", place, "a label of the whole text is not imported", str(record["label"])
        )
    if "cats" in record:
        out.skip(
            "category", place, "document categories are not imported", str(record["cats"])[:60]
        )
    quiet = _QUIET_KEYS | {"relations", "accept", "options", "label", "cats"}
    for key in sorted(set(record) - quiet):
        out.skip("attribute", place, "key not imported", key)
    if coder is not None:
        out.coder(document, coder)


def write_prodigy(
    documents: Iterable[ExportDocument], *, offsets: str | None = None
) -> Iterator[tuple[str, bytes]]:
    """annotations.jsonl: one accepted record per document and annotator."""
    unit = parse_unit(offsets, DEFAULT_UNIT)
    notes = Notes("Prodigy")
    if unit is not Unit.CODEPOINTS:
        notes.add(f"Offsets count {unit.value}; Prodigy and spaCy count code points.")
    lines: list[str] = []
    for document in documents:
        index = OffsetIndex(document.text, unit)
        for annotation in document.annotations:
            spans = []
            for span in sorted(annotation.spans, key=lambda s: (s.start, s.end, s.code)):
                start, end = index.from_codepoint(span.start), index.from_codepoint(span.end)
                if start is None or end is None:
                    notes.add(f"Document {document.id}: span {span.start}–{span.end} left out.")
                    continue
                item: dict[str, Any] = {
                    "start": start,
                    "end": end,
                    "label": span.code,
                    "text": document.text[span.start : span.end],
                }
                if span.note:
                    item["note"] = span.note
                spans.append(item)
            record = {
                "text": document.text,
                "spans": spans,
                "answer": "accept",
                "_annotator_id": annotation.annotator,
                "_session_id": annotation.annotator,
                "meta": document.meta(),
            }
            lines.append(json_line(record) + "\n")
    yield OUTPUT_FILE, "".join(lines).encode("utf-8")
    yield from notes.files()
