"""Reads for pages: each function returns what one screen needs in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.text import Truncator

from .domain.offsets import split_at_boundaries
from .models import (
    Assignment,
    AssignmentStatus,
    Code,
    DocumentReview,
    Membership,
    ReviewStatus,
    Span,
)


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


# The annotation page renders every piece of a long article with its stacked highlights
# (about 700 pieces and 1,000 layers for 330 spans). What the template would otherwise
# compute per layer is prepared here as text: rendering integers in a template goes
# through number localisation, and it and the lookups dominated the page's render time.


@dataclass(frozen=True, slots=True)
class Layer:
    """One span's stretch inside a piece of text: the opening tag's attribute values."""

    span_id: str
    classes: str  # "hl code-<id> lane-<n>", plus " first" where the span begins, " selected"
    key: str  # the code's shortcut label where the span begins, "" elsewhere
    count: str  # on the innermost layer where a stack begins: how many spans are stacked


@dataclass(frozen=True, slots=True)
class RenderedPiece:
    text: str
    layers: tuple[Layer, ...]


@dataclass(frozen=True, slots=True)
class SpanEntry:
    """A line of the span list, with its texts shortened once here rather than per render."""

    span: Span
    pk: str
    start: str
    quote: str
    note: str


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


def render_text(
    text: str, spans: list[Span], selected_ids: frozenset[int] = frozenset()
) -> list[RenderedPiece]:
    by_id = {span.pk: span for span in spans}
    lanes = assign_lanes(spans)
    rendered = []
    for piece in split_at_boundaries(text, [(s.pk, s.start, s.end) for s in spans]):
        # Outermost element first: the highest lane has the deepest underline.
        ordered = sorted(piece.span_ids, key=lambda i: -lanes[i])
        firsts = [by_id[i].start == piece.start for i in ordered]
        # A badge where a stack begins says how many spans are stacked there.
        badge = str(len(ordered)) if len(ordered) > 1 and any(firsts) else ""
        layers = []
        for n, (span_id, first) in enumerate(zip(ordered, firsts, strict=True)):
            span = by_id[span_id]
            classes = f"hl code-{span.code_id} lane-{lanes[span_id]}"
            if first:
                classes += " first"
            if span_id in selected_ids:
                classes += " selected"
            layers.append(
                Layer(
                    span_id=str(span_id),
                    classes=classes,
                    key=(span.code.shortcut or "•") if first else "",
                    count=badge if n == len(ordered) - 1 else "",
                )
            )
        rendered.append(RenderedPiece(piece.text, tuple(layers)))
    return rendered


def shorten(text: str, length: int) -> str:
    # Truncator walks every character; most quotes are short enough to skip it.
    return text if len(text) <= length else Truncator(text).chars(length)


def feedback_ready(assignment: Assignment) -> bool:
    """Whether the coder may compare this document with its settled gold layer."""
    document = assignment.document
    return document.project.feedback_to_coders and (
        DocumentReview.objects.filter(document=document, status=ReviewStatus.SETTLED).exists()
    )


@dataclass
class CodingScreen:
    assignment: Assignment
    codes: list[Code]
    spans: list[Span]
    pieces: list[RenderedPiece]
    groups: list[tuple[Code, list[SpanEntry]]]


def coding_screen(assignment: Assignment, *, selected_ids=frozenset()) -> CodingScreen:
    """Everything the coding page shows, for the coder's own spans only (2 queries).

    ``selected_ids`` are the spans the inspector shows, highlighted in the text.
    """
    document = assignment.document
    codes = list(Code.objects.filter(codebook__project_id=document.project_id))
    spans = list(
        Span.objects.live()
        .filter(assignment=assignment)
        .select_related("code")
        .order_by("start", "end", "pk")
    )
    entries: dict[int, list[SpanEntry]] = {code.pk: [] for code in codes}
    for span in spans:
        entries[span.code_id].append(
            SpanEntry(
                span, str(span.pk), str(span.start), shorten(span.quote, 90), shorten(span.note, 80)
            )
        )
    return CodingScreen(
        assignment=assignment,
        codes=codes,
        spans=spans,
        pieces=render_text(document.text, spans, frozenset(selected_ids)),
        groups=[(code, entries[code.pk]) for code in codes if entries[code.pk] or code.active],
    )
