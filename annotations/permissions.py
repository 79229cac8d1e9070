"""Who may see and change what.

Every ``access_*`` function answers "not found" (404) both for objects that do not
exist and for objects the user may not see, with the same message, so that an id
belonging to another coder or project reveals nothing (not even that it exists).
"""

from __future__ import annotations

from django.http import Http404

from .models import Assignment, Document, Membership, Project, Role, Span

NOT_FOUND = "Not found."
REVIEW_ROLES = (Role.REVIEWER, Role.MANAGER)


def membership(user, project: Project | int) -> Membership | None:
    if not user.is_authenticated:
        return None
    project_id = project.pk if isinstance(project, Project) else project
    return Membership.objects.filter(user=user, project_id=project_id).first()


def access_project(user, project_id: int, *, roles=None) -> tuple[Project, Membership]:
    member = (
        Membership.objects.select_related("project")
        .filter(user=user, project_id=project_id)
        .first()
        if user.is_authenticated
        else None
    )
    if member is None or (roles is not None and member.role not in roles):
        raise Http404(NOT_FOUND)
    return member.project, member


def access_assignment(user, document_id: int) -> Assignment:
    """The user's own assignment for a document: the only way into the coding screen."""
    assignment = (
        Assignment.objects.select_related("document__project__codebook")
        .filter(document_id=document_id, coder=user)
        .first()
        if user.is_authenticated
        else None
    )
    if assignment is None or membership(user, assignment.document.project_id) is None:
        raise Http404(NOT_FOUND)
    return assignment


def access_own_span(user, span_id: int) -> Span:
    """A live or deleted span of the user's own: coders change only their own work."""
    span = (
        Span.objects.select_related("assignment__document__project", "code")
        .filter(pk=span_id, assignment__coder=user)
        .first()
        if user.is_authenticated
        else None
    )
    if span is None or membership(user, span.assignment.document.project_id) is None:
        raise Http404(NOT_FOUND)
    return span


def access_document_for_review(user, document_id: int) -> tuple[Document, Membership]:
    document = Document.objects.select_related("project").filter(pk=document_id).first()
    if document is None:
        raise Http404(NOT_FOUND)
    _, member = access_project(user, document.project_id, roles=REVIEW_ROLES)
    return document, member


def can_see_other_coders(member: Membership) -> bool:
    """Reviewers and managers see everyone's work; coders only in open (non-blind) projects."""
    return member.role in REVIEW_ROLES or not member.project.blind
