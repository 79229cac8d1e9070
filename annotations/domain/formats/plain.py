"""Framing's own .txt, .csv and .jsonl, read by `textio.parse_file` and converted.

Labels in these files are doccano-style ``[start, end, "code"]`` in code points of the
normalised text and carry no coder. Columns and keys textio does not read are reported as
skipped here, so the neutral result says what was left out.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import PurePosixPath

from annotations.domain.formats.common import Collector, where
from annotations.domain.formats.files import Notes, Source, entries
from annotations.domain.formats.model import FormatResult, ImportedSpan
from annotations.domain.formats.offsets import TextOffsets, Unit, parse_unit
from annotations.domain.textio import parse_file

__all__ = ["read_plain"]

# Code points: Framing's own files, as textio reads them.
DEFAULT_UNIT = Unit.CODEPOINTS
_READ_KEYS = {
    "text",
    "label",
    "title",
    "external_id",
    "id",
    "outlet",
    "url",
    "published",
    "publication_date",
    "date",
}


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
            continue
        if suffix not in {".txt", ".csv", ".jsonl"}:
            out.skip("file", path, "not a .txt, .csv or .jsonl file")
            continue
        parsed = parse_file(path, content)
        for problem in parsed.problems:
            out.problems.append(problem)
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
        _report_unread(path, suffix, content, out)
    return out.result()


def _report_unread(path: str, suffix: str, content: bytes, out: Collector) -> None:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return  # textio has reported it
    if suffix == ".csv":
        header = next(csv.reader(io.StringIO(text)), [])
        for column in header:
            if column.strip().lower() not in _READ_KEYS and column.strip():
                out.skip("attribute", path, "column not imported", column.strip())
    elif suffix == ".jsonl":
        for number, line in enumerate(TextOffsets(text, Unit.CODEPOINTS).text.split("\n"), 1):
            try:
                record = json.loads(line) if line.strip() else None
            except (ValueError, RecursionError):
                continue  # textio has reported it
            if isinstance(record, dict):
                for key in sorted(set(record) - _READ_KEYS):
                    out.skip("attribute", where(path, number), "key not imported", key)
