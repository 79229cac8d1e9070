"""Framing's own .txt, .csv and .jsonl.

``.txt`` and ``.csv`` are read by `textio.parse_file`; columns it does not read are reported
as skipped here, so the neutral result says what was left out.

``.jsonl`` is Framing's JSONL, the shape of the bundle's ``spans.jsonl``: doccano's record
(``text``, ``label: [[start, end, "code"], ...]``, notes as ``Comments`` written
``[start, end, "CODE"] note``) with offsets in code points, plus the keys Framing writes:
``coder`` (who made the line's spans), ``layer`` (``coder`` or ``gold``; a gold line's
spans are the annotator ``gold``) and the document's ``document_id`` and ``text_sha256``.
A line without ``coder`` names no coder. The same text on several lines (one per coder)
is one document with every line's spans.
"""

from __future__ import annotations

import csv
import io
from pathlib import PurePosixPath
from typing import Any

from annotations.domain.formats.common import Collector, decode
from annotations.domain.formats.doccano import RECORD_KEYS, read_record
from annotations.domain.formats.files import Notes, Source, entries, iter_jsonl
from annotations.domain.formats.model import FormatResult, ImportedSpan
from annotations.domain.formats.offsets import Unit, parse_unit
from annotations.domain.textio import parse_file

__all__ = ["DEFAULT_UNIT", "GOLD", "read_plain"]

# Code points: Framing's own files (Python string indices, like every offset it stores).
DEFAULT_UNIT = Unit.CODEPOINTS
GOLD = "gold"  # the annotator of a gold line
_READ_COLUMNS = {
    "text",
    "title",
    "external_id",
    "id",
    "outlet",
    "url",
    "published",
    "publication_date",
    "date",
}
# Framing writes these with every line; they carry nothing to import.
_FRAMING_KEYS = frozenset({*RECORD_KEYS, "coder", "layer", "document_id", "text_sha256"})


def read_plain(name: str, data: Source, *, offsets: str | None = None) -> FormatResult:
    if parse_unit(offsets, DEFAULT_UNIT) is not Unit.CODEPOINTS:
        raise ValueError(
            "Framing's .txt/.csv/.jsonl count code points; for a doccano export "
            "use --format doccano, which reads other units"
        )
    out = Collector("plain", Unit.CODEPOINTS)
    for path, content in entries(name, data):
        suffix = PurePosixPath(path).suffix.lower()
        if PurePosixPath(path).name == Notes.FILE:
            out.skip("file", path, "Framing's notes on an export")
        elif suffix == ".jsonl":
            _read_jsonl(path, content, out)
        elif suffix in {".txt", ".csv"}:
            _read_textio(path, suffix, content, out)
        else:
            out.skip("file", path, "not a .txt, .csv or .jsonl file")
    return out.result()


def _read_textio(path: str, suffix: str, content: bytes, out: Collector) -> None:
    parsed = parse_file(path, content)
    out.problems.extend(parsed.problems)
    for parsed_document in parsed.documents:
        meta = {
            "title": parsed_document.title,
            "external_id": parsed_document.external_id,
            "outlet": parsed_document.outlet,
            "url": parsed_document.url,
            "published": parsed_document.published,
        }
        document = out.document(parsed_document.text, meta, parsed_document.source)
        for start, end, code in parsed_document.labels:
            out.span(document, ImportedSpan(start, end, code, where=parsed_document.source))
    if suffix == ".csv":
        _report_unread_columns(path, content, out)


def _report_unread_columns(path: str, content: bytes, out: Collector) -> None:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return  # textio has reported it
    header = next(csv.reader(io.StringIO(text)), [])
    for column in header:
        if column.strip().lower() not in _READ_COLUMNS and column.strip():
            out.skip("attribute", path, "column not imported", column.strip())


def _read_jsonl(path: str, content: bytes, out: Collector) -> None:
    text, error = decode(content)
    if error:
        out.problem(path, None, error)
        return
    if not text.strip():
        out.problem(path, None, "file is empty")
        return
    for line, record in iter_jsonl(path, text, out):
        read_record(path, line, record, _line_coder(record), out, _FRAMING_KEYS)


def _line_coder(record: dict[str, Any]) -> str | None:
    coder = record.get("coder")
    if isinstance(coder, str) and coder.strip():
        return coder
    return GOLD if record.get("layer") == GOLD else None
