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

import functools
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model

from .domain.alignment import AlignSpan, Item, Kind, align, majority_version
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


@dataclass(frozen=True, slots=True)
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


# --- The review page ------------------------------------------------------------------

# Disagreements shown at once. A 50,000-character article has ~800 of them, and drawing
# every row (lanes, versions, gold cell) took ~200 ms of template time; j/k and the
# "earlier/later" buttons fetch the neighbouring window when they reach an edge.
WINDOW = 30
# What the page shows of a gold span, in model field order (``Model.from_db`` needs it).
GOLD_FIELDS = tuple(
    f.attname
    for f in GoldSpan._meta.concrete_fields
    if f.attname
    in {
        "id",
        "code_id",
        "start",
        "end",
        "quote",
        "provenance",
        "version",
        "source_coders",
        "source_spans",
    }
)
SOURCE_SPANS = GOLD_FIELDS.index("source_spans")
AGREED_LIMIT = 2 * WINDOW  # a document with no disagreements lists its agreed items here


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
class DecisionView:
    action: str
    rationale: str
    decided_at: datetime
    decided_by: str | None  # the reviewer's username; None once the account is gone


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
    decision: DecisionView | None
    gold: list[GoldView]

    number: str = ""  # position in the whole list of disagreements (not the window)

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
class AgreedRow:
    """An agreed item listed under the window (the ones in the window's stretch of text)."""

    code_tags: list[tuple[str, str]]
    quote: str
    where: str
    settled: bool


@dataclass
class ReviewPage:
    document: Document
    review: DocumentReview | None
    codes: list[Code]
    coders: list[tuple[int, str]]  # done coders, lane order
    pending: list[str]  # labels of coders not done
    rows: list[ItemRow]  # the window of disagreements shown, text order
    total: int  # disagreements in the whole document
    first: int  # 1-based number of the window's first row (0 when there are none)
    open_count: int
    open_items: str  # item indices of every unsettled disagreement, space-separated
    agreed_total: int
    agreed_pending: int
    agreed: list[AgreedRow]  # agreed items in the window's stretch of text
    other_gold: list[GoldView]  # gold spans no current item accounts for
    # The article's items for the page script that marks them in the text:
    # "start:end:kind" per item in item-index order (code points, as everywhere).
    marks: str = ""

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    # Strings for the template's data attributes and links (see VersionView).
    @property
    def window(self) -> dict[str, str]:
        return {
            "first": str(self.first),
            "last": str(self.last),
            "total": str(self.total),
            "earlier": str(max(1, self.first - WINDOW)) if self.first > 1 else "",
            "later": str(self.last + 1) if self.last < self.total else "",
        }

    @property
    def finished(self) -> bool:
        return self.review is not None and self.review.status == ReviewStatus.SETTLED

    @property
    def can_finish(self) -> bool:
        return not self.finished and not self.open_count and not self.agreed_pending


def _short(text: str, limit: int) -> str:
    # Django's truncatechars normalises Unicode on every call: too slow for 4,000 quotes.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _window_start(
    disagreements: list[tuple[int, Item, str]],
    settled: set[str],
    *,
    focus_key: str,
    item: int | None,
    row: int | None,
) -> int:
    """0-based position of the first row of the window holding the row asked for: the
    item just settled, an item clicked in the article, a row number, else the first open
    disagreement. Windows are fixed pages, so a row always appears in the same window."""
    position = None
    if focus_key or item is not None:
        position = next(
            (
                n
                for n, (index, _, key) in enumerate(disagreements)
                if key == focus_key or index == item
            ),
            None,
        )
    if position is None and row is not None:
        position = min(max(row, 1), max(len(disagreements), 1)) - 1
    if position is None:
        position = next((n for n, (_, _, key) in enumerate(disagreements) if key not in settled), 0)
    return position - position % WINDOW


