"""Review: a document's aligned items by type, and settling one into the gold layer.

Reviewers and managers only, as on the review page. Coders are named by label (Coder A,
Coder B in blind projects), never by user id; accepting a coder's version names the
coder by the same label.
"""

from __future__ import annotations

import datetime
from typing import Literal

from ninja import Field, Query, Router, Schema

from ..domain.alignment import Kind
from ..domain.settling import KEY_LENGTH, SETTLE_ACTIONS, Action
from ..permissions import access_document_for_review
from ..selectors import api as selectors
from ..selectors.labels import coder_labels
from ..services import review as services
from ..services.base import ServiceError
from .schemas import OFFSETS, Id, In, Offset, PathId, responses, write_responses

router = Router(tags=["review"])

KINDS = Literal["agreed", "boundary", "code", "missed"]
assert set(KINDS.__args__) == {k.value for k in Kind}


class VersionOut(Schema):
    start: int
    end: int
    code: int
    code_name: str
    coders: list[str] = Field(description="The labels of the coders who drew this version.")


class DecisionOut(Schema):
    action: str
    rationale: str
    decided_at: datetime.datetime
    decided_by: str | None = Field(description="The reviewer's username.")
    gold_span_id: int | None


class ItemOut(Schema):
    index: int
    key: str = Field(description="Send it back to settle the item.")
    kind: str = Field(description="agreed, boundary, code or missed.")
    start: int = Field(description=OFFSETS)
    end: int
    quote: str
    codes: list[str]
    absent: list[str] = Field(description="Coders with nothing here.")
    versions: list[VersionOut]
    decision: DecisionOut | None = Field(description="How it was settled, once it is.")


class ReviewOut(Schema):
    document_id: int
    status: str = Field(description="Empty until a review starts; in_review, settled, reopened.")
    coders: list[str] = Field(description="Coders whose work is done, so aligned.")
    pending: list[str] = Field(description="Assigned coders not done yet.")
    counts: dict[str, int] = Field(description="Items per type, settled or not.")
    items: list[ItemOut]


def _labels(document) -> dict[int, str]:
    return coder_labels(document.project)


@router.get("/documents/{document_id}/review", response=responses({200: ReviewOut}))
def get_review(request, document_id: PathId, type: KINDS | None = Query(None)):
    """The document's items in text order (only one type with ``type``)."""
    document, _ = access_document_for_review(request.auth, document_id)
    found = selectors.review_items(document, _labels(document), kind=type)
    return {
        "document_id": document.pk,
        "status": found.status,
        "coders": found.coders,
        "pending": found.pending,
        "counts": found.counts,
        "items": found.items,
    }


class SettleIn(In):
    item_key: str = Field(min_length=1, max_length=KEY_LENGTH)
    action: Literal[SETTLE_ACTIONS] = Field(  # type: ignore[valid-type]
        description="accept (one coder's version), union, intersection, edit or reject."
    )
    coder: str | None = Field(
        None, max_length=200, description="With accept: the coder's label (Coder A …)."
    )
    code: Id | None = Field(None, description="With union, intersection or edit: a code id.")
    start: Offset | None = None
    end: Offset | None = None
    rationale: str = Field("", max_length=services.RATIONALE_LIMIT)


class SettledOut(Schema):
    item_key: str
    action: str
    gold_span_ids: list[int] = Field(description="The gold spans it made (none to reject).")


@router.post(
    "/documents/{document_id}/review/settle",
    response=write_responses({200: SettledOut}, 409),
)
def settle_item(request, document_id: PathId, payload: SettleIn):
    """Settle one item into the gold layer. An item settled by someone else meanwhile, or
    changed since it was read, answers 409 and nothing changes."""
    document, _ = access_document_for_review(request.auth, document_id)
    coder = None
    if payload.action == Action.ACCEPT:
        by_label = {label: uid for uid, label in _labels(document).items()}
        coder = by_label.get(payload.coder or "")
        if coder is None:
            raise ServiceError("Name the coder whose version to accept, by their label.")
    before = set(document.gold_spans.values_list("pk", flat=True))
    decision = services.gold_settle(
        document=document,
        item_key=payload.item_key,
        action=payload.action,
        actor=request.auth,
        coder=coder,
        code=payload.code,
        start=payload.start,
        end=payload.end,
        rationale=payload.rationale,
    )
    created = document.gold_spans.exclude(pk__in=before).filter(settled_by=request.auth)
    gold = sorted(created.values_list("pk", flat=True))
    return {"item_key": decision.item_key, "action": decision.action, "gold_span_ids": gold}
