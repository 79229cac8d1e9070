from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.domain.alignment import (
    AlignSpan,
    Item,
    Kind,
    Version,
    align,
    majority_version,
    open_disagreements,
    settle_intersection,
    settle_union,
    summarise,
)

FI = "foreign interference"
LOADED = "loaded language"
SOURCING = "sourcing"
CONFESSION = "forced confession"


def only(items: list[Item]) -> Item:
    assert len(items) == 1, items
    return items[0]


# Hand-made cases ------------------------------------------------------------------------


def test_empty_document_has_no_items():
    assert align([], ["ana", "ben"]) == []
    assert align([], []) == []
    assert summarise([]) == {"agreed": 0, "boundary": 0, "code": 0, "missed": 0}


def test_identical_spans_from_every_coder_are_agreed():
    item = only(
        align([AlignSpan(1, "ana", 5, 20, FI), AlignSpan(2, "ben", 5, 20, FI)], ["ana", "ben"])
    )
    assert item.kind == Kind.AGREED == "agreed"
    assert (item.code, item.start, item.end) == (FI, 5, 20)
    assert dict(item.members) == {"ana": (1,), "ben": (2,)}
    assert item.versions == (Version(5, 20, FI, ("ana", "ben")),)
    assert majority_version(item) == item.versions[0]
    assert len({item, item}) == 1  # hashable, so items can key a reviewer's choices


def test_overlapping_same_code_spans_with_different_offsets_are_a_boundary_item():
    item = only(
        align([AlignSpan(1, "ana", 5, 20, FI), AlignSpan(2, "ben", 8, 25, FI)], ["ana", "ben"])
    )
    assert item.kind == Kind.BOUNDARY
    assert (item.start, item.end) == (5, 25)
    assert item.versions == (Version(5, 20, FI, ("ana",)), Version(8, 25, FI, ("ben",)))
    # One of two coders is not a strict majority.
    assert majority_version(item) is None


def test_a_span_nobody_else_marked_anything_over_is_missed():
    items = align(
        [AlignSpan(1, "ana", 0, 10, SOURCING), AlignSpan(2, "ben", 30, 40, SOURCING)],
        ["ana", "ben"],
    )
    assert [(i.kind, i.start, i.absent) for i in items] == [
        (Kind.MISSED, 0, ("ben",)),
        (Kind.MISSED, 30, ("ana",)),
    ]
    assert dict(items[0].members) == {"ana": (1,), "ben": ()}


def test_touching_spans_do_not_overlap():
    items = align([AlignSpan(1, "ana", 0, 10, FI), AlignSpan(2, "ben", 10, 20, FI)], ["ana", "ben"])
    assert [i.kind for i in items] == [Kind.MISSED, Kind.MISSED]


def test_same_text_with_different_codes_is_one_code_item_referencing_both_spans():
    item = only(
        align(
            [AlignSpan(1, "ana", 0, 10, LOADED), AlignSpan(2, "ben", 2, 10, SOURCING)],
            ["ana", "ben"],
        )
    )
    assert item.kind == Kind.CODE
    assert item.code == item.codes == (LOADED, SOURCING)
    assert (item.start, item.end) == (0, 10)
    assert dict(item.members) == {"ana": (1,), "ben": (2,)}
    assert item.versions == (Version(0, 10, LOADED, ("ana",)), Version(2, 10, SOURCING, ("ben",)))


def test_a_code_item_absorbs_every_cluster_it_substitutes_for():
    spans = [
        AlignSpan(1, "ana", 0, 10, LOADED),
        AlignSpan(2, "ana", 20, 30, LOADED),
        AlignSpan(3, "ben", 0, 30, SOURCING),
    ]
    item = only(align(spans, ["ana", "ben"]))
    assert item.kind == Kind.CODE
    assert dict(item.members) == {"ana": (1, 2), "ben": (3,)}


def test_nested_spans_of_different_codes_are_independent_layers():
    spans = [
        AlignSpan(1, "ana", 0, 100, FI),
        AlignSpan(2, "ana", 10, 20, LOADED),
        AlignSpan(3, "ben", 0, 100, FI),
        AlignSpan(4, "ben", 10, 20, LOADED),
    ]
    items = align(spans, ["ana", "ben"])
    assert [(i.kind, i.code) for i in items] == [(Kind.AGREED, FI), (Kind.AGREED, LOADED)]


