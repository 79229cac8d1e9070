"""People: members of a project, their roles, and links to choose a password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from ...forms import Params
from ...models import Role
from ...permissions import access_manage, access_project_member
from ...selectors import manage as selectors
from ...services import people as services
from ...services.base import ServiceError
from .common import render


def _people_page(request, project, *, status: int = 200, form=None, **extra):
    form = form or {}
    context = {
        "project": project,
        "section": "people",
        "members": selectors.people(project),
        "add_choices": selectors.position_choices(form.get("role") or Role.CODER),
        "form": form,
        **extra,
    }
    return render(request, "people.html", context, status=status)


@login_required
@require_GET
def people(request, project_id: int):
    project, _ = access_manage(request.user, project_id)
    return _people_page(request, project)


@login_required
@require_POST
def member_add(request, project_id: int):
    project, _ = access_manage(request.user, project_id)
    params = Params(request.POST)
    try:
        added = services.member_add(
            project=project,
            username=params.text("username", max_length=150, label="the user name"),
            email=params.text("email", max_length=254, label="the e-mail address"),
            role=params.choice("role", Role.values, default=Role.CODER, label="role"),
            actor=request.user,
        )
    except ServiceError as error:
        return _people_page(request, project, status=422, error=str(error), form=request.POST)
    # Rendered, not redirected: the link is shown once and never stored in a cookie.
    return _people_page(
        request,
        project,
        added=added,
        link=request.build_absolute_uri(added.password_link) if added.password_link else "",
    )


@login_required
@require_POST
def member_link(request, project_id: int, membership_id: int):
    project, _ = access_manage(request.user, project_id)
    membership = access_project_member(project, membership_id)
    try:
        link = services.password_link_renew(membership=membership, actor=request.user)
    except ServiceError as error:
        return _people_page(request, project, status=422, error=str(error))
    return _people_page(request, project, renewed=membership, link=request.build_absolute_uri(link))


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


# The one-time password-set link shown when a manager creates an account.
account_urlpatterns = [
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="registration/password_reset_confirm.html"
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
