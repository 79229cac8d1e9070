"""Parse uploaded documents (.txt, .csv, .jsonl) into texts ready for annotation.

Every span offset in the project points into the text produced here, so the text is
changed in exactly two ways (see `normalise_text`) and never again after import.

Parsing never raises on bad input: it returns the documents it could read together
with a `Problem` for everything it could not, each naming the file and line, so the
caller can refuse the whole import and show the researcher every fix at once.

Line numbers count CRLF, lone CR and LF as line breaks (like `normalise_text`), so a
number points at the same line a text editor shows.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from . import jsonsafe

__all__ = [
    "ParseResult",
    "ParsedDocument",
    "Problem",
    "derive_title",
    "normalise_text",
    "parse_file",
    "sha256_text",
]

BOM = "\ufeff"

# Metadata names accepted in CSV headers and JSONL keys; the first alias present wins.
_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "external_id": ("external_id", "id"),
    "outlet": ("outlet",),
    "url": ("url",),
    "published": ("published", "publication_date", "date"),
}

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LINE_BREAK = re.compile(r"\r\n?")
# A sentence ends at . ! ? or … (possibly repeated, possibly followed by closing quotes
# or brackets) when whitespace or the end of the line follows.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'\u201d\u2019\u00bb)\]]*(?=\s|$)")
_ZWJ = "\u200d"


@dataclass(frozen=True)
class ParsedDocument:
    text: str
    title: str
    external_id: str = ""
    outlet: str = ""
    url: str = ""
    published: datetime.date | None = None
    # doccano-style (start, end, code): 0-based, end-exclusive code-point offsets into
    # `text` (after normalisation), sorted, exact duplicates removed.
    labels: tuple[tuple[int, int, str], ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Problem:
    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.source}: {self.message}"
        return f"{self.source}, line {self.line}: {self.message}"


@dataclass(frozen=True)
class ParseResult:
    documents: tuple[ParsedDocument, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def sha256_text(text: str) -> str:
    """The identity of a stored text: a project never holds the same text twice."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_text(text: str) -> str:
    """Turn CRLF and lone CR into LF and drop a leading byte-order mark.

    Nothing else changes: no trimming, no Unicode normalisation, no whitespace folding,
    because every stored offset depends on the exact code points. A run of leading BOMs
    (a file saved twice with a BOM) is dropped entirely so that the function is
    idempotent: normalising stored text again must never shift an offset.
    """
    return _LINE_BREAK.sub("\n", text.lstrip(BOM))


def derive_title(text: str, limit: int = 200) -> str:
    """A display title from the first sentence (or, failing that, the first line).

    Whitespace is collapsed; a title longer than `limit` is cut at a word boundary
    where possible and ends with "…". Abbreviations such as "Dr." end the sentence;
    a researcher who cares supplies a title.
    """
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    match = _SENTENCE_END.search(first_line)
    sentence = first_line[: match.end()] if match else first_line
    title = " ".join(sentence.split())
    if len(title) <= limit:
        return title
    return _truncate(title, limit)


def _truncate(title: str, limit: int) -> str:
    cut = limit - 1  # room for the ellipsis
    space = title.rfind(" ", 0, cut + 1)
    if space > limit // 2:
        cut = space
    else:
        # Do not separate a base character from its accents or an emoji from its ZWJ tail.
        while cut > 0 and (_joins_previous(title[cut]) or title[cut - 1] == _ZWJ):
            cut -= 1
    return title[:cut].rstrip() + "…"


def _joins_previous(char: str) -> bool:
    return (
        unicodedata.combining(char) != 0
        or char == _ZWJ
        or "\ufe00" <= char <= "\ufe0f"  # variation selectors
        or "\U0001f3fb" <= char <= "\U0001f3ff"  # skin-tone modifiers
    )


def parse_file(name: str, data: bytes, *, max_bytes: int | None = None) -> ParseResult:
    """Parse one uploaded file, dispatching on its extension.

    .txt   one document: the whole file.
    .csv   a header row with a `text` column (case-insensitive) and optional title,
           external_id (or id), outlet, url, published (or date, publication_date:
           YYYY-MM-DD); other columns are ignored. Quoted fields may span lines.
    .jsonl one JSON object per non-empty line with the same keys, plus an optional
           doccano "label": [[start, end, "code"], ...]. Label offsets are code points
           into the text *after* normalisation; a text that normalisation would change
           (CR line endings, leading BOM) while carrying labels is reported rather than
           having its offsets silently shifted.

    Within one file a repeated text keeps its first occurrence; a repeat that carries
    labels the first lacks is reported, since dropping it would lose annotations.
    """
    if max_bytes is not None and len(data) > max_bytes:
        return _fail(name, None, _size_message(len(data), max_bytes))

    suffix = PurePath(name).suffix.lower()
    parser = _PARSERS.get(suffix)
    if parser is None:
        shown = f"'{suffix}'" if suffix else "without an extension"
        return _fail(name, None, f"unsupported file type {shown} (use .txt, .csv or .jsonl)")

    decoded = _decode(name, data)
    if isinstance(decoded, Problem):
        return ParseResult((), (decoded,))
    if not decoded.strip():
        return _fail(name, None, "file is empty")

    collector = _Collector(name)
    parser(decoded, collector)
    return collector.result()


