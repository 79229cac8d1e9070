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

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from operator import itemgetter
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


def align(spans: Iterable[AlignSpan], coders: Sequence[str]) -> list[Item]:
    """Align one document's spans and return review items in text order."""
    spans = [(s.id, s.coder, s.start, s.end, s.code) for s in spans]
    return list(_align(spans, coders))


def align_rows(rows: Iterable[tuple[int, str, int, int, str]], coders: Sequence[str]) -> Alignment:
    """``align`` for plain ``(id, coder, start, end, code)`` rows, checked as ``AlignSpan``
    checks them, and answered as an :class:`Alignment` that builds each item when it is
    first read: a long article's thousands of spans and items cost far less this way."""
    rows = list(map(tuple, rows))
    for row in rows:
        if not 0 <= row[_START] < row[_END]:
            AlignSpan(*row)  # raises the same error
    return _align(rows, coders)


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


# A span inside the aligner is a plain row (id, coder, start, end, code): a long article
# has thousands, and tuples cost the least to make, read and collect.
Row = tuple[int, str, int, int, str]
_ID, _CODER, _START, _END, _CODE = range(5)
_BY_POSITION = itemgetter(_START, _END, _ID)
# A cluster is (start, furthest end, code, its rows sorted by position).
Cluster = tuple[int, int, str, list[Row]]
_EXTENT = itemgetter(0, 1)


def _align(spans: list[Row], coders: Sequence[str]) -> Alignment:
    roster = _roster(spans, coders)
    ordered = [_outline(group, roster) for group in _groups(_clusters(spans))]
    # Each outline comes with its text-order key; the keys are unique (see the module's
    # docstring), so outlines themselves are never compared.
    ordered.sort(key=itemgetter(0))
    return Alignment(roster, [outline for _, outline in ordered], {s[_ID]: s for s in spans})


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


def _roster(spans: list[Row], coders: Sequence[str]) -> tuple[str, ...]:
    roster = tuple(sorted(coders))
    if len(set(roster)) != len(roster):
        raise ValueError(f"duplicate coders in {list(coders)!r}")
    strangers = sorted({s[_CODER] for s in spans} - set(roster))
    if strangers:
        raise ValueError(f"spans from coders not on the roster: {strangers!r}")
    if len({s[_ID] for s in spans}) != len(spans):
        raise ValueError("span ids must be unique")
    return roster


def _clusters(spans: list[Row]) -> list[Cluster]:
    """Each code's connected components, sorted by start and end."""
    by_code: dict[str, list[Row]] = {}
    for span in spans:
        same = by_code.get(span[_CODE])
        if same is None:
            by_code[span[_CODE]] = [span]
        else:
            same.append(span)
    clusters: list[Cluster] = []
    for code, same_code in by_code.items():
        same_code.sort(key=_BY_POSITION)
        # Sorted by start, a span joins the running component iff it starts before the
        # component's furthest end: that is exactly "overlaps some member".
        run = [same_code[0]]
        reach = same_code[0][_END]
        for span in same_code[1:]:
            if span[_START] >= reach:
                clusters.append((run[0][_START], reach, code, run))
                run = [span]
                reach = span[_END]
            else:
                run.append(span)
                if span[_END] > reach:
                    reach = span[_END]
        clusters.append((run[0][_START], reach, code, run))
    clusters.sort(key=_EXTENT)
    return clusters


def _groups(clusters: list[Cluster]) -> Iterator[list[Cluster]]:
    """The clusters, those that substitute for each other (transitively) merged into one
    group; ``clusters`` is sorted by start and end."""
    parent: list[int] | None = None  # union-find, made at the first substitution
    coders: dict[int, frozenset[str]] = {}  # only clusters that overlap another code's

    def who(i: int) -> frozenset[str]:
        found = coders.get(i)
        if found is None:
            found = coders[i] = frozenset([s[_CODER] for s in clusters[i][3]])
        return found

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    count = len(clusters)
    for i, (_, end, code, _) in enumerate(clusters):
        # An index walk, not a slice: slicing the tail each time is quadratic copying.
        for j in range(i + 1, count):
            second = clusters[j]
            if second[0] >= end:
                break  # later clusters start even further right
            # Substitutes: one coder said a-not-b where another said b-not-a.
            if second[2] != code and who(i) - who(j) and who(j) - who(i):
                if parent is None:
                    parent = list(range(count))
                parent[root(j)] = root(i)
    if parent is None:
        # Nothing substitutes for anything (a code item is rare): every cluster alone.
        for cluster in clusters:
            yield [cluster]
        return
    groups: dict[int, list[Cluster]] = {}
    for i, cluster in enumerate(clusters):
        groups.setdefault(root(i), []).append(cluster)
    yield from groups.values()


def _outline(group: list[Cluster], roster: tuple[str, ...]) -> tuple[tuple, Outline]:
    """One item's outline and its text-order key. This runs once per item, over a
    thousand times for a long article: one pass over the spans and few calls."""
    if len(group) == 1:
        start, end, code, spans = group[0]
        first = spans[0]
        if len(spans) == 1:
            # One coder's lone span: missed by the others (agreed if they are alone).
            coder, span_id = first[_CODER], first[_ID]
            outline = Outline(
                Kind.AGREED if len(roster) == 1 else Kind.MISSED,
                code,
                start,
                end,
                tuple([(span_id,) if name == coder else () for name in roster]),
            )
            return (start, end, (code,), (span_id,)), outline
        last = spans[-1]
        if first[_START] == last[_START] and first[_END] == last[_END]:
            # Every span here has the same offsets (sorted spans share the first one's).
            # If each is a different coder's, the commonest item: agreed if every coder
            # drew it. (A coder who drew it twice, under two ids, takes the general path.)
            by_coder = {s[_CODER]: (s[_ID],) for s in spans}
            if len(by_coder) == len(spans):
                outline = Outline(
                    Kind.AGREED if len(by_coder) == len(roster) else Kind.MISSED,
                    code,
                    start,
                    end,
                    tuple([by_coder.get(name, ()) for name in roster]),
                )
                return (start, end, (code,), tuple(sorted([s[_ID] for s in spans]))), outline
        codes: tuple[str, ...] = (code,)
    else:
        spans = [s for cluster in group for s in cluster[3]]
        codes = tuple(sorted({c[2] for c in group}))
        start = min(c[0] for c in group)
        end = max(c[1] for c in group)
    mine: dict[str, list[int]] = {}
    proposers: dict[tuple[int, int, str], set[str]] = {}
    for span_id, coder, s_start, s_end, s_code in spans:
        ids = mine.get(coder)
        if ids is None:
            mine[coder] = [span_id]
        else:
            ids.append(span_id)
        version = (s_start, s_end, s_code)
        proposed = proposers.get(version)
        if proposed is None:
            proposers[version] = {coder}
        else:
            proposed.add(coder)
    everyone = len(roster)
    if len(codes) > 1:
        kind = Kind.CODE
    elif len(mine) < everyone:
        kind = Kind.MISSED
    else:
        # One code, so versions are extents: the coders drew exactly the same offsets
        # iff every coder drew every extent drawn here.
        kind = Kind.AGREED
        for proposed in proposers.values():
            if len(proposed) != everyone:
                kind = Kind.BOUNDARY
                break
    outline = Outline(
        kind,
        codes if kind is Kind.CODE else codes[0],
        start,
        end,
        tuple([tuple(sorted(mine[name])) if name in mine else () for name in roster]),
    )
    # Text order; sorted member ids break ties only as a safeguard.
    return (start, end, codes, tuple(sorted([s[_ID] for s in spans]))), outline
