"""Settling coders' disagreements into the gold layer.

The coders' spans are only ever read here: every outcome is a :class:`GoldSpan` plus a
:class:`ReviewDecision` naming the aligned item it settles. The decision row is written
first, under the unique (document, item_key) constraint, so two reviewers settling the
same item at once cannot both win: the second is refused with who settled it and when,
and its transaction (gold spans included) rolls back whole.

Provenance of a gold span:

- ``unanimous``: every coder drew exactly this version (agreed items).
- ``majority``: the reviewer accepted the version a strict majority of coders drew.
- ``decision``: the reviewer picked a minority version, the union or the intersection.
- ``edit``: the reviewer set boundaries or code themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..domain.alignment import Item, Kind, majority_version, settle_intersection, settle_union
from ..domain.offsets import SpanError, check_span, trim_whitespace
from ..models import (
    Code,
    Document,
    DocumentReview,
    GoldSpan,
    Provenance,
    ReviewDecision,
    ReviewStatus,
)
from ..selectors_review import CoderSpan, DocumentAlignment, document_alignment, item_key
from .core import ConflictError, ServiceError, audit_record


class Action:
    ACCEPT = "accept"
    UNION = "union"
    INTERSECTION = "intersection"
    EDIT = "edit"
    REJECT = "reject"
    ACCEPT_AGREED = "accept-agreed"


SETTLE_ACTIONS = (Action.ACCEPT, Action.UNION, Action.INTERSECTION, Action.EDIT, Action.REJECT)


def gold_state(span: GoldSpan) -> dict:
    return {
        "code": span.code_id,
        "start": span.start,
        "end": span.end,
        "quote": span.quote,
        "provenance": span.provenance,
        "source_coders": span.source_coders,
        "source_spans": span.source_spans,
        "rationale": span.rationale,
        "version": span.version,
        "deleted": span.deleted_at is not None,
    }


@dataclass(frozen=True)
class _Proposal:
    code_id: int
    start: int
    end: int
    provenance: str
    coders: list[int]
    spans: list[int]


# --- Reviews ----------------------------------------------------------------------------


def _review_for_update(document: Document, actor) -> DocumentReview:
    """The document's review, started on first use; refuses changes once finished."""
    review, created = DocumentReview.objects.select_for_update().get_or_create(
        document=document, defaults={"started_by": actor}
    )
    if created:
        audit_record(
            actor=actor,
            action="start",
            obj=review,
            document=document,
            after={"status": review.status},
        )
    elif review.status == ReviewStatus.SETTLED:
        raise ConflictError(
            "The review of this document is finished; reopen it to change the gold layer."
        )
    return review


@transaction.atomic
def review_start(*, document: Document, actor) -> DocumentReview:
    return _review_for_update(document, actor)


@transaction.atomic
def review_finish(*, document: Document, actor) -> DocumentReview:
    """Close the review once every item is settled; coders may then see their feedback."""
    review = _review_for_update(document, actor)
    alignment = document_alignment(document)
    decided = set(
        ReviewDecision.objects.filter(document=document).values_list("item_key", flat=True)
    )
    unsettled = [i for i in alignment.items if item_key(i) not in decided]
    if unsettled:
        raise ServiceError(
            f"{len(unsettled)} item{'s' if len(unsettled) != 1 else ''} still to settle "
            "before the review can be finished."
        )
    review.status = ReviewStatus.SETTLED
    review.settled_at = timezone.now()
    review.save(update_fields=["status", "settled_at"])
    audit_record(
        actor=actor,
        action="finish",
        obj=review,
        document=document,
        before={"status": ReviewStatus.IN_REVIEW},
        after={"status": review.status},
    )
    return review


@transaction.atomic
def review_reopen(*, document: Document, actor) -> DocumentReview:
    review = DocumentReview.objects.select_for_update().filter(document=document).first()
    if review is None or review.status != ReviewStatus.SETTLED:
        raise ServiceError("This review is not finished.")
    review.status = ReviewStatus.IN_REVIEW
    review.settled_at = None
    review.save(update_fields=["status", "settled_at"])
    audit_record(
        actor=actor,
        action="reopen",
        obj=review,
        document=document,
        before={"status": ReviewStatus.SETTLED},
        after={"status": review.status},
    )
    return review


# --- Settling -----------------------------------------------------------------------------


def _find_item(alignment: DocumentAlignment, key: str) -> Item:
    for item in alignment.items:
        if item_key(item) == key:
            return item
    raise ConflictError(
        "This item changed since the page was loaded (a coder edited their spans or "
        "reopened their work); the current state is shown."
    )


def _item_spans(alignment: DocumentAlignment, item: Item) -> list[CoderSpan]:
    return [alignment.spans[i] for ids in item.members.values() for i in ids]


def _same_version(spans: list[CoderSpan], code_id: int, start: int, end: int) -> list[CoderSpan]:
    return [s for s in spans if (s.code_id, s.start, s.end) == (code_id, start, end)]


