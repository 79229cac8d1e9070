"""Files in and out: archives, JSON Lines, export notes and safe file names."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from annotations.domain import jsonsafe

if TYPE_CHECKING:
    from annotations.domain.formats.common import Collector

__all__ = [
    "ArchiveError",
    "Notes",
    "Source",
    "array_items",
    "entries",
    "is_zip",
    "iter_jsonl",
    "json_line",
    "json_problem",
    "loads",
    "safe_file_name",
    "unique_names",
    "zip_files",
]

# What a reader accepts: the bytes of one file (possibly a ZIP) or an uploaded folder.
Source = bytes | Sequence[tuple[str, bytes]]

MAX_ARCHIVE_FILES = 20_000
MAX_ARCHIVE_BYTES = 1_000_000_000  # uncompressed; a guard against ZIP bombs


class ArchiveError(ValueError):
    pass


def is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06"


def entries(name: str, data: Source) -> list[tuple[str, bytes]]:
    """The files of a source: a folder listing as given, a ZIP's members, or the file."""
    if not isinstance(data, bytes | bytearray):
        return [(str(path), bytes(content)) for path, content in data]
    if not is_zip(bytes(data)):
        return [(name, bytes(data))]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise ArchiveError(f"not a readable ZIP archive ({err})") from None
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) > MAX_ARCHIVE_FILES:
        raise ArchiveError(f"the archive holds more than {MAX_ARCHIVE_FILES:,} files")
    if sum(info.file_size for info in members) > MAX_ARCHIVE_BYTES:
        raise ArchiveError("the archive unpacks to more than 1 GB")
    files = []
    for info in members:
        if _is_junk(info.filename):
            continue
        files.append((info.filename, archive.read(info)))
    return files


def _is_junk(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return any(part == "__MACOSX" or part.startswith("._") for part in parts) or (
        PurePosixPath(path).name in {".DS_Store", "Thumbs.db"}
    )


def zip_files(files: Iterable[tuple[str, bytes]]) -> bytes:
    """A ZIP archive (in memory) of (path, bytes) pairs, e.g. a writer's output."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, content in files:
            archive.writestr(path, content)
    return buffer.getvalue()


def loads(text: str) -> Any:
    """One JSON value through the one safe reader (depth, huge numbers, repeated keys)."""
    return jsonsafe.loads(text)


def json_problem(err: ValueError) -> str:
    """What is wrong with a JSON text that `loads` refused, for people."""
    if isinstance(err, json.JSONDecodeError):
        return f"not valid JSON: {err.msg} (column {err.colno})"
    if isinstance(err, jsonsafe.DuplicateKey):
        return str(err)
    return f"not usable JSON: {err}"


def array_items(text: str) -> list[tuple[int, int]] | None:
    """(start, end) of each element of the JSON array `text` holds, by a linear scan that
    tracks strings and brackets (no parsing, no recursion); None when `text` is not one
    bracket-balanced array. Each element is then parsed alone, so a problem names the line
    of the element it is in."""
    position = len(text) - len(text.lstrip())
    if position >= len(text) or text[position] != "[":
        return None
    items: list[tuple[int, int]] = []
    depth, start = 0, None
    in_string = escaped = False
    for index in range(position, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                if start is not None:
                    items.append((start, index))
                return items if not text[index + 1 :].strip() else None
        elif char == "," and depth == 1:
            items.append((start if start is not None else index, index))
            start = None
            continue
        if depth >= 1 and start is None and not char.isspace() and not (depth == 1 and char == "["):
            start = index
    return None


def iter_jsonl(name: str, text: str, out: Collector) -> Iterable[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-empty line; problems for the rest.

    A file that is one JSON document (a pretty-printed array or object) gets one problem
    instead of one per line.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if _one_json_document(text, lines):
        out.problem(
            name,
            None,
            "this file is one JSON document, not JSON Lines (one JSON object per line); "
            "export it as JSONL, or choose the format whose files are one JSON document",
        )
        return
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = loads(raw)
        except ValueError as err:  # invalid, too deep, a 5,000-digit number, a repeated key
            out.problem(name, number, json_problem(err))
            continue
        if not isinstance(record, dict):
            out.problem(name, number, f"expected a JSON object, got {jsonsafe.json_type(record)}")
            continue
        yield number, record


def _one_json_document(text: str, lines: list[str]) -> bool:
    filled = [line for line in lines if line.strip()]
    if not filled:
        return False
    if len(filled) == 1:
        return filled[0].lstrip().startswith("[")
    return not _parses(filled[0]) and _parses(text)


def _parses(text: str) -> bool:
    try:
        loads(text)
    except ValueError:
        return False
    return True


# Characters json.dumps leaves raw with ensure_ascii=False but that str.splitlines()
# and some JSONL readers treat as line breaks; escaping them keeps one record per line.
_JSON_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_line(record: Mapping[str, Any]) -> str:
    line = json.dumps(record, ensure_ascii=False)
    for raw, escaped in _JSON_LINE_BREAKS.items():
        line = line.replace(raw, escaped)
    return line


def safe_file_name(name: str) -> str:
    """`name` as one path component safe on any system: separators, characters Windows
    forbids and control characters become "_" (letters of any script and spaces stay, so
    Django usernames pass unchanged)."""
    safe = "".join("_" if ch in '/\\:*?"<>|' or ord(ch) < 32 else ch for ch in name)
    safe = safe.strip(" .")
    return safe or "_"


class Notes:
    """What a writer could not carry, written as EXPORT-NOTES.txt after the other files."""

    FILE = "EXPORT-NOTES.txt"

    def __init__(self, format_name: str) -> None:
        self.format = format_name
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        self.lines.append(line)

    def files(self) -> Iterable[tuple[str, bytes]]:
        if not self.lines:
            return
        header = f"Notes on this {self.format} export: what the format could not hold.\n\n"
        body = "".join(f"- {line}\n" for line in self.lines)
        yield self.FILE, (header + body).encode("utf-8")


def unique_names(names: Iterable[str]) -> dict[str, str]:
    """Map each name to a distinct safe file name (a suffix where two collide)."""
    result: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        if name in result:
            continue
        base = safe_file_name(name)
        candidate, n = base, 2
        while candidate.lower() in used:
            candidate, n = f"{base}-{n}", n + 1
        used.add(candidate.lower())
        result[name] = candidate
    return result
