"""The fast alignment (outlines first, items when read) against a plain reference.

``align`` and ``align_rows`` take shortcuts for speed (a cheaper path for the commonest
cluster, items built only when read); the reference here is the straightforward version
they replaced, written for clarity. Both must give the same items, in the same order,
with the same keys.
"""

from __future__ import annotations

import random
from collections import defaultdict
from itertools import chain
from types import MappingProxyType

import pytest
from hypothesis import given, settings

from annotations.domain.alignment import (
    Alignment,
    AlignSpan,
    Item,
    Kind,
    Outline,
    Version,
    align,
    align_rows,
)
from annotations.domain.settling import (
    KEY_LENGTH,
    DocumentAlignment,
    item_key,
    outline_key,
    outline_keys,
    span_owners,
)

from .test_alignment import documents


def reference_align(spans: list[AlignSpan], coders: list[str]) -> list[Item]:
    """Components per code, substituting clusters merged, each item classified from
    every coder's set of extents: the rules of ``annotations.domain.alignment``, slowly."""
    roster = tuple(sorted(coders))
    by_code = defaultdict(list)
    for s in spans:
        by_code[s.code].append(s)
    clusters = []  # (code, start, end, spans, coders)
    for code, same in by_code.items():
        same.sort(key=lambda s: (s.start, s.end, s.id))
        run, reach = [], 0
        for s in same:
            if run and s.start >= reach:
                clusters.append((code, run[0].start, reach, run, {x.coder for x in run}))
                run = []
            run.append(s)
            reach = max(reach, s.end)
        clusters.append((code, run[0].start, reach, run, {x.coder for x in run}))
    group_of = list(range(len(clusters)))

    def root(i):
        while group_of[i] != i:
            i = group_of[i]
        return i

    for i, a in enumerate(clusters):
        for j, b in enumerate(clusters):
            overlap = a[1] < b[2] and b[1] < a[2]
            if i < j and overlap and a[0] != b[0] and a[4] - b[4] and b[4] - a[4]:
                group_of[root(j)] = root(i)
    groups = defaultdict(list)
    for i, cluster in enumerate(clusters):
        groups[root(i)].append(cluster)
    items = []
    for group in groups.values():
        members = [s for cluster in group for s in cluster[3]]
        codes = tuple(sorted({cluster[0] for cluster in group}))
        extents = {c: {(s.start, s.end) for s in members if s.coder == c} for c in roster}
        if len(codes) > 1:
            kind = Kind.CODE
        elif not all(extents.values()):
            kind = Kind.MISSED
        elif len({frozenset(e) for e in extents.values()}) == 1:
            kind = Kind.AGREED
        else:
            kind = Kind.BOUNDARY
        versions = defaultdict(set)
        for s in members:
            versions[(s.start, s.end, s.code)].add(s.coder)
        items.append(
            Item(
                kind=kind,
                code=codes if kind is Kind.CODE else codes[0],
                start=min(s.start for s in members),
                end=max(s.end for s in members),
                members=MappingProxyType(
                    {c: tuple(sorted(s.id for s in members if s.coder == c)) for c in roster}
                ),
                versions=tuple(
                    Version(*version, tuple(sorted(who)))
                    for version, who in sorted(versions.items())
                ),
            )
        )
    return sorted(
        items,
        key=lambda i: (i.start, i.end, i.codes, sorted(chain.from_iterable(i.members.values()))),
    )


def described(items) -> list[tuple]:
    """Everything an item says, members in their order (mappings compare unordered)."""
    return [(i.kind, i.code, i.start, i.end, list(i.members.items()), i.versions) for i in items]


def rows_of(spans: list[AlignSpan]) -> list[tuple]:
    return [(s.id, s.coder, s.start, s.end, s.code) for s in spans]


@settings(max_examples=300, deadline=None)
@given(documents())
def test_align_and_align_rows_give_the_reference_items(doc):
    spans, coders = doc
    expected = described(reference_align(spans, coders))
    assert described(align(spans, coders)) == expected
    assert described(align_rows(rows_of(spans), coders)) == expected


