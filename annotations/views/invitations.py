"""Invitations seen by the invited person: the link, and accepting or declining.

The link's token is the credential for the link page; accepting and declining on one's
own page need the invited account's login. An account is created only here, through the
link of an invitation for a name nobody had, with the password its owner chooses.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from ..forms import Params
from ..permissions import access_own_invitation
from ..services import people
from ..services.base import ServiceError

TEMPLATE = "annotations/invitation.html"
PASSWORD_LIMIT = 4096


@require_http_methods(["GET", "POST"])
def invitation(request, token: str):
    found = people.invitation_by_token(token)
    if found is None:
        context = {"invalid": people.INVALID_LINK}  # the page's content, not an action's error
        return TemplateResponse(request, TEMPLATE, context, status=404)
    context = {"invitation": found, "token": token, "error": ""}
    if request.method == "POST":
        params = Params(request.POST)
        try:
            first = params.text("password1", max_length=PASSWORD_LIMIT, label="the password")
            second = params.text("password2", max_length=PASSWORD_LIMIT, label="the password")
            if first != second:
                raise ServiceError("The two passwords differ; type the same password twice.")
            user = people.invitation_create_account(token=token, password=first)
        except ServiceError as error:
            return TemplateResponse(request, TEMPLATE, {**context, "error": str(error)}, status=422)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome: you joined “{found.project.name}”.")
        return redirect("home")
    return TemplateResponse(request, TEMPLATE, context)


@login_required
@require_POST
def accept(request, invitation_id: int):
    invitation = access_own_invitation(request.user, invitation_id)
    try:
        people.invitation_accept(invitation=invitation, user=request.user)
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect("home")
    messages.success(request, f"You joined “{invitation.project.name}”.")
    return redirect("project", project_id=invitation.project_id)


@login_required
@require_POST
def decline(request, invitation_id: int):
    invitation = access_own_invitation(request.user, invitation_id)
    try:
        people.invitation_decline(invitation=invitation, user=request.user)
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect("home")
    messages.success(request, f"You declined the invitation to “{invitation.project.name}”.")
    return redirect("home")


urlpatterns = [
    path("invitations/<str:token>/", invitation, name="invitation"),
    path("invitations/<id:invitation_id>/accept/", accept, name="invitation-accept"),
    path("invitations/<id:invitation_id>/decline/", decline, name="invitation-decline"),
]
