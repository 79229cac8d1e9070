"""The corpus laid out for the agreement report, and the document bootstrap's shared pieces.

Documents are placed end to end in ascending id order on one line; offsets, units and spans
become flat arrays. The bootstrap resamples documents: :func:`draw_counts` turns the draws into
per-document weights and :func:`interval` reads a percentile interval off the resamples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from annotations.domain.agreement.result import Interval, LeftOut
from annotations.domain.units import unit_bounds

MIN_DEFINED_SHARE = 0.95
ONE_CODER = "only one coder finished it"
NO_CODER = "no coder finished it"


class SpanData(NamedTuple):
    """One coder's span as the report reads it. A named tuple, not a dataclass: the worker
    makes one per span of the corpus, and a tuple is several times cheaper to build."""

    coder: str
    start: int
    end: int
    code: str


@dataclass(frozen=True)
class DocumentData:
    id: int
    text: str
    coders: tuple[str, ...]  # coders whose work on this document counts (finished)
    spans: tuple[SpanData, ...]


# ---------------------------------------------------------------------------------------------
# The corpus on one line: documents in id order, offsets, units and spans as flat arrays
# ---------------------------------------------------------------------------------------------


class Corpus:
    def __init__(self, documents: list[DocumentData], codes: list[str], unit: str) -> None:
        self.codes = codes
        self.notes: list[str] = []
        kept = sorted((d for d in documents if len(set(d.coders)) >= 2), key=lambda d: d.id)
        self.left_out = [
            LeftOut(d.id, ONE_CODER if len(set(d.coders)) == 1 else NO_CODER)
            for d in sorted(documents, key=lambda d: d.id)
            if len(set(d.coders)) < 2
        ]
        self.docs = kept
        self.n_docs = len(kept)
        self.coders = sorted({c for d in kept for c in d.coders})
        coder_index = {c: i for i, c in enumerate(self.coders)}
        code_index = {c: i for i, c in enumerate(codes)}
        self.lengths = np.array([len(d.text) for d in kept], dtype=np.int64)
        self.offsets = np.cumsum(self.lengths) - self.lengths
        self.member = np.zeros((self.n_docs, len(self.coders)), dtype=bool)
        for i, d in enumerate(kept):
            self.member[i, [coder_index[c] for c in set(d.coders)]] = True
        self.doc_r = self.member.sum(axis=1)

        rows, ignored = [], 0
        for i, (d, off) in enumerate(zip(kept, self.offsets.tolist(), strict=True)):
            done, length = set(d.coders), len(d.text)
            for coder, start, end, code in d.spans:
                if not 0 <= start < end <= length:
                    raise ValueError(f"Span [{start}, {end}) is empty or outside document {d.id}.")
                if coder not in done or code not in code_index:
                    ignored += 1
                    continue
                rows.append((i, coder_index[coder], code_index[code], start + off, end + off))
        if ignored:
            self.notes.append(
                f"{ignored} spans by unfinished coders or with codes outside the codebook "
                "are ignored."
            )
        spans = np.array(rows, dtype=np.int64).reshape(-1, 5)
        self.span_doc, self.span_coder, self.span_code = spans[:, 0], spans[:, 1], spans[:, 2]
        self.span_start, self.span_end = spans[:, 3], spans[:, 4]

        starts, ends, counts = [], [], []
        for i, d in enumerate(kept):
            s, e = unit_bounds(d.text, unit)
            starts.append(s + self.offsets[i])
            ends.append(e + self.offsets[i])
            counts.append(s.size)
        self.unit_start = np.concatenate(starts) if starts else np.zeros(0, np.int64)
        self.unit_end = np.concatenate(ends) if ends else np.zeros(0, np.int64)
        self.units_per_doc = np.array(counts, dtype=np.int64)
        self.unit_bounds = np.concatenate(([0], np.cumsum(self.units_per_doc)))

    def doc_of(self, positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.offsets, positions, side="right") - 1

    def per_doc(self, values: np.ndarray) -> np.ndarray:
        """Sum of a per-unit array within each document."""
        prefix = np.concatenate(([0], np.cumsum(values, dtype=np.int64)))
        return prefix[self.unit_bounds[1:]] - prefix[self.unit_bounds[:-1]]

    def spans_of(self, code: int, coder: int) -> tuple[np.ndarray, np.ndarray]:
        chosen = (self.span_code == code) & (self.span_coder == coder)
        return self.span_start[chosen], self.span_end[chosen]


def draw_counts(draws: np.ndarray, n_docs: int) -> np.ndarray:
    """How often each document was drawn in each resample (resamples x documents)."""
    n = draws.shape[0]
    flat = draws + (np.arange(n) * n_docs)[:, None]
    return np.bincount(flat.ravel(), minlength=n * n_docs).reshape(n, n_docs).astype(float)


def interval(observed: np.ndarray, expected: np.ndarray, *, n_docs: int) -> Interval:
    """95% percentile interval of ``1 - observed / expected`` over the defined resamples.

    ``n_docs`` is how many documents the coefficient rests on. An interval that cannot be
    estimated says why instead of being zero-wide: a bootstrap over one document redraws
    that document every time, and an interval from the few resamples where a coefficient
    happens to be defined would be biased.
    """
    observed, expected = np.asarray(observed, float), np.asarray(expected, float)
    n = observed.size
    if n == 0:
        return Interval(reason="no bootstrap resamples were requested")
    if n_docs < 2:
        return Interval(
            reason="not available: fewer than two documents, so resampling documents "
            "cannot estimate an interval"
        )
    defined = np.isfinite(expected) & (expected > 0) & np.isfinite(observed)
    count = int(defined.sum())
    if count == 0:
        return Interval(reason="not available: the coefficient is undefined in every resample")
    if count < MIN_DEFINED_SHARE * n:
        return Interval(
            resamples=count,
            reason=f"not available: the coefficient is undefined in {n - count} of {n} "
            "resamples (more than 5%), which would bias the interval",
        )
    values = 1.0 - observed[defined] / expected[defined]
    low, high = np.percentile(values, [2.5, 97.5])
    return Interval(low=float(low), high=float(high), resamples=count)
