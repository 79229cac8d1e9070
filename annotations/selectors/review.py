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

import contextlib
import gc
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from types import MappingProxyType

from django.db import transaction

from ..domain.alignment import Alignment, Kind, align_rows
from ..domain.settling import CoderSpan, DocumentAlignment, outline_keys, span_owners
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
from .rows import CompiledOnce, change_mark, raw_rows, unchanged_since

OPEN_KINDS = tuple(k.value for k in Kind if k is not Kind.AGREED)


def _align_rows(
    assignments: Iterable, rows: dict[int, list[tuple[int, int, int, int, int]]]
) -> dict[int, DocumentAlignment]:
    """Each document's alignment from its assignments ``(document, coder, status)`` and
    its span rows ``(pk, coder, start, end, code)`` in pk order."""
    result: dict[int, DocumentAlignment] = {}
    for document_id, coder_id, status in assignments:
        row = result.setdefault(document_id, DocumentAlignment(document_id))
        (row.done if status == AssignmentStatus.DONE else row.pending).append(coder_id)
    for document_id, row in result.items():
        row.done.sort()
        row.pending.sort()
        aligned = _memo.aligned(document_id, tuple(rows.get(document_id, ())), tuple(row.done))
        row.spans = aligned.spans
        row.items = aligned.items
        row.keys = aligned.keys
        row.owners = aligned.owners
    return result


class _SpanRows(Mapping[int, CoderSpan]):
    """Span id → ``CoderSpan``, made on access from the memo's plain rows: tuples of
    numbers leave the garbage collector's lists at its next pass, named tuples never do,
    and 3,000 objects it must keep visiting make every later collection slower."""

    __slots__ = ("_rows",)

    def __init__(self, rows: dict[int, tuple[int, int, int, int, int]]) -> None:
        self._rows = rows

    def __getitem__(self, pk: int) -> CoderSpan:
        return CoderSpan._make(self._rows[pk])

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


@dataclass(frozen=True)
class _Aligned:
    # Shared by every caller of the memo, so read-only: an Alignment builds each item
    # once, when first read, and items are frozen.
    spans: Mapping[int, CoderSpan]
    items: Alignment
    keys: tuple[str, ...]
    owners: Mapping[int, int]


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while an alignment is built.

    A long article's alignment allocates tens of thousands of objects and makes no
    reference cycles. Left running, the collector passes over them every 700
    allocations, moves the ones alive at that moment to its oldest generation, and so
    triggers a full collection of the whole process (~100,000 objects) about every
    second alignment: that cost more than the alignment itself. Paused, only what the
    memo keeps survives to be counted. (Process-wide, so another thread's garbage waits
    these few milliseconds too; if the collector was already off, it stays off.)
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _aligned(rows: tuple[tuple[int, int, int, int, int], ...], done: tuple[int, ...]) -> _Aligned:
    """The alignment of one document's span rows ``(pk, coder, start, end, code)``, with
    every item's key and the item of every span (each page and settle needs them)."""
    with _collector_paused():
        # One string per coder and code, not one per span.
        names = {n: str(n) for n in {row[1] for row in rows} | {row[4] for row in rows}}
        items = align_rows(
            [(pk, names[coder], start, end, names[code]) for pk, coder, start, end, code in rows],
            [str(c) for c in done],
        )
        return _Aligned(
            spans=_SpanRows({row[0]: row for row in rows}),
            items=items,
            keys=tuple(outline_keys(items.outlines)),
            owners=MappingProxyType(span_owners(items.outlines)),
        )


class _Memo:
    """The latest alignment of each of the last few documents aligned in this process.

    An entry answers only for exactly the rows and roster it was built from, so it is
    never stale: any edit, new span or status change gives other rows, and the document
    is aligned afresh. A settle aligns once (the service before its transaction; inside
    it and for the refreshed panel the memo answers), and a page shown again not at all.
    What it hands out is shared, so read-only: tuples, read-only mappings, and an
    Alignment whose items are frozen.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[int, tuple[tuple, _Aligned]] = OrderedDict()
        self._lock = threading.Lock()

    def aligned(
        self, document_id: int, rows: tuple[tuple[int, int, int, int, int], ...], done: tuple
    ) -> _Aligned:
        with self._lock:
            entry = self._entries.get(document_id)
        if entry is not None and entry[0] == (rows, done):
            return entry[1]
        aligned = _aligned(rows, done)
        with self._lock:
            self._entries[document_id] = ((rows, done), aligned)
            self._entries.move_to_end(document_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return aligned

    def holds(self, document_id: int) -> bool:
        """Whether some alignment of the document is here (it may be out of date)."""
        return document_id in self._entries

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_memo = _Memo(size=8)


@dataclass(frozen=True)
class AlignedBefore:
    """A document's alignment read before a write transaction, and when (see ``change_mark``)."""

    alignment: DocumentAlignment | None
    mark: tuple | None


