"""Reads for the review area: the queue, the review page and a coder's feedback.

Alignment runs in Python over plain rows: one query fetches every live span of every
document in scope, so a queue of 500 documents costs the same handful of queries as one.
Only the work of coders who marked their assignment *done* is aligned; a document whose
coders are not all done is still listed, marked as such.

Coders are shown by pseudonym in blind projects ("Coder A", "Coder B"): the letter follows
the order coders joined the project, so it is the same on every page of the project and
never derived from a username.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from .domain.alignment import AlignSpan, Item, Kind, align, majority_version
from .domain.offsets import split_at_boundaries
from .models import (
    Assignment,
    AssignmentStatus,
    Code,
    Document,
    DocumentReview,
    GoldSpan,
    Project,
    ReviewDecision,
    ReviewStatus,
    Span,
)
from .pseudonyms import coder_labels

KEY_LENGTH = 300  # ReviewDecision.item_key max_length
OPEN_KINDS = tuple(k.value for k in Kind if k is not Kind.AGREED)


def item_key(item: Item) -> str:
    """A deterministic name for an item: the same spans always give the same key, and a
    coder editing a span gives a new one (so an old decision never settles new work)."""
    ids = sorted(i for ids in item.members.values() for i in ids)
    head = f"{item.kind}|{'+'.join(item.codes)}|{item.start}|{item.end}|"
    key = head + ",".join(map(str, ids))
    if len(key) > KEY_LENGTH:
        key = head + "#" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return key


@dataclass(frozen=True)
class CoderSpan:
    """A coder's live span, as a plain row (model instances are too slow for 3,000 spans)."""

    pk: int
    coder_id: int
    start: int
    end: int
    code_id: int


@dataclass
class DocumentAlignment:
    document_id: int
    done: list[int] = field(default_factory=list)  # coder ids whose work is aligned
    pending: list[int] = field(default_factory=list)  # assigned, not done yet
    spans: dict[int, CoderSpan] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)

    @property
    def all_done(self) -> bool:
        return bool(self.done) and not self.pending


def _align_rows(assignments: Iterable, spans: Iterable) -> dict[int, DocumentAlignment]:
    result: dict[int, DocumentAlignment] = {}
    for document_id, coder_id, status in assignments:
        row = result.setdefault(document_id, DocumentAlignment(document_id))
        (row.done if status == AssignmentStatus.DONE else row.pending).append(coder_id)
    for pk, document_id, coder_id, start, end, code_id in spans:
        result[document_id].spans[pk] = CoderSpan(pk, coder_id, start, end, code_id)
    for row in result.values():
        row.done.sort()
        row.pending.sort()
        row.items = align(
            [
                AlignSpan(s.pk, str(s.coder_id), s.start, s.end, str(s.code_id))
                for s in row.spans.values()
            ],
            [str(c) for c in row.done],
        )
    return result


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


# --- The review page ------------------------------------------------------------------


@dataclass(frozen=True)
class TextPiece:
    """A stretch of the article between item boundaries, and the items covering it.

    One flat element per piece, not one nested element per item as on the coding page:
    a 50,000-character article has over a thousand items, and nesting costs a template
    loop per piece.
    """

    text: str
    items: str  # space-separated item indices (for the CSS selector [data-items~="3"])
    kind: str  # the first covering item's kind
    settled: bool  # every covering item is settled


@dataclass
class VersionView:
    code: Code
    start: int
    end: int
    quote: str

    # Pre-formatted: Django localises every integer a template prints, which cost more
    # than the rest of the page at 10,000 numbers.
    @property
    def where(self) -> str:
        return f"{self.start}–{self.end}"

    @property
    def css(self) -> str:
        return f"code-{self.code.pk}"


@dataclass
class Lane:
    """One coder's cell of one item."""

    number: int  # 1-based lane position: the accept key
    label: str
    versions: list[VersionView]


@dataclass
class GoldView:
    span: GoldSpan
    sources: list[str]  # labels of the coders whose version it reproduces


@dataclass
class ItemRow:
    index: int
    key: str
    item: Item
    codes: list[Code]
    quote: str
    lanes: list[Lane]
    majority: str  # label list of the majority version's coders, or ""
    present: str  # lane numbers of the coders who marked something here, space-separated
    decision: ReviewDecision | None
    gold: list[GoldView]

    number: str = ""  # position in the list shown to the reviewer

    @property
    def kind(self) -> str:
        return self.item.kind.value

    @property
    def settled(self) -> bool:
        return self.decision is not None

    # Strings, not integers, for the template (see VersionView).
    @property
    def ref(self) -> str:
        return str(self.index)

    @property
    def start(self) -> str:
        return str(self.item.start)

    @property
    def end(self) -> str:
        return str(self.item.end)

    @property
    def code_tags(self) -> list[tuple[str, str]]:
        return [(f"code-{code.pk}", code.name) for code in self.codes]

    @property
    def first_code(self) -> str:
        return str(self.codes[0].pk)


