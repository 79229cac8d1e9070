"""Streaming reads shared by every export file.

Documents are visited in batches of ids (bounded by count and by characters), and each
batch's spans come from one ``.iterator(chunk_size=2000)`` query, so memory stays constant
however large the corpus is.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import CharField, Q
from django.db.models.functions import Cast

from ...models import (
    Assignment,
    AssignmentStatus,
    AuditEvent,
    Code,
    Document,
    DocumentReview,
    GoldSpan,
    Project,
    ReviewDecision,
    ReviewStatus,
    Span,
)
from ..rows import streamed_raw_rows
from .spec import ExportSpec

BATCH_DOCUMENTS = 200
BATCH_CHARACTERS = 2_000_000  # a few long documents fill a batch as well as many short ones
CHUNK = 2000


def _counting_statuses(spec: ExportSpec) -> list[str]:
    """Assignments whose coder "coded" the document (a to-do assignment is not coded)."""
    if spec.done_only:
        return [AssignmentStatus.DONE]
    return [AssignmentStatus.IN_PROGRESS, AssignmentStatus.DONE]


def documents_queryset(project: Project, spec: ExportSpec):
    documents = Document.objects.filter(project=project)
    done = Assignment.objects.filter(status=AssignmentStatus.DONE)
    if spec.coder_id is not None:
        assigned = Assignment.objects.filter(coder_id=spec.coder_id)
        if spec.done_only:
            assigned = assigned.filter(status=AssignmentStatus.DONE)
        documents = documents.filter(pk__in=assigned.values("document_id"))
    elif spec.done_only:
        wanted = Q()
        if spec.coders:
            wanted |= Q(pk__in=done.values("document_id"))
        if spec.gold:
            settled = DocumentReview.objects.filter(status=ReviewStatus.SETTLED)
            wanted |= Q(pk__in=settled.values("document_id"))
        documents = documents.filter(wanted)
    return documents.order_by("pk")


def document_batches(project: Project, spec: ExportSpec) -> Iterator[list[int]]:
    """Document ids in order, in batches small enough to hold their texts in memory."""
    batch: list[int] = []
    characters = 0
    rows = documents_queryset(project, spec).values_list("pk", "length")
    for pk, length in rows.iterator(chunk_size=CHUNK):
        batch.append(pk)
        characters += length
        if len(batch) >= BATCH_DOCUMENTS or characters >= BATCH_CHARACTERS:
            yield batch
            batch, characters = [], 0
    if batch:
        yield batch


@dataclass(frozen=True)
class _Doc:
    pk: int
    external_id: str
    title: str
    outlet: str
    url: str
    published: datetime.date | None
    sha256: str
    length: int
    text: str

    def metadata(self) -> dict[str, Any]:
        """The columns that identify a document in every export file."""
        return {
            "document_id": self.pk,
            "external_id": self.external_id,
            "title": self.title,
            "outlet": self.outlet,
            "url": self.url,
            "published": self.published,
            "text_sha256": self.sha256,
        }


def _documents(batch: list[int]) -> dict[int, _Doc]:
    rows = Document.objects.filter(pk__in=batch).values_list(
        "pk", "external_id", "title", "outlet", "url", "published", "sha256", "length", "text"
    )
    return {row[0]: _Doc(*row) for row in rows}


def _coder_span_rows(spec: ExportSpec, batch: list[int], *, raw: bool = False):
    spans = Span.objects.live().filter(assignment__document_id__in=batch)
    if spec.coder_id is not None:
        spans = spans.filter(assignment__coder_id=spec.coder_id)
    if spec.done_only:
        spans = spans.filter(assignment__status=AssignmentStatus.DONE)
    if spec.code_ids:
        spans = spans.filter(code_id__in=spec.code_ids)
    # The quote is not read: it is the document's own slice (see span_rows).
    made, changed = "created_at", "updated_at"
    if raw and connection.vendor == "sqlite":
        # SQLite keeps timestamps as UTC text: read them as text, not as datetimes to be
        # formatted back into text (see shape.timestamp_text).
        spans = spans.annotate(
            made=Cast("created_at", CharField()), changed=Cast("updated_at", CharField())
        )
        made, changed = "made", "changed"
    rows = spans.order_by(
        "assignment__document_id", "assignment__coder_id", "start", "end", "pk"
    ).values_list(
        "assignment__document_id",
        "assignment__coder_id",
        "code_id",
        "start",
        "end",
        "note",
        made,
        changed,
        "pk",
    )
    return streamed_raw_rows(rows, CHUNK) if raw else rows.iterator(chunk_size=CHUNK)


def _gold_span_rows(spec: ExportSpec, batch: list[int]):
    spans = GoldSpan.objects.live().filter(document_id__in=batch)
    if spec.done_only:
        spans = spans.filter(document__review__status=ReviewStatus.SETTLED)
    if spec.code_ids:
        spans = spans.filter(code_id__in=spec.code_ids)
    return (
        spans.order_by("document_id", "start", "end", "pk")
        .values_list(
            "document_id",
            "settled_by_id",
            "code_id",
            "start",
            "end",
            "created_at",
            "updated_at",
            "provenance",
            "rationale",
            "pk",
            "source_spans",
            "source_coders",
        )
        .iterator(chunk_size=CHUNK)
    )


def _settling_actions(batch: list[int]) -> dict[int, str]:
    """Gold span id → the reviewer's action that made it. A decision links its first gold
    span; the audit event of every settling lists them all."""
    actions = dict(
        ReviewDecision.objects.filter(document_id__in=batch, gold_span__isnull=False).values_list(
            "gold_span_id", "action"
        )
    )
    settled = AuditEvent.objects.filter(
        document_id__in=batch, action="settle", object_type="reviewdecision"
    ).values_list("after", flat=True)
    for after in settled:
        if isinstance(after, dict):
            for gold_id in after.get("gold_spans") or ():
                actions.setdefault(gold_id, str(after.get("action", "")))
    return actions


def _code_names(project: Project) -> dict[int, str]:
    return dict(Code.objects.filter(codebook__project=project).values_list("pk", "name"))
