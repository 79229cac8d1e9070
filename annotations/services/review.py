"""Settling coders' disagreements into the gold layer.

The coders' spans are only ever read here: every outcome is a :class:`GoldSpan` plus a
:class:`ReviewDecision` naming the aligned item it settles. The decision row is written
first, under the unique (document, item_key) constraint, so two reviewers settling the
same item at once cannot both win: the second is refused with who settled it and when,
and its transaction (gold spans included) rolls back whole. What each way of settling
proposes is decided in :mod:`annotations.domain.settling`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..domain import settling
from ..domain.alignment import Item, Kind
from ..domain.settling import Action, DocumentAlignment, Proposal, SettleError
from ..models import (
    Code,
    Document,
    DocumentReview,
    GoldSpan,
    Provenance,
    ReviewDecision,
    ReviewStatus,
)
from ..selectors.review import align_before_writing, document_alignment
from . import assignments
from .base import ConflictError, ServiceError, audit_record

RATIONALE_LIMIT = 10_000


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


def _checked_rationale(rationale: str | None) -> str:
    rationale = (rationale or "").strip()
    if len(rationale) > RATIONALE_LIMIT:
        raise ServiceError(f"A rationale has at most {RATIONALE_LIMIT:,} characters.")
    return rationale


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
    elif review.status == ReviewStatus.REOPENED:
        raise ConflictError(
            "This document was reopened for coding; it comes back for review once its "
            "coders have marked it done again."
        )
    return review


@transaction.atomic
def review_start(*, document: Document, actor) -> DocumentReview:
    return _review_for_update(document, actor)


@contextmanager
def _reviewing(document: Document, actor) -> Iterator[tuple[DocumentAlignment, DocumentReview]]:
    """A review write's transaction, with the document's alignment and its review.

    The spans are aligned before the transaction takes its locks (on SQLite the write lock
    holds back every other writer) and, inside it, checked first, before the transaction
    writes anything of its own (see ``align_before_writing``)."""
    before = align_before_writing(document)
    with transaction.atomic():
        alignment = document_alignment(document, before=before)
        yield alignment, _review_for_update(document, actor)


def review_finish(*, document: Document, actor) -> DocumentReview:
    """Close the review once every item is settled; coders may then see their feedback."""
    with _reviewing(document, actor) as (alignment, review):
        decided = set(
            ReviewDecision.objects.filter(document=document).values_list("item_key", flat=True)
        )
        unsettled = [key for key in alignment.item_keys() if key not in decided]
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


@transaction.atomic
def review_reopen_for_coding(*, document: Document, actor) -> int:
    """A manager gives a document under review back to its coders: their spans may change
    again. Decisions stay; an item whose spans change gets a new key, so it is settled
    anew, and the gold spans of changed items are listed apart until then."""
    review = DocumentReview.objects.select_for_update().filter(document=document).first()
    if review is None:
        raise ServiceError("No review has started on this document; its coders can still edit.")
    if review.status == ReviewStatus.REOPENED:
        raise ServiceError("This document is already reopened for coding.")
    before = review.status
    review.status = ReviewStatus.REOPENED
    review.settled_at = None
    review.save(update_fields=["status", "settled_at"])
    audit_record(
        actor=actor,
        action="reopen_coding",
        obj=review,
        document=document,
        before={"status": before},
        after={"status": review.status},
    )
    return assignments.reopen_for_coding(document=document, actor=actor)


# --- Settling -----------------------------------------------------------------------------


def _project_code(document: Document, code_id: int | None) -> Code:
    if code_id is None:
        raise ServiceError("Choose a code.")
    code = Code.objects.filter(pk=code_id, codebook__project_id=document.project_id).first()
    if code is None:
        raise ServiceError("Unknown code.")
    return code


def _store(document: Document, proposals: list[Proposal], *, rationale: str, actor):
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
            actor=actor, action="create", obj=gold, document=document, after=gold_state(gold)
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


def _record_settled(document, decision, item, key, action, gold, rationale, actor) -> None:
    if gold:
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
            "action": action,
            "gold_spans": [g.pk for g in gold],
            "rationale": rationale,
        },
    )


def gold_settle(
    *,
    document: Document,
    item_key: str,
    action: str,
    actor,
    coder: int | None = None,
    code: int | None = None,
    start: int | None = None,
    end: int | None = None,
    rationale: str = "",
) -> ReviewDecision:
    """Settle one aligned item: accept a coder's version, union, intersection, edit, reject."""
    if action not in settling.SETTLE_ACTIONS:
        raise ServiceError("Unknown way to settle.")
    rationale = _checked_rationale(rationale)
    with _reviewing(document, actor) as (alignment, _):
        item = alignment.find(item_key)
        if item is None:
            raise ConflictError(
                "This item changed since the page was loaded (a coder edited their spans or "
                "reopened their work); the current state is shown."
            )
        decision = _decide(document, item, item_key, action, rationale=rationale, actor=actor)
        try:
            if action == Action.ACCEPT:
                proposals = settling.propose_accept(alignment, item, coder)
            elif action in (Action.UNION, Action.INTERSECTION):
                proposals = settling.propose_combined(alignment, item, action, code)
            elif action == Action.EDIT:
                if start is None or end is None:
                    raise SettleError("Give the start and end of the gold span.")
                chosen = _project_code(document, code)
                proposals = settling.propose_edit(
                    alignment, item, document.text, chosen.pk, start, end
                )
            else:
                proposals = []
        except SettleError as error:
            raise ServiceError(str(error)) from None
        gold = _store(document, proposals, rationale=rationale, actor=actor)
        _record_settled(document, decision, item, item_key, action, gold, rationale, actor)
    return decision


