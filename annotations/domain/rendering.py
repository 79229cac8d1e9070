"""The coding page's text and span list as HTML: segments, lanes, and what a write changes.

The annotation page draws every piece of a long article with its stacked highlights
(about 2,000 pieces and 3,000 layers for a coder with 1,000 spans) and lists every span.
Drawn by the template engine this cost most of a 90 ms page: every variable and tag is a
node that resolves, localises and escapes on its own. Here the same markup is built as
strings, many times faster, and the selector caches it per state of the coder's spans.

The text is cut into *segments*, each one element of ``#doc-text``: a stretch of about
:data:`CHUNK` code points, cut at the first place after each multiple of it that no span
covers, so no span crosses two. A write changes the segments that hold the span it
touched (a span's lane depends only on the spans of its own cluster of overlapping spans,
see :func:`assign_lanes`, and a cluster never crosses a segment); :func:`text_swaps` and
:func:`list_swaps` give the page just those pieces, as htmx out-of-band swaps. Every
segment holds exactly its stretch of the text, so the container's ``textContent`` stays
the stored text and every offset stays put.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from itertools import accumulate, chain, pairwise
from operator import itemgetter
from typing import NamedTuple, Protocol

# About this many code points make one element of the text: a write resends that much
# (and the spans on it). An element per cluster of spans cost the browser more to lay
# out (800 more elements for 1,000 spans) than these few to send.
CHUNK = 512


class Drawn(Protocol):
    """What a span needs to be drawn: an id, offsets, a code and the code's shortcut."""

    pk: int
    start: int
    end: int
    code_id: int


class Coded(Protocol):
    """What the span list needs of a code (a ``Code`` row)."""

    pk: int
    name: str
    shortcut: str
    active: bool
    order: int


class Shown(NamedTuple):
    """A coder's live span as the coding page shows it. ``quote`` and ``note`` are filled
    where the span's list entry or inspector block is drawn; ``code`` where its code's name
    is shown. (A tuple: a write reads a thousand of these, and building them is the cost.)"""

    pk: int
    code_id: int
    start: int
    end: int
    version: int
    quote: str = ""
    note: str = ""
    code: object = None

    @property
    def mark(self) -> Mark:
        return (self.pk, self.code_id, self.start, self.end)


# Text order of shown spans (and of marks): start, end, id; and a shown span's mark.
TEXT_ORDER = itemgetter(2, 3, 0)
MARK = itemgetter(0, 1, 2, 3)
START, END = itemgetter(2), itemgetter(3)
# A span's id and version name its state: every change of it raises the version.
IDENTITY = itemgetter(0, 4)


# (span id, code id, start, end): everything a highlight depends on.
Mark = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class Segment:
    """One element of ``#doc-text``: a cluster of overlapping spans or plain text."""

    start: int
    end: int
    marks: tuple[Mark, ...]  # sorted by start, longest first, then id; () for plain text


def assign_lanes(spans: Sequence[Drawn]) -> dict[int, int]:
    """Give overlapping spans different lanes (greedy interval partitioning), so every
    span keeps one underline level along its whole length and none hides another.

    A span that starts where every earlier span has ended takes lane 0 again, so the
    lanes of one cluster of overlapping spans do not depend on any other cluster."""
    lanes: dict[int, int] = {}
    lane_ends: list[int] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end, s.pk)):
        for lane, end in enumerate(lane_ends):
            if end <= span.start:
                lane_ends[lane] = span.end
                lanes[span.pk] = lane
                break
        else:
            lanes[span.pk] = len(lane_ends)
            lane_ends.append(span.end)
    return lanes


# --- State --------------------------------------------------------------------------------


def state_token(codes: Iterable[Coded], spans: Iterable[Shown]) -> str:
    """A digest of everything the coding page draws from the codebook and the coder's
    spans (given in text order). Every span write changes it (a span's version goes up
    with every change), so a page that sends it back proves which state it shows, and a
    render cached under it can never show an old span."""
    numbers = array("q", chain.from_iterable(map(IDENTITY, spans)))
    digest = hashlib.blake2b(numbers.tobytes(), digest_size=12)
    for code in sorted(codes, key=lambda c: c.pk):
        label = f"{code.pk}\x1f{code.name}\x1f{code.shortcut}\x1f{code.active:d}\x1f{code.order}"
        digest.update(label.encode() + b"\x1e")
    return digest.hexdigest()


# --- The text -----------------------------------------------------------------------------


