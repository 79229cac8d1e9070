"""Reads for the review page: one window of a document's disagreements, built in full.

A 50,000-character article has ~800 disagreements; only one window of them (``WINDOW``)
is drawn, and the article is sent once as text plus item offsets for the page script.
Offsets and labels reach the template as ready strings (see ``VersionView.where``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model

from ..domain.alignment import Item, Kind, Outline, majority_version
from ..domain.settling import DocumentAlignment
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
    """One coder's span in a lane, as the template prints it."""

    code_name: str
    css: str  # the code's colour class
    where: str  # "start–end": Django localises every integer a template prints, slowly
    quote: str  # shortened
    note: str = ""  # the coder's note on this span: how coders flag doubt to the reviewer


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
    """One disagreement of the window. Strings, not integers, for the template (see
    ``VersionView.where``)."""

    index: int
    key: str
    item: Item
    kind: str
    ref: str  # the item's index in the whole alignment, for the page script
    start: str
    end: str
    first_code: str
    code_tags: list[tuple[str, str]]  # (colour class, code name)
    quote: str
    lanes: list[Lane]
    majority: str  # label list of the majority version's coders, or ""
    present: str  # lane numbers of the coders who marked something here, space-separated
    decision: DecisionView | None
    gold: list[GoldView]
    number: str  # position in the whole list of disagreements (not the window)

    @property
    def settled(self) -> bool:
        return self.decision is not None


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
    disagreements: list[tuple[int, Outline, str]],
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


def _decisions(document: Document, keys: Iterable[str]) -> dict[str, DecisionView]:
    """How the given items were settled (one query; none when no key is given)."""
    keys = list(keys)
    if not keys:
        return {}
    rows = (
        ReviewDecision.objects.filter(document=document, item_key__in=keys)
        .order_by()
        .values_list(
            "item_key",
            "action",
            "rationale",
            "decided_at",
            f"decided_by__{get_user_model().USERNAME_FIELD}",
        )
    )
    return {key: DecisionView(*rest) for key, *rest in rows}


def _gold_views(
    document: Document,
    alignment: DocumentAlignment,
    shown: set[int],
    code_by_id: dict[int, Code],
    labels: dict[int, str],
) -> tuple[dict[int, list[GoldView]], list[GoldView]]:
    """The live gold spans of the items shown, and those no current item accounts for (a
    coder changed the item since); one query. A gold span belongs to the item holding
    every coder's span it was made from."""
    gold_of_item: defaultdict[int, list[GoldView]] = defaultdict(list)
    other: list[GoldView] = []
    rows = list(
        GoldSpan.objects.live().filter(document=document).order_by().values_list(*GOLD_FIELDS)
    )
    if not rows:
        return gold_of_item, other
    item_of_span = alignment.item_of_span()
    for values in rows:
        owners = {item_of_span[s] for s in values[SOURCE_SPANS] if s in item_of_span}
        owner = owners.pop() if len(owners) == 1 else None
        if owner is not None and owner not in shown:
            continue
        # A model instance (for its display methods) of only the fields the page shows.
        span = GoldSpan.from_db(None, GOLD_FIELDS, values)
        span.code = code_by_id[span.code_id]
        view = GoldView(span, [labels.get(uid, "a former coder") for uid in span.source_coders])
        (other if owner is None else gold_of_item[owner]).append(view)
    return gold_of_item, other


