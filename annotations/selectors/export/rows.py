"""Rows of spans.csv, documents.csv, codebook.csv and the reliability matrices.

Each function yields one dict per row, read from the database batch by batch (see
:mod:`.reads`); CSV writing is in :mod:`annotations.domain.export`.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ...domain import export as shape
from ...domain import units
from ...models import AgreementRun, Assignment, AssignmentStatus, Code, Document, Project, Span
from ..agreement import latest_finished_run
from .reads import (
    BATCH_DOCUMENTS,
    CHUNK,
    _code_names,
    _coder_span_rows,
    _documents,
    _gold_span_rows,
    _settling_actions,
    document_batches,
)
from .spec import ExportSpec, coder_labels, people_labels


def coder_span_id(pk: int) -> str:
    return f"s{pk}"


def gold_span_id(pk: int) -> str:
    return f"g{pk}"


def span_rows(project: Project, spec: ExportSpec) -> Iterator[tuple]:
    """One tuple per span, in the order of ``SPAN_COLUMNS``, document by document; every cell
    is already text, a whole number or None (the CSV writer's fast path)."""
    labels = people_labels(project, spec)
    codes = _code_names(project)
    name = project.name
    for batch in document_batches(project, spec):
        documents = _documents(batch)
        texts = {pk: doc.text for pk, doc in documents.items()}
        heads = {pk: (name, *_metadata_cells(doc)) for pk, doc in documents.items()}
        if not spec.gold:
            yield from _coder_rows(spec, batch, texts, heads, labels, codes)
            continue
        actions = _settling_actions(batch)
        streams = []
        if spec.coders:
            streams.append(
                ("coder", doc, coder, code, start, end, note, made, changed, "", "", pk, (), ())
                for doc, coder, code, start, end, note, made, changed, pk in _coder_span_rows(
                    spec, batch, raw=True
                )
            )
        if spec.gold:
            streams.append(
                ("gold", doc, settler, code, start, end, "", made, changed, prov, why, pk, ids, by)
                for doc, settler, code, start, end, made, changed, prov, why, pk, ids, by in (
                    _gold_span_rows(spec, batch)
                )
            )
        # Both streams are ordered by document: merging keeps one document's rows together.
        rows = heapq.merge(*streams, key=lambda item: item[1]) if len(streams) > 1 else streams[0]
        stamp = shape.timestamp_text
        for row in rows:
            layer, doc_id, person, code, start, end, note, made, changed, prov, why = row[:11]
            pk, sources, source_coders = row[11:]
            text = texts[doc_id]
            gold = layer == "gold"
            yield heads[doc_id] + (
                gold_span_id(pk) if gold else coder_span_id(pk),
                layer,
                labels.get(person, "") if person is not None else "",
                codes[code],
                start,
                end,
                # Spans store text[start:end] when saved and the text never changes, so the
                # slice is the quote; taking it from the text makes the invariant hold by
                # construction and saves reading every quote twice.
                text[start:end],
                text[start - CONTEXT if start > CONTEXT else 0 : start],
                text[end : end + CONTEXT],
                note,
                stamp(made),
                stamp(changed),
                prov,
                why,
                " ".join(coder_span_id(i) for i in sources) if sources else "",
                " | ".join(labels.get(uid, "a former coder") for uid in source_coders)
                if source_coders
                else "",
                actions.get(pk, "") if gold else "",
            )


CONTEXT = 40  # code points of text either side of a span (shape.context's width)


def _coder_rows(spec, batch, texts, heads, labels, codes) -> Iterator[tuple]:
    """The coders' rows alone (the usual export): the same cells as ``span_rows`` writes,
    in one loop over the database rows, as this is the export's hot path."""
    stamp = shape.timestamp_text
    for doc_id, coder, code, start, end, note, made, changed, pk in _coder_span_rows(
        spec, batch, raw=True
    ):
        text = texts[doc_id]
        yield heads[doc_id] + (
            f"s{pk}",
            "coder",
            labels.get(coder, ""),
            codes[code],
            start,
            end,
            text[start:end],
            text[start - CONTEXT if start > CONTEXT else 0 : start],
            text[end : end + CONTEXT],
            note,
            stamp(made),
            stamp(changed),
            "",
            "",
            "",
            "",
            "",
        )


def _metadata_cells(document) -> tuple:
    """The document's identifying columns (document_id … text_sha256), formatted once."""
    meta = document.metadata()
    return tuple(
        shape.format_value(meta[column]) if column == "published" else meta[column]
        for column in shape.SPAN_COLUMNS[1:8]
    )


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


# --- Reliability matrices: the agreement run's input ------------------------------------------


@dataclass(frozen=True)
class ReliabilityInput:
    """What the latest finished agreement run computed on, read with its own settings (or
    the settings a run uses by default, when none has finished): the documents on which
    at least two coders' work counts, and those coders."""

    run: AgreementRun | None
    unit: str
    include_in_progress: bool
    coders: tuple[int, ...]  # every coder counted somewhere, in pseudonym order
    counted: dict[int, tuple[int, ...]]  # document id → coders whose work counts there
    changed_since: bool  # spans or statuses changed after the run started

    @property
    def statuses(self) -> list[str]:
        if self.include_in_progress:
            return [AssignmentStatus.DONE, AssignmentStatus.IN_PROGRESS]
        return [AssignmentStatus.DONE]


def reliability_input(project: Project) -> ReliabilityInput:
    run = latest_finished_run(project)
    settings = (run.settings or {}) if run is not None else {}
    include = bool(settings.get("include_in_progress", False))
    unit = str(settings.get("unit") or project.agreement_unit)
    statuses = [AssignmentStatus.DONE, AssignmentStatus.IN_PROGRESS] if include else []
    statuses = statuses or [AssignmentStatus.DONE]
    counted: dict[int, list[int]] = defaultdict(list)
    rows = (
        Assignment.objects.filter(document__project=project, status__in=statuses)
        .order_by("document_id", "coder_id")
        .values_list("document_id", "coder_id")
    )
    for document_id, coder_id in rows.iterator(chunk_size=CHUNK):
        counted[document_id].append(coder_id)
    kept = {doc: tuple(coders) for doc, coders in counted.items() if len(coders) >= 2}
    present = {coder for coders in kept.values() for coder in coders}
    order = {uid: index for index, uid in enumerate(coder_labels(project, names=True))}
    coders = tuple(sorted(present, key=lambda uid: (order.get(uid, len(order)), uid)))
    return ReliabilityInput(
        run=run,
        unit=unit,
        include_in_progress=include,
        coders=coders,
        counted=kept,
        changed_since=run is not None and _changed_since(project, run),
    )


def _changed_since(project: Project, run: AgreementRun) -> bool:
    moment = run.started_at or run.requested_at
    return (
        Span.objects.filter(assignment__document__project=project, updated_at__gt=moment).exists()
        or Assignment.objects.filter(document__project=project, updated_at__gt=moment).exists()
    )


def reliability_coders(project: Project, spec: ExportSpec) -> list[int]:
    """Coder ids with work in the project, in pseudonym (membership) order: who may be
    chosen as one coder's layer."""
    if spec.coder_id is not None:
        return [spec.coder_id]
    assigned = set(
        Assignment.objects.filter(document__project=project).values_list("coder_id", flat=True)
    )
    return [uid for uid in coder_labels(project, names=True) if uid in assigned]


def reliability_matrix_rows(source: ReliabilityInput, code_id: int) -> Iterator[tuple]:
    """Units × coders for one code, as rows in :func:`reliability_columns` order: 1 applied,
    0 counted without it, None not counted."""
    documents = sorted(source.counted)
    for at in range(0, len(documents), BATCH_DOCUMENTS):
        batch = documents[at : at + BATCH_DOCUMENTS]
        texts = dict(Document.objects.filter(pk__in=batch).values_list("pk", "text"))
        applied: dict[tuple[int, int], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        spans = (
            Span.objects.live()
            .filter(
                assignment__document_id__in=batch,
                assignment__status__in=source.statuses,
                code_id=code_id,
            )
            .values_list("assignment__document_id", "assignment__coder_id", "start", "end")
        )
        for doc, coder, start, end in spans.iterator(chunk_size=CHUNK):
            starts, ends = applied[(doc, coder)]
            starts.append(start)
            ends.append(end)
        for doc in batch:
            counted = source.counted[doc]
            unit_starts, unit_ends = units.unit_bounds(texts[doc], source.unit)
            yield from shape.reliability_block(
                doc,
                unit_starts,
                unit_ends,
                [applied.get((doc, c), ([], [])) if c in counted else None for c in source.coders],
            )