def gold_accept_agreed(*, document: Document, actor) -> int:
    """Accept every unsettled agreed item at once (provenance unanimous); returns how many."""
    with _reviewing(document, actor) as (alignment, _):
        decided = set(
            ReviewDecision.objects.filter(document=document).values_list("item_key", flat=True)
        )
        count = 0
        outlines = alignment.outlines()
        for index, key in enumerate(alignment.item_keys()):
            if outlines[index].kind is not Kind.AGREED or key in decided:
                continue
            item = alignment.items[index]
            decision = _decide(document, item, key, Action.ACCEPT_AGREED, rationale="", actor=actor)
            gold = _store(
                document, settling.propose_agreed(alignment, item), rationale="", actor=actor
            )
            _record_settled(document, decision, item, key, Action.ACCEPT_AGREED, gold, "", actor)
            count += 1
    return count


def gold_edit(
    *,
    gold_span: GoldSpan,
    expected_version: int,
    actor,
    code: int | None = None,
    start: int | None = None,
    end: int | None = None,
    rationale: str | None = None,
) -> GoldSpan:
    """Change a gold span's boundaries or code in the gold lane; it becomes a reviewer edit."""
    document = gold_span.document
    with transaction.atomic():
        _review_for_update(document, actor)
        locked = GoldSpan.objects.select_for_update().get(pk=gold_span.pk)
        if locked.version != expected_version or locked.deleted_at is not None:
            raise ConflictError(
                "This gold span was changed by someone else since you loaded it; "
                "its current state is shown."
            )
        before = gold_state(locked)
        if code is not None and code != locked.code_id:
            locked.code = _project_code(document, code)
        if start is not None or end is not None:
            try:
                locked.start, locked.end = settling.checked_extent(
                    document.text,
                    locked.start if start is None else start,
                    locked.end if end is None else end,
                )
            except SettleError as error:
                raise ServiceError(str(error)) from None
            locked.quote = document.text[locked.start : locked.end]
        if rationale is not None:
            locked.rationale = _checked_rationale(rationale)
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
            after=gold_state(locked),
            before=before,
        )
    return locked