def _fail(name: str, line: int | None, message: str) -> ParseResult:
    return ParseResult((), (Problem(name, line, message),))


def _size_message(size: int, limit: int) -> str:
    shown, limit_shown = f"{size / 1e6:.1f} MB", f"{limit / 1e6:.1f} MB"
    if shown == limit_shown:  # "10.0 MB; the limit is 10.0 MB" would puzzle anyone
        shown, limit_shown = f"{size:,} bytes", f"{limit:,} bytes"
    return f"file is {shown}; the limit is {limit_shown}"


def _decode(name: str, data: bytes) -> str | Problem:
    """Strict UTF-8 with at most one leading BOM removed; NUL is refused (PostgreSQL)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        bad = " ".join(f"0x{b:02x}" for b in data[err.start : err.end])
        noun = "byte" if err.end - err.start == 1 else "bytes"
        return Problem(
            name,
            # The bytes before the first error are valid UTF-8 by definition.
            _line_at(data[: err.start].decode("utf-8")),
            f"invalid UTF-8 ({noun} {bad}); save the file with UTF-8 encoding",
        )
    text = text.removeprefix(BOM)
    nul = text.find("\x00")
    if nul != -1:
        return Problem(name, _line_at(text[:nul]), "contains a NUL byte")
    return text


def _line_at(prefix: str) -> int:
    """1-based line number of the position just after `prefix`."""
    return len(_LINE_BREAK.sub("\n", prefix).split("\n"))


class _Collector:
    """Gathers documents and problems for one file, dropping repeated texts."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.documents: list[ParsedDocument] = []
        self.problems: list[Problem] = []
        self._seen: dict[str, tuple[int, int | None]] = {}  # text -> (index, line)

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.name, line, message))

    def add(self, document: ParsedDocument, line: int | None) -> None:
        earlier = self._seen.get(document.text)
        if earlier is None:
            self._seen[document.text] = (len(self.documents), line)
            self.documents.append(document)
            return
        index, first_line = earlier
        if not set(document.labels) <= set(self.documents[index].labels):
            self.problem(
                line,
                f"repeats the text of line {first_line} with different labels; "
                "merge the labels into one line",
            )

    def result(self) -> ParseResult:
        if not self.documents and not self.problems:
            self.problem(None, "contains no documents")
        return ParseResult(tuple(self.documents), tuple(self.problems))


def _parse_txt(text: str, out: _Collector) -> None:
    body = normalise_text(text)
    out.add(ParsedDocument(text=body, title=derive_title(body), source=out.name), None)


def _parse_csv(text: str, out: _Collector) -> None:
    # newline="" keeps CRLF inside quoted fields so that normalisation sees it.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns: dict[str, int] | None = None
    width = 0
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            out.problem(line, _csv_error_message(err, line, reader.line_num))
            return  # the reader cannot resynchronise after malformed quoting
        if not row:
            continue  # a blank line
        if columns is None:
            columns = _csv_columns(row, line, out)
            if columns is None:
                return
            width = len(row)
            continue
        if len(row) < width or any(cell.strip() for cell in row[width:]):
            out.problem(line, f"row has {len(row)} fields but the header has {width}")
            continue
        fields = {key: row[index] for key, index in columns.items()}
        _add_record(fields, None, line, out)


def _csv_error_message(err: csv.Error, start: int, detected: int) -> str:
    where = "" if detected <= start else f" (in the row starting here, noticed at line {detected})"
    if "field larger than field limit" in str(err):
        return f"a field is longer than {csv.field_size_limit():,} characters{where}"
    return f"malformed CSV: {err}{where}"


def _csv_columns(header: list[str], line: int, out: _Collector) -> dict[str, int] | None:
    """Map canonical names to column indexes, or report why the header is unusable."""
    names = [cell.strip().lower() for cell in header]
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        out.problem(line, f"column '{repeated[0]}' appears more than once in the header")
        return None
    if "text" not in names:
        message = "missing required column 'text'"
        if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
            message += " (the file seems to use ';' or tabs; save it as comma-separated)"
        out.problem(line, message)
        return None
    columns = {"text": names.index("text")}
    for key, aliases in _ALIASES.items():
        present = next((alias for alias in aliases if alias in names), None)
        if present is not None:
            columns[key] = names.index(present)
    return columns


