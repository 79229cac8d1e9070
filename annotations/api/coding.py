"""Coding: my assignments and their status, assignments made by managers, and spans.

A coder creates, changes and deletes only their own spans, as on the coding page, and
every change goes through the span service: offsets and quote are checked against the
stored text, a stale version is refused (409, with the span as it is now), and work a
reviewer has started on, or that its coder marked done, is frozen (409, saying why).
"""

from __future__ import annotations

import datetime
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from ..forms import MAX_COUNT
from ..models import Membership
from ..permissions import (
    access_assignment,
    access_document,
    access_manage,
    access_own_assignment,
    access_own_span,
    access_project_document,
    visible_spans,
)
from ..selectors import api as selectors
from ..selectors.labels import coder_labels
from ..selectors.work import my_work
from ..services import assignments, spans
from ..services.base import ConflictError, ServiceError
from .schemas import OFFSETS, Id, In, Offset, PathId, Version, responses, write_responses

router = Router(tags=["coding"])


# --- Assignments ----------------------------------------------------------------------------


class AssignmentOut(Schema):
    id: int
    project_id: int
    project_name: str
    document_id: int
    document_title: str
    coder: str = Field(description="The coder's username (my own, or a manager's choice).")
    status: str = Field(description="todo, in_progress or done.")
    spans: int | None = Field(description="My live spans on it (in my own list).")
    updated_at: datetime.datetime
    done_at: datetime.datetime | None


def _assignment(assignment, *, spans: int | None = None) -> dict:
    document = assignment.document
    return {
        "id": assignment.pk,
        "project_id": document.project_id,
        "project_name": document.project.name,
        "document_id": document.pk,
        "document_title": document.title,
        "coder": assignment.coder.get_username(),
        "status": assignment.status,
        "spans": spans,
        "updated_at": assignment.updated_at,
        "done_at": assignment.done_at,
    }


@router.get("/assignments", response=responses({200: list[AssignmentOut]}))
def list_assignments(request):
    """My own assignments in every project I belong to, with their status."""
    rows = []
    for progress in my_work(request.auth):
        for assignment in progress.assignments:
            assignment.document.project = progress.project
            assignment.coder = request.auth
            rows.append(_assignment(assignment, spans=assignment.span_count))
    return rows


class StatusIn(In):
    status: Literal["in_progress", "done"] = Field(
        description="done hands my work in (and may start an agreement run); in_progress "
        "reopens it, until a reviewer starts on the document."
    )


@router.post("/assignments/{assignment_id}/status", response=write_responses({200: AssignmentOut}))
def set_assignment_status(request, assignment_id: PathId, payload: StatusIn):
    """Mark my own assignment done, or reopen it."""
    assignment = access_own_assignment(request.auth, assignment_id)
    changed = assignments.assignment_set_status(
        assignment=assignment, status=payload.status, actor=request.auth
    )
    changed.document = assignment.document
    changed.coder = request.auth
    return _assignment(changed)


class AssignmentIn(In):
    document_id: Id
    coder: str = Field(min_length=1, max_length=150, description="A member's username.")


@router.post("/projects/{project_id}/assignments", response=write_responses({201: AssignmentOut}))
def create_assignment(request, project_id: PathId, payload: AssignmentIn):
    """Assign a document of the project to a member (managers)."""
    project, _ = access_manage(request.auth, project_id)
    document = access_project_document(project, payload.document_id)
    member = (
        Membership.objects.select_related("user")
        .filter(project=project, user__username=payload.coder)
        .first()
    )
    if member is None:
        raise ServiceError(f"{payload.coder} is not a member of this project.")
    created = assignments.assignment_create(
        document=document, coder=member.user, actor=request.auth
    )
    created.document.project = project
    return Status(201, _assignment(created))


# --- Spans ----------------------------------------------------------------------------------


