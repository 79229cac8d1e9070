"""Shape export rows and write them as CSV or doccano JSONL.

Two CSV flavours exist because their readers want opposite things:

- "analysis" (R, pandas, Stata): every value exactly as stored, so that in Python
  `text[start:end] == quote` holds for every span row.
- "excel": a UTF-8 byte-order mark so Excel detects the encoding, and every text cell
  (any column, whatever its origin: an uploaded id, a username, a header) that Excel
  would run as a formula (= + - @ tab CR) prefixed with an apostrophe. Numbers, dates and
  booleans are never text. This alters quotes, so it is for reading, never for computing.

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

import numpy as np

__all__ = [
    "CODEBOOK_COLUMNS",
    "CODEBOOK_FILE",
    "DOCCANO_FILE",
    "DOCUMENTS_FILE",
    "DOCUMENT_COLUMNS",
    "README_FILE",
    "RELIABILITY_KEY_COLUMNS",
    "SPANS_FILE",
    "SPAN_COLUMNS",
    "CsvFlavour",
    "context",
    "doccano_line",
    "format_value",
    "iter_csv",
    "iter_csv_cells",
    "neutralise_formula",
    "reliability_block",
    "reliability_columns",
    "reliability_file_name",
    "reliability_rows",
    "timestamp_text",
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
    "span_id",
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
    "source_span_ids",
    "source_coders",
    "settling_action",
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
        value = row[column]
        cell = format_value(value)
        # Every text value, whichever column it is in and wherever it came from: a list of
        # "free text" columns misses the next uploaded column (issue: external_id).
        if flavour is CsvFlavour.EXCEL and isinstance(value, str):
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


def iter_csv_cells(
    columns: Sequence[str],
    rows: Iterable[Sequence[str | int | None]],
    flavour: CsvFlavour | str = CsvFlavour.ANALYSIS,
) -> Iterator[str]:
    """Like :func:`iter_csv`, for rows already in column order whose cells are text, whole
    numbers or None (formatted by the caller): the fast path of the largest files.

    The csv module writes ints as digits and None as an empty cell, exactly as
    :func:`format_value` would, so only text needs a look (the Excel guard).
    """
    flavour = CsvFlavour(flavour)
    excel = flavour is CsvFlavour.EXCEL
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise_formula(c) for c in columns] if excel else list(columns))
    yield (_BOM if excel else "") + _drain(buffer)
    batch: list[Sequence[str | int | None]] = []
    for row in rows:
        if excel:
            row = [neutralise_formula(v) if v.__class__ is str else v for v in row]
        batch.append(row)
        if len(batch) >= 256:
            writer.writerows(batch)
            batch.clear()
            if buffer.tell() >= _CHUNK_CHARS:
                yield _drain(buffer)
    if batch:
        writer.writerows(batch)
    if buffer.tell():
        yield _drain(buffer)


def timestamp_text(value: Any) -> str | None:
    """A stored timestamp as ISO 8601, read as the database driver returns it: SQLite's own
    UTC text ("YYYY-MM-DD HH:MM:SS[.ffffff]"), an aware datetime (PostgreSQL) or a naive one
    in UTC, without a datetime per cell where the text is already there."""
    if value is None:
        return None
    if value.__class__ is str:
        return f"{value[:10]}T{value[11:]}+00:00"
    if value.tzinfo is None:
        return value.isoformat() + "+00:00"
    return value.isoformat()


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


def doccano_line(
    text: str,
    labels: Iterable[tuple[int, int, str] | tuple[int, int, str, str]],
    meta: Mapping[str, Any],
) -> str:
    """One JSONL record in doccano's shape (no trailing newline): text, sorted labels, the
    notes as doccano comments, then meta.

    Offsets are 0-based, end-exclusive code points (Framing's own JSONL; doccano itself
    counts UTF-16, see ``annotations.domain.formats.doccano``). A label may carry a fourth
    item, its note, written as a comment ``[start, end, "code"] note`` that Framing's and
    the doccano reader give back to the span.
    """
    clash = {"text", "label", "Comments"} & meta.keys()
    if clash:
        raise ValueError(f"meta may not contain {sorted(clash)}")
    spans = sorted(
        (int(item[0]), int(item[1]), str(item[2]), str(item[3]) if len(item) > 3 else "")
        for item in labels
    )
    for start, end, code, _ in spans:
        if not 0 <= start < end <= len(text):
            raise ValueError(f"label [{start}, {end}, {code!r}] is outside the text")
    record: dict[str, Any] = {"text": text, "label": [list(span[:3]) for span in spans]}
    comments = [
        f"[{start}, {end}, {json.dumps(code, ensure_ascii=False)}] {note}"
        for start, end, code, note in spans
        if note
    ]
    if comments:
        record["Comments"] = comments
    record.update(meta)
    line = json.dumps(record, ensure_ascii=False, default=_json_default)
    for raw, escaped in _JSON_LINE_BREAKS.items():
        line = line.replace(raw, escaped)
    return line


def _json_default(value: Any) -> str:
    if isinstance(value, datetime.date):  # datetimes too; format_value checks the zone
        return format_value(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def reliability_file_name(code_id: int, code: str) -> str:
    """reliability_<code id>_<code>.csv: unique by construction (two codes never share an
    id, whatever their names make after "q r" and "q_r" become the same safe text), and
    safe in a zip on any system."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in code)
    return f"reliability_{int(code_id)}_{safe}.csv"


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


def reliability_block(
    document_id: int,
    unit_starts: np.ndarray,
    unit_ends: np.ndarray,
    coder_spans: Sequence[tuple[np.ndarray, np.ndarray] | None],
) -> list[tuple[int, ...]]:
    """One document's rows of a units-by-coders matrix for one code, in column order:
    ``(document_id, unit_start, unit_end, *one value per coder)``.

    ``coder_spans[k]`` is coder k's span starts and ends with the code (a unit is 1 when a
    span shares a character with it, else 0), or None when the coder's work on the document
    does not count (every cell None, written empty). Sorted units, as :func:`units.unit_bounds`
    gives them; the same rule as :func:`reliability_rows`' callers, without a loop per unit.
    """
    n = int(unit_starts.size)
    columns: list[list] = [[document_id] * n, unit_starts.tolist(), unit_ends.tolist()]
    for spans in coder_spans:
        if spans is None:
            columns.append([None] * n)
            continue
        starts, ends = (np.asarray(a, dtype=np.int64) for a in spans)
        first = np.searchsorted(unit_ends, starts, side="right")
        last = np.searchsorted(unit_starts, ends, side="left")
        hit = last > first
        change = np.bincount(first[hit], minlength=n + 1) - np.bincount(last[hit], minlength=n + 1)
        columns.append((np.cumsum(change[:n]) > 0).astype(np.int64).tolist())
    return list(zip(*columns, strict=True))


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
