"""Shape export rows and write them as CSV or doccano JSONL.

Two CSV flavours exist because their readers want opposite things:

- "analysis" (R, pandas, Stata): every value exactly as stored, so that in Python
  `text[start:end] == quote` holds for every span row.
- "excel": a UTF-8 byte-order mark so Excel detects the encoding, and free-text cells
  that Excel would run as a formula (= + - @ tab CR) prefixed with an apostrophe. This
  alters quotes, so it is for reading, never for computing.

Nothing here touches files or the database: callers pass rows in and get text out.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any, TextIO

__all__ = [
    "CODEBOOK_COLUMNS",
    "CODEBOOK_FILE",
    "DOCCANO_FILE",
    "DOCUMENTS_FILE",
    "DOCUMENT_COLUMNS",
    "FREE_TEXT_COLUMNS",
    "README_FILE",
    "README_TEXT",
    "RELIABILITY_KEY_COLUMNS",
    "SPANS_FILE",
    "SPAN_COLUMNS",
    "CsvFlavour",
    "context",
    "doccano_line",
    "format_value",
    "iter_csv",
    "neutralise_formula",
    "reliability_columns",
    "reliability_file_name",
    "reliability_rows",
    "render_readme",
    "write_csv",
]

SPANS_FILE = "spans.csv"
DOCUMENTS_FILE = "documents.csv"
CODEBOOK_FILE = "codebook.csv"
DOCCANO_FILE = "spans.jsonl"
README_FILE = "README.txt"

SPAN_COLUMNS: tuple[str, ...] = (
    "project",
    "document_id",
    "external_id",
    "title",
    "outlet",
    "url",
    "published",
    "text_sha256",
    "layer",
    "coder",
    "code",
    "start",
    "end",
    "quote",
    "context_before",
    "context_after",
    "note",
    "created",
    "updated",
    "provenance",
    "rationale",
)
DOCUMENT_COLUMNS: tuple[str, ...] = (
    "document_id",
    "external_id",
    "title",
    "outlet",
    "url",
    "published",
    "text_sha256",
    "length",
    "text",
)
CODEBOOK_COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "definition",
    "guidance",
    "colour",
    "shortcut",
    "active",
    "order",
)
RELIABILITY_KEY_COLUMNS: tuple[str, ...] = ("document_id", "unit_start", "unit_end")

# Cells a person or an imported file could have typed. Ids, hashes, offsets, dates and
# counts are never touched: analysts join and slice on them. Reliability files have
# coder names as headers, so the excel flavour neutralises every header cell as well.
FREE_TEXT_COLUMNS: frozenset[str] = frozenset(
    {
        "project",
        "title",
        "outlet",
        "url",
        "coder",
        "code",
        "quote",
        "context_before",
        "context_after",
        "note",
        "provenance",
        "rationale",
        "name",
        "definition",
        "guidance",
        "colour",
        "shortcut",
        "text",
    }
)

# OWASP's list of characters that make spreadsheet software evaluate a cell.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_BOM = "\ufeff"
_CHUNK_CHARS = 16_384  # a few rows per chunk for large texts, many for short ones


class CsvFlavour(StrEnum):
    ANALYSIS = "analysis"
    EXCEL = "excel"


def context(text: str, start: int, end: int, width: int = 40) -> tuple[str, str]:
    """Up to `width` code points either side of text[start:end], cut at the text's edges."""
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"span [{start}, {end}) is outside a text of length {len(text)}")
    return text[max(0, start - width) : start], text[end : end + width]


def neutralise_formula(value: str) -> str:
    """Prefix an apostrophe so Excel shows the cell as text instead of evaluating it."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def format_value(value: Any) -> str:
    """One cell as text: None empty, bools true/false, dates and datetimes ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            # A naive timestamp is ambiguous in a file read in another time zone.
            raise ValueError(f"datetime {value!r} has no time zone")
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _cells(columns: Sequence[str], row: Mapping[str, Any], flavour: CsvFlavour) -> list[str]:
    cells = []
    for column in columns:
        if column not in row:
            raise KeyError(f"export row has no value for column '{column}'")
        cell = format_value(row[column])
        if flavour is CsvFlavour.EXCEL and column in FREE_TEXT_COLUMNS:
            cell = neutralise_formula(cell)
        cells.append(cell)
    return cells