def _proposal(spans, code_id: int, start: int, end: int, provenance: str) -> _Proposal:
    return _Proposal(
        code_id=code_id,
        start=start,
        end=end,
        provenance=provenance,
        coders=sorted({s.coder_id for s in spans}),
        spans=sorted(s.pk for s in spans),
    )


def _accept(alignment: DocumentAlignment, item: Item, coder_id) -> list[_Proposal]:
    try:
        coder = int(coder_id)
    except (TypeError, ValueError):
        raise ServiceError("Choose whose version to accept.") from None
    if coder not in alignment.done:
        raise ServiceError("Choose whose version to accept.")
    ids = item.members[str(coder)]
    if not ids:
        raise ServiceError("That coder marked nothing here; reject the item instead.")
    spans = _item_spans(alignment, item)
    winner = majority_version(item)
    proposals = []
    for span in sorted(
        (alignment.spans[i] for i in ids), key=lambda s: (s.start, s.end, s.code_id)
    ):
        same = _same_version(spans, span.code_id, span.start, span.end)
        if item.kind is Kind.AGREED:
            provenance = Provenance.UNANIMOUS
        elif (
            len(ids) == 1
            and winner is not None
            and (winner.start, winner.end, winner.code) == (span.start, span.end, str(span.code_id))
        ):
            provenance = Provenance.MAJORITY
        else:
            provenance = Provenance.DECISION
        proposals.append(_proposal(same, span.code_id, span.start, span.end, provenance))
    return proposals


def _single_code(item: Item, code_id) -> int:
    codes = [int(c) for c in item.codes]
    if len(codes) == 1:
        return codes[0]
    try:
        chosen = int(code_id)
    except (TypeError, ValueError):
        raise ServiceError("The coders used different codes here: choose the code.") from None
    if chosen not in codes:
        raise ServiceError("Choose one of the codes the coders used here.")
    return chosen


def _extents(alignment: DocumentAlignment, item: Item) -> list[tuple[int, int]]:
    """Each present coder's extent within the item (a coder may have split it in two)."""
    extents = []
    for ids in item.members.values():
        if ids:
            extents.append(settle_union(alignment.spans[i] for i in ids))
    return extents


@dataclass(frozen=True)
class _Extent:
    start: int
    end: int


def _combine(alignment, item, action: str, code_id) -> list[_Proposal]:
    code = _single_code(item, code_id)
    extents = [_Extent(*e) for e in _extents(alignment, item)]
    if action == Action.UNION:
        start, end = settle_union(extents)
    else:
        shared = settle_intersection(extents)
        if shared is None:
            raise ServiceError("The coders' versions share no text; choose another way to settle.")
        start, end = shared
    # Built from every coder's version of this code, even if it equals one of them.
    spans = [s for s in _item_spans(alignment, item) if s.code_id == code]
    return [_proposal(spans, code, start, end, Provenance.DECISION)]


def _edit(document, alignment, item, code_id, start, end) -> list[_Proposal]:
    try:
        start_i, end_i = check_span(document.text, start, end)
        start_i, end_i = trim_whitespace(document.text, start_i, end_i)
    except SpanError as error:
        raise ServiceError(str(error)) from None
    code = _project_code(document, code_id)
    spans = _item_spans(alignment, item)
    return [_proposal(spans, code.pk, start_i, end_i, Provenance.EDIT)]


def _project_code(document: Document, code_id) -> Code:
    try:
        pk = int(code_id)
    except (TypeError, ValueError):
        raise ServiceError("Choose a code.") from None
    code = Code.objects.filter(pk=pk, codebook__project_id=document.project_id).first()
    if code is None:
        raise ServiceError("Unknown code.")
    return code


def _store(
    document: Document, proposals: list[_Proposal], *, rationale: str, actor
) -> list[GoldSpan]:
    stored = []
    for p in proposals:
        gold = GoldSpan(
            document=document,
            code_id=p.code_id,
            start=p.start,
            end=p.end,
            quote=document.text[p.start : p.end],
            provenance=p.provenance,
            source_coders=p.coders,
            source_spans=p.spans,
            rationale=rationale,
            settled_by=actor,
        )
        try:
            with transaction.atomic():
                gold.save()
        except IntegrityError:
            raise ServiceError(
                f"The gold layer already has this span ({p.start}–{p.end}); "
                "settle the item another way."
            ) from None
        audit_record(
            actor=actor,
            action="create",
            obj=gold,
            document=document,
            after=gold_state(gold),
        )
        stored.append(gold)
    return stored


def _decide(document: Document, item: Item, key: str, action: str, *, rationale: str, actor):
    decision = ReviewDecision(
        document=document,
        item_key=key,
        kind=item.kind.value,
        action=action,
        start=item.start,
        end=item.end,
        rationale=rationale,
        decided_by=actor,
    )
    try:
        with transaction.atomic():
            decision.save()
    except IntegrityError:
        earlier = ReviewDecision.objects.select_related("decided_by").get(
            document=document, item_key=key
        )
        who = earlier.decided_by.get_username() if earlier.decided_by else "another reviewer"
        when = timezone.localtime(earlier.decided_at).strftime("%d %b %Y %H:%M:%S")
        raise ConflictError(
            f"This item was already settled by {who} at {when} ({earlier.action}); "
            "nothing was changed. The current state is shown."
        ) from None
    return decision


