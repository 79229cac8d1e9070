"""Reads for the coder's landing pages: my work and the next unfinished document."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from ..models import Assignment, AssignmentStatus, Invitation, InvitationStatus, Membership


@dataclass
class ProjectProgress:
    membership: Membership
    assignments: list[Assignment] = field(default_factory=list)

    @property
    def project(self):
        return self.membership.project

    @property
    def done(self) -> int:
        return sum(a.status == AssignmentStatus.DONE for a in self.assignments)

    @property
    def percent(self) -> int:
        return round(100 * self.done / len(self.assignments)) if self.assignments else 0


def my_work(user, *, project_id: int | None = None) -> list[ProjectProgress]:
    """The user's projects (or one of them) with their own assignments and own live span
    counts (2 queries)."""
    memberships = Membership.objects.filter(user=user).select_related("project")
    if project_id is not None:
        memberships = memberships.filter(project_id=project_id)
    progress = {m.project_id: ProjectProgress(m) for m in memberships}
    assignments = (
        Assignment.objects.filter(coder=user, document__project__in=progress.keys())
        .select_related("document")
        .defer("document__text")
        .annotate(span_count=Count("spans", filter=Q(spans__deleted_at__isnull=True)))
        .order_by("document__project_id", "document_id")
    )
    for assignment in assignments:
        progress[assignment.document.project_id].assignments.append(assignment)
    return list(progress.values())


def next_assignment(user, *, after_document_id: int | None = None) -> Assignment | None:
    """The next unfinished assignment: after the given document first, then from the start."""
    unfinished = (
        Assignment.objects.filter(coder=user, document__project__memberships__user=user)
        .exclude(status=AssignmentStatus.DONE)
        .order_by("document__project_id", "document_id")
    )
    if after_document_id is not None:
        later = unfinished.filter(document_id__gt=after_document_id).first()
        if later is not None:
            return later
    return unfinished.exclude(document_id=after_document_id).first()


def pending_invitations(user) -> list[Invitation]:
    """Invitations waiting for this person's answer; until then the project is not theirs."""
    return list(
        Invitation.objects.filter(user=user, status=InvitationStatus.PENDING)
        .select_related("project", "invited_by")
        .order_by("created_at")
    )