@pytest.mark.parametrize("seed", range(5))
def test_a_long_article_aligns_as_the_reference_does(seed):
    """Hundreds of spans by three coders: copied, shifted, recoded, missed, split."""
    rng = random.Random(seed)
    coders, codes = ["ana", "ben", "cleo"], ["fi", "loaded", "sourcing", "confession"]
    base = [(i * 40 + rng.randint(0, 5), rng.randint(3, 30), rng.choice(codes)) for i in range(150)]
    spans = []
    for coder in coders:
        for start, length, code in base:
            roll = rng.random()
            if roll < 0.1:
                length += rng.choice((-2, 2))
            elif roll < 0.2:
                code = rng.choice(codes)
            elif roll < 0.3:
                continue
            elif roll < 0.35:
                spans.append((coder, start + length + 1, 4, code))
            spans.append((coder, start, max(1, length), code))
    unique = sorted(set(spans))
    spans = [AlignSpan(i, c, s, s + n, code) for i, (c, s, n, code) in enumerate(unique, start=1)]
    expected = described(reference_align(spans, coders))
    assert described(align_rows(rows_of(spans), coders)) == expected
    assert {i.kind for i in align(spans, coders)} == set(Kind)


@settings(max_examples=200, deadline=None)
@given(documents())
def test_outlines_key_and_own_spans_as_the_items_they_describe(doc):
    spans, coders = doc
    alignment = align_rows(rows_of(spans), coders)
    items = list(alignment)
    assert list(alignment.outlines) == [Outline.of(item) for item in items]
    assert [outline_key(o) for o in alignment.outlines] == [item_key(i) for i in items]
    assert outline_keys(alignment.outlines) == [item_key(i) for i in items]
    owners = span_owners(alignment.outlines)
    for index, item in enumerate(items):
        for span_id in chain.from_iterable(item.members.values()):
            assert owners[span_id] == index
    assert len(owners) == len(spans)


def test_long_keys_are_hashed_alike_from_outlines_and_items():
    spans = [AlignSpan(i, "ana", 0, 100 + i, "fi") for i in range(1, 120)]
    alignment = align_rows(rows_of(spans), ["ana", "ben"])
    (item,) = alignment
    assert len(item_key(item)) < KEY_LENGTH and "#" in item_key(item)
    assert outline_key(alignment.outlines[0]) == item_key(item)
    assert outline_keys(alignment.outlines) == [item_key(item)]


def test_items_are_built_when_first_read_and_then_kept():
    spans = [AlignSpan(i, coder, 10 * i, 10 * i + 5, "fi") for i in range(1, 6) for coder in "ab"]
    spans = [AlignSpan(n, s.coder, s.start, s.end, s.code) for n, s in enumerate(spans, start=1)]
    alignment = align_rows(rows_of(spans), ["a", "b"])
    assert isinstance(alignment, Alignment) and len(alignment) == 5
    assert alignment._built == [None] * 5  # nothing built by aligning
    third = alignment[2]
    assert alignment[2] is third and alignment[-3] is third
    assert [i is not None for i in alignment._built] == [False, False, True, False, False]
    assert alignment[1:3] == [alignment[1], third]
    assert list(alignment) == align(spans, ["a", "b"])


def test_rows_are_checked_as_spans_are():
    with pytest.raises(ValueError, match="start < end"):
        align_rows([(1, "ana", 5, 5, "fi")], ["ana"])
    with pytest.raises(ValueError, match="roster"):
        align_rows([(1, "zed", 0, 5, "fi")], ["ana"])
    with pytest.raises(ValueError, match="unique"):
        align_rows([(1, "ana", 0, 5, "fi"), (1, "ana", 6, 9, "fi")], ["ana"])


def test_a_document_alignment_of_plain_items_reads_as_one_of_an_alignment():
    spans = [
        AlignSpan(1, "a", 0, 5, "fi"),
        AlignSpan(2, "b", 0, 5, "fi"),
        AlignSpan(3, "a", 10, 15, "fi"),
        AlignSpan(4, "b", 10, 18, "loaded"),
    ]
    lazy = DocumentAlignment(1, items=align_rows(rows_of(spans), ["a", "b"]))
    plain = DocumentAlignment(1, items=align(spans, ["a", "b"]))
    for alignment in (lazy, plain):
        keys = alignment.item_keys()
        assert list(keys) == [item_key(i) for i in align(spans, ["a", "b"])]
        assert [alignment.find(key) for key in keys] == list(alignment.items)
        assert alignment.find("agreed|fi|0|5|9") is None
        assert dict(alignment.item_of_span()) == {1: 0, 2: 0, 3: 1, 4: 1}
        assert [o.kind for o in alignment.outlines()] == [Kind.AGREED, Kind.CODE]
