"""Projects: the list of projects one manages, a new project, settings and progress."""

from __future__ import annotations

from dataclasses import asdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ...models import UnitKind
from ...permissions import NOT_FOUND, access_manage, may_create_projects
from ...selectors import manage as selectors
from ...services import projects as services
from ...services.base import ServiceError
from .common import project_input, render


def _projects_page(request, *, error: str = "", form=None, status: int = 200):
    context = {
        "projects": selectors.managed_projects(request.user),
        "may_create": may_create_projects(request.user),
        "units": UnitKind.choices,
        "error": error,
        "form": form or {"blind": "on", "coders_may_export": "on", "snap_to_words": "on"},
    }
    return render(request, "projects.html", context, status=status)


@login_required
@require_GET
def projects(request):
    return _projects_page(request)


@login_required
@require_POST
def project_create(request):
    """Those with the site's right to start projects; the creator becomes its manager."""
    if not may_create_projects(request.user):
        raise Http404(NOT_FOUND)
    try:
        project = services.project_create(**asdict(project_input(request.POST)), actor=request.user)
    except ServiceError as error:
        return _projects_page(request, error=str(error), form=request.POST, status=422)
    messages.success(request, f"Created “{project.name}”. Next, upload its documents.")
    return redirect("manage-documents", project_id=project.pk)


@login_required
@require_http_methods(["GET", "POST"])
def project_settings(request, project_id: int):
    project, _ = access_manage(request.user, project_id)
    error = ""
    if request.method == "POST":
        try:
            services.project_update(
                project=project, **asdict(project_input(request.POST)), actor=request.user
            )
        except ServiceError as err:
            error = str(err)
        else:
            messages.success(request, "Settings saved.")
            return redirect("manage-settings", project_id=project.pk)
    context = {"project": project, "section": "settings", "units": UnitKind.choices, "error": error}
    return render(request, "settings.html", context, status=422 if error else 200)


@login_required
@require_GET
def dashboard(request, project_id: int):
    project, _ = access_manage(request.user, project_id)
    context = {"project": project, "section": "dashboard", "board": selectors.dashboard(project)}
    return render(request, "dashboard.html", context)
