"""Reads for the manager's pages: project list, dashboard, documents, codebook, people,
assignments. Each returns what one screen needs in a fixed number of queries; the
dashboard's agreement panel comes from :mod:`.agreement`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Count, Max, Prefetch, Q

from ..models import (
    Assignment,
    AssignmentStatus,
    Code,
    CodebookVersion,
    Document,
    Invitation,
    InvitationStatus,
    Membership,
    Project,
    Role,
    Span,
)
from .agreement import Agreement, project_agreement

LIVE = Q(spans__deleted_at__isnull=True)
STARTED = Q(assignments__status__in=[AssignmentStatus.IN_PROGRESS, AssignmentStatus.DONE])
PAGE_SIZE = 50


# --- Project list -----------------------------------------------------------------


def managed_projects(user) -> list[Project]:
    """The projects the user manages, with document and assignment counts (1 query)."""
    done = Q(documents__assignments__status=AssignmentStatus.DONE)
    return list(
        Project.objects.filter(memberships__user=user, memberships__role=Role.MANAGER)
        .annotate(
            document_count=Count("documents", distinct=True),
            assignment_count=Count("documents__assignments", distinct=True),
            done_count=Count("documents__assignments", filter=done, distinct=True),
        )
        .order_by("name")
    )


# --- Dashboard --------------------------------------------------------------------


@dataclass
class CoderProgress:
    user: object
    role: str  # "" for a former member whose work stays
    counts: dict[str, int] = field(default_factory=dict)
    spans: int = 0
    last_activity: datetime | None = None

    @property
    def note(self) -> str:
        """How the row's person stands apart, if they do: not a coder, or not a member."""
        if not self.role:
            return "no longer a member"
        return "" if self.role == Role.CODER else str(Role(self.role).label).lower()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return self.counts.get(AssignmentStatus.DONE, 0)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass
class Dashboard:
    coders: list[CoderProgress]
    document_states: dict[str, int]
    documents: int
    codes: list[Code]
    agreement: Agreement


def dashboard(project: Project) -> Dashboard:
    """Progress of a project for its manager (7 queries whatever its size)."""
    members = {
        m.user_id: m for m in Membership.objects.filter(project=project).select_related("user")
    }
    coders: dict[int, CoderProgress] = {}
    status_rows = (
        Assignment.objects.filter(document__project=project)
        .values("coder_id", "status")
        .annotate(n=Count("id"), last=Max("updated_at"))
    )
    rows = list(status_rows)
    former_ids = {r["coder_id"] for r in rows} - set(members)
    former = get_user_model().objects.in_bulk(former_ids) if former_ids else {}
    for user_id, m in members.items():
        if m.role == Role.CODER:
            coders[user_id] = CoderProgress(user=m.user, role=m.role)

    def progress(user_id: int) -> CoderProgress:
        if user_id not in coders:
            m = members.get(user_id)
            coders[user_id] = CoderProgress(
                user=m.user if m else former[user_id], role=m.role if m else ""
            )
        return coders[user_id]

    for row in rows:
        p = progress(row["coder_id"])
        p.counts[row["status"]] = row["n"]
        p.last_activity = max(filter(None, (p.last_activity, row["last"])), default=None)
    span_rows = (
        Span.objects.filter(assignment__document__project=project)
        .values("assignment__coder_id")
        .annotate(n=Count("id", filter=Q(deleted_at__isnull=True)), last=Max("updated_at"))
    )
    for row in span_rows:
        p = progress(row["assignment__coder_id"])
        p.spans = row["n"]
        p.last_activity = max(filter(None, (p.last_activity, row["last"])), default=None)

    states = {"unassigned": 0, "todo": 0, "in_progress": 0, "done": 0}
    per_document = (
        Document.objects.filter(project=project)
        .annotate(
            total=Count("assignments"),
            finished=Count("assignments", filter=Q(assignments__status=AssignmentStatus.DONE)),
            started=Count("assignments", filter=STARTED),
        )
        .values_list("total", "finished", "started")
    )
    documents = 0
    for total, finished, started in per_document:
        documents += 1
        states[_document_state(total, finished, started)] += 1
    codes = list(
        Code.objects.filter(codebook__project=project).annotate(
            span_count=Count(
                "spans",
                filter=LIVE & Q(spans__assignment__document__project=project),
            )
        )
    )
    return Dashboard(
        coders=sorted(coders.values(), key=lambda p: (p.role == "", p.user.username)),
        document_states=states,
        documents=documents,
        codes=codes,
        agreement=project_agreement(project),
    )