def review_page(
    document: Document,
    *,
    with_text: bool = True,
    focus_key: str = "",
    item: int | None = None,
    row: int | None = None,
) -> ReviewPage:
    """What the review page shows for one document (8 queries, any number of spans).

    Every item is aligned and counted, but only one window of disagreements is built in
    full (see ``WINDOW``); ``focus_key``, ``item`` and ``row`` choose it. ``with_text``
    is off for htmx fragments, which never re-send the article.
    """
    project = document.project
    alignment = document_alignment(document)
    codes = list(Code.objects.filter(codebook__project=project))
    code_by_id = {c.pk: c for c in codes}
    labels = coder_labels(project, also=alignment.done + alignment.pending)
    done = set(alignment.done)
    lane_order = [uid for uid in labels if uid in done]  # pseudonym order
    # Plain rows, not model instances: a settled long article has over a thousand
    # decisions and gold spans, and the page shows a window of them.
    decided = {
        row[0]: row[1:]
        for row in ReviewDecision.objects.filter(document=document)
        .order_by()
        .values_list(
            "item_key",
            "action",
            "rationale",
            "decided_at",
            f"decided_by__{get_user_model().USERNAME_FIELD}",
        )
    }
    settled = set(decided)
    review = DocumentReview.objects.filter(document=document).first()

    disagreements: list[tuple[int, Item, str]] = []
    agreed: list[tuple[Item, bool]] = []
    for index, one in enumerate(alignment.items):
        key = item_key(one)
        if one.kind is Kind.AGREED:
            agreed.append((one, key in settled))
        else:
            disagreements.append((index, one, key))
    open_items = [index for index, _, key in disagreements if key not in settled]
    start = _window_start(disagreements, settled, focus_key=focus_key, item=item, row=row)
    window = disagreements[start : start + WINDOW]
    # Each agreed item is listed with the window whose stretch of text it starts in.
    low = disagreements[start][1].start if start else 0
    high = disagreements[start + WINDOW][1].start if start + WINDOW < len(disagreements) else None
    agreed_shown = [
        AgreedRow(
            code_tags=[(f"code-{c}", code_by_id[int(c)].name) for c in one.codes],
            quote=_short(document.text[one.start : one.end], 140),
            where=f"{one.start}–{one.end}",
            settled=accepted,
        )
        for one, accepted in agreed
        if low <= one.start and (high is None or one.start < high)
    ][:AGREED_LIMIT]

    item_of_span: dict[int, int] = {}
    for index, one in enumerate(alignment.items):
        for ids in one.members.values():
            for span_id in ids:
                item_of_span[span_id] = index
    shown = {index for index, _, _ in window}
    gold_of_item: defaultdict[int, list[GoldView]] = defaultdict(list)
    other_gold = []
    for values in (
        GoldSpan.objects.live().filter(document=document).order_by().values_list(*GOLD_FIELDS)
    ):
        owners = {item_of_span[s] for s in values[SOURCE_SPANS] if s in item_of_span}
        owner = owners.pop() if len(owners) == 1 else None
        if owner is not None and owner not in shown:
            continue
        # A model instance (for its display methods) of only the fields the page shows.
        span = GoldSpan.from_db(None, GOLD_FIELDS, values)
        span.code = code_by_id[span.code_id]
        view = GoldView(span, [labels.get(uid, "a former coder") for uid in span.source_coders])
        (other_gold if owner is None else gold_of_item[owner]).append(view)

    text = document.text
    rows: list[ItemRow] = []
    for number, (index, one, key) in enumerate(window, start=start + 1):
        lanes = []
        for lane_number, uid in enumerate(lane_order, 1):
            versions = [
                VersionView(
                    code_by_id[s.code_id], s.start, s.end, _short(text[s.start : s.end], 90)
                )
                for s in sorted(
                    (alignment.spans[i] for i in one.members[str(uid)]),
                    key=lambda s: (s.start, s.end, s.code_id),
                )
            ]
            lanes.append(Lane(lane_number, labels[uid], versions))
        winner = majority_version(one)
        rows.append(
            ItemRow(
                index=index,
                key=key,
                item=one,
                codes=[code_by_id[int(c)] for c in one.codes],
                quote=_short(text[one.start : one.end], 140),
                lanes=lanes,
                majority=", ".join(labels[int(c)] for c in winner.coders) if winner else "",
                present=" ".join(str(lane.number) for lane in lanes if lane.versions),
                decision=DecisionView(*decided[key]) if key in decided else None,
                gold=gold_of_item.get(index, []),
                number=str(number),
            )
        )

    return ReviewPage(
        document=document,
        review=review,
        codes=codes,
        coders=[(uid, labels[uid]) for uid in lane_order],
        pending=[labels[uid] for uid in alignment.pending],
        rows=rows,
        total=len(disagreements),
        first=start + 1 if rows else 0,
        open_count=len(open_items),
        open_items=" ".join(map(str, open_items)),
        agreed_total=len(agreed),
        agreed_pending=sum(not accepted for _, accepted in agreed),
        agreed=agreed_shown,
        other_gold=other_gold,
        marks=" ".join(f"{i.start}:{i.end}:{i.kind.value}" for i in alignment.items)
        if with_text
        else "",
    )


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
