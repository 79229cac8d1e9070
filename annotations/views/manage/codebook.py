"""The codebook page: codes with their use, versions, and every change to a code."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from ...forms import Params
from ...permissions import access_manage, access_project_code
from ...selectors import manage as selectors
from ...services import codebook as services
from ...services.base import ServiceError
from .common import render

TEXT_LIMIT = 20_000


def _codebook_page(request, project, *, error: str = "", form=None, status: int = 200):
    codes, versions = selectors.codebook_page(project)
    context = {
        "project": project,
        "section": "codebook",
        "codes": codes,
        "versions": versions,
        "error": error,
        "form": form or {},
    }
    return render(request, "codebook.html", context, status=status)


@login_required
@require_GET
def codebook(request, project_id: int):
    project, _ = access_manage(request.user, project_id)
    return _codebook_page(request, project)


def _codebook_action(request, project, action, success: str):
    try:
        result = action()
    except ServiceError as error:
        return _codebook_page(request, project, error=str(error), form=request.POST, status=422)
    messages.success(request, success.format(result=result))
    return redirect("manage-codebook", project_id=project.pk)


def _code_fields(data) -> dict:
    params = Params(data)
    return {
        "name": params.text("name", max_length=200, label="the name"),
        "definition": params.text("definition", max_length=TEXT_LIMIT, label="the definition"),
        "guidance": params.text("guidance", max_length=TEXT_LIMIT, label="the guidance"),
        "colour": params.text("colour", max_length=20, default=services.DEFAULT_COLOUR),
        "shortcut": params.text("shortcut", max_length=20, label="the shortcut"),
    }


@login_required
@require_POST
def code_add(request, project_id: int):
    project, _ = access_manage(request.user, project_id)
    return _codebook_action(
        request,
        project,
        lambda: services.code_create(
            codebook=project.codebook, **_code_fields(request.POST), actor=request.user
        ),
        "Added the code “{result.name}”.",
    )


@login_required
@require_POST
def code_update(request, project_id: int, code_id: int):
    project, _ = access_manage(request.user, project_id)
    code = access_project_code(project, code_id)
    return _codebook_action(
        request,
        project,
        lambda: services.code_update(
            code=code,
            **_code_fields(request.POST),
            note=Params(request.POST).text("note", max_length=300, label="the note"),
            actor=request.user,
        ),
        "Saved “{result.name}”.",
    )


@login_required
@require_POST
def code_move(request, project_id: int, code_id: int):
    project, _ = access_manage(request.user, project_id)
    code = access_project_code(project, code_id)

    def move():
        direction = Params(request.POST).choice("direction", ("up", "down"), default="down")
        services.code_move(code=code, offset=-1 if direction == "up" else 1, actor=request.user)

    return _codebook_action(request, project, move, f"Moved “{code.name}”.")


@login_required
@require_POST
def code_retire(request, project_id: int, code_id: int):
    project, _ = access_manage(request.user, project_id)
    code = access_project_code(project, code_id)
    active = Params(request.POST).choice("active", ("0", "1"), default="0") == "1"
    return _codebook_action(
        request,
        project,
        lambda: services.code_retire(code=code, active=active, actor=request.user),
        "Brought back “{result.name}”." if active else "Retired “{result.name}”.",
    )


@login_required
@require_POST
def code_delete(request, project_id: int, code_id: int):
    project, _ = access_manage(request.user, project_id)
    code = access_project_code(project, code_id)
    return _codebook_action(
        request,
        project,
        lambda: services.code_delete(code=code, actor=request.user),
        f"Deleted “{code.name}”.",
    )