def segments(length: int, marks: Iterable[Mark]) -> list[Segment]:
    """The text ``[0, length)`` cut after each multiple of :data:`CHUNK` where no span
    covers the text (at the multiple, or at the end of the cluster of spans over it)."""
    ordered = sorted(marks, key=TEXT_ORDER)
    starts = list(map(START, ordered))
    cuts = _cuts(length, starts, ordered)
    return [_segment(start, end, starts, ordered) for start, end in pairwise(cuts)]


def _cuts(length: int, starts: list[int], ordered: Sequence[Mark]) -> list[int]:
    """Where :func:`segments` cuts the text, for spans in text order."""
    reach = list(accumulate(map(END, ordered), max))  # how far the text is covered
    n = len(ordered)
    cuts = [0]
    multiple = CHUNK
    while multiple < length:
        cut = multiple
        i = bisect_left(starts, multiple)  # the spans that begin before the multiple
        if i and reach[i - 1] > multiple:  # covered: on to the end of that cluster
            while i < n and starts[i] < reach[i - 1]:
                i += 1
            cut = reach[i - 1]
        if cut >= length:
            break
        cuts.append(cut)
        multiple = (cut // CHUNK + 1) * CHUNK
    cuts.append(length)
    return cuts


def _segment(start: int, end: int, starts: list[int], ordered: Sequence[Mark]) -> Segment:
    """The segment ``[start, end)`` with the spans that begin in it (none crosses a cut)."""
    low = bisect_left(starts, start)
    return Segment(start, end, tuple(ordered[low : bisect_left(starts, end, low)]))


def clusters(marks: Iterable[Mark]) -> list[Segment]:
    """The clusters of transitively overlapping spans, in text order (spans that only
    touch are in different clusters), each with its spans in lane order."""
    ordered = sorted(marks, key=lambda m: (m[2], -m[3], m[0]))
    out: list[Segment] = []
    i, n = 0, len(ordered)
    while i < n:
        start, end = ordered[i][2], ordered[i][3]
        j = i + 1
        while j < n and ordered[j][2] < end:
            end = max(end, ordered[j][3])
            j += 1
        out.append(Segment(start, end, tuple(ordered[i:j])))
        i = j
    return out


def segment_html(text: str, segment: Segment, keys: dict[int, str], *, oob: bool = False) -> str:
    """One segment as an element: its plain text and its clusters of spans.

    ``keys`` maps a code id to its shortcut label ("" shows as "•")."""
    attrs = ' hx-swap-oob="true"' if oob else ""
    parts = [f'<span id="t{segment.start}"{attrs}>']
    position = segment.start
    for group in clusters(segment.marks):
        parts.append(escape(text[position : group.start]))
        _cluster_html(parts, text, group, keys)
        position = group.end
    parts.append(escape(text[position : segment.end]))
    parts.append("</span>")
    return "".join(parts)


def _cluster_html(parts: list[str], text: str, cluster: Segment, keys: dict[int, str]) -> None:
    """A cluster's pieces, each wrapped in its spans' layers, outermost (highest lane) first."""
    marks = cluster.marks
    if len(marks) == 1:  # the most common cluster: one span on its own
        span_id, code_id, start, end = marks[0]
        key = escape(keys.get(code_id) or "•")
        parts.append(
            f'<span class="hl code-{code_id} lane-0 first" data-span="{span_id}" '
            f'data-key="{key}">{escape(text[start:end])}</span>'
        )
        return
    lanes = _lanes(marks)
    # Each span's opening tag where it begins (with its key label) and where it goes on.
    tags: dict[int, tuple[str, str]] = {}
    opening: dict[int, list[Mark]] = {}
    closing: dict[int, list[Mark]] = {}
    for mark in marks:
        span_id, code_id, start, end = mark
        base = f'<span class="hl code-{code_id} lane-{lanes[span_id]}'
        key = escape(keys.get(code_id) or "•")
        tags[span_id] = (
            f'{base} first" data-span="{span_id}" data-key="{key}"',
            f'{base}" data-span="{span_id}"',
        )
        opening.setdefault(start, []).append(mark)
        closing.setdefault(end, []).append(mark)
    bounds = sorted(opening.keys() | closing.keys())
    top = max(lanes.values())
    by_lane: dict[int, Mark] = {}  # lanes differ among overlapping spans
    for left, right in pairwise(bounds):
        for mark in closing.get(left, ()):
            del by_lane[lanes[mark[0]]]
        for mark in opening.get(left, ()):
            by_lane[lanes[mark[0]]] = mark
        ordered = [by_lane[lane] for lane in range(top, -1, -1) if lane in by_lane]
        count = len(ordered)
        # A badge where a stack begins says how many spans are stacked there.
        stacked = count > 1 and any(m[2] == left for m in ordered)
        for mark in ordered:
            parts.append(tags[mark[0]][0 if mark[2] == left else 1])
            parts.append(">")
        if stacked:
            parts[-1] = f' data-count="{count}">'
        parts.append(escape(text[left:right]))
        parts.append("</span>" * count)


def _lanes(marks: tuple[Mark, ...]) -> dict[int, int]:
    """:func:`assign_lanes` for marks already in its order."""
    lanes: dict[int, int] = {}
    lane_ends: list[int] = []
    for span_id, _code, start, end in marks:
        for lane, lane_end in enumerate(lane_ends):
            if lane_end <= start:
                lane_ends[lane] = end
                lanes[span_id] = lane
                break
        else:
            lanes[span_id] = len(lane_ends)
            lane_ends.append(end)
    return lanes


def text_html(text: str, marks: Iterable[Mark], keys: dict[int, str]) -> str:
    """The inside of ``#doc-text``: every segment, no whitespace between them."""
    return "".join(segment_html(text, s, keys) for s in segments(len(text), marks))


def mark_selected(html: bytes, span_ids: Iterable[int]) -> bytes:
    """Tint the highlights of the spans open in the inspector, in :func:`text_html`'s
    markup as UTF-8 (there the class attribute ends right before ``data-span``)."""
    for span_id in span_ids:
        html = html.replace(b'" data-span="%d"' % span_id, b' selected" data-span="%d"' % span_id)
    return html


def text_swaps(
    text: str, before: Sequence[Mark], old: Mark | None, new: Mark | None, keys: dict[int, str]
) -> list[str]:
    """The out-of-band swaps that turn the text drawn with the spans ``before`` (in text
    order) into the text drawn after one span changed from ``old`` to ``new`` (None:
    absent): the segments that differ, and nothing else.

    A segment differs where the cuts moved, or where it holds the span's old or new place;
    only those are built and drawn."""
    if old == new:  # a new note: nothing drawn in the text changed
        return []
    span_id = (old or new)[0]
    after = [m for m in before if m[0] != span_id]
    if new is not None:
        insort(after, new, key=TEXT_ORDER)
    length = len(text)
    old_starts, new_starts = list(map(START, before)), list(map(START, after))
    old_cuts = list(pairwise(_cuts(length, old_starts, before)))
    new_cuts = list(pairwise(_cuts(length, new_starts, after)))
    places = [(m[2], m[3]) for m in (old, new) if m is not None]

    def same(i: int, k: int) -> bool:
        start, end = old_cuts[i]
        return old_cuts[i] == new_cuts[k] and not any(s < end and e > start for s, e in places)

    i = 0
    while i < min(len(old_cuts), len(new_cuts)) and same(i, i):
        i += 1
    j, k = len(old_cuts), len(new_cuts)
    while j > i and k > i and same(j - 1, k - 1):
        j -= 1
        k -= 1
    old_segments = [_segment(a, b, old_starts, before) for a, b in old_cuts[i:j]]
    new_segments = [_segment(a, b, new_starts, after) for a, b in new_cuts[i:k]]
    return _swaps(text, old_segments, new_segments, keys)


def _swaps(text: str, old: list[Segment], new: list[Segment], keys: dict[int, str]) -> list[str]:
    """Replace the segments ``old`` by ``new`` (the same stretch of text). The first keeps
    its element id (both begin at the same offset): the other old ones are deleted, the
    rest of the new inserted behind it, then it is replaced. In that order no two elements
    share an id."""
    if not old:
        return []
    swaps = [f'<span id="t{s.start}" hx-swap-oob="delete"></span>' for s in old[1:]]
    if len(new) > 1:
        inserted = "".join(segment_html(text, s, keys) for s in new[1:])
        swaps.append(f'<div hx-swap-oob="afterend:#t{old[0].start}">{inserted}</div>')
    swaps.append(segment_html(text, new[0], keys, oob=True))
    return swaps


# --- The span list ------------------------------------------------------------------------


def entry_html(span: Shown, *, oob: bool = False) -> str:
    """A span's line in the list: its quote (the page's script opens the span from it, one
    listener for all: an htmx attribute on each of a thousand entries slowed page loads)
    and its note."""
    attrs = ' hx-swap-oob="true"' if oob else ""
    note = f'<span class="note">{escape(shorten(span.note, 80))}</span>' if span.note else ""
    return (
        f'<li id="e{span.pk}"{attrs}><button type="button" class="span-entry" '
        f'data-span="{span.pk}" data-start="{span.start}">'
        f"{escape(shorten(span.quote, 90))}</button>{note}</li>"
    )


def heading_html(code: Coded, count: int, *, oob: bool = False) -> str:
    attrs = ' hx-swap-oob="true"' if oob else ""
    return (
        f'<h3 class="code-heading code-{code.pk}" id="gh{code.pk}"{attrs}>'
        f'<span class="swatch" aria-hidden="true"></span>{escape(code.name)} '
        f'<span class="muted">({count})</span></h3>'
    )


def group_html(code: Coded, entries: list[str], *, oob: bool = False) -> str:
    """One code's spans under its heading. Every code has its element, hidden while the
    code is retired and unused, so a write can show or hide a group in place."""
    attrs = ' hx-swap-oob="true"' if oob else ""
    if not entries and not code.active:
        return f'<div class="span-group" id="g{code.pk}"{attrs} hidden></div>'
    items = "".join(entries) or '<li class="muted small">None yet.</li>'
    return (
        f'<div class="span-group" id="g{code.pk}"{attrs}>{heading_html(code, len(entries))}'
        f'<ul id="gl{code.pk}">{items}</ul></div>'
    )


def list_html(codes: Sequence[Coded], spans: Iterable[Shown]) -> str:
    """Every code's group, in codebook order, each listing its spans in text order."""
    entries: dict[int, list[str]] = {code.pk: [] for code in codes}
    for span in sorted(spans, key=TEXT_ORDER):
        entries[span.code_id].append(entry_html(span))
    return "".join(group_html(code, entries[code.pk]) for code in codes)


def list_swaps(
    codes: Sequence[Coded],
    before: Sequence[Shown],
    after: Sequence[Shown],
    changed: int,
) -> list[str]:
    """The out-of-band swaps that update the span list after a write to span ``changed``
    (``before`` and ``after`` in text order): its entry (removed, inserted in text order,
    or redrawn in place) and its groups' headings; a whole group where it appears, empties
    or hides. ``after`` must carry the changed span's quote and note.

    Deletions come first: a span moved to another code must leave its old group before
    its entry (same id) appears in the new one."""
    old_span = next((s for s in before if s.pk == changed), None)
    new_span = next((s for s in after if s.pk == changed), None)
    touched = {s.code_id for s in (old_span, new_span) if s is not None}
    deletions: list[str] = []
    swaps: list[str] = []
    for code in codes:
        if code.pk not in touched:
            continue
        code_id = code.pk
        old = [s for s in before if s.code_id == code_id]
        new = [s for s in after if s.code_id == code_id]
        if bool(old) != bool(new):
            swaps.append(group_html(code, [entry_html(s) for s in new], oob=True))
            continue
        if len(old) != len(new):
            swaps.append(heading_html(code, len(new), oob=True))
        old_ids = [s.pk for s in old]
        new_ids = [s.pk for s in new]
        was, now = changed in old_ids, changed in new_ids
        if was and now and _next(old_ids, changed) == _next(new_ids, changed):
            swaps.append(entry_html(new_span, oob=True))
            continue
        if was:
            deletions.append(f'<span id="e{changed}" hx-swap-oob="delete"></span>')
        if now:
            following = _next(new_ids, changed)
            where = f"beforebegin:#e{following}" if following else f"beforeend:#gl{code.pk}"
            swaps.append(f'<div hx-swap-oob="{where}">{entry_html(new_span)}</div>')
    return deletions + swaps


def _next(ids: list[int], span_id: int) -> int | None:
    at = ids.index(span_id)
    return ids[at + 1] if at + 1 < len(ids) else None


def shorten(text: str, length: int) -> str:
    """At most ``length`` characters, ending in "…" when cut (no Unicode normalisation)."""
    return text if len(text) <= length else text[: length - 1] + "…"


QUOTE_MARKS = frozenset("\"'“”‘’«»„‚‹›「」『』")
APOSTROPHES = frozenset("'’")


def _has_quote_marks(text: str) -> bool:
    for i, char in enumerate(text):
        if char not in QUOTE_MARKS:
            continue
        # An apostrophe inside a word ("Asia’s", "don't") is no quotation mark.
        inside_word = 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha()
        if not (char in APOSTROPHES and inside_word):
            return True
    return False


def quoted(text: str) -> str:
    """``text`` in curly quotation marks, unless it holds quotation marks of its own: a
    quote such as “They are all fake,” would otherwise show two pairs."""
    return text if _has_quote_marks(text) else f"“{text}”"
