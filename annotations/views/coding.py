"""The coding screen: one page, whose ``workspace`` partial every htmx action re-renders.

Coders only ever reach their own assignment and their own spans (see permissions):
another coder's document or span id answers 404, in blind and open projects alike.
"""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from .. import selectors, services
from ..domain.offsets import word_step
from ..models import AssignmentStatus, Code
from ..permissions import access_assignment, access_own_span, access_project

TEMPLATE = "annotations/annotate.html"
PATTERNS = ("solid", "dashed", "dotted", "double")
HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


def is_fragment_request(request) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def kept_ids(request) -> set[int]:
    """The other spans the inspector showed, kept open after one of them changes.

    Only ids among the coder's own live spans are ever shown (render_workspace picks
    them from the coding screen), so a forged id reveals nothing.
    """
    if request.method != "POST":
        return set()
    return {int(value) for value in request.POST.getlist("keep") if value.isdigit()}


def render_workspace(
    request,
    assignment,
    *,
    message: str = "",
    error: str = "",
    status: int = 200,
    selected=(),
    undo=None,
):
    selected_ids = {span.pk for span in selected} | kept_ids(request)
    screen = selectors.coding_screen(assignment, selected_ids=selected_ids)
    context = {
        "screen": screen,
        "document": assignment.document,
        "project": assignment.document.project,
        "message": message,
        "error": error,
        "inspected": [span for span in screen.spans if span.pk in selected_ids],
        "undo": undo,
        "feedback_ready": selectors.feedback_ready(assignment),
    }
    template = f"{TEMPLATE}#workspace" if is_fragment_request(request) else TEMPLATE
    response = TemplateResponse(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def annotate(request, document_id: int):
    assignment = access_assignment(request.user, document_id)
    return render_workspace(request, assignment)


@login_required
@require_POST
def span_create(request, document_id: int):
    assignment = access_assignment(request.user, document_id)
    try:
        span = services.span_create(
            assignment=assignment,
            code_id=request.POST.get("code"),
            start=request.POST.get("start"),
            end=request.POST.get("end"),
            quote=request.POST.get("quote"),
            note=request.POST.get("note", ""),
            actor=request.user,
        )
    except services.ServiceError as error:
        return render_workspace(request, assignment, error=str(error), status=422)
    return render_workspace(
        request, assignment, message=f"Tagged “{span.code.name}”.", selected=[span]
    )


@login_required
@require_GET
def inspect(request, document_id: int):
    """The spans under one character of the text (the coder clicked a highlight)."""
    assignment = access_assignment(request.user, document_id)
    at = request.GET.get("at", "")
    spans = []
    if at.isdigit():
        offset = int(at)
        spans = list(
            assignment.spans.live().filter(start__lte=offset, end__gt=offset).order_by("start")
        )
    return render_workspace(request, assignment, selected=spans)


ADJUSTMENTS = {
    "start-earlier": ("start", -1),
    "start-later": ("start", +1),
    "end-earlier": ("end", -1),
    "end-later": ("end", +1),
}


@login_required
@require_POST
def span_update(request, span_id: int):
    span = access_own_span(request.user, span_id)
    assignment = span.assignment
    changes: dict = {}
    # The form always sends the current code; passing it on unchanged would have the
    # service refuse every edit of a span whose code was retired after it was tagged.
    if request.POST.get("code", str(span.code_id)) != str(span.code_id):
        changes["code_id"] = request.POST["code"]
    if "note" in request.POST:
        changes["note"] = request.POST["note"]
    if "start" in request.POST:
        changes["start"] = request.POST["start"]
    if "end" in request.POST:
        changes["end"] = request.POST["end"]
    adjust = ADJUSTMENTS.get(request.POST.get("adjust", ""))
    if adjust is not None:
        # Boundaries move by whole words, so a keyboard user never has to count characters.
        edge, direction = adjust
        text = assignment.document.text
        current = span.start if edge == "start" else span.end
        changes[edge] = word_step(text, current, direction)
    try:
        span = services.span_update(
            span=span, expected_version=request.POST.get("version"), actor=request.user, **changes
        )
    except services.ConflictError as error:
        return render_workspace(request, assignment, error=str(error), status=409, selected=[span])
    except services.ServiceError as error:
        return render_workspace(request, assignment, error=str(error), status=422, selected=[span])
    return render_workspace(request, assignment, message="Saved.", selected=[span])


@login_required
@require_POST
def span_delete(request, span_id: int):
    span = access_own_span(request.user, span_id)
    try:
        span = services.span_delete(
            span=span, expected_version=request.POST.get("version"), actor=request.user
        )
    except services.ServiceError as error:
        status = 409 if isinstance(error, services.ConflictError) else 422
        return render_workspace(
            request, span.assignment, error=str(error), status=status, selected=[span]
        )
    return render_workspace(
        request, span.assignment, message=f"Deleted “{span.code.name}”.", undo=span
    )


@login_required
@require_POST
def span_restore(request, span_id: int):
    span = access_own_span(request.user, span_id)
    try:
        span = services.span_restore(
            span=span, expected_version=request.POST.get("version"), actor=request.user
        )
    except services.ServiceError as error:
        status = 409 if isinstance(error, services.ConflictError) else 422
        return render_workspace(request, span.assignment, error=str(error), status=status)
    return render_workspace(
        request, span.assignment, message=f"Restored “{span.code.name}”.", selected=[span]
    )


@login_required
@require_POST
def status(request, document_id: int):
    assignment = access_assignment(request.user, document_id)
    wanted = request.POST.get("status")
    if wanted not in (AssignmentStatus.DONE, AssignmentStatus.IN_PROGRESS):
        return render_workspace(request, assignment, error="Unknown status.", status=422)
    try:
        services.assignment_set_status(assignment=assignment, status=wanted, actor=request.user)
    except services.ServiceError as error:
        return render_workspace(request, assignment, error=str(error), status=422)
    if wanted == AssignmentStatus.DONE:
        target = reverse("next-document") + f"?after={document_id}"
        if is_fragment_request(request):
            return HttpResponseClientRedirect(target)
        return redirect(target)
    assignment.refresh_from_db()
    return render_workspace(request, assignment, message="Reopened.")


@login_required
@require_GET
def code_styles(request, project_id: int):
    """Each code's colour as a CSS class, so pages need no inline styles under the CSP."""
    access_project(request.user, project_id)
    codes = Code.objects.filter(codebook__project_id=project_id)
    # A database constraint keeps colours to #rrggbb; checked again here because this
    # text goes into a stylesheet verbatim. The underline pattern is a cue that does not
    # depend on seeing colour.
    rules = [
        f".code-{code.pk}{{--code:{colour};--pattern:{PATTERNS[i % len(PATTERNS)]}}}"
        for i, code in enumerate(codes)
        for colour in [code.colour if HEX_COLOUR.fullmatch(code.colour) else "#777777"]
    ]
    response = HttpResponse("\n".join(rules) + "\n", content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "private, max-age=0, must-revalidate"
    return response


urlpatterns = [
    path("projects/<int:project_id>/codes.css", code_styles, name="code-styles"),
    path("documents/<int:document_id>/code/", annotate, name="annotate"),
    path("documents/<int:document_id>/spans/", span_create, name="span-create"),
    path("documents/<int:document_id>/inspect/", inspect, name="inspect"),
    path("documents/<int:document_id>/status/", status, name="assignment-status"),
    path("spans/<int:span_id>/", span_update, name="span-update"),
    path("spans/<int:span_id>/delete/", span_delete, name="span-delete"),
    path("spans/<int:span_id>/restore/", span_restore, name="span-restore"),
]
