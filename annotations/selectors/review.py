"""Reads for the review area: the alignment of coders' spans, the queue, a coder's feedback.

Alignment runs in Python over plain rows: one query fetches every live span of every
document in scope, so a queue of 500 documents costs the same handful of queries as one.
Only the work of coders who marked their assignment *done* is aligned; a document whose
coders are not all done is still listed, marked as such.

Coders are shown by pseudonym in blind projects ("Coder A", "Coder B"): the letter follows
the order coders joined the project, so it is the same on every page of the project and
never derived from a username.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ..domain.alignment import AlignSpan, Item, Kind, align
from ..domain.settling import CoderSpan, DocumentAlignment, item_key
from ..models import (
    Assignment,
    AssignmentStatus,
    Code,
    Document,
    GoldSpan,
    Project,
    ReviewDecision,
    Span,
)
from .agreement import Agreement, project_agreement
from .labels import coder_labels

OPEN_KINDS = tuple(k.value for k in Kind if k is not Kind.AGREED)


def _align_rows(assignments: Iterable, spans: Iterable) -> dict[int, DocumentAlignment]:
    result: dict[int, DocumentAlignment] = {}
    for document_id, coder_id, status in assignments:
        row = result.setdefault(document_id, DocumentAlignment(document_id))
        (row.done if status == AssignmentStatus.DONE else row.pending).append(coder_id)
    rows: defaultdict[int, list[tuple[int, int, int, int, int]]] = defaultdict(list)
    for pk, document_id, coder_id, start, end, code_id in spans:
        rows[document_id].append((pk, coder_id, start, end, code_id))
    for document_id, row in result.items():
        row.done.sort()
        row.pending.sort()
        mine = rows.get(document_id, [])
        mine.sort()
        by_pk, items = _aligned(tuple(mine), tuple(row.done))
        row.spans = dict(by_pk)
        row.items = list(items)
    return result


@functools.lru_cache(maxsize=8)
def _aligned(
    rows: tuple[tuple[int, int, int, int, int], ...], done: tuple[int, ...]
) -> tuple[dict[int, CoderSpan], tuple[Item, ...]]:
    """The alignment of one document's span rows ``(pk, coder, start, end, code)``.

    Memoised on exactly its input, so an answer is never stale: any edit, new span or
    status change gives different rows. It saves the second alignment of a settle (the
    service aligns, then the refreshed panel does) and of a page shown twice. Callers get
    copies of the containers; the items themselves are immutable.
    """
    by_pk = {row[0]: CoderSpan(*row) for row in rows}
    items = align(
        [AlignSpan(pk, str(coder), start, end, str(code)) for pk, coder, start, end, code in rows],
        [str(c) for c in done],
    )
    return by_pk, tuple(items)


def align_documents(*, project_id: int | None = None, document_id: int | None = None):
    """Alignment of done coders' live spans, per document (2 queries)."""
    scope = (
        {"document__project_id": project_id}
        if document_id is None
        else {"document_id": document_id}
    )
    assignments = Assignment.objects.filter(**scope).values_list(
        "document_id", "coder_id", "status"
    )
    spans = (
        Span.objects.live()
        .filter(**{f"assignment__{k}": v for k, v in scope.items()})
        .filter(assignment__status=AssignmentStatus.DONE)
        .values_list(
            "pk", "assignment__document_id", "assignment__coder_id", "start", "end", "code_id"
        )
    )
    return _align_rows(assignments, spans)


def document_alignment(document: Document) -> DocumentAlignment:
    return align_documents(document_id=document.pk).get(document.pk, DocumentAlignment(document.pk))


# --- The review queue ---------------------------------------------------------------


QUEUE_SORTS = {
    "open": lambda row: (-row.open_total, row.document.pk),
    "title": lambda row: (row.document.title.lower(), row.document.pk),
    "document": lambda row: row.document.pk,
    "progress": lambda row: (row.settled_share, row.document.pk),
}


@dataclass
class QueueRow:
    document: Document
    coders: int
    done: int
    open_by_kind: dict[str, int]
    agreed_pending: int
    settled: int
    total: int
    status: str  # "", in_review or settled

    @property
    def all_done(self) -> bool:
        return self.coders > 0 and self.done == self.coders

    @property
    def open_total(self) -> int:
        return sum(self.open_by_kind.values())

    @property
    def settled_share(self) -> float:
        return self.settled / self.total if self.total else 1.0


@dataclass
class QueueFilters:
    code: int | None = None
    kind: str = ""
    coder: int | None = None
    exclude_unfinished: bool = False
    sort: str = "open"


@dataclass
class ReviewQueue:
    project: Project
    rows: list[QueueRow]
    codes: list[Code]
    coders: list[tuple[int, str]]
    kinds: list[str]
    filters: QueueFilters


