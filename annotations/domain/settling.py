"""Settling a review item: which gold spans each way of settling proposes.

Pure Python. The review service aligns the coders' spans (see :mod:`.alignment`), asks
here what an action proposes, then stores the proposals as gold spans with their
provenance:

- ``unanimous``: every coder drew exactly this version (agreed items).
- ``majority``: the reviewer accepted the version a strict majority of coders drew.
- ``decision``: the reviewer picked a minority version, the union or the intersection.
- ``edit``: the reviewer set boundaries or code themselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import NamedTuple

from .alignment import (
    Alignment,
    Item,
    Kind,
    Outline,
    majority_version,
    settle_intersection,
    settle_union,
)
from .offsets import SpanError, check_span, trim_whitespace

KEY_LENGTH = 300  # ReviewDecision.item_key max_length


class Action:
    ACCEPT = "accept"
    UNION = "union"
    INTERSECTION = "intersection"
    EDIT = "edit"
    REJECT = "reject"
    ACCEPT_AGREED = "accept-agreed"


SETTLE_ACTIONS = (Action.ACCEPT, Action.UNION, Action.INTERSECTION, Action.EDIT, Action.REJECT)


class Provenance:
    UNANIMOUS = "unanimous"
    MAJORITY = "majority"
    DECISION = "decision"
    EDIT = "edit"


class SettleError(ValueError):
    """The action cannot settle this item; the message says why, for the reviewer."""


class CoderSpan(NamedTuple):
    """A coder's live span, as a plain row: a named tuple, because a long article has
    thousands and model instances (or even frozen dataclasses) cost several times more."""

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
    spans: Mapping[int, CoderSpan] = field(default_factory=dict)
    # From the selectors an :class:`Alignment`, which builds each item when first read:
    # read ``outlines()`` to go through every item.
    items: Sequence[Item] = field(default_factory=list)
    # ``item_key`` of each item, in item order, when the builder computed them once for
    # every reader (the selectors memoise them with the alignment); else made on demand.
    keys: Sequence[str] = ()
    # Span id → index of the item holding it, likewise.
    owners: Mapping[int, int] | None = None

    @property
    def all_done(self) -> bool:
        return bool(self.done) and not self.pending

    def outlines(self) -> Sequence[Outline]:
        """Every item's outline, in item order, without building the items."""
        if isinstance(self.items, Alignment):
            return self.items.outlines
        return [Outline.of(item) for item in self.items]

    def item_keys(self) -> Sequence[str]:
        if len(self.keys) != len(self.items):
            self.keys = outline_keys(self.outlines())
        return self.keys

    def item_of_span(self) -> Mapping[int, int]:
        if self.owners is None:
            self.owners = span_owners(self.outlines())
        return self.owners

    def item_spans(self, item: Item) -> list[CoderSpan]:
        return [self.spans[i] for ids in item.members.values() for i in ids]

    def find(self, key: str) -> Item | None:
        keys = self.item_keys()
        return next((self.items[n] for n, k in enumerate(keys) if k == key), None)


def span_owners(outlines: Iterable[Outline]) -> dict[int, int]:
    """Span id → index of the item that holds it."""
    return {
        span_id: index
        for index, outline in enumerate(outlines)
        for ids in outline.members
        for span_id in ids
    }


def item_key(item: Item) -> str:
    """A deterministic name for an item: the same spans always give the same key, and a
    coder editing a span gives a new one (so an old decision never settles new work)."""
    return _key(item.kind, item.codes, item.start, item.end, item.members.values())


def outline_key(outline: Outline) -> str:
    """``item_key`` of the item an outline describes, without building the item."""
    return outline_keys([outline])[0]


def outline_keys(outlines: Iterable[Outline]) -> list[str]:
    """``outline_key`` of every outline: a long article's thousand keys are made with
    every page and settle, so in one loop of few calls (the keys are the same)."""
    keys = []
    for kind, code, start, end, members in outlines:
        codes = "+".join(code) if isinstance(code, tuple) else code
        ids = members[0] if len(members) == 1 else sorted(chain.from_iterable(members))
        key = f"{kind}|{codes}|{start}|{end}|{','.join(map(str, ids))}"
        if len(key) > KEY_LENGTH:
            key = _key(kind, (codes,), start, end, members)
        keys.append(key)
    return keys