def review_page(
    document: Document,
    *,
    with_text: bool = True,
    focus_key: str = "",
    item: int | None = None,
    row: int | None = None,
) -> ReviewPage:
    """What the review page shows for one document (9 to 10 queries, any number of spans).

    Every item is aligned and counted, but only one window of disagreements is built in
    full (see ``WINDOW``); ``focus_key``, ``item`` and ``row`` choose it. ``with_text``
    is off for htmx fragments, which never re-send the article.
    """
    project = document.project
    alignment = document_alignment(document)
    keys = alignment.item_keys()
    codes = list(Code.objects.filter(codebook__project=project))
    code_by_id = {c.pk: c for c in codes}
    labels = coder_labels(project, also=alignment.done + alignment.pending)
    done = set(alignment.done)
    lane_order = [uid for uid in labels if uid in done]  # pseudonym order
    # Every decided key (a settled long article has over a thousand), but the details
    # of the window's decisions only, below.
    settled = set(
        ReviewDecision.objects.filter(document=document)
        .order_by()
        .values_list("item_key", flat=True)
    )
    review = DocumentReview.objects.filter(document=document).first()

    # Every item is counted from its outline; whole items are built for the ones shown.
    outlines = alignment.outlines()
    disagreements: list[tuple[int, Outline, str]] = []
    agreed: list[tuple[int, Outline, bool]] = []
    for index, (one, key) in enumerate(zip(outlines, keys, strict=True)):
        if one.kind is Kind.AGREED:
            agreed.append((index, one, key in settled))
        else:
            disagreements.append((index, one, key))
    open_items = [index for index, _, key in disagreements if key not in settled]
    start = _window_start(disagreements, settled, focus_key=focus_key, item=item, row=row)
    window = [
        (index, alignment.items[index], key)
        for index, _, key in disagreements[start : start + WINDOW]
    ]
    # Each agreed item is listed with the window whose stretch of text it starts in.
    low = disagreements[start][1].start if start else 0
    high = disagreements[start + WINDOW][1].start if start + WINDOW < len(disagreements) else None
    agreed_in_window = [
        (alignment.items[index], accepted)
        for index, one, accepted in agreed
        if low <= one.start and (high is None or one.start < high)
    ][:AGREED_LIMIT]
    decided = _decisions(document, (key for _, _, key in window if key in settled))
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
    text = document.text
    agreed_shown = [
        AgreedRow(
            code_tags=[(f"code-{c}", code_by_id[int(c)].name) for c in one.codes],
            quote=_short(text[one.start : one.end], 140),
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
    gold_of_item, other_gold = _gold_views(
        document, alignment, {index for index, _, _ in window}, code_by_id, labels
    )

    rows: list[ItemRow] = []
    for number, (index, one, key) in enumerate(window, start=start + 1):
        lanes = []
        for lane_number, uid in enumerate(lane_order, 1):
            versions = []
            for s in sorted(
                (alignment.spans[i] for i in one.members[str(uid)]),
                key=lambda s: (s.start, s.end, s.code_id),
            ):
                code = code_by_id[s.code_id]
                versions.append(
                    VersionView(
                        code.name,
                        f"code-{code.pk}",
                        f"{s.start}–{s.end}",
                        _short(text[s.start : s.end], 90),
                        _short(notes.get(s.pk, ""), NOTE_SHOWN),
                    )
                )
            lanes.append(Lane(lane_number, labels[uid], versions))
        winner = majority_version(one)
        item_codes = [code_by_id[int(c)] for c in one.codes]
        rows.append(
            ItemRow(
                index=index,
                key=key,
                item=one,
                kind=one.kind.value,
                ref=str(index),
                start=str(one.start),
                end=str(one.end),
                first_code=str(item_codes[0].pk),
                code_tags=[(f"code-{code.pk}", code.name) for code in item_codes],
                quote=_short(text[one.start : one.end], 140),
                lanes=lanes,
                majority=", ".join(labels[int(c)] for c in winner.coders) if winner else "",
                present=" ".join(str(lane.number) for lane in lanes if lane.versions),
                decision=decided.get(key),
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
        agreed_pending=sum(not accepted for _, _, accepted in agreed),
        agreed=agreed_shown,
        other_gold=other_gold,
        # A StrEnum formats as its value, without the slow ``.value`` property.
        marks=" ".join([f"{i.start}:{i.end}:{i.kind}" for i in outlines]) if with_text else "",
    )