def test_omitting_a_nested_span_is_missed_not_a_code_disagreement():
    """Ben's foreign-interference span is matched by Ana's, so it does not stand in for
    the loaded-language span he left out."""
    spans = [
        AlignSpan(1, "ana", 0, 100, FI),
        AlignSpan(2, "ana", 10, 20, LOADED),
        AlignSpan(3, "ben", 0, 100, FI),
    ]
    items = align(spans, ["ana", "ben"])
    assert [(i.kind, i.code, i.absent) for i in items] == [
        (Kind.AGREED, FI, ()),
        (Kind.MISSED, LOADED, ("ben",)),
    ]


def test_a_code_swap_inside_an_agreed_outer_span_is_a_code_item():
    spans = [
        AlignSpan(1, "ana", 0, 100, FI),
        AlignSpan(2, "ana", 10, 20, LOADED),
        AlignSpan(3, "ben", 0, 100, FI),
        AlignSpan(4, "ben", 10, 20, SOURCING),
    ]
    items = align(spans, ["ana", "ben"])
    assert [(i.kind, i.code) for i in items] == [
        (Kind.AGREED, FI),
        (Kind.CODE, (LOADED, SOURCING)),
    ]


def test_three_coders_two_agreeing_exactly_is_a_boundary_item_with_a_majority():
    spans = [
        AlignSpan(1, "ana", 5, 20, CONFESSION),
        AlignSpan(2, "ben", 5, 20, CONFESSION),
        AlignSpan(3, "cleo", 5, 24, CONFESSION),
    ]
    item = only(align(spans, ["ana", "ben", "cleo"]))
    assert item.kind == Kind.BOUNDARY
    assert item.versions == (
        Version(5, 20, CONFESSION, ("ana", "ben")),
        Version(5, 24, CONFESSION, ("cleo",)),
    )
    assert majority_version(item) == Version(5, 20, CONFESSION, ("ana", "ben"))


def test_three_coders_all_differing_have_no_majority():
    spans = [
        AlignSpan(1, "ana", 5, 20, CONFESSION),
        AlignSpan(2, "ben", 6, 20, CONFESSION),
        AlignSpan(3, "cleo", 5, 24, CONFESSION),
    ]
    item = only(align(spans, ["ana", "ben", "cleo"]))
    assert item.kind == Kind.BOUNDARY
    assert majority_version(item) is None


def test_majority_counts_coders_who_marked_nothing_against_a_version():
    spans = [AlignSpan(1, "ana", 5, 20, SOURCING), AlignSpan(2, "ben", 5, 20, SOURCING)]
    two_of_three = only(align(spans, ["ana", "ben", "cleo"]))
    assert two_of_three.kind == Kind.MISSED
    assert majority_version(two_of_three) == Version(5, 20, SOURCING, ("ana", "ben"))
    two_of_four = only(align(spans, ["ana", "ben", "cleo", "dev"]))
    assert majority_version(two_of_four) is None


def test_majority_can_settle_a_code_disagreement():
    spans = [
        AlignSpan(1, "ana", 0, 10, LOADED),
        AlignSpan(2, "ben", 0, 10, LOADED),
        AlignSpan(3, "cleo", 0, 10, SOURCING),
    ]
    item = only(align(spans, ["ana", "ben", "cleo"]))
    assert item.kind == Kind.CODE
    assert majority_version(item) == Version(0, 10, LOADED, ("ana", "ben"))


def test_a_coder_with_no_spans_still_counts():
    spans = [AlignSpan(1, "ana", 0, 10, FI), AlignSpan(2, "ben", 0, 10, FI)]
    item = only(align(spans, ["ana", "ben", "cleo"]))
    assert item.kind == Kind.MISSED
    assert dict(item.members) == {"ana": (1,), "ben": (2,), "cleo": ()}
    assert item.absent == ("cleo",)


def test_one_coders_overlapping_same_code_spans_share_one_item():
    spans = [
        AlignSpan(1, "ana", 0, 10, SOURCING),
        AlignSpan(2, "ana", 5, 15, SOURCING),
        AlignSpan(3, "ben", 0, 15, SOURCING),
    ]
    item = only(align(spans, ["ana", "ben"]))
    assert item.kind == Kind.BOUNDARY
    assert dict(item.members) == {"ana": (1, 2), "ben": (3,)}
    assert (item.start, item.end) == (0, 15)


