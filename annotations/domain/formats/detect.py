"""Guess an upload's format for ``--format auto`` from its names and first bytes."""

from __future__ import annotations

from pathlib import PurePosixPath

from annotations.domain.formats.files import ArchiveError, Source, entries, loads

__all__ = ["detect_format"]

_PRODIGY_KEYS = {"answer", "_annotator_id", "_session_id", "_input_hash", "_task_hash", "spans"}
_DOCCANO_KEYS = {"label", "labels", "entities", "Comments", "cats", "relations"}


def detect_format(name: str, data: Source) -> str | None:
    """A name from FORMATS, or None when the upload does not say clearly."""
    try:
        files = entries(name, data)
    except ArchiveError:
        return None
    suffixes = {PurePosixPath(path).suffix.lower() for path, _ in files}
    names = {PurePosixPath(path).name.lower() for path, _ in files}
    if ".ann" in suffixes:
        return "brat"
    if ".xmi" in suffixes or "typesystem.xml" in names:
        return "uima-cas"
    if ".tsv" in suffixes:
        return "webanno-tsv"
    for path, content in files:
        suffix = PurePosixPath(path).suffix.lower()
        if suffix == ".json":
            head = content[:4096].decode("utf-8", "ignore")
            return (
                "uima-cas"
                if "%FEATURE_STRUCTURES" in head or "%TYPES" in head
                else ("label-studio" if head.lstrip().startswith(("[", "{")) else None)
            )
        if suffix == ".jsonl":
            return _jsonl_format(content)
    if suffixes & {".txt", ".csv"}:
        return "plain"
    return None


def _jsonl_format(content: bytes) -> str | None:
    text = content.decode("utf-8", "ignore").lstrip("\ufeff")
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            record = loads(line)
        except ValueError:
            # A pretty-printed file: let the doccano reader explain what is wrong with it.
            return "doccano"
        if not isinstance(record, dict):
            return "doccano"
        if record.keys() & _PRODIGY_KEYS:
            return "prodigy"
        if record.keys() & _DOCCANO_KEYS:
            return "doccano"
        return "plain"
    return None
