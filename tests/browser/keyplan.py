"""The fewest key presses that tag a given span on the coding page, from a given caret.

A model of the page's keys (static/js/framing.js) over the text alone: characters, words,
sentences, find (``/``) and the boundary keys; ↑/↓ by visual line depend on the layout and
are left out. A shortest-path search over (anchor, caret) states gives the cheapest plan;
the browser test then presses exactly those keys and checks the span the page stored, so a
model that drifted from the page fails instead of reporting a number nobody can reach.
Every chord (Ctrl+Shift+→) counts as one press, every typed character as one.
"""

from __future__ import annotations

import bisect
import heapq
import unicodedata
from dataclasses import dataclass, field

TERMINALS = frozenset(".!?…")
CLOSERS = frozenset("\"'”’»)]")
FIND_SPAN = 40  # how far from the target a selection may wander while it is built
FIND_BEFORE = 20  # find's targets: word starts this far before the span, and the span's own
MAX_QUERY = 10
MAX_ARROWS = 3


def is_word(ch: str | None) -> bool:
    return ch is not None and unicodedata.category(ch)[0] in "LNM"


def is_space(ch: str | None) -> bool:
    return ch is not None and ch.isspace()


def is_lower(ch: str | None) -> bool:
    return ch is not None and ch.lower() == ch and ch.upper() != ch


@dataclass
class Text:
    text: str
    snap: bool = True
    chars: list[str] = field(init=False)

    def __post_init__(self):
        self.chars = list(self.text)
        self.n = len(self.chars)
        self.starts, self.ends = self._sentences()
        self.lower = [c.lower() for c in self.chars]
        self.word = [is_word(c) for c in self.chars]
        self.space = [is_space(c) for c in self.chars]
        self.lowtext = "".join(self.lower)
        self._matches: dict[str, tuple[int, ...]] = {}

    def at(self, i: int) -> str | None:
        return self.chars[i] if 0 <= i < self.n else None

    # --- the page's steps ---------------------------------------------------------------

    def word_step(self, pos: int, direction: int) -> int:
        w, i, n = self.word, pos, self.n
        if direction > 0:
            while i < n and not w[i]:
                i += 1
            while i < n and w[i]:
                i += 1
        else:
            while i > 0 and not w[i - 1]:
                i -= 1
            while i > 0 and w[i - 1]:
                i -= 1
        return i

    def start_step(self, pos: int, direction: int) -> int:
        if direction < 0:
            return self.word_step(pos, -1)
        w, i, n = self.word, pos, self.n
        while i < n and w[i]:
            i += 1
        while i < n and not w[i]:
            i += 1
        return i

    def end_step(self, pos: int, direction: int) -> int:
        if direction > 0:
            return self.word_step(pos, 1)
        w, i = self.word, pos
        while i > 0 and w[i - 1]:
            i -= 1
        while i > 0 and not w[i - 1]:
            i -= 1
        return i

    def effective(self, a: int, b: int) -> tuple[int, int]:
        s, e = (a, b) if a <= b else (b, a)
        w, sp, n = self.word, self.space, self.n
        if self.snap and s != e:
            while 0 < s < n and w[s - 1] and w[s]:
                s -= 1
            while 0 < e < n and w[e - 1] and w[e]:
                e += 1
        while s < e and sp[s]:
            s += 1
        while e > s and sp[e - 1]:
            e -= 1
        return s, e

    def settled(self, anchor: int, caret: int) -> tuple[int, int]:
        """The selection after find: what is shown (snapped, trimmed) becomes the state."""
        s, e = self.effective(anchor, caret)
        if s >= e:
            return anchor, caret
        return (e, s) if anchor > caret else (s, e)

    def _sentence_end_after(self, i: int) -> int:
        n, c = self.n, self.chars
        j = i + 1
        while True:
            if j < n and (c[j] in CLOSERS or c[j] in TERMINALS):
                j += 1
            elif j < n and c[j] == "[":
                k = j + 1
                while k < n and c[k] in "0123456789":
                    k += 1
                if k > j + 1 and k < n and c[k] == "]":
                    j = k + 1
                else:
                    break
            else:
                break
        if j >= n:
            return n
        k = j
        while k < n and c[k] != "\n" and is_space(c[k]):
            k += 1
        if k == j and self.at(k) != "\n":
            return -1
        return -1 if is_lower(self.at(k)) else j

    def _sentences(self) -> tuple[list[int], list[int]]:
        n, c = self.n, self.chars
        starts: list[int] = []
        ends: list[int] = []
        i = 0
        while i < n and is_space(c[i]):
            i += 1
        if i < n:
            starts.append(i)
        while i < n:
            end = -1
            if c[i] == "\n":
                end = i
            elif c[i] in TERMINALS:
                end = self._sentence_end_after(i)
            if end == -1:
                i += 1
                continue
            e = end
            while e > 0 and is_space(c[e - 1]):
                e -= 1
            if e > 0 and (not ends or ends[-1] != e):
                ends.append(e)
            s = end
            while s < n and is_space(c[s]):
                s += 1
            if s < n and starts[-1] != s:
                starts.append(s)
            i = max(s, end + 1)
        last = n
        while last > 0 and is_space(c[last - 1]):
            last -= 1
        if last > 0 and (not ends or ends[-1] < last):
            ends.append(last)
        return starts, ends

    def next_in(self, values: list[int], pos: int, default: int) -> int:
        return next((v for v in values if v > pos), default)

    def previous_in(self, values: list[int], pos: int, default: int) -> int:
        return next((v for v in reversed(values) if v < pos), default)

    # --- find ---------------------------------------------------------------------------

    def matches(self, query: str) -> tuple[int, ...]:
        if query not in self._matches:
            self._matches[query] = self._find(query)
        return self._matches[query]

    def _find(self, query: str) -> tuple[int, ...]:
        # One lower-case letter per character here, so string positions are offsets.
        assert len(self.lowtext) == self.n
        word_start = is_word(query[0])
        found = []
        i = self.lowtext.find(query)
        while i != -1:
            if not (word_start and i > 0 and self.word[i - 1]):
                found.append(i)
            i = self.lowtext.find(query, i + 1)
        return tuple(found)

    def word_starts(self, low: int, high: int) -> list[int]:
        return [
            i
            for i in range(max(0, low), min(self.n, high))
            if self.word[i] and not (i > 0 and self.word[i - 1])
        ]


