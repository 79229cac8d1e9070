"""Assignments: in bulk, one document to one member, and withdrawing a document."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ...forms import Params
from ...models import Membership, Role
from ...permissions import access_manage, access_project_assignment, access_project_document
from ...selectors import manage as selectors
from ...services import assignments as services
from ...services.base import ServiceError
from .common import render

NOT_A_MEMBER = "Choose a member of this project."


def _assignments_page(request, project, *, status: int = 200, **extra):
    members = selectors.assignable_members(project)
    page = Params(request.GET).integer("page", label="the page", minimum=1, default=1)
    context = {
        "project": project,
        "section": "assignments",
        "page": selectors.assignments_page(project, page=page),
        "members": members,
        "coders": [m for m in members if m.role == Role.CODER],
        "modes": services.BulkMode.CHOICES,
        "form": {"mode": services.BulkMode.EVERY, "per_document": "2", "percent": "20"},
        **extra,
    }
    return render(request, "assignments.html", context, status=status)


@login_required
@require_GET
def assignments(request, project_id: int):
    project, _ = access_manage(request.user, project_id)
    return _assignments_page(request, project)


def _members(project, ids: list[int]) -> list:
    """The users behind member ids of this project; any other id is refused alike."""
    members = {
        m.user_id: m.user
        for m in Membership.objects.filter(project=project, user_id__in=ids).select_related("user")
    }
    if set(ids) - members.keys():
        raise ServiceError(NOT_A_MEMBER)
    return sorted(members.values(), key=lambda u: u.get_username())


@login_required
@require_POST
def assignments_bulk(request, project_id: int):
    project, _ = access_manage(request.user, project_id)
    params = Params(request.POST)
    try:
        users = _members(project, params.ids("coders", label="a coder"))
        outcome = services.assignments_bulk(
            project=project,
            mode=params.choice("mode", services.BulkMode.VALUES, label="way to assign") or "",
            coders=users or None,
            per_document=params.integer(
                "per_document", label="the number of coders per document", minimum=1, default=2
            ),
            percent=params.decimal("percent", label="The sample", minimum=0, maximum=100) or 0,
            stratify_by_outlet=params.flag("stratify"),
            seed=params.integer("seed", label="the random seed", maximum=2**32 - 1),
            actor=request.user,
        )
    except ServiceError as error:
        return _assignments_page(request, project, status=422, error=str(error), form=request.POST)
    messages.success(request, outcome.summary)
    return redirect("manage-assignments", project_id=project.pk)


def _page_suffix(params: Params) -> str:
    page = params.integer("page", label="the page", minimum=1)
    return f"?page={page}" if page else ""


@login_required
@require_POST
def assignment_add(request, project_id: int):
    project, _ = access_manage(request.user, project_id)
    params = Params(request.POST)
    document = access_project_document(project, params.id("document", required=True))
    suffix = _page_suffix(params)
    try:
        coder_id = params.id("coder", label="the member")
        if coder_id is None:
            raise ServiceError(NOT_A_MEMBER)
        (coder,) = _members(project, [coder_id])
        services.assignment_create(document=document, coder=coder, actor=request.user)
    except ServiceError as error:
        return _assignments_page(request, project, status=422, error=str(error))
    messages.success(request, f"Assigned “{document.title}” to {coder.username}.")
    return redirect(reverse("manage-assignments", args=[project.pk]) + suffix)


@login_required
@require_POST
def assignment_remove(request, project_id: int, assignment_id: int):
    project, _ = access_manage(request.user, project_id)
    assignment = access_project_assignment(project, assignment_id)
    suffix = _page_suffix(Params(request.POST))
    try:
        services.assignment_remove(assignment=assignment, actor=request.user)
    except ServiceError as error:
        return _assignments_page(request, project, status=422, error=str(error))
    messages.success(
        request, f"Withdrew “{assignment.document.title}” from {assignment.coder.username}."
    )
    return redirect(reverse("manage-assignments", args=[project.pk]) + suffix)
