"""The coding page's markup: segments, lanes, and the swaps a write sends (no database)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from html import escape, unescape
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.domain.offsets import split_at_boundaries
from annotations.domain.rendering import (
    CHUNK,
    TEXT_ORDER,
    Shown,
    assign_lanes,
    list_html,
    list_swaps,
    mark_selected,
    segment_html,
    segments,
    state_token,
    text_html,
    text_swaps,
)
from tests import oob

TEXT = (
    "Lab notes 👩‍🔬 from the café: “Cafe\u0301 owners said <b>&</b> the ‘rules’ were unfair."
    "\n\nEnd."
)
KEYS = {1: "1", 2: '"', 3: ""}


@dataclass(frozen=True)
class Code:
    pk: int
    name: str
    shortcut: str = ""
    active: bool = True
    order: int = 0


# Code 3 is retired: its group shows while spans keep it, and hides when none do.
CODES = [
    Code(1, "Sourcing", "1"),
    Code(2, "Loaded <language>", '"', order=1),
    Code(3, "Old", "", active=False, order=2),
]


def strip(html: str) -> str:
    """What the browser's textContent gives for markup."""
    return unescape(re.sub(r"<[^>]+>", "", html))


@st.composite
def span_sets(draw, text=TEXT, max_size=12):
    n = len(text)
    rows = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(1, 12), st.sampled_from([1, 2, 3])),
            max_size=max_size,
        )
    )
    spans, seen = [], set()
    for pk, (start, length, code) in enumerate(rows, start=1):
        end = min(n, start + length)
        if (code, start, end) in seen:
            continue
        seen.add((code, start, end))
        spans.append(Shown(pk, code, start, end, 1, text[start:end], f"note {pk} <&>"))
    return spans


# The drawing the template did before (pieces at every span boundary, each with its
# layers): the reference the fast markup must match.


@dataclass(frozen=True, slots=True)
class Layer:
    """One span's stretch inside a piece of text: the opening tag's attribute values."""

    span_id: str
    classes: str  # "hl code-<id> lane-<n>", plus " first" where the span begins, " selected"
    key: str  # the code's shortcut label where the span begins, "" elsewhere
    count: str  # on the innermost layer where a stack begins: how many spans are stacked


@dataclass(frozen=True, slots=True)
class RenderedPiece:
    text: str
    layers: tuple[Layer, ...]


def render_text(
    text: str,
    spans,
    shortcuts: dict[int, str],
    selected_ids: frozenset[int] = frozenset(),
) -> list[RenderedPiece]:
    """The text cut at every span boundary, each piece with its layers, outermost first.

    ``shortcuts`` maps a code id to its key label ("" for none, shown as "•").
    """
    by_id = {span.pk: span for span in spans}
    lanes = assign_lanes(spans)
    rendered = []
    for piece in split_at_boundaries(text, [(s.pk, s.start, s.end) for s in spans]):
        # Outermost element first: the highest lane has the deepest underline.
        ordered = sorted(piece.span_ids, key=lambda i: -lanes[i])
        firsts = [by_id[i].start == piece.start for i in ordered]
        # A badge where a stack begins says how many spans are stacked there.
        badge = str(len(ordered)) if len(ordered) > 1 and any(firsts) else ""
        layers = []
        for n, (span_id, first) in enumerate(zip(ordered, firsts, strict=True)):
            span = by_id[span_id]
            classes = f"hl code-{span.code_id} lane-{lanes[span_id]}"
            if first:
                classes += " first"
            if span_id in selected_ids:
                classes += " selected"
            layers.append(
                Layer(
                    span_id=str(span_id),
                    classes=classes,
                    key=(shortcuts.get(span.code_id) or "•") if first else "",
                    count=badge if n == len(ordered) - 1 else "",
                )
            )
        rendered.append(RenderedPiece(piece.text, tuple(layers)))
    return rendered


