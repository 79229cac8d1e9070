"""Align several coders' spans on one document and classify where they disagree.

Pure Python (no Django): callers pass plain ``AlignSpan`` values and the roster of coders
whose work counts, and get back review ``Item``\\s in text order. ``align_rows`` takes plain
tuples instead and answers an :class:`Alignment`: every item's :class:`Outline` (kind,
offsets, members), with each whole item built when it is first read.

How items are built
-------------------
1. **Clusters, per code.** Spans of the same code are grouped into connected components
   of the "shares at least one character" graph, across coders and within one coder.
   Spans of different codes never share a cluster: nested spans of different codes
   (loaded language inside foreign interference) are independent layers.

   We chose components over a one-to-one greedy matching because a greedy matching
   invents disagreements a reviewer would reject. If coder A marks one sentence and
   coder B marks its two halves, a matching pairs A with one half and reports the other
   half as "missed by A", although A covered it; settling both items separately can
   then yield overlapping gold spans. A component shows the reviewer the whole region
   at once. The price is that a chain of staggered spans becomes one wide item, which
   is rare for a single code and still honest. Components are also canonical, so no
   tie-breaking rule can leak input order into the result.

2. **Classifying a cluster.** Let *present* be the coders with a span in it.

   - ``agreed``: every coder is present and every coder drew exactly the same set of
     offsets (normally one span each).
   - ``boundary``: every coder is present but their offsets differ.
   - ``code``: two overlapping clusters of different codes *substitute* for each other:
     someone in the first is absent from the second and someone in the second is absent
     from the first, i.e. one coder said c and not d where another said d and not c.
     Substituting clusters are merged (transitively) into one item listing all their
     spans, instead of two items telling the same story.
   - ``missed``: some coders are absent and the cluster substitutes for nothing.

   A complete cluster never substitutes (nobody is absent from it), so agreed and
   boundary items are never swallowed by a code item.

   The substitution test is why nesting is not a disagreement: if both coders mark
   foreign interference and only A also marks loaded language inside it, B's span is
   accounted for by the agreed foreign-interference item, so the loaded-language item is
   ``missed`` by B, not a ``code`` disagreement. (This is also ``missed`` although B
   marked something overlapping: a literal "nothing overlapping of any code" rule would
   leave such omissions with no kind at all.)

3. **Versions and majority.** ``Item.versions`` lists each distinct ``(start, end,
   code)`` proposed in the item with the coders who proposed it. ``majority_version``
   returns the one version proposed by more than half of *all* coders on the roster
   (absent coders count against it), or ``None`` when no single version qualifies.

Determinism: the coder roster is sorted, members and versions are sorted, and items are
ordered by ``(start, end, codes)``, which is unique because same-code clusters never
overlap; sorted member ids break ties only as a safeguard. Shuffling spans or coders
therefore gives an identical result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter, itemgetter
from types import MappingProxyType
from typing import NamedTuple, Protocol, overload


class Kind(StrEnum):
    AGREED = "agreed"
    BOUNDARY = "boundary"
    CODE = "code"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class AlignSpan:
    """One coder's span: 0-based, end-exclusive code-point offsets."""

    id: int
    coder: str
    start: int
    end: int
    code: str

    def __post_init__(self) -> None:
        # An empty span overlaps nothing and would silently vanish from every cluster.
        if not 0 <= self.start < self.end:
            raise ValueError(f"span {self.id}: need 0 <= start < end, got {self.start}..{self.end}")


