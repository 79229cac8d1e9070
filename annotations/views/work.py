"""The coder's landing pages: my work, a project's overview, the next document."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET

from ..forms import Params
from ..permissions import access_project, managed_memberships, rights, site_rights
from ..selectors import work


def _landing(request):
    """Where someone who codes nothing lands instead of "My work": a manager on the
    dashboard (the project list when they manage several), a reviewer on the review
    queue and agreement. Someone with invitations to answer sees them first."""
    site = site_rights(request.user)
    if site.offers_work:
        return None
    if site.manages:
        managed = managed_memberships(request.user)
        if len(managed) == 1:
            return redirect("manage-dashboard", project_id=managed[0].project_id)
        return redirect("manage-projects")
    return redirect("review-home")


@login_required
@require_GET
def home(request):
    landing = _landing(request)
    if landing is not None:
        return landing
    projects = work.my_work(request.user)
    for progress in projects:
        progress.rights = rights(progress.membership)  # the links each project card offers
    context = {
        "projects": projects,
        "invitations": work.pending_invitations(request.user),
    }
    return render(request, "annotations/home.html", context)


@login_required
@require_GET
def project(request, project_id: int):
    project, member = access_project(request.user, project_id)
    progress = work.my_work(request.user, project_id=project.pk)
    context = {
        "project": project,
        "member": member,
        "rights": rights(member),
        "progress": progress[0],
    }
    return render(request, "annotations/project.html", context)


@login_required
@require_GET
def next_document(request):
    after = Params(request.GET).id("after", label="the document to continue after")
    assignment = work.next_assignment(request.user, after_document_id=after)
    if assignment is None:
        messages.success(request, "Everything assigned to you is done.")
        return redirect("home")
    return redirect("annotate", document_id=assignment.document_id)


urlpatterns = [
    path("", home, name="home"),
    path("next/", next_document, name="next-document"),
    path("projects/<id:project_id>/", project, name="project"),
]
