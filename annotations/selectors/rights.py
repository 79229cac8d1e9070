"""The reads the access rules make on every request (``permissions`` decides with them).

Each is built by the ORM and compiled once per process (see ``rows.CompiledOnce``):
building these queries took longer than the database took to answer them, on every page
(the header's rights) and every span write (whether the work is frozen).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Count, Exists, OuterRef, Subquery

from ..models import (
    Assignment,
    DocumentReview,
    Invitation,
    InvitationStatus,
    Membership,
    Role,
)
from .rows import CompiledOnce


def _with_review(assignments):
    review = DocumentReview.objects.filter(document_id=OuterRef("document_id")).values("status")
    return assignments.annotate(review=Subquery(review[:1]))


def _coding_state_query(assignment_id: int):
    return _with_review(Assignment.objects.filter(pk=assignment_id)).values("status", "review")


_CODING_STATE = CompiledOnce(_coding_state_query)


def coding_state(assignment_id: int) -> tuple[str, str | None]:
    """An assignment's status and its document's review status (None before a review)."""
    rows = _CODING_STATE.rows(assignment_id)
    if not rows:
        raise Assignment.DoesNotExist
    return rows[0]["status"], rows[0]["review"]


def coding_states(documents, coders) -> list[tuple[int, int, str, str | None]]:
    """``coding_state`` of every assignment of these coders on these documents, in one
    query: ``(document id, coder id, status, review status)``."""
    assignments = _with_review(Assignment.objects.filter(document__in=documents, coder__in=coders))
    return list(assignments.values_list("document_id", "coder_id", "status", "review"))


def _site_query(user_id: int):
    create = Permission.objects.filter(
        codename="create_project", content_type__app_label="annotations"
    )
    pending = (
        Invitation.objects.filter(user=OuterRef("pk"), status=InvitationStatus.PENDING)
        .order_by()
        .values("user")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        get_user_model()
        .objects.filter(pk=user_id)
        .annotate(
            manages=Exists(Membership.objects.filter(user=OuterRef("pk"), role=Role.MANAGER)),
            reviewer=Exists(Membership.objects.filter(user=OuterRef("pk"), role=Role.REVIEWER)),
            codes=Exists(Membership.objects.filter(user=OuterRef("pk"), role=Role.CODER))
            | Exists(Assignment.objects.filter(coder=OuterRef("pk"))),
            creator=Exists(create.filter(user=OuterRef("pk")))
            | Exists(create.filter(group__user=OuterRef("pk"))),
            waiting=Subquery(pending[:1]),
        )
        .values("manages", "reviewer", "codes", "creator", "waiting", "is_superuser", "is_active")
    )


_SITE_FLAGS = CompiledOnce(_site_query)


def site_flags(user_id: int) -> dict | None:
    """Whether the user manages, reviews (as a reviewer) and codes anywhere, may start
    projects (by permission or group), and how many invitations wait; None if no user."""
    rows = _SITE_FLAGS.rows(user_id)
    return rows[0] if rows else None
