"""The audit trail, for a project's managers: every change, filterable by document and user."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from ..forms import Params
from ..permissions import access_manage
from ..selectors.audit import audit_page


@login_required
@require_GET
def audit(request, project_id: int):
    project, _ = access_manage(request.user, project_id)
    params = Params(request.GET)
    document_id = params.id("document", label="the document")
    user_id = params.id("user", label="the user")
    page = audit_page(
        project,
        document_id=document_id,
        user_id=user_id,
        page=params.integer("page", label="the page", minimum=1, default=1),
    )
    context = {
        "project": project,
        "page": page.page,
        "rows": page.rows,
        "documents": page.documents,
        "actors": page.actors,
        "document_id": document_id,
        "user_id": user_id,
    }
    return render(request, "annotations/audit.html", context)


urlpatterns = [path("manage/<id:project_id>/audit/", audit, name="manage-audit")]
