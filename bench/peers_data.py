"""The data every tool of the peers benchmark gets: plain Python, deterministic, no Django.

One article of exactly 50,000 code points with emoji (astral code points, a ZWJ sequence, a
flag), curly quotes and accents; 1,000 word-aligned spans by one coder in four codes,
overlapping as real coding does; and the same shapes again for the export corpus. Offsets
here count code points (Framing's and Label Studio's unit); ``Utf16`` converts them to
UTF-16 code units, which is what doccano stores (its editor counts in JavaScript strings).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from itertools import accumulate

ARTICLE_CODE_POINTS = 50_000
SPANS = 1_000
SEED = 20250918
CODES = ("Confession", "Interference", "Sourcing", "Loaded")
COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd")
WORDS = (
    *("the", "government", "said", "officials", "claimed", "foreign", "interference"),
    *("critics", "“confession”", "‘voluntary’", "sham", "election", "café", "naïve"),
    *("Phnom", "Penh", "opposition", "media", "report", "Washington", "alleged"),
    *("campaign", "party", "court", "sentenced", "treason", "video", "statement"),
    *("“we", "were", "told”", "it’s", "—", "…", "😀", "👩\u200d🔬", "🇰🇭", "🤝🏽", "Zoë"),
)


@dataclass(frozen=True, order=True)
class Span:
    start: int  # code points, 0-based, end-exclusive
    end: int
    code: str


def article(seed: int = SEED, length: int = ARTICLE_CODE_POINTS) -> str:
    """Sentences of random words, cut to exactly ``length`` code points, ending in a full
    stop; the same seed always gives the same text."""
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < length:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 22)))
        sentence = sentence[0].upper() + sentence[1:] + ". "
        if rng.random() < 0.15:
            sentence += "\n\n"
        parts.append(sentence)
        size += len(sentence)
    return "".join(parts)[: length - 1] + "."


def words(text: str) -> list[tuple[int, int]]:
    """(start, end) of every maximal run of non-space code points."""
    return [match.span() for match in re.finditer(r"\S+", text)]


def spans(text: str, count: int = SPANS, *, seed: int = SEED, avoid=()) -> list[Span]:
    """``count`` distinct spans from a word's start to a later word's end (1 to 12 words),
    in random codes, sorted; none equal to a span in ``avoid``."""
    rng = random.Random(seed)
    bounds = words(text)
    taken = set(avoid)
    chosen: set[Span] = set()
    while len(chosen) < count:
        first = rng.randrange(len(bounds) - 12)
        span = Span(bounds[first][0], bounds[first + rng.randint(0, 11)][1], rng.choice(CODES))
        if span not in taken:
            chosen.add(span)
    return sorted(chosen)


class Utf16:
    """Code-point offsets of one text to UTF-16 code units and back."""

    def __init__(self, text: str):
        units = (2 if ord(char) > 0xFFFF else 1 for char in text)
        self.table = [0, *accumulate(units)]  # code point offset -> UTF-16 offset
        self.back = {unit: point for point, unit in enumerate(self.table)}

    def units(self, offset: int) -> int:
        return self.table[offset]

    def points(self, unit: int) -> int:
        """The code-point offset; KeyError for an offset inside a surrogate pair."""
        return self.back[unit]


def utf16_slice(text: str, start: int, end: int) -> str:
    """What JavaScript's ``text.slice(start, end)`` gives for UTF-16 offsets."""
    return text.encode("utf-16-le")[2 * start : 2 * end].decode("utf-16-le")


def doccano_labels(text: str, items: list[Span]) -> list[list]:
    """doccano's JSONL ``label`` list: UTF-16 offsets, as its editor would have made them."""
    table = Utf16(text)
    return [[table.units(s.start), table.units(s.end), s.code] for s in items]


def framing_jsonl(documents: list[tuple[str, list[Span]]]) -> bytes:
    """Framing's JSONL (doccano-shaped, code points), one line per document."""
    lines = (
        json.dumps({"text": text, "label": [[s.start, s.end, s.code] for s in items]})
        for text, items in documents
    )
    return ("\n".join(lines) + "\n").encode("utf-8")


def doccano_jsonl(documents: list[tuple[str, list[Span]]]) -> bytes:
    lines = (
        json.dumps({"text": text, "label": doccano_labels(text, items)}, ensure_ascii=False)
        for text, items in documents
    )
    return ("\n".join(lines) + "\n").encode("utf-8")


def labelstudio_region(text: str, span: Span, number: int) -> dict:
    """One region of a Label Studio annotation's ``result``, as its Labels/Text tags save it
    (offsets in code points in 1.23, with the quoted text)."""
    return {
        "id": f"r{number:05d}",
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "origin": "manual",
        "value": {
            "start": span.start,
            "end": span.end,
            "text": text[span.start : span.end],
            "labels": [span.code],
        },
    }


def labelstudio_result(text: str, items: list[Span]) -> list[dict]:
    return [labelstudio_region(text, span, n) for n, span in enumerate(items)]


LABELSTUDIO_CONFIG = (
    '<View><Labels name="label" toName="text">'
    + "".join(
        f'<Label value="{code}" background="{c}"/>' for code, c in zip(CODES, COLOURS, strict=True)
    )
    + '</Labels><Text name="text" value="$text"/></View>'
)


def corpus(documents: int, spans_each: int = SPANS) -> list[tuple[str, list[Span]]]:
    """The export corpus: ``documents`` articles like the benchmark's (other seeds)."""
    out = []
    for number in range(documents):
        text = article(SEED + 1 + number)
        out.append((text, spans(text, spans_each, seed=SEED + 1 + number)))
    return out