def gold_settle(
    *,
    document: Document,
    item_key: str,
    action: str,
    actor,
    coder=None,
    code=None,
    start=None,
    end=None,
    rationale: str = "",
) -> ReviewDecision:
    """Settle one aligned item: accept a coder's version, union, intersection, edit, reject."""
    if action not in SETTLE_ACTIONS:
        raise ServiceError("Unknown way to settle.")
    rationale = (rationale or "").strip()
    with transaction.atomic():
        _review_for_update(document, actor)
        alignment = document_alignment(document)
        item = _find_item(alignment, item_key)
        decision = _decide(document, item, item_key, action, rationale=rationale, actor=actor)
        if action == Action.ACCEPT:
            proposals = _accept(alignment, item, coder)
        elif action in (Action.UNION, Action.INTERSECTION):
            proposals = _combine(alignment, item, action, code)
        elif action == Action.EDIT:
            proposals = _edit(document, alignment, item, code, start, end)
        else:
            proposals = []
        gold = _store(document, proposals, rationale=rationale, actor=actor)
        if gold:
            decision.gold_span = gold[0]
            decision.save(update_fields=["gold_span"])
        audit_record(
            actor=actor,
            action="settle",
            obj=decision,
            document=document,
            after={
                "item_key": item_key,
                "kind": item.kind.value,
                "action": action,
                "gold_spans": [g.pk for g in gold],
                "rationale": rationale,
            },
        )
    return decision


def gold_accept_agreed(*, document: Document, actor) -> int:
    """Accept every unsettled agreed item at once (provenance unanimous); returns how many."""
    with transaction.atomic():
        _review_for_update(document, actor)
        alignment = document_alignment(document)
        decided = set(
            ReviewDecision.objects.filter(document=document).values_list("item_key", flat=True)
        )
        count = 0
        for item in alignment.items:
            key = item_key(item)
            if item.kind is not Kind.AGREED or key in decided:
                continue
            decision = _decide(document, item, key, Action.ACCEPT_AGREED, rationale="", actor=actor)
            spans = _item_spans(alignment, item)
            proposals = [
                _proposal(
                    _same_version(spans, int(v.code), v.start, v.end),
                    int(v.code),
                    v.start,
                    v.end,
                    Provenance.UNANIMOUS,
                )
                for v in item.versions
            ]
            gold = _store(document, proposals, rationale="", actor=actor)
            decision.gold_span = gold[0]
            decision.save(update_fields=["gold_span"])
            audit_record(
                actor=actor,
                action="settle",
                obj=decision,
                document=document,
                after={
                    "item_key": key,
                    "kind": item.kind.value,
                    "action": Action.ACCEPT_AGREED,
                    "gold_spans": [g.pk for g in gold],
                },
            )
            count += 1
    return count


def gold_edit(
    *,
    gold_span: GoldSpan,
    expected_version,
    actor,
    code=None,
    start=None,
    end=None,
    rationale: str | None = None,
) -> GoldSpan:
    """Change a gold span's boundaries or code in the gold lane; it becomes a reviewer edit."""
    document = gold_span.document
    with transaction.atomic():
        _review_for_update(document, actor)
        locked = GoldSpan.objects.select_for_update().get(pk=gold_span.pk)
        try:
            expected = int(expected_version)
        except (TypeError, ValueError):
            raise ServiceError("The gold span's version is missing; reload the page.") from None
        if locked.version != expected or locked.deleted_at is not None:
            raise ConflictError(
                "This gold span was changed by someone else since you loaded it; "
                "its current state is shown."
            )
        before = gold_state(locked)
        if code is not None and str(code) != str(locked.code_id):
            locked.code = _project_code(document, code)
        if start is not None or end is not None:
            try:
                new = check_span(
                    document.text,
                    locked.start if start is None else start,
                    locked.end if end is None else end,
                )
                locked.start, locked.end = trim_whitespace(document.text, *new)
            except SpanError as error:
                raise ServiceError(str(error)) from None
            locked.quote = document.text[locked.start : locked.end]
        if rationale is not None:
            locked.rationale = rationale.strip()
        unchanged = {k: v for k, v in gold_state(locked).items() if k != "provenance"}
        if unchanged == {k: v for k, v in before.items() if k != "provenance"}:
            return locked
        if (locked.code_id, locked.start, locked.end) != (
            before["code"],
            before["start"],
            before["end"],
        ):
            locked.provenance = Provenance.EDIT
        locked.version += 1
        locked.settled_by = actor
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise ServiceError("The gold layer already has this span.") from None
        audit_record(
            actor=actor,
            action="change",
            obj=locked,
            document=document,
            before=before,
            after=gold_state(locked),
        )
    return locked