@dataclass
class ReviewPage:
    document: Document
    review: DocumentReview | None
    codes: list[Code]
    coders: list[tuple[int, str]]  # done coders, lane order
    pending: list[str]  # labels of coders not done
    rows: list[ItemRow]  # disagreements, text order
    agreed: list[ItemRow]
    other_gold: list[GoldView]  # gold spans no current item accounts for
    pieces: list[TextPiece] = field(default_factory=list)

    @property
    def open_count(self) -> int:
        return sum(not row.settled for row in self.rows)

    @property
    def agreed_pending(self) -> int:
        return sum(not row.settled for row in self.agreed)

    @property
    def finished(self) -> bool:
        return self.review is not None and self.review.status == ReviewStatus.SETTLED

    @property
    def can_finish(self) -> bool:
        return not self.finished and not self.open_count and not self.agreed_pending


def _short(text: str, limit: int) -> str:
    # Django's truncatechars normalises Unicode on every call: too slow for 4,000 quotes.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def review_page(document: Document, *, with_text: bool = True) -> ReviewPage:
    """Everything the review page shows for one document (7 queries, any number of spans).

    ``with_text`` is off for htmx fragments, which never re-render the article.
    """
    project = document.project
    text = document.text
    alignment = document_alignment(document)
    codes = list(Code.objects.filter(codebook__project=project))
    code_by_id = {c.pk: c for c in codes}
    labels = coder_labels(project, also=alignment.done + alignment.pending)
    done = set(alignment.done)
    lane_order = [uid for uid in labels if uid in done]  # pseudonym order
    decisions = {
        d.item_key: d
        for d in ReviewDecision.objects.filter(document=document).select_related("decided_by")
    }
    gold = list(
        GoldSpan.objects.live().filter(document=document).select_related("code", "settled_by")
    )
    review = DocumentReview.objects.filter(document=document).first()

    def gold_view(span: GoldSpan) -> GoldView:
        return GoldView(span, [labels.get(uid, "a former coder") for uid in span.source_coders])

    item_of_span: dict[int, int] = {}
    for index, item in enumerate(alignment.items):
        for ids in item.members.values():
            for span_id in ids:
                item_of_span[span_id] = index
    gold_of_item: defaultdict[int, list[GoldView]] = defaultdict(list)
    other_gold = []
    for span in gold:
        owners = {item_of_span[s] for s in span.source_spans if s in item_of_span}
        if len(owners) == 1:
            gold_of_item[owners.pop()].append(gold_view(span))
        else:
            other_gold.append(gold_view(span))

    rows: list[ItemRow] = []
    agreed: list[ItemRow] = []
    for index, item in enumerate(alignment.items):
        lanes = []
        # Agreed items are listed in one line each; only disagreements need their lanes.
        for number, uid in enumerate(lane_order if item.kind is not Kind.AGREED else (), 1):
            versions = [
                VersionView(
                    code_by_id[s.code_id], s.start, s.end, _short(text[s.start : s.end], 90)
                )
                for s in sorted(
                    (alignment.spans[i] for i in item.members[str(uid)]),
                    key=lambda s: (s.start, s.end, s.code_id),
                )
            ]
            lanes.append(Lane(number, labels[uid], versions))
        winner = majority_version(item)
        key = item_key(item)
        row = ItemRow(
            index=index,
            key=key,
            item=item,
            codes=[code_by_id[int(c)] for c in item.codes],
            quote=_short(text[item.start : item.end], 140),
            lanes=lanes,
            majority=", ".join(labels[int(c)] for c in winner.coders) if winner else "",
            present=" ".join(str(lane.number) for lane in lanes if lane.versions),
            decision=decisions.get(key),
            gold=gold_of_item.get(index, []),
        )
        (agreed if item.kind is Kind.AGREED else rows).append(row)
    for number, row in enumerate(rows, start=1):
        row.number = str(number)

    page = ReviewPage(
        document=document,
        review=review,
        codes=codes,
        coders=[(uid, labels[uid]) for uid in lane_order],
        pending=[labels[uid] for uid in alignment.pending],
        rows=rows,
        agreed=agreed,
        other_gold=other_gold,
    )
    if with_text:
        page.pieces = _text_pieces(text, [*rows, *agreed])
    return page


def _text_pieces(text: str, rows: list[ItemRow]) -> list[TextPiece]:
    by_index = {row.index: row for row in rows}
    pieces = []
    for piece in split_at_boundaries(text, [(r.index, r.item.start, r.item.end) for r in rows]):
        covering = [by_index[i] for i in piece.span_ids]
        pieces.append(
            TextPiece(
                text=piece.text,
                items=" ".join(str(r.index) for r in covering),
                kind=covering[0].kind if covering else "",
                settled=all(r.settled for r in covering),
            )
        )
    return pieces


# --- Feedback to coders -----------------------------------------------------------------


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
