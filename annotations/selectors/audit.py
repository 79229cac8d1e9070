"""Reads for the audit trail page: a project's recorded changes, filtered and paged."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator

from ..models import AuditEvent, Project

PAGE_SIZE = 100


def changes(event: AuditEvent) -> list[tuple[str, object, object]]:
    """(field, before, after) for every field that differs, in a stable order."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    keys = sorted(set(before) | set(after))
    return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


@dataclass
class AuditPage:
    page: Page
    rows: list[tuple[AuditEvent, list[tuple[str, object, object]]]]
    documents: list
    actors: list


def audit_page(
    project: Project, *, document_id: int | None, user_id: int | None, page: int
) -> AuditPage:
    events = AuditEvent.objects.filter(project=project).select_related("actor", "document")
    if document_id is not None:
        events = events.filter(document_id=document_id)
    if user_id is not None:
        events = events.filter(actor_id=user_id)
    paged = Paginator(events, PAGE_SIZE).get_page(page)
    actors = (
        get_user_model()
        .objects.filter(pk__in=AuditEvent.objects.filter(project=project).values("actor_id"))
        .order_by("username")
    )
    return AuditPage(
        page=paged,
        rows=[(event, changes(event)) for event in paged],
        documents=list(project.documents.only("pk", "title")),
        actors=list(actors),
    )