def review_queue(project: Project, filters: QueueFilters) -> ReviewQueue:
    """Documents with their open disagreements, filtered and sorted (6 queries)."""
    documents = list(
        Document.objects.filter(project=project).select_related("review").defer("text")
    )
    alignments = align_documents(project_id=project.pk)
    decided: defaultdict[int, set[str]] = defaultdict(set)
    for document_id, key in ReviewDecision.objects.filter(document__project=project).values_list(
        "document_id", "item_key"
    ):
        decided[document_id].add(key)
    codes = list(Code.objects.filter(codebook__project=project))
    assigned = {c for a in alignments.values() for c in (*a.done, *a.pending)}
    labels = coder_labels(project, also=assigned)
    code_key = str(filters.code) if filters.code is not None else None

    rows = []
    for document in documents:
        alignment = alignments.get(document.pk, DocumentAlignment(document.pk))
        coders = alignment.done + alignment.pending
        if filters.coder is not None and filters.coder not in coders:
            continue
        if filters.exclude_unfinished and not alignment.all_done:
            continue
        items = alignment.items
        if code_key is not None:
            items = [i for i in items if code_key in i.codes]
        open_by_kind = {k.value: 0 for k in Kind if k is not Kind.AGREED}
        agreed_pending = settled = 0
        for item in items:
            if item_key(item) in decided[document.pk]:
                settled += 1
            elif item.kind is Kind.AGREED:
                agreed_pending += 1
            else:
                open_by_kind[item.kind.value] += 1
        if filters.kind and not open_by_kind.get(filters.kind):
            continue
        if code_key is not None and not items:
            continue
        review = getattr(document, "review", None)
        rows.append(
            QueueRow(
                document=document,
                coders=len(coders),
                done=len(alignment.done),
                open_by_kind=open_by_kind,
                agreed_pending=agreed_pending,
                settled=settled,
                total=len(items),
                status=review.status if review else "",
            )
        )
    rows.sort(key=QUEUE_SORTS.get(filters.sort, QUEUE_SORTS["open"]))
    return ReviewQueue(
        project=project,
        rows=rows,
        codes=codes,
        coders=sorted(
            ((uid, label) for uid, label in labels.items() if uid in assigned), key=lambda c: c[1]
        ),
        kinds=list(OPEN_KINDS),
        filters=filters,
    )


@dataclass
class ReviewSummary:
    """One project on a reviewer's home: what is left to settle, and the latest agreement."""

    project: Project
    to_review: int  # documents whose coders are done and that still have something open
    open_items: int  # open disagreements in those documents
    waiting: int  # documents whose coders are not all done yet
    settled: int  # documents whose review is finished
    agreement: Agreement


def review_summary(project: Project) -> ReviewSummary:
    """What a reviewer's home shows for one project (the queue's queries plus the
    dashboard's agreement summary)."""
    rows = review_queue(project, QueueFilters()).rows
    ready = [r for r in rows if r.all_done and r.status != "settled"]
    return ReviewSummary(
        project=project,
        to_review=sum(1 for r in ready if r.open_total or r.agreed_pending),
        open_items=sum(r.open_total for r in ready),
        waiting=sum(1 for r in rows if not r.all_done),
        settled=sum(1 for r in rows if r.status == "settled"),
        agreement=project_agreement(project),
    )


# --- Feedback to coders ----------------------------------------------------------------


@dataclass
class FeedbackEntry:
    """A place where the coder's layer or the gold layer has a span, and how they compare."""

    start: int
    end: int
    outcome: str  # "kept": in both; "mine": only the coder's; "gold": only the gold layer's
    mine: Span | None
    gold: GoldSpan | None
    rationale: str


def coder_feedback(assignment: Assignment) -> list[FeedbackEntry]:
    """The coder's own live spans against the gold layer, in text order (3 queries).

    Other coders are never named here, whatever the project's blindness.
    """
    mine = list(assignment.spans.live().select_related("code"))
    gold = list(
        GoldSpan.objects.live().filter(document=assignment.document_id).select_related("code")
    )
    decisions = list(
        ReviewDecision.objects.filter(document=assignment.document_id).exclude(rationale="")
    )
    exact = {(g.code_id, g.start, g.end): g for g in gold}

    def why(start: int, end: int) -> str:
        # A rejected item has no gold span: its rationale lives on the decision alone.
        for d in decisions:
            if d.start <= start and end <= d.end:
                return d.rationale
        return ""

    entries = []
    kept: set[int] = set()
    for span in mine:
        hit = exact.get((span.code_id, span.start, span.end))
        if hit is not None:
            kept.add(hit.pk)
            entries.append(FeedbackEntry(span.start, span.end, "kept", span, hit, hit.rationale))
        else:
            entries.append(
                FeedbackEntry(span.start, span.end, "mine", span, None, why(span.start, span.end))
            )
    for g in gold:
        if g.pk not in kept:
            entries.append(FeedbackEntry(g.start, g.end, "gold", None, g, g.rationale))
    entries.sort(key=lambda e: (e.start, e.end, e.outcome))
    return entries