def test_identical_overlapping_pairs_from_every_coder_are_agreed():
    spans = [
        AlignSpan(1, "ana", 0, 10, SOURCING),
        AlignSpan(2, "ana", 5, 15, SOURCING),
        AlignSpan(3, "ben", 5, 15, SOURCING),
        AlignSpan(4, "ben", 0, 10, SOURCING),
    ]
    item = only(align(spans, ["ana", "ben"]))
    assert item.kind == Kind.AGREED
    # Two unanimous versions: no single one to name.
    assert majority_version(item) is None


def test_equal_overlaps_do_not_split_a_region_into_spurious_misses():
    """Ben's two halves tie for Ana's sentence; a one-to-one matching would have to pick
    one and call the other "missed by Ana", although she covered it."""
    spans = [
        AlignSpan(1, "ana", 0, 20, FI),
        AlignSpan(2, "ben", 0, 10, FI),
        AlignSpan(3, "ben", 10, 20, FI),
    ]
    item = only(align(spans, ["ana", "ben"]))
    assert item.kind == Kind.BOUNDARY
    assert dict(item.members) == {"ana": (1,), "ben": (2, 3)}


def test_items_come_in_text_order():
    spans = [
        AlignSpan(1, "ana", 50, 60, SOURCING),
        AlignSpan(2, "ana", 0, 30, SOURCING),
        AlignSpan(3, "ben", 0, 20, LOADED),
        AlignSpan(4, "ben", 0, 30, FI),
        AlignSpan(5, "ana", 0, 30, FI),
    ]
    items = align(spans, ["ben", "ana"])
    assert [(i.start, i.end, i.codes) for i in items] == [
        (0, 30, (FI,)),
        (0, 30, (LOADED, SOURCING)),
        (50, 60, (SOURCING,)),
    ]


def test_summarise_and_open_disagreements():
    spans = [
        AlignSpan(1, "ana", 0, 10, FI),
        AlignSpan(2, "ben", 0, 10, FI),
        AlignSpan(3, "ana", 20, 30, FI),
        AlignSpan(4, "ben", 22, 30, FI),
        AlignSpan(5, "ana", 40, 50, LOADED),
    ]
    items = align(spans, ["ana", "ben"])
    assert summarise(items) == {"agreed": 1, "boundary": 1, "code": 0, "missed": 1}
    assert [i.kind for i in open_disagreements(items)] == [Kind.BOUNDARY, Kind.MISSED]


def test_settle_union_and_intersection():
    spans = [AlignSpan(1, "ana", 5, 20, FI), AlignSpan(2, "ben", 8, 25, FI)]
    assert settle_union(spans) == (5, 25)
    assert settle_intersection(spans) == (8, 20)
    assert settle_intersection([*spans, AlignSpan(3, "cleo", 20, 30, FI)]) is None
    item = only(align(spans, ["ana", "ben"]))
    assert settle_union(item.versions) == (item.start, item.end)
    with pytest.raises(ValueError):
        settle_union([])
    with pytest.raises(ValueError):
        settle_intersection([])


@pytest.mark.parametrize(("start", "end"), [(-1, 5), (5, 5), (6, 5)])
def test_a_span_must_cover_at_least_one_character(start: int, end: int):
    with pytest.raises(ValueError):
        AlignSpan(1, "ana", start, end, FI)


def test_inputs_that_would_corrupt_members_are_rejected():
    with pytest.raises(ValueError, match="roster"):
        align([AlignSpan(1, "zed", 0, 5, FI)], ["ana"])
    with pytest.raises(ValueError, match="duplicate"):
        align([], ["ana", "ana"])
    with pytest.raises(ValueError, match="unique"):
        align([AlignSpan(1, "ana", 0, 5, FI), AlignSpan(1, "ana", 6, 9, FI)], ["ana"])


# Properties -----------------------------------------------------------------------------

CODER_POOL = ["ana", "ben", "cleo", "dev"]
CODE_POOL = [FI, LOADED, SOURCING]


