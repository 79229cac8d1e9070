"""The coding screen: one page; a span write answers with only the pieces it changed.

A page load (and every answer the page cannot patch: an error, a page that is behind
because another tab wrote, a request without htmx) draws the whole ``workspace``. A span
write or a click on a highlight from a page that shows the current state (it sends back
the state token it was drawn with) gets the ``changes`` partial instead: out-of-band swaps
of the pieces of text, span list entries, counts and inspector blocks that changed.

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
from django_htmx.http import HttpResponseClientRedirect, reswap

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
STATE_TOKEN = re.compile(r"[0-9a-f]{24}")
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

    Only ids among the coder's own live spans are ever shown (the selector picks them
    from the coding screen), so a forged id reveals nothing.
    """
    return set(params.ids("keep", label="a span to keep open"))


def shown_token(request) -> str:
    """The state token the page was drawn with ("" when none came, or not a digest)."""
    data = request.POST if request.method == "POST" else request.GET
    token = data.get("state", "")
    return token if STATE_TOKEN.fullmatch(token) else ""


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
    context = {
        **_context(assignment, message=message, error=error, undo=undo),
        "screen": screen,
        "codes": screen.codes,
        "count": len(screen.spans),
        "token": screen.token,
        "inspected": screen.inspected,
        "feedback_ready": can_see_feedback(assignment),
        "frozen": coding_frozen(assignment),
    }
    response = render(request, TEMPLATE, context, partial="workspace", status=status)
    response.add_post_render_callback(lambda rendered: fill_in(rendered, screen))
    return response


# Where the drawn text and span list go. They are put into the rendered page as UTF-8 once,
# after the template: the template engine copies every string at each level of nesting,
# which for a 300 KB text (four bytes a character as soon as it holds an emoji) cost more
# than the rest of the page. Only the coding view renders the workspace, always with this.
TEXT_SLOT = b"<!--framing:doc-text-->"
LIST_SLOT = b"<!--framing:span-list-->"


def fill_in(response, screen) -> None:
    response.content = response.content.replace(TEXT_SLOT, screen.text_html, 1).replace(
        LIST_SLOT, screen.list_html, 1
    )


def _context(assignment, *, message: str = "", error: str = "", undo=None) -> dict:
    if undo is not None:
        undo = Undo(
            url=reverse("span-restore", args=[undo.pk]),
            values={"version": str(undo.version)},
            target="#workspace",
        )
    return {
        "assignment": assignment,
        "document": assignment.document,
        "project": assignment.document.project,
        "message": message,
        "error": error,
        "undo": undo,
        "note_limit": NOTE_LIMIT,
    }


def render_changes(request, assignment, changes, *, message="", undo=None, **extra):
    """Only what changed, as out-of-band swaps (the feedback region comes with them)."""
    context = {
        **_context(assignment, message=message, undo=undo),
        "changes": changes,
        "frozen": "",
        **extra,
    }
    return reswap(render(request, TEMPLATE, context, partial="changes"), "none")


def render_write(
    request,
    assignment,
    write: spans.SpanWrite,
    *,
    message: str,
    status_before: str = "",
    showing=(),
    opened=(),
    undo=None,
):
    """The answer to a span write: only what it changed when the page shows the state
    before it, else the whole workspace (read again)."""
    changes = None
    if is_fragment(request):
        changes = coding.write_changes(
            assignment,
            write.before,
            write.span,
            shown_token=shown_token(request),
            showing=set(showing),
            opened=set(opened),
        )
    if changes is None:
        return render_workspace(request, assignment, message=message, keep=opened, undo=undo)
    return render_changes(
        request,
        assignment,
        changes,
        message=message,
        undo=undo,
        codes=write.before.codes,
        status_changed=bool(status_before) and status_before != assignment.status,
    )


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
    status_before = assignment.status
    try:
        params = Params(request.POST)
        write = spans.span_create_write(
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
    return render_write(
        request,
        assignment,
        write,
        message=f"Tagged “{write.span.code.name}”.",
        status_before=status_before,
        opened={write.span.pk},
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
    selected = coding.spans_at(assignment, at)
    if is_fragment(request):
        before = coding.coder_spans(assignment)
        changes = coding.inspect_changes(before, shown_token=shown_token(request), spans=selected)
        if changes is not None:
            return render_changes(
                request,
                assignment,
                changes,
                codes=before.codes,
                frozen=coding_frozen(assignment),
            )
    return render_workspace(request, assignment, selected=selected)


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
        write = spans.span_update_write(
            span=span,
            expected_version=params.integer("version", label="the span's version", required=True),
            actor=request.user,
            **changes,
        )
    except ServiceError as error:
        return refused(request, assignment, error, selected=[span])
    return render_write(
        request, assignment, write, message="Saved.", showing=keep, opened=keep | {span.pk}
    )


@login_required
@require_POST
def span_delete(request, span_id: int):
    span = access_own_span(request.user, span_id)
    params = Params(request.POST)
    try:
        keep = kept_ids(params)
        write = spans.span_delete_write(
            span=span,
            expected_version=params.integer("version", label="the span's version", required=True),
            actor=request.user,
        )
    except ServiceError as error:
        return refused(request, span.assignment, error, selected=[span])
    return render_write(
        request,
        span.assignment,
        write,
        message=f"Deleted “{span.code.name}”.",
        showing=keep,
        opened=keep,
        undo=write.span,
    )


@login_required
@require_POST
def span_restore(request, span_id: int):
    span = access_own_span(request.user, span_id)
    params = Params(request.POST)
    try:
        keep = kept_ids(params)
        write = spans.span_restore_write(
            span=span,
            expected_version=params.integer("version", label="the span's version", required=True),
            actor=request.user,
        )
    except ServiceError as error:
        return refused(request, span.assignment, error)
    return render_write(
        request,
        span.assignment,
        write,
        message=f"Restored “{span.code.name}”.",
        showing=keep,
        opened=keep | {span.pk},
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