def _key(
    kind: Kind, codes: tuple[str, ...], start: int, end: int, members: Iterable[Iterable[int]]
) -> str:
    head = f"{kind}|{'+'.join(codes)}|{start}|{end}|"
    key = head + ",".join(map(str, sorted(chain.from_iterable(members))))
    if len(key) > KEY_LENGTH:
        key = head + "#" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return key


@dataclass(frozen=True)
class Proposal:
    """A gold span an action proposes, with the coders and spans it reproduces."""

    code_id: int
    start: int
    end: int
    provenance: str
    coders: list[int]
    spans: list[int]


def _proposal(spans: list[CoderSpan], code_id: int, start: int, end: int, provenance: str):
    return Proposal(
        code_id=code_id,
        start=start,
        end=end,
        provenance=provenance,
        coders=sorted({s.coder_id for s in spans}),
        spans=sorted(s.pk for s in spans),
    )


def _same_version(spans: list[CoderSpan], code_id: int, start: int, end: int) -> list[CoderSpan]:
    return [s for s in spans if (s.code_id, s.start, s.end) == (code_id, start, end)]


def propose_accept(alignment: DocumentAlignment, item: Item, coder: int | None) -> list[Proposal]:
    """Accept one coder's version of the item (every span they drew in it)."""
    if coder is None or coder not in alignment.done:
        raise SettleError("Choose whose version to accept.")
    ids = item.members[str(coder)]
    if not ids:
        raise SettleError("That coder marked nothing here; reject the item instead.")
    spans = alignment.item_spans(item)
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


def propose_agreed(alignment: DocumentAlignment, item: Item) -> list[Proposal]:
    """An agreed item's versions, as unanimous gold spans."""
    spans = alignment.item_spans(item)
    return [
        _proposal(
            _same_version(spans, int(v.code), v.start, v.end),
            int(v.code),
            v.start,
            v.end,
            Provenance.UNANIMOUS,
        )
        for v in item.versions
    ]


def _single_code(item: Item, code_id: int | None) -> int:
    codes = [int(c) for c in item.codes]
    if len(codes) == 1:
        return codes[0]
    if code_id is None:
        raise SettleError("The coders used different codes here: choose the code.")
    if code_id not in codes:
        raise SettleError("Choose one of the codes the coders used here.")
    return code_id


@dataclass(frozen=True)
class _Extent:
    start: int
    end: int


def propose_combined(
    alignment: DocumentAlignment, item: Item, action: str, code_id: int | None
) -> list[Proposal]:
    """The union or intersection of every coder's extent within the item."""
    code = _single_code(item, code_id)
    # Each present coder's extent within the item (a coder may have split it in two).
    extents = [
        _Extent(*settle_union(alignment.spans[i] for i in ids))
        for ids in item.members.values()
        if ids
    ]
    if action == Action.UNION:
        start, end = settle_union(extents)
    else:
        shared = settle_intersection(extents)
        if shared is None:
            raise SettleError("The coders' versions share no text; choose another way to settle.")
        start, end = shared
    # Built from every coder's version of this code, even if it equals one of them.
    spans = [s for s in alignment.item_spans(item) if s.code_id == code]
    return [_proposal(spans, code, start, end, Provenance.DECISION)]


def checked_extent(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets a reviewer set, checked against the text and trimmed of whitespace."""
    try:
        return trim_whitespace(text, *check_span(text, start, end))
    except SpanError as error:
        raise SettleError(str(error)) from None


def propose_edit(
    alignment: DocumentAlignment, item: Item, text: str, code_id: int, start: int, end: int
) -> list[Proposal]:
    """The reviewer's own boundaries and code for the item."""
    start, end = checked_extent(text, start, end)
    return [_proposal(alignment.item_spans(item), code_id, start, end, Provenance.EDIT)]
