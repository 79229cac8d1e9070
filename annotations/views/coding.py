"""The coding screen: one page, whose ``workspace`` partial every htmx action re-renders.

Coders only ever reach their own assignment and their own spans (see permissions):
another coder's document or span id answers 404, in blind and open projects alike.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from ..domain.offsets import char_step, word_step
from ..domain.rendering import quoted
from ..forms import InputError, Params
from ..models import AssignmentStatus, Code
from ..permissions import (
    access_assignment,
    access_own_span,
    access_project,
    can_see_feedback,
    coding_frozen,
)
from ..selectors import coding
from ..services import assignments, spans
from ..services.base import ConflictError, ServiceError
from .htmx import Undo, is_fragment, render

TEMPLATE = "annotations/annotate.html"
PATTERNS = ("solid", "dashed", "dotted", "double")
HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
NOTE_LIMIT = spans.NOTE_LIMIT
ADJUSTMENTS = {
    "start-earlier": ("start", -1),
    "start-later": ("start", +1),
    "end-earlier": ("end", -1),
    "end-later": ("end", +1),
}
STEPS = {"word": word_step, "char": char_step}


def adjusted_edge(params: Params, text: str, start: int, end: int) -> tuple[str, int] | None:
    """The boundary a step button or key moves (``adjust``), by a word or, with
    ``by=char``, by one character: ``(edge, new offset)``, or None when none was asked."""
    adjust = params.choice("adjust", ADJUSTMENTS, label="adjustment")
    by = params.choice("by", STEPS, default="word", label="step")
    if adjust is None:
        return None
    edge, direction = ADJUSTMENTS[adjust]
    return edge, STEPS[by](text, start if edge == "start" else end, direction)


def kept_ids(params: Params) -> set[int]:
    """The other spans the inspector showed, kept open after one of them changes.

    Only ids among the coder's own live spans are ever shown (render_workspace picks
    them from the coding screen), so a forged id reveals nothing.
    """
    return set(params.ids("keep", label="a span to keep open"))


def render_workspace(
    request,
    assignment,
    *,
    message: str = "",
    error: str = "",
    status: int = 200,
    selected=(),
    undo=None,
    keep=(),
):
    selected_ids = {span.pk for span in selected} | set(keep)
    screen = coding.coding_screen(assignment, selected_ids=selected_ids)
    if undo is not None:
        undo = Undo(
            url=reverse("span-restore", args=[undo.pk]),
            values={"version": str(undo.version)},
            target="#workspace",
        )
    context = {
        "screen": screen,
        "document": assignment.document,
        "project": assignment.document.project,
        "message": message,
        "error": error,
        "inspected": [span for span in screen.spans if span.pk in selected_ids],
        "undo": undo,
        "feedback_ready": can_see_feedback(assignment),
        "frozen": coding_frozen(assignment),
        "note_limit": NOTE_LIMIT,
    }
    return render(request, TEMPLATE, context, partial="workspace", status=status)


def refused(request, assignment, error: ServiceError, **kwargs):
    status = 409 if isinstance(error, ConflictError) else 422
    return render_workspace(request, assignment, error=str(error), status=status, **kwargs)


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
        params = Params(request.POST)
        span = spans.span_create(
            assignment=assignment,
            code_id=params.id("code", label="the code", required=True),
            start=params.offset("start", required=True),
            end=params.offset("end", required=True),
            quote=params.text("quote", max_length=assignment.document.length, default=None),
            note=params.text("note", max_length=NOTE_LIMIT),
            actor=request.user,
        )
    except ServiceError as error:
        return refused(request, assignment, error)
    return render_workspace(
        request, assignment, message=f"Tagged “{span.code.name}”.", selected=[span]
    )


@login_required
@require_GET
def inspect(request, document_id: int):
    """The spans under one character of the text (the coder clicked a highlight)."""
    assignment = access_assignment(request.user, document_id)
    try:
        at = Params(request.GET).offset("at", required=True)
    except InputError as error:
        return refused(request, assignment, error)
    return render_workspace(request, assignment, selected=coding.spans_at(assignment, at))


def _span_changes(params: Params, span) -> dict:
    changes: dict = {}
    code = params.id("code", label="the code")
    # The form always sends the current code; passing it on unchanged would have the
    # service refuse every edit of a span whose code was retired after it was tagged.
    if code is not None and code != span.code_id:
        changes["code_id"] = code
    if "note" in params:
        changes["note"] = params.text("note", max_length=NOTE_LIMIT)
    for edge in ("start", "end"):
        value = params.offset(edge)
        if value is not None:
            changes[edge] = value
    # Boundaries move by whole words (or one character), so nobody counts characters.
    moved = adjusted_edge(params, span.assignment.document.text, span.start, span.end)
    if moved is not None:
        edge, value = moved
        changes[edge] = value
    return changes


@login_required
@require_POST
def span_update(request, span_id: int):
    span = access_own_span(request.user, span_id)
    assignment = span.assignment
    params = Params(request.POST)
    try:
        keep = kept_ids(params)
        changes = _span_changes(params, span)
        span = spans.span_update(
            span=span,
            expected_version=params.integer("version", label="the span's version", required=True),
            actor=request.user,
            **changes,
        )
    except ServiceError as error:
        return refused(request, assignment, error, selected=[span])
    return render_workspace(request, assignment, message="Saved.", selected=[span], keep=keep)


@login_required
@require_POST
def span_delete(request, span_id: int):
    span = access_own_span(request.user, span_id)
    params = Params(request.POST)
    try:
        keep = kept_ids(params)
        span = spans.span_delete(
            span=span,
            expected_version=params.integer("version", label="the span's version", required=True),
            actor=request.user,
        )
    except ServiceError as error:
        return refused(request, span.assignment, error, selected=[span])
    return render_workspace(
        request, span.assignment, message=f"Deleted “{span.code.name}”.", undo=span, keep=keep
    )


@login_required
@require_POST
def span_restore(request, span_id: int):
    span = access_own_span(request.user, span_id)
    params = Params(request.POST)
    try:
        keep = kept_ids(params)
        span = spans.span_restore(
            span=span,
            expected_version=params.integer("version", label="the span's version", required=True),
            actor=request.user,
        )
    except ServiceError as error:
        return refused(request, span.assignment, error)
    return render_workspace(
        request,
        span.assignment,
        message=f"Restored “{span.code.name}”.",
        selected=[span],
        keep=keep,
    )


@login_required
@require_POST
def status(request, document_id: int):
    assignment = access_assignment(request.user, document_id)
    try:
        wanted = Params(request.POST).choice(
            "status", (AssignmentStatus.DONE, AssignmentStatus.IN_PROGRESS), label="status"
        )
        if wanted is None:
            raise InputError("Unknown status.")
        assignments.assignment_set_status(assignment=assignment, status=wanted, actor=request.user)
    except ServiceError as error:
        return refused(request, assignment, error)
    if wanted == AssignmentStatus.DONE:
        messages.success(request, f"Marked {quoted(assignment.document.title)} done.")
        target = reverse("next-document") + f"?after={document_id}"
        if is_fragment(request):
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
    path("projects/<id:project_id>/codes.css", code_styles, name="code-styles"),
    path("documents/<id:document_id>/code/", annotate, name="annotate"),
    path("documents/<id:document_id>/spans/", span_create, name="span-create"),
    path("documents/<id:document_id>/inspect/", inspect, name="inspect"),
    path("documents/<id:document_id>/status/", status, name="assignment-status"),
    path("spans/<id:span_id>/", span_update, name="span-update"),
    path("spans/<id:span_id>/delete/", span_delete, name="span-delete"),
    path("spans/<id:span_id>/restore/", span_restore, name="span-restore"),
]
