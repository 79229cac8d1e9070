"""Reads for the review page: one window of a document's disagreements, built in full.

A 50,000-character article has ~800 disagreements; only one window of them (``WINDOW``)
is drawn, and the article is sent once as text plus item offsets for the page script.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model

from ..domain.alignment import Item, Kind, majority_version
from ..domain.settling import item_key
from ..models import Code, Document, DocumentReview, GoldSpan, ReviewDecision, ReviewStatus, Span
from .labels import coder_labels
from .review import document_alignment

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
NOTE_SHOWN = 600  # characters of a coder's note shown on the page (notes hold up to 10,000)


@dataclass
class VersionView:
    code: Code
    start: int
    end: int
    quote: str
    note: str = ""  # the coder's note on this span: how coders flag doubt to the reviewer

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
    notes: list[tuple[str, str]] = field(default_factory=list)  # (coder label, note)


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
    def reopened(self) -> bool:
        return self.review is not None and self.review.status == ReviewStatus.REOPENED

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
    agreed_in_window = [
        (one, accepted)
        for one, accepted in agreed
        if low <= one.start and (high is None or one.start < high)
    ][:AGREED_LIMIT]
    # Coders' notes, for the spans shown only (one query): reviewers see them beside
    # each coder's version, under the coder's label (a pseudonym in blind projects).
    shown_spans = [
        span_id
        for one in [*(i for _, i, _ in window), *(i for i, _ in agreed_in_window)]
        for ids in one.members.values()
        for span_id in ids
    ]
    notes = (
        dict(Span.objects.filter(pk__in=shown_spans).exclude(note="").values_list("pk", "note"))
        if shown_spans
        else {}
    )
    agreed_shown = [
        AgreedRow(
            code_tags=[(f"code-{c}", code_by_id[int(c)].name) for c in one.codes],
            quote=_short(document.text[one.start : one.end], 140),
            where=f"{one.start}–{one.end}",
            settled=accepted,
            notes=[
                (labels[uid], _short(notes[span_id], NOTE_SHOWN))
                for uid in lane_order
                for span_id in one.members.get(str(uid), ())
                if span_id in notes
            ],
        )
        for one, accepted in agreed_in_window
    ]

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
                    code_by_id[s.code_id],
                    s.start,
                    s.end,
                    _short(text[s.start : s.end], 90),
                    _short(notes.get(s.pk, ""), NOTE_SHOWN),
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
