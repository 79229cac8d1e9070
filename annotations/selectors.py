"""Reads for pages: each function returns what one screen needs in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from .domain.offsets import Piece, split_at_boundaries
from .models import Assignment, AssignmentStatus, Code, Membership, Span


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


def my_work(user) -> list[ProjectProgress]:
    """The user's projects with their own assignments and own live span counts (2 queries)."""
    memberships = Membership.objects.filter(user=user).select_related("project")
    progress = {m.project_id: ProjectProgress(m) for m in memberships}
    assignments = (
        Assignment.objects.filter(coder=user, document__project__in=progress.keys())
        .select_related("document")
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


@dataclass(frozen=True)
class Layer:
    """One span's stretch inside a piece of text, with the lane its underline is drawn in."""

    span: Span
    lane: int
    first: bool


@dataclass(frozen=True)
class RenderedPiece:
    piece: Piece
    layers: tuple[Layer, ...]

    @property
    def badge(self) -> int:
        """How many spans are stacked here, shown where a stack begins (0: no badge)."""
        if len(self.layers) > 1 and any(layer.first for layer in self.layers):
            return len(self.layers)
        return 0


def assign_lanes(spans: list[Span]) -> dict[int, int]:
    """Give overlapping spans different lanes (greedy interval partitioning), so every
    span keeps one underline level along its whole length and none hides another."""
    lanes: dict[int, int] = {}
    lane_ends: list[int] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end, s.pk)):
        for lane, end in enumerate(lane_ends):
            if end <= span.start:
                lane_ends[lane] = span.end
                lanes[span.pk] = lane
                break
        else:
            lanes[span.pk] = len(lane_ends)
            lane_ends.append(span.end)
    return lanes


def render_text(text: str, spans: list[Span]) -> list[RenderedPiece]:
    by_id = {span.pk: span for span in spans}
    lanes = assign_lanes(spans)
    rendered = []
    for piece in split_at_boundaries(text, [(s.pk, s.start, s.end) for s in spans]):
        # Outermost element first: the highest lane has the deepest underline.
        ordered = sorted(piece.span_ids, key=lambda i: -lanes[i])
        layers = tuple(
            Layer(by_id[i], lanes[i], first=by_id[i].start == piece.start) for i in ordered
        )
        rendered.append(RenderedPiece(piece, layers))
    return rendered


@dataclass
class CodingScreen:
    assignment: Assignment
    codes: list[Code]
    spans: list[Span]
    pieces: list[RenderedPiece]
    groups: list[tuple[Code, list[Span]]]


def coding_screen(assignment: Assignment) -> CodingScreen:
    """Everything the coding page shows, for the coder's own spans only (2 queries)."""
    document = assignment.document
    codes = list(Code.objects.filter(codebook__project_id=document.project_id))
    spans = list(
        Span.objects.live()
        .filter(assignment=assignment)
        .select_related("code")
        .order_by("start", "end", "pk")
    )
    groups = [(code, [s for s in spans if s.code_id == code.pk]) for code in codes]
    return CodingScreen(
        assignment=assignment,
        codes=codes,
        spans=spans,
        pieces=render_text(document.text, spans),
        groups=[(code, members) for code, members in groups if members or code.active],
    )
