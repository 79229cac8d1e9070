"""The coder's landing pages: my work, a project's overview, the next document."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET

from .. import selectors
from ..permissions import access_project


@login_required
@require_GET
def home(request):
    return render(request, "annotations/home.html", {"projects": selectors.my_work(request.user)})


@login_required
@require_GET
def project(request, project_id: int):
    project, member = access_project(request.user, project_id)
    progress = selectors.my_work(request.user, project_id=project.pk)
    return render(
        request,
        "annotations/project.html",
        {"project": project, "member": member, "progress": progress[0]},
    )


@login_required
@require_GET
def next_document(request):
    after = request.GET.get("after")
    assignment = selectors.next_assignment(
        request.user, after_document_id=int(after) if after and after.isdigit() else None
    )
    if assignment is None:
        messages.success(request, "Everything assigned to you is done.")
        return redirect("home")
    return redirect("annotate", document_id=assignment.document_id)


urlpatterns = [
    path("", home, name="home"),
    path("next/", next_document, name="next-document"),
    path("projects/<int:project_id>/", project, name="project"),
]