def old_markup(text: str, spans, keys) -> str:
    """The markup the template drew before, from :func:`render_text`'s pieces."""
    out = []
    for piece in render_text(text, spans, keys):
        for layer in piece.layers:
            out.append(f'<span class="{layer.classes}" data-span="{layer.span_id}"')
            if layer.key:
                out.append(f' data-key="{escape(layer.key)}"')
            if layer.count:
                out.append(f' data-count="{layer.count}"')
            out.append(">")
        out.append(escape(piece.text))
        out.append("</span>" * len(piece.layers))
    return "".join(out)


def unwrapped(html: str) -> str:
    """``text_html`` without its segment elements."""
    root = oob.parse(f'<div id="x">{html}</div>')
    container = oob.by_id(root, "x")
    children = []
    for segment in container.children:
        assert segment.tag == "span" and segment.get("id").startswith("t")
        children.extend(segment.children)
    container.children = children
    return oob.inner(container)


@settings(deadline=None)  # a shared machine's pauses are no failures
@given(span_sets())
def test_the_text_is_drawn_exactly_as_stored_with_the_same_layers_as_before(spans):
    marks = [s.mark for s in spans]
    html = text_html(TEXT, marks, KEYS)
    assert strip(html) == TEXT
    assert unwrapped(html) == old_markup(TEXT, spans, KEYS)


@settings(deadline=None)
@given(span_sets(max_size=30))
def test_segments_partition_the_text_and_keep_each_cluster_whole(spans):
    parts = segments(len(TEXT), [s.mark for s in spans])
    assert parts[0].start == 0 and parts[-1].end == len(TEXT)
    assert all(a.end == b.start for a, b in pairwise(parts))
    for part in parts:
        assert all(part.start <= m[2] and m[3] <= part.end for m in part.marks)
        if not part.marks:
            assert part.end - part.start <= CHUNK
    drawn = sorted(m for part in parts for m in part.marks)
    assert drawn == sorted(s.mark for s in spans)


@settings(deadline=None)
@given(span_sets(max_size=30))
def test_a_spans_lane_depends_only_on_its_own_cluster(spans):
    everyone = assign_lanes(spans)
    by_id = {s.pk: s for s in spans}
    for part in segments(len(TEXT), [s.mark for s in spans]):
        alone = assign_lanes([by_id[m[0]] for m in part.marks])
        assert alone == {m[0]: everyone[m[0]] for m in part.marks}


def test_the_text_is_cut_after_each_chunk_where_no_span_covers_it():
    text = "x" * (3 * CHUNK + 10)
    # Two touching spans, and a cluster over the first multiple: the cut moves to its end.
    marks = [(1, 1, 5, 9), (2, 1, 9, 12), (3, 1, CHUNK - 2, CHUNK + 8), (4, 2, CHUNK, CHUNK + 3)]
    parts = segments(len(text), marks)
    assert [(p.start, p.end, [m[0] for m in p.marks]) for p in parts] == [
        (0, CHUNK + 8, [1, 2, 3, 4]),
        (CHUNK + 8, 2 * CHUNK, []),
        (2 * CHUNK, 3 * CHUNK, []),
        (3 * CHUNK, 3 * CHUNK + 10, []),
    ]
    # A span that begins right at a multiple does not move the cut.
    parts = segments(len(text), [(1, 1, CHUNK, CHUNK + 4)])
    assert [p.start for p in parts] == [0, CHUNK, 2 * CHUNK, 3 * CHUNK]


def test_a_key_label_is_escaped_and_a_missing_one_shows_a_dot():
    html = segment_html(TEXT, segments(len(TEXT), [(5, 2, 0, 3), (6, 3, 4, 9)])[0], KEYS)
    assert 'data-key="&quot;"' in html
    html = segment_html(TEXT, segments(len(TEXT), [(6, 3, 4, 9)])[0], KEYS)
    assert 'data-key="•"' in html