@st.composite
def documents(draw: st.DrawFn) -> tuple[list[AlignSpan], list[str]]:
    coders = draw(st.lists(st.sampled_from(CODER_POOL), min_size=1, max_size=4, unique=True))
    raw = draw(
        st.lists(
            st.tuples(
                st.sampled_from(coders),
                st.integers(0, 40),
                st.integers(1, 12),
                st.sampled_from(CODE_POOL),
            ),
            max_size=14,
        )
    )
    spans = [
        AlignSpan(i, coder, start, start + length, code)
        for i, (coder, start, length, code) in enumerate(raw, start=1)
    ]
    return spans, coders


def canonical(items: list[Item], spans: list[AlignSpan]) -> list[tuple]:
    """The classification with span ids replaced by what the spans say."""
    by_id = {s.id: (s.start, s.end, s.code) for s in spans}
    return sorted(
        (
            item.kind,
            item.codes,
            item.start,
            item.end,
            tuple(
                (coder, tuple(sorted(by_id[i] for i in ids))) for coder, ids in item.members.items()
            ),
            item.versions,
        )
        for item in items
    )


@settings(max_examples=200, deadline=None)
@given(documents(), st.randoms(use_true_random=False))
def test_order_of_spans_and_coders_does_not_change_the_result(doc, rnd: random.Random):
    spans, coders = doc
    shuffled_spans, shuffled_coders = spans[:], coders[:]
    rnd.shuffle(shuffled_spans)
    rnd.shuffle(shuffled_coders)
    expected, actual = align(spans, coders), align(shuffled_spans, shuffled_coders)
    assert actual == expected
    # Mappings compare equal in any order; a reviewer's screen should not reorder either.
    assert [list(i.members) for i in actual] == [list(i.members) for i in expected]


@settings(max_examples=200, deadline=None)
@given(documents(), st.randoms(use_true_random=False))
def test_renumbering_span_ids_does_not_change_the_classification(doc, rnd: random.Random):
    spans, coders = doc
    new_ids = [s.id * 7 for s in spans]
    rnd.shuffle(new_ids)
    renumbered = [
        AlignSpan(new_id, s.coder, s.start, s.end, s.code)
        for new_id, s in zip(new_ids, spans, strict=True)
    ]
    assert canonical(align(renumbered, coders), renumbered) == canonical(
        align(spans, coders), spans
    )


@settings(max_examples=200, deadline=None)
@given(documents())
def test_every_span_appears_in_exactly_one_item_under_its_coder(doc):
    spans, coders = doc
    items = align(spans, coders)
    placed = Counter()
    for item in items:
        assert set(item.members) == set(coders)
        for coder, ids in item.members.items():
            for span_id in ids:
                placed[(span_id, coder)] += 1
    assert placed == Counter((s.id, s.coder) for s in spans)


@settings(max_examples=200, deadline=None)
@given(documents())
def test_items_are_sorted_in_text_order_without_ties(doc):
    keys = [(i.start, i.end, i.codes) for i in align(*doc)]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


@settings(max_examples=200, deadline=None)
@given(documents())
def test_each_item_is_described_by_its_members(doc):
    spans, coders = doc
    by_id = {s.id: s for s in spans}
    items = align(spans, coders)
    for item in items:
        members = [by_id[i] for ids in item.members.values() for i in ids]
        assert (item.start, item.end) == settle_union(members)
        assert {(v.start, v.end, v.code) for v in item.versions} == {
            (s.start, s.end, s.code) for s in members
        }
        for v in item.versions:
            assert set(v.coders) == {
                s.coder for s in members if (s.start, s.end, s.code) == (v.start, v.end, v.code)
            }
        assert set(item.codes) == {s.code for s in members}
        per_coder = {
            c: {(by_id[i].start, by_id[i].end) for i in ids} for c, ids in item.members.items()
        }
        if item.kind == Kind.CODE:
            assert len(item.codes) >= 2
        else:
            assert isinstance(item.code, str)
        if item.kind == Kind.MISSED:
            assert item.absent
        if item.kind in (Kind.AGREED, Kind.BOUNDARY):
            assert not item.absent
            identical = len({frozenset(o) for o in per_coder.values()}) == 1
            assert identical == (item.kind == Kind.AGREED)

    # Same-code items are maximal regions, so none overlap each other.
    single = [i for i in items if i.kind != Kind.CODE]
    for a in single:
        for b in single:
            if a is not b and a.code == b.code:
                assert a.end <= b.start or b.end <= a.start
