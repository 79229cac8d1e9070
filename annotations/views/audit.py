"""The audit trail, for a project's managers: every change, filterable by document and user."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from ..models import AuditEvent, Role
from ..permissions import access_project


def changes(event: AuditEvent) -> list[tuple[str, object, object]]:
    """(field, before, after) for every field that differs, in a stable order."""
    before, after = event.before or {}, event.after or {}
    keys = sorted(set(before) | set(after))
    return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


@login_required
@require_GET
def audit(request, project_id: int):
    project, _ = access_project(request.user, project_id, roles=(Role.MANAGER,))
    events = AuditEvent.objects.filter(project=project).select_related("actor", "document")
    document_id = request.GET.get("document", "")
    user_id = request.GET.get("user", "")
    if document_id.isdigit():
        events = events.filter(document_id=int(document_id))
    if user_id.isdigit():
        events = events.filter(actor_id=int(user_id))
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    actors = (
        get_user_model()
        .objects.filter(pk__in=AuditEvent.objects.filter(project=project).values("actor_id"))
        .order_by("username")
    )
    return render(
        request,
        "annotations/audit.html",
        {
            "project": project,
            "page": page,
            "rows": [(event, changes(event)) for event in page],
            "documents": project.documents.only("pk", "title"),
            "actors": actors,
            "document_id": document_id,
            "user_id": user_id,
        },
    )


urlpatterns = [path("manage/<int:project_id>/audit/", audit, name="manage-audit")]