def align_before_writing(document: Document) -> AlignedBefore:
    """Align before a write transaction takes its locks, so that the write lock (which on
    SQLite holds back every other writer) is held for the writes, not for the alignment.

    On SQLite the alignment is read here with a change mark taken first; inside the
    transaction, ``document_alignment(document, before=...)`` uses it without reading the
    spans again if nothing has changed since the mark. Elsewhere the read inside the
    transaction checks the rows, so this only fills the memo when it does not hold the
    document (its answer is then almost always current).
    """
    mark = change_mark()
    if mark is not None:
        return AlignedBefore(document_alignment(document), mark)
    if not _memo.holds(document.pk):
        document_alignment(document)
    return AlignedBefore(None, None)


# A span as the aligner takes it: (pk, coder, start, end, code).
_ROW_COLUMNS = ("pk", "assignment__coder_id", "start", "end", "code_id")


def _assignments(**scope):
    return Assignment.objects.filter(**scope).values_list("document_id", "coder_id", "status")


def _done_spans(**scope):
    return (
        Span.objects.live()
        .filter(**{f"assignment__{k}": v for k, v in scope.items()})
        .filter(assignment__status=AssignmentStatus.DONE)
        .order_by("pk")
    )


# One document's reads, made by every review page and settle: compiled once (see rows.py).
_DOCUMENT_ASSIGNMENTS = CompiledOnce(lambda pk: _assignments(document_id=pk))
_DOCUMENT_SPANS = CompiledOnce(lambda pk: _done_spans(document_id=pk).values_list(*_ROW_COLUMNS))


def align_documents(*, project_id: int | None = None, document_id: int | None = None):
    """Alignment of done coders' live spans, per document (2 queries)."""
    if document_id is not None:
        # One document: the rows come as the memo's key, with nothing to regroup.
        rows = {document_id: _DOCUMENT_SPANS.tuples(document_id)}
        return _align_rows(_DOCUMENT_ASSIGNMENTS.tuples(document_id), rows)
    spans = _done_spans(document__project_id=project_id)
    by_document = defaultdict(list)
    for document, *row in raw_rows(spans.values_list("assignment__document_id", *_ROW_COLUMNS)):
        by_document[document].append(tuple(row))
    return _align_rows(_assignments(document__project_id=project_id), by_document)


def document_alignment(
    document: Document, *, before: AlignedBefore | None = None
) -> DocumentAlignment:
    """The alignment of the document's spans as they are now (``before``: see
    ``align_before_writing``)."""
    held = _held.get()
    in_transaction = transaction.get_connection().in_atomic_block
    if held is not None and not in_transaction and document.pk in held:
        return held[document.pk]
    if before is not None and before.alignment is not None and unchanged_since(before.mark):
        alignment = before.alignment
    else:
        alignment = align_documents(document_id=document.pk).get(
            document.pk, DocumentAlignment(document.pk)
        )
    if held is not None and in_transaction:
        transaction.on_commit(lambda: held.__setitem__(document.pk, alignment))
    return alignment


# Alignments read inside a transaction that committed, per document, while a view holds them.
_held: ContextVar[dict[int, DocumentAlignment] | None] = ContextVar("held", default=None)


@contextlib.contextmanager
def alignments_held() -> Iterator[None]:
    """Within the block, a document's alignment read inside a transaction that then
    committed answers the reads after it, with no second read of the document's spans.

    For a view whose write changes only the review layer (a settle, a gold edit) and which
    then shows the panel: the panel shows the coders' spans as the write saw them, which
    it did not change, and a long article's 3,000 span rows are not read a third time.
    Outside such a block, and inside any transaction, every read checks the rows.
    """
    token = _held.set({})
    try:
        yield
    finally:
        _held.reset(token)


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
        items = list(zip(alignment.outlines(), alignment.item_keys(), strict=True))
        if code_key is not None:
            items = [(i, key) for i, key in items if code_key in i.codes]
        open_by_kind = {k.value: 0 for k in Kind if k is not Kind.AGREED}
        agreed_pending = settled = 0
        for item, key in items:
            if key in decided[document.pk]:
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