@dataclass(frozen=True, slots=True)
class Version:
    """A distinct ``(start, end, code)`` proposal and the coders who made it."""

    start: int
    end: int
    code: str
    coders: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Item:
    """One region for the reviewer; ``code`` is a sorted tuple only for kind ``code``."""

    kind: Kind
    code: str | tuple[str, ...]
    start: int
    end: int
    # Every roster coder is a key, in name order (empty tuple when absent). A read-only
    # view keeps the item immutable; it is left out of the hash as mappings are unhashable.
    members: Mapping[str, tuple[int, ...]] = field(hash=False)
    versions: tuple[Version, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return self.code if isinstance(self.code, tuple) else (self.code,)

    @property
    def absent(self) -> tuple[str, ...]:
        return tuple(coder for coder, ids in self.members.items() if not ids)


class Extent(Protocol):
    """Anything with offsets: ``AlignSpan``, ``Version``, a model instance."""

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


class _Cluster:
    """Spans of one code that overlap in a chain; internal, so a plain slotted class
    (built over a thousand times per long article)."""

    __slots__ = ("code", "coders", "end", "spans", "start")

    def __init__(self, spans: list[AlignSpan], reach: int) -> None:
        # The run is sorted by start and ``reach`` is its furthest end.
        self.code = spans[0].code
        self.start = spans[0].start
        self.end = reach
        self.spans = spans
        self.coders = frozenset([s.coder for s in spans])


def align(spans: Iterable[AlignSpan], coders: Sequence[str]) -> list[Item]:
    """Align one document's spans and return review items in text order."""
    spans = list(spans)
    rows = {s.id: (s.id, s.coder, s.start, s.end, s.code) for s in spans}
    return list(_align(spans, coders, rows))


class _Row(NamedTuple):
    id: int
    coder: str
    start: int
    end: int
    code: str


def align_rows(rows: Iterable[tuple[int, str, int, int, str]], coders: Sequence[str]) -> Alignment:
    """``align`` for plain ``(id, coder, start, end, code)`` rows, checked as ``AlignSpan``
    checks them, and answered as an :class:`Alignment` that builds each item when it is
    first read: a long article's thousands of spans and items cost far less this way."""
    rows = list(rows)
    spans = list(map(_Row._make, rows))
    for span in spans:
        if not 0 <= span.start < span.end:
            AlignSpan(*span)  # raises the same error
    return _align(spans, coders, {row[0]: row for row in rows})


class Outline(NamedTuple):
    """An item as plain values: what every reader needs of every item (to count, list
    and key it), without the versions that only an item shown or settled needs."""

    kind: Kind
    code: str | tuple[str, ...]
    start: int
    end: int
    members: tuple[tuple[int, ...], ...]  # each roster coder's span ids, in roster order

    @property
    def codes(self) -> tuple[str, ...]:
        return self.code if isinstance(self.code, tuple) else (self.code,)

    @classmethod
    def of(cls, item: Item) -> Outline:
        return cls(item.kind, item.code, item.start, item.end, tuple(item.members.values()))


class Alignment(Sequence[Item]):
    """A document's items in text order, each built from its outline when first read.

    Every reader needs every item's outline; whole items only for the few shown or
    settled (a page shows a few dozen of a long article's thousand). Building them all
    cost half of the alignment, and the objects each is made of (the item, a mapping, a
    dict, versions) slowed every later garbage collection; an outline is one named tuple
    whose inner tuples the collector soon stops visiting. Items built are kept, so each
    is built once.
    """

    __slots__ = ("_built", "_spans", "outlines", "roster")

    def __init__(
        self,
        roster: tuple[str, ...],
        outlines: Sequence[Outline],
        spans: Mapping[int, tuple[int, str, int, int, str]],
    ) -> None:
        self.roster = roster
        self.outlines = tuple(outlines)
        self._spans = spans  # id → (id, coder, start, end, code), for the versions
        self._built: list[Item | None] = [None] * len(self.outlines)

    def __len__(self) -> int:
        return len(self.outlines)

    @overload
    def __getitem__(self, index: int) -> Item: ...

    @overload
    def __getitem__(self, index: slice) -> list[Item]: ...

    def __getitem__(self, index: int | slice) -> Item | list[Item]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        item = self._built[index]
        if item is None:
            item = self._built[index] = self._item(self.outlines[index])
        return item

    def __iter__(self) -> Iterator[Item]:
        for index in range(len(self.outlines)):
            yield self[index]

    def _item(self, outline: Outline) -> Item:
        proposers: dict[tuple[int, int, str], set[str]] = {}
        for ids in outline.members:
            for span_id in ids:
                _, coder, start, end, code = self._spans[span_id]
                proposers.setdefault((start, end, code), set()).add(coder)
        return Item(
            outline.kind,
            outline.code,
            outline.start,
            outline.end,
            MappingProxyType(dict(zip(self.roster, outline.members, strict=True))),
            tuple(
                [
                    Version(v_start, v_end, code, tuple(sorted(who)))
                    for (v_start, v_end, code), who in sorted(proposers.items())
                ]
            ),
        )


def _align(spans: list, coders: Sequence[str], rows: Mapping[int, tuple]) -> Alignment:
    roster = _roster(spans, coders)
    clusters = _clusters(spans)
    ordered = [_outline(group, roster) for group in _merge_substitutes(clusters)]
    # Each outline comes with its text-order key; the keys are unique (see the module's
    # docstring), so outlines themselves are never compared.
    ordered.sort(key=itemgetter(0))
    return Alignment(roster, [outline for _, outline in ordered], rows)


def majority_version(item: Item) -> Version | None:
    """The single version proposed by a strict majority of the roster, if any."""
    quorum = len(item.members)
    winners = [v for v in item.versions if 2 * len(v.coders) > quorum]
    return winners[0] if len(winners) == 1 else None


def summarise(items: Iterable[Item]) -> dict[str, int]:
    """Count items per kind; every kind is present so dashboards need no defaults."""
    counts = {kind.value: 0 for kind in Kind}
    for item in items:
        counts[item.kind.value] += 1
    return counts


def open_disagreements(items: Iterable[Item]) -> list[Item]:
    return [item for item in items if item.kind is not Kind.AGREED]


def settle_union(spans: Iterable[Extent]) -> tuple[int, int]:
    """Smallest extent covering all spans (gaps between disjoint spans included)."""
    spans = list(spans)
    if not spans:
        raise ValueError("cannot settle an empty set of spans")
    return min(s.start for s in spans), max(s.end for s in spans)


def settle_intersection(spans: Iterable[Extent]) -> tuple[int, int] | None:
    """Characters every span covers, or ``None`` when they share none."""
    spans = list(spans)
    if not spans:
        raise ValueError("cannot settle an empty set of spans")
    start, end = max(s.start for s in spans), min(s.end for s in spans)
    return (start, end) if start < end else None


def _roster(spans: list[AlignSpan], coders: Sequence[str]) -> tuple[str, ...]:
    roster = tuple(sorted(coders))
    if len(set(roster)) != len(roster):
        raise ValueError(f"duplicate coders in {list(coders)!r}")
    strangers = sorted({s.coder for s in spans} - set(roster))
    if strangers:
        raise ValueError(f"spans from coders not on the roster: {strangers!r}")
    ids = [s.id for s in spans]
    if len(set(ids)) != len(ids):
        raise ValueError("span ids must be unique")
    return roster


def _clusters(spans: list[AlignSpan]) -> list[_Cluster]:
    by_code: defaultdict[str, list[AlignSpan]] = defaultdict(list)
    for span in spans:
        by_code[span.code].append(span)
    clusters = []
    by_position = attrgetter("start", "end", "id")
    for same_code in by_code.values():
        same_code.sort(key=by_position)
        # Sorted by start, a span joins the running component iff it starts before the
        # component's furthest end: that is exactly "overlaps some member".
        run: list[AlignSpan] = []
        reach = 0
        for span in same_code:
            if run and span.start >= reach:
                clusters.append(_Cluster(run, reach))
                run = []
            run.append(span)
            if span.end > reach:
                reach = span.end
        clusters.append(_Cluster(run, reach))
    return clusters


def _merge_substitutes(clusters: list[_Cluster]) -> list[list[_Cluster]]:
    parent = list(range(len(clusters)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(len(clusters)), key=lambda i: (clusters[i].start, clusters[i].end))
    count = len(order)
    for pos, i in enumerate(order):
        first = clusters[i]
        # An index walk, not a slice: slicing the tail each time is quadratic copying.
        for later in range(pos + 1, count):
            j = order[later]
            second = clusters[j]
            if second.start >= first.end:
                break  # later clusters start even further right
            if _substitute(first, second):
                parent[root(j)] = root(i)

    groups: defaultdict[int, list[_Cluster]] = defaultdict(list)
    for i, cluster in enumerate(clusters):
        groups[root(i)].append(cluster)
    return list(groups.values())


def _substitute(a: _Cluster, b: _Cluster) -> bool:
    """Overlapping clusters where one coder said a-not-b and another b-not-a."""
    return a.code != b.code and bool(a.coders - b.coders) and bool(b.coders - a.coders)


def _outline(group: list[_Cluster], roster: tuple[str, ...]) -> tuple[tuple, Outline]:
    """One item's outline and its text-order key. This runs once per item, over a
    thousand times for a long article: one pass over the spans and few calls."""
    if len(group) == 1:
        (only,) = group
        spans: Sequence[AlignSpan] = only.spans
        first, last = spans[0], spans[-1]
        if len(only.coders) == len(spans) and (first.start, first.end) == (last.start, last.end):
            # The commonest item, made cheaper: each of its coders drew the same one span
            # (sorted spans share the first one's offsets). Agreed if every coder did.
            by_coder = {s.coder: (s.id,) for s in spans}
            outline = Outline(
                Kind.AGREED if len(by_coder) == len(roster) else Kind.MISSED,
                only.code,
                first.start,
                first.end,
                tuple([by_coder.get(coder, ()) for coder in roster]),
            )
            ids = tuple(sorted([s.id for s in spans]))
            return (first.start, first.end, (only.code,), ids), outline
        codes: tuple[str, ...] = (only.code,)
        start, end = only.start, only.end
    else:
        spans = [s for cluster in group for s in cluster.spans]
        codes = tuple(sorted({c.code for c in group}))
        start = min(c.start for c in group)
        end = max(c.end for c in group)
    mine: dict[str, list[int]] = {}
    proposers: dict[tuple[int, int, str], set[str]] = {}
    for s in spans:
        ids = mine.get(s.coder)
        if ids is None:
            mine[s.coder] = [s.id]
        else:
            ids.append(s.id)
        version = (s.start, s.end, s.code)
        who = proposers.get(version)
        if who is None:
            proposers[version] = {s.coder}
        else:
            who.add(s.coder)
    everyone = len(roster)
    if len(codes) > 1:
        kind = Kind.CODE
    elif len(mine) < everyone:
        kind = Kind.MISSED
    else:
        # One code, so versions are extents: the coders drew exactly the same offsets
        # iff every coder drew every extent drawn here.
        kind = Kind.AGREED
        for who in proposers.values():
            if len(who) != everyone:
                kind = Kind.BOUNDARY
                break
    outline = Outline(
        kind,
        codes if kind is Kind.CODE else codes[0],
        start,
        end,
        tuple([tuple(sorted(mine[coder])) if coder in mine else () for coder in roster]),
    )
    # Text order; sorted member ids break ties only as a safeguard.
    return (start, end, codes, tuple(sorted([s.id for s in spans]))), outline