@dataclass(frozen=True)
class Plan:
    keys: tuple[str, ...]  # Playwright key names; ("type", "abc") for typed text

    @property
    def presses(self) -> int:
        return sum(len(k[1]) if isinstance(k, tuple) else 1 for k in self.keys)


def _find_edges(t: Text, caret: int, targets: tuple[int, ...]):
    """(keys, position of the match, its length) for every cheap way to find a target
    from the caret: a few letters of it, and ↓/↑ when an earlier match comes first."""
    edges = []
    for p in targets:
        for k in range(1, MAX_QUERY + 1):
            query = "".join(t.lower[p : p + k])
            if len(query) < k or not query.isascii() or "\n" in query:
                break
            found = t.matches(query)
            index = bisect.bisect_left(found, p)
            if index == len(found) or found[index] != p:
                continue
            first = bisect.bisect_left(found, caret)
            first = 0 if first == len(found) else first
            down = (index - first) % len(found)
            up = (first - index) % len(found)
            arrows = ("ArrowDown",) * down if down <= up else ("ArrowUp",) * up
            if len(arrows) > MAX_ARROWS:
                continue
            edges.append((("/", ("type", query), *arrows), p, k))
            if not arrows:
                break  # a longer query costs more and finds the same
    return edges


def plan(t: Text, caret: int, target: tuple[int, int], code_key: str, limit: int = 12) -> Plan:
    """The cheapest keys from ``caret`` (nothing selected) to ``target`` tagged.

    To keep the search small, the selection is started once (by a Shift key or find) from
    a caret placed by plain moves, and then only extended or trimmed near the target."""
    s, e = target
    starts = tuple(sorted(set(t.word_starts(s - FIND_BEFORE, s + 1)) | {s}))
    inside = tuple(t.word_starts(s + 1, e))
    n = t.n
    finds: dict[tuple[int, bool], list] = {}

    def find_edges(pos: int, extend: bool) -> list:
        if (pos, extend) not in finds:
            finds[pos, extend] = [
                (keys, p, k, 2 + len(keys[1][1]) + len(keys) - 2)
                for keys, p, k in _find_edges(t, pos, inside if extend else starts)
            ]
        return finds[pos, extend]

    low, high = s - FIND_SPAN, e + FIND_SPAN
    start = (None, caret)
    queue: list[tuple[int, int, tuple, tuple]] = [(0, 0, start, ())]
    seen: dict[tuple, int] = {start: 0}
    counter = 0
    while queue:
        cost, _, (anchor, pos), keys = heapq.heappop(queue)
        if cost > seen.get((anchor, pos), 1 << 30):
            continue
        if anchor is not None and t.effective(anchor, pos) == target:
            return Plan((*keys, code_key))
        edges = []  # (keys, new state, presses)
        if anchor is None:
            for key, to in (
                ("ArrowRight", min(n, pos + 1)),
                ("ArrowLeft", max(0, pos - 1)),
                ("Control+ArrowRight", t.word_step(pos, 1)),
                ("Control+ArrowLeft", t.word_step(pos, -1)),
                ("Control+ArrowDown", t.next_in(t.starts, pos, n)),
                ("Control+ArrowUp", t.previous_in(t.starts, pos, 0)),
            ):
                edges.append(((key,), (None, to), 1))
            for find_keys, p, k, presses in find_edges(pos, False):
                edges.append(((*find_keys, "Enter"), t.settled(p, p + k), presses))
        for key, to in (
            ("Shift+ArrowRight", min(n, pos + 1)),
            ("Shift+ArrowLeft", max(0, pos - 1)),
            ("Control+Shift+ArrowRight", t.word_step(pos, 1)),
            ("Control+Shift+ArrowLeft", t.word_step(pos, -1)),
            ("Control+Shift+ArrowDown", t.next_in(t.ends, pos, n)),
            ("Control+Shift+ArrowUp", t.previous_in(t.starts, pos, 0)),
        ):
            edges.append(((key,), (pos if anchor is None else anchor, to), 1))
        if anchor is not None:
            a, b = t.effective(anchor, pos)
            if a < b:
                for key, (edge, direction, unit) in BOUNDARY_KEYS.items():
                    na, nb = a, b
                    if edge == "start":
                        na = t.start_step(a, direction) if unit == "word" else a + direction
                        na = max(0, min(n, na))
                        if na >= b:
                            continue
                    else:
                        nb = t.end_step(b, direction) if unit == "word" else b + direction
                        nb = max(0, min(n, nb))
                        if nb <= a:
                            continue
                    edges.append(((key,), (na, nb), 1))
            for find_keys, p, k, presses in find_edges(pos, True):
                extended = t.settled(anchor, max(p + k, anchor))
                edges.append(((*find_keys, "Shift+Enter"), extended, presses))
        for step, state, presses in edges:
            a, b = state
            if a is not None and not (low <= a <= high and low <= b <= high):
                continue  # a selection far from the target: never the cheapest way
            new_cost = cost + presses
            if new_cost < seen.get(state, 1 << 30) and new_cost <= limit:
                seen[state] = new_cost
                counter += 1
                heapq.heappush(queue, (new_cost, counter, state, (*keys, *step)))
    raise ValueError(f"no plan within {limit} presses for {target}")


BOUNDARY_KEYS = {
    "[": ("start", -1, "word"),
    "]": ("start", 1, "word"),
    "{": ("start", -1, "char"),
    "}": ("start", 1, "char"),
    ",": ("end", -1, "word"),
    ".": ("end", 1, "word"),
    "<": ("end", -1, "char"),
    ">": ("end", 1, "char"),
}
