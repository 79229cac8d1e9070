"""Pieces every reader and writer shares: decoding, JSON, archives, metadata, collecting.

`Collector` gathers one import's documents, problems and skipped records. Documents with
the same stored text merge (one document, spans of every coder), so a doccano per-user ZIP
or an INCEpTION project with one file per annotator becomes one document per text.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from annotations.domain.formats.model import (
    FormatResult,
    ImportedDocument,
    ImportedSpan,
    Problem,
    Skipped,
)
from annotations.domain.formats.offsets import TextOffsets, Unit
from annotations.domain.jsonsafe import json_type
from annotations.domain.textio import derive_title

__all__ = ["Collector", "decode", "is_int", "json_type", "read_meta", "text_problem", "where"]

BOM = "\ufeff"

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_META_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "external_id": ("external_id", "id"),
    "outlet": ("outlet",),
    "url": ("url",),
    "published": ("published", "publication_date", "date"),
}


def decode(data: bytes) -> tuple[str, str]:
    """(text, "") or ("", message): strict UTF-8, one leading BOM dropped, no NUL."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return "", f"line {line}: invalid UTF-8; save the file with UTF-8 encoding"
    text = text.removeprefix(BOM)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return "", f"line {line}: contains a NUL byte"
    return text, ""


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def text_problem(value: object, key: str = "text") -> str:
    """Why `value` cannot be a document text ("" if it can)."""
    if not isinstance(value, str):
        return f"'{key}' must be a string, not {json_type(value)}"
    if "\x00" in value:
        return f"'{key}' contains a NUL character (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"'{key}' contains an unpaired surrogate escape (such as \\ud800)"
    if not value.strip():
        return f"'{key}' is empty"
    return ""


def read_meta(record: Mapping[str, Any], errors: list[str]) -> dict[str, Any]:
    """Metadata from a JSON record (or its "meta" object), as textio reads it."""
    sources = [record]
    if isinstance(record.get("meta"), Mapping):
        sources.append(record["meta"])
    values: dict[str, Any] = {}
    for key, aliases in _META_ALIASES.items():
        value = next(
            (src[alias] for src in sources for alias in aliases if src.get(alias) is not None),
            None,
        )
        if value is None:
            continue
        if key == "external_id" and is_int(value):
            value = str(value)
        if not isinstance(value, str):
            errors.append(f"'{key}' must be a string, not {json_type(value)}")
            continue
        values[key] = value.strip()
    values["title"] = " ".join(values.get("title", "").split())
    values["outlet"] = " ".join(values.get("outlet", "").split())
    url = values.get("url", "")
    if url and not url.lower().startswith(("http://", "https://")):
        errors.append(f"url '{url}' must start with http:// or https://")
        values.pop("url")
    published = values.pop("published", "")
    if published:
        values["published"] = _parse_date(published, errors)
    return values


def _parse_date(value: str, errors: list[str]) -> datetime.date | None:
    if _ISO_DATE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    errors.append(f"publication date '{value}' is not a valid date (use YYYY-MM-DD)")
    return None


def where(name: str, line: int | None) -> str:
    return name if line is None else f"{name}, line {line}"


@dataclass
class _Draft:
    document: ImportedDocument
    spans: list[ImportedSpan] = field(default_factory=list)
    keys: set[tuple[int, int, str, str | None, str]] = field(default_factory=set)
    coders: list[str] = field(default_factory=list)


class Collector:
    """Gathers one import: documents (merged by stored text), problems, skipped records."""

    def __init__(self, format_name: str, unit: Unit) -> None:
        self.format = format_name
        self.unit = unit
        self.problems: list[Problem] = []
        self.skipped: list[Skipped] = []
        self._drafts: dict[str, _Draft] = {}

    def problem(self, name: str, line: int | None, message: str) -> None:
        self.problems.append(Problem(name, line, message))

    def skip(self, what: str, place: str, reason: str, detail: str = "") -> None:
        self.skipped.append(Skipped(what, place, reason, detail))

    def document(
        self,
        raw_text: str,
        meta: Mapping[str, Any],
        source: str,
    ) -> ImportedDocument:
        """The document for `raw_text` (normalised), created or the earlier one."""
        text = TextOffsets(raw_text, Unit.CODEPOINTS).text
        draft = self._drafts.get(text)
        if draft is not None:
            self._check_meta(draft.document, meta, source)
            return draft.document
        document = ImportedDocument(
            text=text,
            title=meta.get("title") or derive_title(text),
            external_id=meta.get("external_id", ""),
            outlet=meta.get("outlet", ""),
            url=meta.get("url", ""),
            published=meta.get("published"),
            source=source,
        )
        self._drafts[text] = _Draft(document)
        return document

    def _check_meta(self, earlier: ImportedDocument, meta: Mapping[str, Any], source: str) -> None:
        for key in ("title", "external_id", "outlet", "url", "published"):
            value = meta.get(key)
            if value and value != getattr(earlier, key):
                self.skip(
                    "attribute",
                    source,
                    "the same text appeared earlier with different metadata; the first is kept",
                    f"{key} {value!s:.60} (kept {getattr(earlier, key)!s:.60} "
                    f"from {earlier.source})",
                )

    def coder(self, document: ImportedDocument, coder: str | None) -> None:
        """Record that `coder` worked on `document` (even if they marked nothing)."""
        draft = self._drafts[document.text]
        if coder is not None and coder not in draft.coders:
            draft.coders.append(coder)

    def span(self, document: ImportedDocument, span: ImportedSpan) -> None:
        draft = self._drafts[document.text]
        key = (span.start, span.end, span.code, span.coder, span.layer)
        if key in draft.keys:
            self.skip("span", span.where, "repeats an identical span", span.code)
            return
        draft.keys.add(key)
        draft.spans.append(span)
        self.coder(document, span.coder)

    def add_span(
        self,
        document: ImportedDocument,
        offsets: TextOffsets,
        start: object,
        end: object,
        code: object,
        *,
        name: str,
        line: int | None,
        coder: str | None = None,
        note: str = "",
        layer: str = "",
        quote: str | None = None,
        label: str = "span",
    ) -> bool:
        """Convert and add one span; a problem (naming `label`) if it cannot be exact."""
        if not (is_int(start) and is_int(end)):
            self.problem(name, line, f"{label}: start and end must be whole numbers")
            return False
        if not isinstance(code, str) or not code.strip():
            self.problem(name, line, f"{label}: the label must be a non-empty string")
            return False
        converted = offsets.span(start, end, quote)
        if isinstance(converted, str):
            self.problem(name, line, f"{label}: {converted}")
            return False
        self.span(
            document,
            ImportedSpan(
                start=converted[0],
                end=converted[1],
                code=code,
                coder=coder,
                note=note,
                layer=layer,
                where=where(name, line),
            ),
        )
        return True

    def result(self, no_documents: str = "contains no documents") -> FormatResult:
        documents = tuple(
            replace(
                draft.document,
                spans=tuple(sorted(draft.spans, key=_span_order)),
                coders=tuple(draft.coders),
            )
            for draft in self._drafts.values()
        )
        problems = list(self.problems)
        if not documents and not problems:
            problems.append(Problem("upload", None, no_documents))
        return FormatResult(
            format=self.format,
            offsets=self.unit.value,
            documents=documents,
            problems=tuple(problems),
            skipped=tuple(self.skipped),
        )


def _span_order(span: ImportedSpan) -> tuple[Any, ...]:
    return (span.coder or "", span.layer, span.start, -span.end, span.code)
