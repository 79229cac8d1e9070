"""Files in and out: archives, JSON Lines, export notes and safe file names."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from annotations.domain.formats.common import Collector

__all__ = [
    "ArchiveError",
    "DuplicateKeyError",
    "Notes",
    "Source",
    "entries",
    "is_zip",
    "iter_jsonl",
    "json_line",
    "json_type",
    "loads",
    "safe_file_name",
    "unique_names",
    "unsafe_json_message",
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


class DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of repeated keys; a silently discarded "text" is worse than an error.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKeyError(key)
        result[key] = value
    return result


def unsafe_json_message(err: Exception) -> str:
    if isinstance(err, RecursionError):
        return "nested too deeply"
    return str(err)


def loads(text: str) -> Any:
    return json.loads(text, object_pairs_hook=_unique_keys)


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


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
        except DuplicateKeyError as err:
            out.problem(name, number, f"key '{err.key}' appears more than once")
            continue
        except json.JSONDecodeError as err:
            out.problem(name, number, f"not valid JSON: {err.msg} (column {err.colno})")
            continue
        except (RecursionError, ValueError) as err:  # deep nesting, a 5,000-digit number
            out.problem(name, number, f"not usable JSON: {unsafe_json_message(err)}")
            continue
        if not isinstance(record, dict):
            out.problem(name, number, f"expected a JSON object, got {json_type(record)}")
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
        json.loads(text)
    except (ValueError, RecursionError):
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
