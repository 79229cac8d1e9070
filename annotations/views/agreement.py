"""The agreement page: latest run (polled while it runs), run now, results, history."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from ..domain.agreement import display
from ..models import AgreementRun, RunStatus
from ..permissions import NOT_FOUND, access_project, can_see_other_coders
from ..pseudonyms import coder_labels
from ..services import agreement as service

TEMPLATE = "annotations/agreement/agreement.html"


def access_agreement(user, project_id: int):
    """Reviewers and managers; coders too in open projects, never in blind ones."""
    project, member = access_project(user, project_id)
    if not can_see_other_coders(member):
        raise Http404(NOT_FOUND)
    return project, member


def results_context(project, run) -> dict:
    if run is None or run.status != RunStatus.DONE or not run.results:
        return {}
    results = run.results
    labels = {f"u{user_id}": label for user_id, label in coder_labels(project).items()}
    rows = display.rows_per_code(results)
    pairs = [
        {
            "a": labels.get(key.split("|")[0], key.split("|")[0]),
            "b": labels.get(key.split("|")[1], key.split("|")[1]),
            **pair,
        }
        for key, pair in results.get("pairs", {}).items()
    ]
    titles = dict(project.documents.values_list("pk", "title"))
    documents = [
        {"title": titles.get(doc["id"], doc["id"]), **doc}
        for doc in results.get("per_document", [])
    ]
    return {
        "results": results,
        "rows": rows,
        "bars": display.chart_bars(rows),
        "chart_height": 20 + 28 * len(rows),
        "pairs": pairs,
        "documents": documents,
        "methods": display.methods_sentence(results),
        "methods_note": display.METHODS_NOTE,
    }


def render_page(request, project, *, status: int = 200):
    runs = list(AgreementRun.objects.filter(project=project).order_by("-pk")[:20])
    latest = runs[0] if runs else None
    latest_done = next((r for r in runs if r.status == RunStatus.DONE), None)
    history = [
        {
            "run": run,
            "values": [
                (run.results or {}).get("per_code", {}).get(code, {}).get("alpha_u")
                for code in (latest_done.results or {}).get("codes", [])
            ],
        }
        for run in runs
        if run.status == RunStatus.DONE and latest_done is not None
    ]
    context = {
        "project": project,
        "latest": latest,
        "shown": latest_done,
        "polling": latest is not None and latest.status in (RunStatus.QUEUED, RunStatus.RUNNING),
        "history": history,
        "history_codes": (latest_done.results or {}).get("codes", []) if latest_done else [],
        **results_context(project, latest_done),
    }
    fragment = request.htmx and not request.htmx.history_restore_request
    template = f"{TEMPLATE}#panel" if fragment else TEMPLATE
    response = TemplateResponse(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def agreement_page(request, project_id: int):
    project, _ = access_agreement(request.user, project_id)
    return render_page(request, project)


@login_required
@require_POST
def agreement_run(request, project_id: int):
    project, _ = access_agreement(request.user, project_id)
    service.agreement_request(
        project=project,
        actor=request.user,
        run_settings=service.RunSettings(
            unit=project.agreement_unit,
            include_in_progress=request.POST.get("include_in_progress") == "on",
        ),
    )
    return render_page(request, project)


@login_required
@require_POST
def agreement_rerun(request, project_id: int, run_id: int):
    project, _ = access_agreement(request.user, project_id)
    run = AgreementRun.objects.filter(pk=run_id, project=project).first()
    if run is None:
        raise Http404(NOT_FOUND)
    service.agreement_rerun(run=run, actor=request.user)
    return render_page(request, project)


urlpatterns = [
    path("projects/<int:project_id>/agreement/", agreement_page, name="agreement"),
    path("projects/<int:project_id>/agreement/run/", agreement_run, name="agreement-run"),
    path(
        "projects/<int:project_id>/agreement/runs/<int:run_id>/rerun/",
        agreement_rerun,
        name="agreement-rerun",
    ),
]