def iter_csv(
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    flavour: CsvFlavour | str = CsvFlavour.ANALYSIS,
) -> Iterator[str]:
    """CSV text in chunks, for Django's StreamingHttpResponse (encode each as UTF-8).

    The first chunk is the header (preceded by a BOM in the excel flavour); later
    chunks hold whole rows. Rows use RFC 4180 quoting and CRLF line ends (the csv
    module's default); line breaks inside values are written unchanged.
    """
    flavour = CsvFlavour(flavour)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = list(columns)
    if flavour is CsvFlavour.EXCEL:
        header = [neutralise_formula(name) for name in header]
    writer.writerow(header)
    yield (_BOM if flavour is CsvFlavour.EXCEL else "") + _drain(buffer)
    for row in rows:
        writer.writerow(_cells(columns, row, flavour))
        if buffer.tell() >= _CHUNK_CHARS:
            yield _drain(buffer)
    if buffer.tell():
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    chunk = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return chunk


def write_csv(
    stream: TextIO,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    flavour: CsvFlavour | str = CsvFlavour.ANALYSIS,
) -> None:
    """Write CSV to a text stream opened with newline="" (or newlines inside values change)."""
    for chunk in iter_csv(columns, rows, flavour):
        stream.write(chunk)


# Characters json.dumps leaves raw with ensure_ascii=False but that str.splitlines()
# and some JSONL readers treat as line breaks; escaping them keeps one record per line.
_JSON_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def doccano_line(text: str, labels: Iterable[tuple[int, int, str]], meta: Mapping[str, Any]) -> str:
    """One doccano JSONL record (no trailing newline): text, sorted labels, then meta.

    Offsets are 0-based, end-exclusive code points, which is what doccano and
    `textio.parse_file` expect.
    """
    clash = {"text", "label"} & meta.keys()
    if clash:
        raise ValueError(f"meta may not contain {sorted(clash)}")
    spans = sorted((int(start), int(end), str(code)) for start, end, code in labels)
    for start, end, code in spans:
        if not 0 <= start < end <= len(text):
            raise ValueError(f"label [{start}, {end}, {code!r}] is outside the text")
    record = {"text": text, "label": [list(span) for span in spans], **meta}
    line = json.dumps(record, ensure_ascii=False, default=_json_default)
    for raw, escaped in _JSON_LINE_BREAKS.items():
        line = line.replace(raw, escaped)
    return line