STATE_LABELS = {
    "unassigned": "Not assigned",
    "todo": "Not started",
    "in_progress": "In progress",
    "done": "Done",
}


def _document_state(total: int, finished: int, started: int) -> str:
    if not total:
        return "unassigned"
    if finished == total:
        return "done"
    return "in_progress" if started else "todo"


# --- Documents --------------------------------------------------------------------


def documents_page(project: Project, *, query: str = "", outlet: str = "", page=1):
    """A page of the project's documents matching the search, with per-document progress."""
    documents = Document.objects.filter(project=project)
    query = query.strip()
    if query:
        documents = documents.filter(
            Q(title__icontains=query)
            | Q(text__icontains=query)
            | Q(outlet__icontains=query)
            | Q(external_id__icontains=query)
            | Q(url__icontains=query)
        )
    if outlet:
        documents = documents.filter(outlet=outlet)
    documents = (
        documents.defer("text")
        .annotate(
            assignment_count=Count("assignments", distinct=True),
            done_count=Count(
                "assignments",
                filter=Q(assignments__status=AssignmentStatus.DONE),
                distinct=True,
            ),
            started_count=Count("assignments", filter=STARTED, distinct=True),
            span_count=Count(
                "assignments__spans",
                filter=Q(assignments__spans__deleted_at__isnull=True),
                distinct=True,
            ),
        )
        .order_by("pk")
    )
    for document in (paginated := Paginator(documents, PAGE_SIZE).get_page(page)):
        document.state = _document_state(
            document.assignment_count, document.done_count, document.started_count
        )
        document.state_label = STATE_LABELS[document.state]
    return paginated


def outlets(project: Project) -> list[str]:
    return list(
        Document.objects.filter(project=project)
        .exclude(outlet="")
        .values_list("outlet", flat=True)
        .distinct()
        .order_by("outlet")
    )


# --- Codebook ---------------------------------------------------------------------


@dataclass
class VersionRow:
    number: int
    version: CodebookVersion | None
    spans: int
    current: bool


def codebook_page(project: Project) -> tuple[list[Code], list[VersionRow]]:
    """The codes with how often each is used, and every codebook version with the number
    of live spans coded under it (3 queries)."""
    codebook = project.codebook
    codes = list(
        Code.objects.filter(codebook=codebook).annotate(
            span_count=Count("spans", filter=LIVE, distinct=True),
            any_span_count=Count("spans", distinct=True),
            gold_count=Count("gold_spans", distinct=True),
        )
    )
    versions = {v.number: v for v in CodebookVersion.objects.filter(codebook=codebook)}
    span_counts = dict(
        Span.objects.live()
        .filter(assignment__document__project=project)
        .values_list("codebook_version")
        .annotate(n=Count("id"))
    )
    numbers = sorted(set(versions) | set(span_counts) | {codebook.version}, reverse=True)
    rows = [
        VersionRow(
            number=n,
            version=versions.get(n),
            spans=span_counts.get(n, 0),
            current=n == codebook.version,
        )
        for n in numbers
    ]
    return codes, rows


# --- People -----------------------------------------------------------------------


@dataclass
class People:
    members: list[Membership]
    invitations: list[Invitation]  # pending: the project sees only the user name


def people(project: Project) -> People:
    members = list(
        Membership.objects.filter(project=project)
        .select_related("user")
        .order_by("role", "user__username")
    )
    for m in members:
        m.choices = position_choices(m.role)
    invitations = list(
        Invitation.objects.filter(project=project, status=InvitationStatus.PENDING)
        .only("pk", "username", "role", "created_at", "token_issued_at")
        .order_by("username")
    )
    return People(members, invitations)


def position_choices(current: str | None) -> list[tuple[str, str, bool]]:
    """(value, label, selected) for a select of the roles a member can hold."""
    return [(value, label, value == current) for value, label in Role.choices]


# --- Assignments ------------------------------------------------------------------


def assignments_page(project: Project, *, page=1):
    """A page of documents, each with its assignments, coders and live span counts."""
    assignments = (
        Assignment.objects.select_related("coder")
        .annotate(span_count=Count("spans", filter=Q(spans__deleted_at__isnull=True)))
        .order_by("coder__username")
    )
    documents = (
        Document.objects.filter(project=project)
        .defer("text")
        .prefetch_related(Prefetch("assignments", queryset=assignments))
        .order_by("pk")
    )
    return Paginator(documents, PAGE_SIZE).get_page(page)


def assignable_members(project: Project) -> list[Membership]:
    return list(
        Membership.objects.filter(project=project).select_related("user").order_by("user__username")
    )
