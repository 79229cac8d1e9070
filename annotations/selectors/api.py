"""Reads for the JSON API: plain rows of what a caller asked for.

Which objects a member may read is decided in ``permissions`` (``visible_documents``,
``visible_spans``, the ``access_*`` rules); the functions here shape what they are given,
with people named by the labels the caller may see (pseudonyms in blind projects).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import OuterRef, QuerySet, Subquery

from ..domain.settling import item_key
from ..models import Assignment, Code, Document, DocumentReview, Membership, ReviewDecision, Span
from .review import document_alignment


def member_projects(user) -> list[Membership]:
    """The user's memberships with their projects, by project name."""
    return list(
        Membership.objects.filter(user=user)
        .select_related("project")
        .order_by("project__name", "project_id")
    )


def project_codes(project_id: int) -> list[Code]:
    return list(Code.objects.filter(codebook__project_id=project_id).order_by("order", "pk"))


@dataclass
class DocumentsPage:
    count: int
    page: int
    page_size: int
    items: list[Document]


def documents_page(
    documents: QuerySet, *, user, page: int, page_size: int, include_text: bool
) -> DocumentsPage:
    """One page of documents (by id), each with the caller's own assignment if any
    (``my_assignment_id``, ``my_status``); texts only when asked for."""
    mine = Assignment.objects.filter(document=OuterRef("pk"), coder=user)
    rows = documents.order_by("pk").annotate(
        my_assignment_id=Subquery(mine.values("pk")[:1]),
        my_status=Subquery(mine.values("status")[:1]),
    )
    if not include_text:
        rows = rows.defer("text")
    start = (page - 1) * page_size
    return DocumentsPage(
        count=documents.count(),
        page=page,
        page_size=page_size,
        items=list(rows[start : start + page_size]),
    )


def own_assignment(document: Document, user) -> Assignment | None:
    return Assignment.objects.filter(document=document, coder=user).first()


def span_row(span: Span, coder: str) -> dict:
    """A span as the API gives it (``coder`` is the label the caller may see)."""
    return {
        "id": span.pk,
        "document_id": span.assignment.document_id,
        "coder": coder,
        "code": span.code_id,
        "code_name": span.code.name,
        "start": span.start,
        "end": span.end,
        "quote": span.quote,
        "note": span.note,
        "version": span.version,
        "created_at": span.created_at,
        "updated_at": span.updated_at,
        "deleted": span.deleted_at is not None,
    }


def span_rows(spans: QuerySet, labels: dict[int, str]) -> list[dict]:
    """Live spans as rows, each coder named by ``labels`` (user id → label)."""
    rows = spans.select_related("code", "assignment").order_by("start", "end", "pk")
    return [span_row(span, labels.get(span.assignment.coder_id, "a former coder")) for span in rows]


@dataclass
class ReviewItems:
    status: str  # "", in_review, settled or reopened
    coders: list[str]  # labels of the coders whose (done) work is aligned
    pending: list[str]  # labels of assigned coders not done yet
    counts: dict[str, int]  # items per kind, settled or not
    items: list[dict]


def review_items(document: Document, labels: dict[int, str], *, kind: str | None) -> ReviewItems:
    """The document's aligned items in text order (only ``kind`` if given), each with its
    coders' versions by label and its decision, if settled."""
    alignment = document_alignment(document)
    codes = dict(
        Code.objects.filter(codebook__project_id=document.project_id).values_list("pk", "name")
    )
    decided = {
        row[0]: row[1:]
        for row in ReviewDecision.objects.filter(document=document).values_list(
            "item_key",
            "action",
            "rationale",
            "decided_at",
            f"decided_by__{get_user_model().USERNAME_FIELD}",
            "gold_span_id",
        )
    }
    review = DocumentReview.objects.filter(document=document).values_list("status", flat=True)

    def label(uid) -> str:
        return labels.get(int(uid), "a former coder")

    items = []
    for index, item in enumerate(alignment.items):
        if kind is not None and item.kind.value != kind:
            continue
        key = item_key(item)
        decision = decided.get(key)
        items.append(
            {
                "index": index,
                "key": key,
                "kind": item.kind.value,
                "start": item.start,
                "end": item.end,
                "quote": document.text[item.start : item.end],
                "codes": [codes.get(int(c), "") for c in item.codes],
                "absent": [label(c) for c in item.absent],
                "versions": [
                    {
                        "start": v.start,
                        "end": v.end,
                        "code": int(v.code),
                        "code_name": codes.get(int(v.code), ""),
                        "coders": [label(c) for c in v.coders],
                    }
                    for v in item.versions
                ],
                "decision": None
                if decision is None
                else {
                    "action": decision[0],
                    "rationale": decision[1],
                    "decided_at": decision[2],
                    "decided_by": decision[3],
                    "gold_span_id": decision[4],
                },
            }
        )
    return ReviewItems(
        status=review.first() or "",
        coders=[label(uid) for uid in alignment.done],
        pending=[label(uid) for uid in alignment.pending],
        counts=dict(Counter(item.kind.value for item in alignment.items)),
        items=items,
    )
