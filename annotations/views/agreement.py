"""The agreement page: latest run (polled while it runs), run now, results, history."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from ..forms import Params
from ..permissions import access_agreement, access_run
from ..selectors import agreement as selectors
from ..services import agreement as service
from .htmx import render

TEMPLATE = "annotations/agreement/agreement.html"


def render_page(request, project, *, message: str = "", status: int = 200):
    context = {"project": project, "page": selectors.agreement_page(project), "message": message}
    return render(request, TEMPLATE, context, partial="panel", status=status)


@login_required
@require_GET
def agreement_page(request, project_id: int):
    project, _ = access_agreement(request.user, project_id)
    return render_page(request, project)


@login_required
@require_POST
def agreement_run(request, project_id: int):
    project, _ = access_agreement(request.user, project_id)
    include_in_progress = Params(request.POST).flag("include_in_progress")
    outcome = service.agreement_request(
        project=project,
        actor=request.user,
        run_settings=service.RunSettings(
            unit=project.agreement_unit, include_in_progress=include_in_progress
        ),
    )
    return render_page(request, project, message=outcome.message)


@login_required
@require_POST
def agreement_rerun(request, project_id: int, run_id: int):
    project, _ = access_agreement(request.user, project_id)
    run = access_run(project, run_id)
    service.agreement_rerun(run=run, actor=request.user)
    return render_page(request, project, message=f"Run #{run.pk} queued again.")


urlpatterns = [
    path("projects/<id:project_id>/agreement/", agreement_page, name="agreement"),
    path("projects/<id:project_id>/agreement/run/", agreement_run, name="agreement-run"),
    path(
        "projects/<id:project_id>/agreement/runs/<id:run_id>/rerun/",
        agreement_rerun,
        name="agreement-rerun",
    ),
]
