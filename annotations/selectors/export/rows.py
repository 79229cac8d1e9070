"""Rows of spans.csv, documents.csv, codebook.csv and the reliability matrices.

Each function yields one dict per row, read from the database batch by batch (see
:mod:`.reads`); CSV writing is in :mod:`annotations.domain.export`.
"""

from __future__ import annotations

import bisect
import heapq
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from ...domain import export as shape
from ...domain import units
from ...models import Assignment, Code, Document, Project, Span
from .reads import (
    CHUNK,
    _code_names,
    _coder_span_rows,
    _counting_statuses,
    _documents,
    _gold_span_rows,
    document_batches,
)
from .spec import ExportSpec, coder_labels


def span_rows(project: Project, spec: ExportSpec) -> Iterator[dict[str, Any]]:
    """One dict per span with every column of ``SPAN_COLUMNS``, document by document."""
    labels = coder_labels(project, names=spec.names)
    codes = _code_names(project)
    for batch in document_batches(project, spec):
        documents = _documents(batch)
        streams = []
        if spec.coders:
            streams.append(
                ("coder", doc, coder, code, start, end, note, created, updated, "", "")
                for doc, coder, code, start, end, note, created, updated in _coder_span_rows(
                    spec, batch
                )
            )
        if spec.gold:
            streams.append(
                ("gold", doc, settler, code, start, end, "", created, updated, prov, why)
                for doc, settler, code, start, end, created, updated, prov, why in _gold_span_rows(
                    spec, batch
                )
            )
        # Both streams are ordered by document: merging keeps one document's rows together.
        for row in heapq.merge(*streams, key=lambda item: item[1]):
            layer, doc_id, person, code, start, end, note, created, updated, prov, why = row
            document = documents[doc_id]
            before, after = shape.context(document.text, start, end)
            yield {
                "project": project.name,
                **document.metadata(),
                "layer": layer,
                "coder": labels.get(person, "") if person is not None else "",
                "code": codes[code],
                "start": start,
                "end": end,
                # Spans store text[start:end] when saved and the text never changes, so the
                # slice is the quote; taking it from the text makes the invariant hold by
                # construction and saves reading every quote twice.
                "quote": document.text[start:end],
                "context_before": before,
                "context_after": after,
                "note": note,
                "created": created,
                "updated": updated,
                "provenance": prov,
                "rationale": why,
            }


def document_rows(project: Project, spec: ExportSpec) -> Iterator[dict[str, Any]]:
    for batch in document_batches(project, spec):
        documents = _documents(batch)
        for pk in batch:
            document = documents[pk]
            yield {
                **document.metadata(),
                "length": document.length,
                "text": document.text,
            }


def codebook_rows(project: Project) -> Iterator[dict[str, Any]]:
    for code in Code.objects.filter(codebook__project=project).order_by("order", "pk"):
        yield {
            "code": code.name,
            "name": code.name,
            "definition": code.definition,
            "guidance": code.guidance,
            "colour": code.colour,
            "shortcut": code.shortcut,
            "active": code.active,
            "order": code.order,
        }


# --- Reliability matrices -------------------------------------------------------------------


def reliability_coders(project: Project, spec: ExportSpec) -> list[int]:
    """Coder ids for the matrix columns, in pseudonym (membership) order."""
    if spec.coder_id is not None:
        return [spec.coder_id]
    assigned = set(
        Assignment.objects.filter(document__project=project).values_list("coder_id", flat=True)
    )
    return [uid for uid in coder_labels(project, names=True) if uid in assigned]


def _covering_units(starts: list[int], ends: list[int], start: int, end: int) -> range:
    """Indexes of the units that share at least one character with [start, end)."""
    first = bisect.bisect_right(ends, start)
    last = bisect.bisect_left(starts, end)
    return range(first, last)


def reliability_matrix_rows(
    project: Project, spec: ExportSpec, code_id: int, coder_ids: list[int], labels: dict[int, str]
) -> Iterator[dict[str, Any]]:
    """Units × coders for one code: 1 applied, 0 coded the document without it, None missing."""
    statuses = _counting_statuses(spec)
    kind = project.agreement_unit
    for batch in document_batches(project, spec):
        coded: dict[int, set[int]] = defaultdict(set)
        for doc, coder in Assignment.objects.filter(
            document_id__in=batch, coder_id__in=coder_ids, status__in=statuses
        ).values_list("document_id", "coder_id"):
            coded[doc].add(coder)
        if not coded:
            continue
        texts = dict(Document.objects.filter(pk__in=list(coded)).values_list("pk", "text"))
        applied: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        spans = (
            Span.objects.live()
            .filter(
                assignment__document_id__in=list(coded),
                assignment__coder_id__in=coder_ids,
                assignment__status__in=statuses,
                code_id=code_id,
            )
            .values_list("assignment__document_id", "assignment__coder_id", "start", "end")
        )
        for doc, coder, start, end in spans.iterator(chunk_size=CHUNK):
            applied[doc].append((coder, start, end))
        for doc in sorted(coded):
            bounds = units.units(texts[doc], kind)
            starts = [start for start, _ in bounds]
            ends = [end for _, end in bounds]
            values: dict[str, list[int | None]] = {}
            for coder in coder_ids:
                values[labels[coder]] = (
                    [0] * len(bounds) if coder in coded[doc] else [None] * len(bounds)
                )
            for coder, start, end in applied[doc]:
                column = values[labels[coder]]
                for index in _covering_units(starts, ends, start, end):
                    column[index] = 1
            yield from shape.reliability_rows([(doc, s, e) for s, e in bounds], values)