def _json_default(value: Any) -> str:
    if isinstance(value, datetime.date):  # datetimes too; format_value checks the zone
        return format_value(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def reliability_file_name(code: str) -> str:
    """reliability_<code>.csv, keeping the name safe in a zip on any system."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in code)
    return f"reliability_{safe}.csv"


def reliability_columns(coders: Iterable[str]) -> list[str]:
    columns = [*RELIABILITY_KEY_COLUMNS, *coders]
    if len(set(columns)) != len(columns):
        raise ValueError("coder names must be unique and differ from the unit columns")
    return columns


def reliability_rows(
    unit_intervals: Sequence[tuple[Any, int, int]],
    coder_values: Mapping[str, Sequence[int | None]],
) -> Iterator[dict[str, Any]]:
    """Rows of a units-by-coders matrix for one code, in the order of `unit_intervals`.

    `unit_intervals` holds (document_id, unit_start, unit_end) for each unit;
    `coder_values[coder][i]` is 1 (the coder applied the code to unit i), 0 (coded the
    document but not with this code on that unit) or None (did not code the document;
    written as an empty cell, i.e. missing). Coder columns follow the mapping's order.
    """
    reliability_columns(coder_values)  # validates names before any row is produced
    for coder, values in coder_values.items():
        if len(values) != len(unit_intervals):
            raise ValueError(
                f"coder '{coder}' has {len(values)} values for {len(unit_intervals)} units"
            )
        if any(value not in (0, 1, None) or isinstance(value, float) for value in values):
            raise ValueError(f"coder '{coder}' has values other than 1, 0 and None")
    return _reliability_rows(unit_intervals, coder_values)


def _reliability_rows(
    unit_intervals: Sequence[tuple[Any, int, int]],
    coder_values: Mapping[str, Sequence[int | None]],
) -> Iterator[dict[str, Any]]:
    for index, (document_id, start, end) in enumerate(unit_intervals):
        row: dict[str, Any] = {"document_id": document_id, "unit_start": start, "unit_end": end}
        for coder, values in coder_values.items():
            value = values[index]
            row[coder] = None if value is None else int(value)
        yield row


def render_readme(
    *, project: str, exported_at: datetime.datetime, flavour: CsvFlavour | str, layer: str
) -> str:
    return README_TEXT.format(
        project=project,
        exported_at=format_value(exported_at),
        flavour=CsvFlavour(flavour).value,
        layer=layer,
    )


README_TEXT = """\
Framing export: {project}
Exported: {exported_at}
CSV flavour: {flavour}
Layer: {layer}

This file describes every file and column in the export. All files are UTF-8.
CSV files follow RFC 4180: comma-separated, double quotes around values that contain
commas, quotes or line breaks, rows ending in CRLF. Line breaks inside texts are LF.
Empty cells mean "no value". Dates are YYYY-MM-DD; timestamps are ISO 8601 with a
time zone offset. Booleans are true/false.


CSV FLAVOURS
------------
analysis  Every value exactly as stored. Use it for any computation.
excel     Starts with a byte-order mark so Excel recognises UTF-8, and any cell of a
          text column that begins with = + - @ a tab or a carriage return has an
          apostrophe (') added in front, so that Excel shows it instead of running it
          as a formula. Such quotes no longer match the text exactly, so never compute
          offsets or agreement from this flavour. Excel also shows at most 32,767
          characters per cell and cuts longer texts.
          pandas: pd.read_csv(path, encoding="utf-8-sig", dtype=str,
          keep_default_na=False) reads both flavours without turning values into NaN.


OFFSETS
-------
start and end count Unicode code points from the start of the document text,
0-based and end-exclusive, exactly like Python string slicing:

    Python:      text[start:end] == quote
    R:           substr(text, start + 1, end) == quote   (substr is 1-based, inclusive)
    JavaScript:  Array.from(text).slice(start, end).join("") == quote

JavaScript's text.slice(), Excel's MID() and Java count UTF-16 code units, in which
an emoji or another character outside the Basic Multilingual Plane counts twice:
after such a character their positions are larger than these offsets. Texts were
normalised once at import (CRLF and CR became LF, a leading byte-order mark was
dropped) and never changed afterwards, so offsets stay valid.


spans.csv (one row per span)
---------
project         Project name.
document_id     The document's id in Framing; joins to documents.csv.
external_id     The id the document had in the imported file, if any.
title           Document title.
outlet          Publishing outlet.
url             Address of the original article.
published       Publication date (YYYY-MM-DD).
text_sha256     SHA-256 of the UTF-8 document text: check you hold the same text.
layer           "coder" for a coder's own span, "gold" for the settled reference.
coder           Username of the coder (for gold spans: who settled it).
code            Code identifier from codebook.csv.
start           Offset where the span begins (see OFFSETS).
end             Offset just after the span ends.
quote           The selected characters: text[start:end].
context_before  Up to 40 characters of text before the span.
context_after   Up to 40 characters of text after the span.
note            The coder's note on the span.
created         When the span was created.
updated         When the span was last changed.
provenance      How the span came to be (for example typed by a coder, imported, or
                settled as gold).
rationale       For gold spans, why the settler chose it.

documents.csv (one row per document)
-------------
document_id, external_id, title, outlet, url, published, text_sha256
                As in spans.csv.
length          Length of the text in code points (Python len(text)).
text            The full document text, to which all offsets refer.

codebook.csv (one row per code)
------------
code            Identifier used in the code column of the other files.
name            Human-readable name.
definition      What the code means.
guidance        Instructions to coders: when to apply it and when not.
colour          Display colour (#rrggbb).
shortcut        Keyboard shortcut in the coding screen.
active          false if the code was retired; its spans remain in the export.
order           Position of the code in the codebook.

spans.jsonl (one line per document, doccano format)
-----------
Each line is a JSON object with "text", "label" (a list of [start, end, "code"],
same offsets as above) and the document's metadata. It can be imported into doccano
or back into Framing.

reliability_<code>.csv (one file per code: a reliability matrix)
----------------------
document_id     The document containing the unit.
unit_start      Offset where the unit (a token) begins.
unit_end        Offset just after the unit ends.
one column per coder
                1 if the coder applied the code to any part of the unit, 0 if the
                coder coded the document but not this unit with this code, empty if
                the coder did not code the document (missing, not 0).
Rows are units and columns are coders; the krippendorff Python package expects
coders as rows (transpose, with empty cells as NaN), as does R's irr::kripp.alpha
(t() of the matrix, method = "nominal").


AGREEMENT
---------
Unitized alpha (Krippendorff's alpha-u) is computed per code on the character
continuum of each document: it compares where coders placed span boundaries, not
just whether they used the code, and counts a stretch as disagreement when one
coder marked it and another did not.
Nominal alpha is computed per code on token units: the reliability matrices above
are exactly its input, with missing cells left out of the pairing.
Confidence intervals are percentile bootstrap intervals that resample whole
documents with replacement, because units within a document are not independent.
"""