class SpanOut(Schema):
    id: int
    document_id: int
    coder: str = Field(
        description="My username for my spans; for reviewers and managers each coder's "
        "label: a pseudonym (Coder A) in blind projects, the username in open ones."
    )
    code: int = Field(description="The code's id.")
    code_name: str
    start: int = Field(description=OFFSETS)
    end: int = Field(description=OFFSETS)
    quote: str = Field(description="text[start:end], in code points.")
    note: str
    version: int = Field(description="Send it back with a change or a deletion.")
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted: bool = False


class SpanConflict(Schema):
    detail: str
    current: SpanOut = Field(description="The span as it is now.")


def _conflict(request, span_id: int, error: ConflictError):
    current = access_own_span(request.auth, span_id)
    current_state = selectors.span_row(current, request.auth.get_username())
    return Status(409, {"detail": str(error), "current": current_state})


@router.get("/documents/{document_id}/spans", response=responses({200: list[SpanOut]}))
def list_spans(request, document_id: PathId):
    """The live spans of a document I may see: a coder's own, every coder's for reviewers
    and managers (by pseudonym in blind projects). Offsets are code points."""
    document, member = access_document(request.auth, document_id)
    labels = {**coder_labels(document.project), member.user_id: request.auth.get_username()}
    return selectors.span_rows(visible_spans(document, member), labels)


class SpanIn(In):
    code: Id = Field(description="The code's id (GET /projects/{id}/codes).")
    start: Offset
    end: Offset
    quote: str = Field(
        max_length=10_000_000,
        description="text[start:end] as I see it: a mismatch is refused (422), which catches "
        "offsets counted in another unit. Whitespace at either edge is trimmed.",
    )
    note: str = Field("", max_length=spans.NOTE_LIMIT)


@router.post(
    "/documents/{document_id}/spans",
    response=write_responses({201: SpanOut}, 409),
)
def create_span(request, document_id: PathId, payload: SpanIn):
    """Tag text of a document assigned to me. 201 with the span's id and version."""
    assignment = access_assignment(request.auth, document_id)
    span = spans.span_create(
        assignment=assignment,
        code_id=payload.code,
        start=payload.start,
        end=payload.end,
        quote=payload.quote,
        note=payload.note,
        actor=request.auth,
    )
    return Status(201, selectors.span_row(span, request.auth.get_username()))


class SpanPatch(In):
    version: Version
    code: Id | None = None
    start: Offset | None = None
    end: Offset | None = None
    note: str | None = Field(None, max_length=spans.NOTE_LIMIT)


@router.patch(
    "/spans/{span_id}",
    response=write_responses({200: SpanOut, 409: SpanConflict}),
)
def update_span(request, span_id: PathId, payload: SpanPatch):
    """Change my span's code, boundaries or note; fields left out stay as they are. A stale
    version, or frozen work, answers 409 with the span as it is now."""
    span = access_own_span(request.auth, span_id)
    changes = payload.model_dump(exclude={"version"}, exclude_none=True)
    if changes.get("code") == span.code_id:
        del changes["code"]  # unchanged: a span whose code was retired keeps it
    if "code" in changes:
        changes["code_id"] = changes.pop("code")
    try:
        span = spans.span_update(
            span=span, expected_version=payload.version, actor=request.auth, **changes
        )
    except ConflictError as error:
        return _conflict(request, span_id, error)
    return selectors.span_row(span, request.auth.get_username())


@router.delete(
    "/spans/{span_id}",
    response=write_responses({204: None, 409: SpanConflict}),
)
def delete_span(request, span_id: PathId, version: int = Query(..., ge=1, le=MAX_COUNT)):
    """Delete my span (kept in the audit trail, as on the coding page). ``version`` is the
    one last read; a stale one answers 409 with the span as it is now."""
    span = access_own_span(request.auth, span_id)
    try:
        spans.span_delete(span=span, expected_version=version, actor=request.auth)
    except ConflictError as error:
        return _conflict(request, span_id, error)
    return Status(204, None)