def _parse_jsonl(text: str, out: _Collector) -> None:
    for number, raw in enumerate(_LINE_BREAK.sub("\n", text).split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = jsonsafe.loads(raw)
        except jsonsafe.DuplicateKey as err:
            out.problem(number, f"key '{err.key}' appears more than once")
            continue
        except json.JSONDecodeError as err:
            out.problem(number, f"not valid JSON: {err.msg} (column {err.colno})")
            continue
        except jsonsafe.UnsafeJson as err:
            out.problem(number, str(err))
            continue
        if not isinstance(record, dict):
            out.problem(number, f"expected a JSON object, got {jsonsafe.json_type(record)}")
            continue
        if "text" not in record:
            out.problem(number, "missing required key 'text'")
            continue
        fields: dict[str, Any] = {"text": record["text"]}
        for key, aliases in _ALIASES.items():
            present = next((alias for alias in aliases if alias in record), None)
            if present is not None:
                fields[key] = record[present]
        _add_record(fields, record.get("label"), number, out)


def _add_record(fields: Mapping[str, Any], label: Any, line: int, out: _Collector) -> None:
    """Validate one CSV row or JSONL object; add it or report every problem found."""
    errors: list[str] = []
    values: dict[str, str] = {}
    for key, value in fields.items():
        checked, error = _string_value(key, value)
        if error:
            errors.append(error)
        else:
            values[key] = checked

    raw_text = values.get("text", "")
    body = normalise_text(raw_text)
    if "text" in values and not body.strip():
        errors.append("'text' is empty")

    published = _parse_date(values.get("published", "").strip(), errors)
    url = values.get("url", "").strip()
    if url and not url.lower().startswith(("http://", "https://")):
        errors.append(f"url '{url}' must start with http:// or https://")

    labels: tuple[tuple[int, int, str], ...] = ()
    if label is not None:
        if body != raw_text:
            errors.append(
                "'text' has CR line endings or a leading BOM, which import normalises; "
                "the label offsets would then point at the wrong characters, so convert "
                "the text to LF line endings before exporting the labels"
            )
        else:
            labels = _parse_labels(label, len(body), errors)

    if errors:
        for message in errors:
            out.problem(line, message)
        return
    title = " ".join(values.get("title", "").split()) or derive_title(body)
    document = ParsedDocument(
        text=body,
        title=title,
        external_id=values.get("external_id", "").strip(),
        outlet=" ".join(values.get("outlet", "").split()),
        url=url,
        published=published,
        labels=labels,
        source=f"{out.name}, line {line}",
    )
    out.add(document, line)


def _string_value(key: str, value: Any) -> tuple[str, str]:
    """The field as text and an error message ("" when the value is acceptable)."""
    if value is None:
        return "", ""
    if key == "external_id" and isinstance(value, int) and not isinstance(value, bool):
        return str(value), ""  # doccano exports numeric ids
    if not isinstance(value, str):
        return "", f"'{key}' must be a string, not {jsonsafe.json_type(value)}"
    # JSON escapes can smuggle in what the byte-level checks cannot see.
    if "\x00" in value:
        return "", f"'{key}' contains a NUL character (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "", f"'{key}' contains an unpaired surrogate escape (such as \\ud800)"
    return value, ""


def _parse_date(value: str, errors: list[str]) -> datetime.date | None:
    if not value:
        return None
    # fromisoformat alone also accepts 20240105 and 2024-W01-5, which researchers
    # would not expect to be dates.
    if _ISO_DATE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    errors.append(f"publication date '{value}' is not a valid date (use YYYY-MM-DD)")
    return None


def _parse_labels(label: Any, length: int, errors: list[str]) -> tuple[tuple[int, int, str], ...]:
    if not isinstance(label, list):
        errors.append(
            f"'label' must be a list of [start, end, \"code\"], not {jsonsafe.json_type(label)}"
        )
        return ()
    spans: set[tuple[int, int, str]] = set()
    for number, item in enumerate(label, start=1):
        problem = _label_problem(item, length)
        if problem:
            errors.append(f"label {number} {json.dumps(item, ensure_ascii=False)}: {problem}")
        else:
            spans.add((item[0], item[1], item[2]))
    return tuple(sorted(spans))


def _label_problem(item: Any, length: int) -> str:
    if not isinstance(item, list) or len(item) != 3:
        return 'must be [start, end, "code"]'
    start, end, code = item
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (start, end)):
        return "start and end must be whole numbers"
    if not isinstance(code, str) or not code.strip():
        return "the code must be a non-empty string"
    if not 0 <= start < end:
        return "start must be at least 0 and less than end"
    if end > length:
        return f"end is beyond the text, which has {length} characters"
    return ""


_PARSERS = {".txt": _parse_txt, ".csv": _parse_csv, ".jsonl": _parse_jsonl}
