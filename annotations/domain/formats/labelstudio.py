"""Label Studio JSON: read its task exports, write tasks plus a matching labelling config.

Offsets: Label Studio 1.23's Text tag stores region offsets in code points. Sources: its
editor's own end-to-end test "NER - Emoji - Text: Should calculate offsets by code points
in text" (web/libs/editor tests); PR #1559 "Fix offsets in Text with emoji: store code
points instead of js length" (merged through label-studio-frontend #308); issue #4988
(1.9.1: the *display* of a region after an emoji is off, "but firetrucks is correctly
marked in the exported JSON"); and Framing's NOTES (checked in Chromium). Older versions
counted UTF-16 (issue #1347, 2021): read those files with ``--offsets utf16``; every
region carries ``value.text``, so a wrong unit shows as a mismatch naming the task.

The Text tag's docs say "\\r\\n" counts as two characters; Framing converts offsets over
the text as the task holds it and then normalises the line breaks.

Export shape (labelstud.io/guide/task_format): a list of tasks ``{"id", "data": {...},
"annotations": [{"completed_by": <user id or {"id", "email", ...}>, "was_cancelled",
"result": [{"id", "type": "labels", "from_name", "to_name", "value": {"start", "end",
"text", "labels": [...]}}]}], "predictions": [...]}``. A per-region TextArea result shares
the region's ``id``; Framing writes span notes that way and reads them back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any
from xml.sax.saxutils import escape

from annotations.domain.formats.common import (
    Collector,
    decode,
    is_int,
    json_type,
    read_meta,
    text_problem,
    where,
)
from annotations.domain.formats.files import (
    Notes,
    Source,
    array_items,
    entries,
    json_problem,
    loads,
)
from annotations.domain.formats.model import ExportDocument, FormatResult
from annotations.domain.formats.offsets import OffsetIndex, TextOffsets, Unit, parse_unit

__all__ = ["DEFAULT_UNIT", "labelling_config", "read_label_studio", "write_label_studio"]

# Code points in 1.23: LS editor test "NER - Emoji - Text", PR #1559 (see above).
DEFAULT_UNIT = Unit.CODEPOINTS
TASKS_FILE = "tasks.json"
CONFIG_FILE = "labelling-config.xml"
LABELS_NAME, TEXT_NAME, NOTE_NAME = "label", "text", "note"
_QUOTE = {'"': "&quot;", "\n": "&#10;", "\t": "&#9;"}
_META_KEYS = {"title", "external_id", "id", "outlet", "url", "published", "publication_date"}


def read_label_studio(name: str, data: Source, *, offsets: str | None = None) -> FormatResult:
    unit = parse_unit(offsets, DEFAULT_UNIT)
    out = Collector("Label Studio", unit)
    for path, content in entries(name, data):
        if not path.lower().endswith(".json"):
            out.skip("file", path, "not a Label Studio JSON export")
            continue
        text, error = decode(content)
        if error:
            out.problem(path, None, error)
            continue
        for line, task in _tasks(path, text, out):
            _read_task(path, line, task, out)
    return out.result()


def _tasks(name: str, text: str, out: Collector) -> Iterator[tuple[int, Any]]:
    """Each task of the top-level array with the line it starts on (or one lone task)."""
    items = array_items(text)
    if items is None:  # one task on its own, or not a list: the whole text says which
        try:
            value = loads(text)
        except ValueError as err:
            line = err.lineno if isinstance(err, json.JSONDecodeError) else None
            out.problem(name, line, json_problem(err))
            return
        if isinstance(value, dict):
            yield 1 + text.count("\n", 0, len(text) - len(text.lstrip())), value
        else:
            out.problem(name, None, "expected a JSON list of tasks (Label Studio's JSON export)")
        return
    for start, end in items:
        line = 1 + text.count("\n", 0, start)
        try:
            task = loads(text[start:end])
        except ValueError as err:
            if isinstance(err, json.JSONDecodeError):
                line += err.lineno - 1
            out.problem(name, line, json_problem(err))
            return
        yield line, task


def _read_task(name: str, line: int, task: Any, out: Collector) -> None:
    place = where(name, line)
    if not isinstance(task, dict):
        out.problem(name, line, f"a task must be a JSON object, not {json_type(task)}")
        return
    data = task.get("data")
    if not isinstance(data, dict):
        out.problem(name, line, "task has no 'data' object")
        return
    text_key = (
        "text"
        if "text" in data
        else next(
            (
                key
                for key, value in data.items()
                if isinstance(value, str) and key not in _META_KEYS
            ),
            None,
        )
    )
    if text_key is None:
        out.problem(name, line, "task data has no text")
        return
    raw = data[text_key]
    errors = [error] if (error := text_problem(raw, f"data.{text_key}")) else []
    meta = read_meta(data, errors)
    for message in errors:
        out.problem(name, line, message)
    if errors:
        return
    document = out.document(raw, meta, place)
    offsets = TextOffsets(raw, out.unit)
    for key in sorted(set(data) - _META_KEYS - {text_key, "meta"}):
        out.skip("attribute", place, "task data key not imported", key)
    for number, annotation in enumerate(_list(task.get("annotations")), start=1):
        _read_annotation(name, line, number, annotation, document, offsets, out)
    for prediction in _list(task.get("predictions")):
        results = len(prediction.get("result") or []) if isinstance(prediction, dict) else 0
        out.skip(
            "prediction",
            place,
            "predictions are a model's work, not a coder's",
            f"{results} results",
        )
    for _draft in _list(task.get("drafts")):
        out.skip("annotation", place, "drafts are unfinished work")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def coder_name(completed_by: Any) -> str | None:
    """The annotator as Label Studio names them: e-mail, username, or the user id."""
    if isinstance(completed_by, dict):
        for key in ("email", "username", "id"):
            if completed_by.get(key) not in (None, ""):
                return str(completed_by[key])
        return None
    if is_int(completed_by) or isinstance(completed_by, str):
        return str(completed_by)
    return None


def _read_annotation(
    name: str,
    line: int,
    number: int,
    annotation: Any,
    document: Any,
    offsets: TextOffsets,
    out: Collector,
) -> None:
    place = f"{where(name, line)}, annotation {number}"
    if not isinstance(annotation, dict):
        out.problem(name, line, f"annotation {number} must be a JSON object")
        return
    coder = coder_name(annotation.get("completed_by"))
    if annotation.get("was_cancelled"):
        results = len(_list(annotation.get("result")))
        out.skip("annotation", place, "cancelled (skipped) by the annotator", f"{results} results")
        return
    results = _list(annotation.get("result"))
    notes = _region_notes(results)
    for item in results:
        if not isinstance(item, dict):
            out.problem(name, line, f"annotation {number}: a result must be a JSON object")
            continue
        kind = item.get("type")
        if kind == "labels":
            _read_region(name, line, number, item, notes, coder, document, offsets, out)
        elif kind == "textarea" and item.get("id") in notes.used_ids:
            continue
        elif kind == "relation":
            out.skip("relation", place, "relations are not imported")
        else:
            out.skip("annotation", place, f"results of type '{kind}' are not imported")
    if coder is not None:
        out.coder(document, coder)


class _Notes:
    def __init__(self) -> None:
        self.by_id: dict[str, str] = {}
        self.used_ids: set[str] = set()


def _region_notes(results: Iterable[Any]) -> _Notes:
    notes = _Notes()
    label_ids = {r.get("id") for r in results if isinstance(r, dict) and r.get("type") == "labels"}
    for item in results:
        if not isinstance(item, dict) or item.get("type") != "textarea":
            continue
        texts = (item.get("value") or {}).get("text")
        if item.get("id") in label_ids and isinstance(texts, list):
            notes.by_id[item["id"]] = "\n".join(str(t) for t in texts)
            notes.used_ids.add(item["id"])
    return notes


def _read_region(
    name: str,
    line: int,
    number: int,
    item: dict[str, Any],
    notes: _Notes,
    coder: str | None,
    document: Any,
    offsets: TextOffsets,
    out: Collector,
) -> None:
    value = item.get("value")
    label = f"annotation {number}, region {item.get('id', '?')}"
    if not isinstance(value, dict):
        out.problem(name, line, f"{label}: has no 'value'")
        return
    codes = value.get("labels")
    if not isinstance(codes, list) or not codes:
        out.problem(name, line, f"{label}: value.labels must be a non-empty list")
        return
    quote = value.get("text") if isinstance(value.get("text"), str) else None
    for code in codes:  # several labels on one region: one span per label
        out.add_span(
            document,
            offsets,
            value.get("start"),
            value.get("end"),
            code,
            name=name,
            line=line,
            coder=coder,
            note=notes.by_id.get(item.get("id"), ""),
            layer=str(item.get("from_name") or ""),
            quote=quote,
            label=label,
        )


def labelling_config(codes: Iterable[str]) -> str:
    """The labelling config the written tasks match: labels, a per-region note, the text."""
    labels = "".join(f'    <Label value="{escape(code, _QUOTE)}"/>\n' for code in codes)
    return (
        "<View>\n"
        f'  <Labels name="{LABELS_NAME}" toName="{TEXT_NAME}">\n{labels}  </Labels>\n'
        f'  <Text name="{TEXT_NAME}" value="$text"/>\n'
        f'  <TextArea name="{NOTE_NAME}" toName="{TEXT_NAME}" perRegion="true" '
        'editable="true" placeholder="Note"/>\n'
        "</View>\n"
    )


def write_label_studio(
    documents: Iterable[ExportDocument],
    *,
    offsets: str | None = None,
    codes: Iterable[str] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """tasks.json (one task per document, one annotation per annotator) and its config."""
    unit = parse_unit(offsets, DEFAULT_UNIT)
    notes = Notes("Label Studio")
    if unit is not Unit.CODEPOINTS:
        notes.add(f"Offsets count {unit.value}; Label Studio 1.23 counts code points.")
    used: dict[str, None] = dict.fromkeys(codes or ())
    chunks = ["[\n"]
    for number, document in enumerate(documents, start=1):
        task = _task(number, document, unit, notes, used)
        chunks.append(("" if number == 1 else ",\n") + json.dumps(task, ensure_ascii=False))
    chunks.append("\n]\n")
    yield TASKS_FILE, "".join(chunks).encode("utf-8")
    yield CONFIG_FILE, labelling_config(used).encode("utf-8")
    yield from notes.files()


def _task(
    number: int, document: ExportDocument, unit: Unit, notes: Notes, used: dict[str, None]
) -> dict[str, Any]:
    index = OffsetIndex(document.text, unit)
    annotations = []
    for annotation in document.annotations:
        results: list[dict[str, Any]] = []
        for span_number, span in enumerate(annotation.spans, start=1):
            used.setdefault(span.code, None)
            start, end = index.from_codepoint(span.start), index.from_codepoint(span.end)
            if start is None or end is None:
                notes.add(
                    f"Document {document.id}, {annotation.annotator}: span "
                    f"{span.start}–{span.end} cannot be expressed in {unit.value}; left out."
                )
                continue
            region = f"d{number}-{len(annotations) + 1}-{span_number}"
            value = {
                "start": start,
                "end": end,
                "text": document.text[span.start : span.end],
                "labels": [span.code],
            }
            results.append(_result(region, "labels", LABELS_NAME, value))
            if span.note:
                results.append(_result(region, "textarea", NOTE_NAME, {"text": [span.note]}))
        annotations.append(
            {
                "completed_by": _completed_by(annotation.annotator),
                "was_cancelled": False,
                "ground_truth": False,
                "result": results,
            }
        )
    data: dict[str, Any] = {"text": document.text, **document.meta()}
    return {"id": number, "data": data, "annotations": annotations, "predictions": []}


def _result(region: str, kind: str, from_name: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": region,
        "type": kind,
        "from_name": from_name,
        "to_name": TEXT_NAME,
        "origin": "manual",
        "value": value,
    }


def _completed_by(annotator: str) -> dict[str, str]:
    return {"email": annotator} if "@" in annotator else {"username": annotator}