def test_the_spans_open_in_the_inspector_are_tinted_on_every_piece():
    html = text_html(TEXT, [(1, 1, 0, 9), (2, 2, 4, 20)], KEYS)
    tinted = mark_selected(html.encode(), [2]).decode()
    assert tinted.count(" selected") == html.count('data-span="2"') == 2
    assert strip(tinted) == TEXT


def writes(draw, spans):
    """A random write to one span: a new one, a deletion, a move, a new code or a note."""
    n = len(TEXT)
    kind = draw(st.sampled_from(["create", "delete", "move", "recode", "note"]))
    if kind == "create" or not spans:
        start = draw(st.integers(0, n - 1))
        end = min(n, start + draw(st.integers(1, 15)))
        new = Shown(100, draw(st.sampled_from([1, 2, 3])), start, end, 1, TEXT[start:end], "")
        return [*spans, new], new.pk
    target = draw(st.sampled_from(spans))
    others = [s for s in spans if s.pk != target.pk]
    if kind == "delete":
        return others, target.pk
    if kind == "move":
        start = draw(st.integers(0, n - 1))
        end = min(n, start + draw(st.integers(1, 15)))
        moved = target._replace(start=start, end=end, quote=TEXT[start:end], version=2)
    elif kind == "recode":
        moved = target._replace(code_id=draw(st.sampled_from([1, 2, 3])), version=2)
    else:
        moved = target._replace(note=draw(st.text(max_size=5)), version=2)
    return [*others, moved], target.pk


def page(spans) -> str:
    marks = [s.mark for s in spans]
    return (
        f'<div id="doc-text">{text_html(TEXT, marks, KEYS)}</div>'
        f'<div id="span-groups">{list_html(CODES, spans)}</div>'
    )


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_the_swaps_of_a_write_turn_the_page_into_a_fresh_drawing_of_the_new_state(data):
    before = sorted(data.draw(span_sets()), key=TEXT_ORDER)
    after, changed = writes(data.draw, before)
    after.sort(key=TEXT_ORDER)
    old = next((s.mark for s in before if s.pk == changed), None)
    new = next((s.mark for s in after if s.pk == changed), None)
    answer = "".join(
        text_swaps(TEXT, [s.mark for s in before], old, new, KEYS)
        + list_swaps(CODES, before, after, changed)
    )
    patched = oob.parse(page(before))
    oob.apply(patched, answer)
    assert oob.serialise(patched) == page(after)
    if old == new:  # a note: the text is left alone
        assert 'id="t' not in answer
    # Only what changed: never the whole text or list.
    assert 'id="doc-text"' not in answer and 'id="span-groups"' not in answer


def test_a_write_far_from_other_spans_sends_only_its_own_stretch():
    text = "word " * 2000
    spans = [Shown(i, 1, 10 * i, 10 * i + 4, 1, "word") for i in range(1, 900)]
    new = Shown(5000, 2, 4502, 4508, 1, text[4502:4508])
    swaps = text_swaps(text, [s.mark for s in spans], None, new.mark, KEYS)
    whole = text_html(text, [s.mark for s in spans], KEYS)
    assert len("".join(swaps)) < len(whole) / 15
    listed = list_swaps(CODES, spans, [*spans, new], new.pk)
    assert len("".join(listed)) < 1000


def test_the_state_token_changes_with_every_span_write_and_every_code_change():
    spans = [Shown(1, 1, 0, 4, 1), Shown(2, 2, 3, 9, 1)]
    token = state_token(CODES, spans)
    changed = [
        state_token(CODES, [spans[0], spans[1]._replace(version=2)]),
        state_token(CODES, spans[:1]),
        state_token(CODES, [*spans, Shown(3, 1, 0, 4, 1)]),
        state_token([replace(CODES[0], name="Sources"), *CODES[1:]], spans),
        state_token([replace(CODES[0], shortcut="9"), *CODES[1:]], spans),
        state_token([replace(CODES[0], active=False), *CODES[1:]], spans),
    ]
    assert token not in changed and len(set(changed)) == len(changed)
