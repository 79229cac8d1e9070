"""People: members of a project, their roles, and invitations to join it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ...forms import Params
from ...models import Role
from ...permissions import access_manage, access_project_invitation, access_project_member
from ...selectors import manage as selectors
from ...services import people as services
from ...services.base import ServiceError
from .common import render


def _people_page(request, project, *, status: int = 200, form=None, **extra):
    form = form or {}
    found = selectors.people(project)
    context = {
        "project": project,
        "section": "people",
        "members": found.members,
        "invitations": found.invitations,
        "add_choices": selectors.position_choices(form.get("role") or Role.CODER),
        "form": form,
        "link_hours": settings.FRAMING_INVITATION_HOURS,
        **extra,
    }
    return render(request, "people.html", context, status=status)


def _link(request, invited: services.Invited) -> str:
    return request.build_absolute_uri(reverse("invitation", args=[invited.token]))


@login_required
@require_GET
def people(request, project_id: int):
    project, _ = access_manage(request.user, project_id)
    return _people_page(request, project)


@login_required
@require_POST
def member_add(request, project_id: int):
    """Invite a person by user name: the same answer whether such an account exists or not."""
    project, _ = access_manage(request.user, project_id)
    params = Params(request.POST)
    try:
        invited = services.member_invite(
            project=project,
            username=params.text("username", max_length=150, label="the user name"),
            role=params.choice("role", Role.values, default=Role.CODER, label="role"),
            actor=request.user,
        )
    except ServiceError as error:
        return _people_page(request, project, status=422, error=str(error), form=request.POST)
    # Rendered, not redirected: the link is shown once and never stored in a cookie.
    return _people_page(request, project, invited=invited, link=_link(request, invited))


@login_required
@require_POST
def invitation_link(request, project_id: int, invitation_id: int):
    project, _ = access_manage(request.user, project_id)
    invitation = access_project_invitation(project, invitation_id)
    try:
        invited = services.invitation_link_renew(invitation=invitation, actor=request.user)
    except ServiceError as error:
        return _people_page(request, project, status=422, error=str(error))
    return _people_page(request, project, invited=invited, link=_link(request, invited))


@login_required
@require_POST
def invitation_withdraw(request, project_id: int, invitation_id: int):
    project, _ = access_manage(request.user, project_id)
    invitation = access_project_invitation(project, invitation_id)
    try:
        services.invitation_withdraw(invitation=invitation, actor=request.user)
    except ServiceError as error:
        return _people_page(request, project, status=422, error=str(error))
    messages.success(request, f"Withdrew the invitation of {invitation.username}.")
    return redirect("manage-people", project_id=project.pk)


@login_required
@require_POST
def member_role(request, project_id: int, membership_id: int):
    project, _ = access_manage(request.user, project_id)
    membership = access_project_member(project, membership_id)
    try:
        role = Params(request.POST).choice("role", Role.values, label="role")
        if role is None:
            raise ServiceError("Choose a role.")
        services.member_set_role(membership=membership, role=role, actor=request.user)
    except ServiceError as error:
        return _people_page(request, project, status=422, error=str(error))
    messages.success(request, f"{membership.user.username} is now {role}.")
    return redirect("manage-people", project_id=project.pk)


@login_required
@require_POST
def member_remove(request, project_id: int, membership_id: int):
    project, _ = access_manage(request.user, project_id)
    membership = access_project_member(project, membership_id)
    try:
        services.member_remove(membership=membership, actor=request.user)
    except ServiceError as error:
        return _people_page(request, project, status=422, error=str(error))
    messages.success(
        request,
        f"Removed {membership.user.username} from the project; their assignments and spans stay.",
    )
    if membership.user == request.user:
        return redirect("manage-projects")
    return redirect("manage-people", project_id=project.pk)
