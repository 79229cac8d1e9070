"""alpha_U in the corpus report: point estimate on the continuum, bootstrap from document parts.

alpha_U needs the same coders throughout, so it uses the documents whose coder set is the most
common one. The point estimate lays those documents end to end and applies the plain formula;
the bootstrap recombines per-document pieces, joining gaps across document boundaries.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import numpy as np

from annotations.domain.agreement.corpus import Corpus, draw_counts
from annotations.domain.agreement.unitizing import (
    code_components,
    merge_intervals,
    unitizing_observed_terms,
)


def alpha_u_documents(corpus: Corpus) -> tuple[np.ndarray, int]:
    """Documents coded by the most common coder set (ties: larger set, then names)."""
    if corpus.n_docs == 0:
        return np.zeros(0, dtype=np.int64), 0
    keys = [tuple(np.flatnonzero(row)) for row in corpus.member]
    tally = Counter(keys)
    best = max(tally, key=lambda k: (tally[k], len(k), [-x for x in k]))
    chosen = np.array([k == best for k in keys])
    return np.flatnonzero(chosen), int(corpus.n_docs - chosen.sum())


def alpha_u_point(corpus: Corpus, eligible: np.ndarray) -> list:
    """Per-code components on the eligible documents laid end to end, by the plain formula."""
    if eligible.size == 0:
        return []
    coders = np.flatnonzero(corpus.member[eligible[0]])
    shift = np.zeros(corpus.n_docs, dtype=np.int64)
    lengths = corpus.lengths[eligible]
    shift[eligible] = np.concatenate(([0], np.cumsum(lengths)[:-1])) - corpus.offsets[eligible]
    keep = np.isin(corpus.span_doc, eligible)
    coder = corpus.span_coder[keep]
    code = corpus.span_code[keep]
    start = (corpus.span_start + shift[corpus.span_doc])[keep]
    end = (corpus.span_end + shift[corpus.span_doc])[keep]
    total = int(lengths.sum())
    if total == 0:
        return []
    result = []
    for c in range(len(corpus.codes)):
        per_coder = []
        for r in coders.tolist():
            chosen = (code == c) & (coder == r)
            per_coder.append((start[chosen], end[chosen]))
        result.append(code_components(per_coder, total))
    return result


def pooled_u(parts: list) -> float | None:
    expected = sum(p.expected for p in parts)
    return None if expected == 0 else 1.0 - sum(p.observed for p in parts) / expected


class UnitizingParts:
    """One code's alpha_U pieces per document, for per-document values and the bootstrap.

    ``D_o`` adds up over documents. ``D_e`` needs every unit against every gap of the
    continuum: gaps inside a document are tabulated per document against each distinct unit
    length (``inner``), while a document's leading and trailing gaps are kept apart
    (``lead``, ``trail``) because on a continuum they join the neighbouring documents' gaps.
    """

    def __init__(self, corpus: Corpus, code: int) -> None:
        n_docs, n_coders = corpus.n_docs, len(corpus.coders)
        merged = []
        self.merges = 0
        for r in range(n_coders):
            s, e, n_merged = merge_intervals(*corpus.spans_of(code, r))
            merged.append((s, e, corpus.doc_of(s)))
            self.merges += n_merged
        self.observed = np.zeros(n_docs)
        for i, j in combinations(range(n_coders), 2):
            shared = corpus.member[:, i] & corpus.member[:, j]
            (si, ei, di), (sj, ej, dj) = merged[i], merged[j]
            ki, kj = shared[di], shared[dj]
            ti, tj = unitizing_observed_terms(si[ki], ei[ki], sj[kj], ej[kj])
            self.observed += np.bincount(di[ki], weights=ti, minlength=n_docs)
            self.observed += np.bincount(dj[kj], weights=tj, minlength=n_docs)

        lengths = _concat([e - s for s, e, _ in merged])
        docs = _concat([d for _, _, d in merged])
        lf = lengths.astype(float)
        self.lens = np.unique(lengths)
        self.n_units = np.bincount(docs, minlength=n_docs).astype(float)
        self.shape = np.bincount(docs, weights=(2 * lf**3 - 3 * lf**2 + lf) / 3, minlength=n_docs)
        self.squares = np.bincount(docs, weights=lf * (lf - 1), minlength=n_docs)
        k = self.lens.size
        at = np.searchsorted(self.lens, lengths)
        self.weight = np.bincount(docs * k + at, weights=lf**2, minlength=n_docs * k).reshape(
            n_docs, k
        )

        self.lead = np.zeros((n_docs, n_coders), dtype=np.int64)
        self.trail = np.zeros((n_docs, n_coders), dtype=np.int64)
        self.marked = np.zeros((n_docs, n_coders), dtype=bool)
        inner_docs, inner_gaps = [], []
        for r, (s, e, d) in enumerate(merged):
            if s.size == 0:
                continue
            head = np.concatenate(([True], d[1:] != d[:-1]))
            tail = np.concatenate((d[1:] != d[:-1], [True]))
            self.lead[d[head], r] = s[head] - corpus.offsets[d[head]]
            self.trail[d[tail], r] = corpus.offsets[d[tail]] + corpus.lengths[d[tail]] - e[tail]
            self.marked[d[head], r] = True
            inner_docs.append(d[1:][~head[1:]])
            inner_gaps.append((s[1:] - e[:-1])[~head[1:]])
        inner_d, inner_g = _concat(inner_docs), _concat(inner_gaps)
        self.inner = _tail_table(inner_d, inner_g, self.lens, n_docs)

        # Each document alone: its edge gaps, or the whole text for a coder who marked nothing.
        empty = corpus.member & ~self.marked
        edge_rows = np.concatenate([np.nonzero(self.marked)[0]] * 2 + [np.nonzero(empty)[0]])
        edge_gaps = np.concatenate(
            [
                self.lead[self.marked],
                self.trail[self.marked],
                np.broadcast_to(corpus.lengths[:, None], empty.shape)[empty],
            ]
        )
        tails = self.inner + _tail_table(edge_rows, edge_gaps, self.lens, n_docs)
        total = (self.n_units - 1) * self.shape + (self.weight * tails).sum(axis=1)
        r_d = corpus.doc_r.astype(float)
        length = corpus.lengths.astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.doc_observed = 2 * self.observed / (r_d * (r_d - 1) * length**2)
            self.doc_expected = (
                2 * total / (length * (r_d * length * (r_d * length - 1) - self.squares))
            )

    def document_alpha(self, d: int) -> float | None:
        expected = self.doc_expected[d]
        if not np.isfinite(expected) or expected == 0:
            return None
        return float(1.0 - self.doc_observed[d] / expected)


def _concat(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)


def _tail_table(rows: np.ndarray, gaps: np.ndarray, lens: np.ndarray, n_rows: int) -> np.ndarray:
    """``table[row, k] = sum over that row's gaps g >= lens[k] of (g - lens[k] + 1)``.

    Gaps are binned by the largest unit length they can hold, then summed from the top bin
    down, so no gap is ever compared with every unit.
    """
    k = lens.size
    if k == 0:
        return np.zeros((n_rows, 0))
    # Bin of every gap length up to the longest unit (longer gaps all fall in the top bin):
    # one gather per gap instead of a binary search. Gaps shorter than every unit go to an
    # extra bin, dropped after counting, rather than being filtered out first.
    bin_of = np.searchsorted(lens, np.arange(int(lens[-1]) + 1), side="right") - 1
    bin_of[bin_of < 0] = k
    index = rows * (k + 1) + bin_of[np.minimum(gaps, lens[-1])]
    size = n_rows * (k + 1)
    count = np.bincount(index, minlength=size).reshape(n_rows, k + 1)[:, :k]
    total = np.bincount(index, weights=gaps, minlength=size).reshape(n_rows, k + 1)[:, :k]
    count = np.cumsum(count[:, ::-1], axis=1)[:, ::-1]
    total = np.cumsum(total[:, ::-1], axis=1)[:, ::-1]
    return total - (lens - 1) * count


def alpha_u_resampled(
    parts: UnitizingParts, corpus: Corpus, eligible: np.ndarray, draws: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``D_o`` and ``D_e`` of one code on each resample (its eligible documents, in draw order)."""
    n_boot = draws.shape[0]
    if eligible.size == 0 or n_boot == 0:
        return np.full(n_boot, np.nan), np.full(n_boot, np.nan)
    position = np.full(corpus.n_docs, eligible.size, dtype=np.int64)
    position[eligible] = np.arange(eligible.size)
    sequence = position[draws]  # the last index stands for "not eligible: adds nothing"
    weights = draw_counts(sequence, eligible.size + 1)[:, :-1]
    coders = np.flatnonzero(corpus.member[eligible[0]])
    r = float(coders.size)

    length = weights @ corpus.lengths[eligible].astype(float)
    observed = weights @ parts.observed[eligible]
    n_units = weights @ parts.n_units[eligible]
    shape = weights @ parts.shape[eligible]
    squares = weights @ parts.squares[eligible]
    unit_weight = weights @ parts.weight[eligible]
    inner = (unit_weight * (weights @ parts.inner[eligible])).sum(axis=1)

    gap_rows, gap_lengths = [], []
    doc_length = np.append(corpus.lengths[eligible], 0)
    for coder in coders:
        marked = np.append(parts.marked[eligible, coder], False)
        before = np.where(marked, np.append(parts.lead[eligible, coder], 0), doc_length)
        after = np.where(marked, np.append(parts.trail[eligible, coder], 0), 0)
        rows, gaps = _joined_gaps(before[sequence], after[sequence], marked[sequence])
        gap_rows.append(rows)
        gap_lengths.append(gaps)
    edges = _tail_table(np.concatenate(gap_rows), np.concatenate(gap_lengths), parts.lens, n_boot)
    total = (n_units - 1) * shape + inner + (unit_weight * edges).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        d_o = 2 * observed / (r * (r - 1) * length**2)
        d_e = 2 * total / (length * (r * length * (r * length - 1) - squares))
    return d_o, d_e


def _joined_gaps(
    before: np.ndarray, after: np.ndarray, marked: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gaps formed across document boundaries, one row per resample.

    Along a row, document ``k`` contributes ``before[k]`` (its leading gap, or its whole
    length when the coder marked nothing there), then a break if the coder marked anything,
    then ``after[k]`` (its trailing gap). A gap is everything between two breaks.
    """
    total = np.cumsum(before + after, axis=1)
    at_break = total - after
    last_break = np.maximum.accumulate(np.where(marked, at_break, 0), axis=1)
    previous = np.concatenate((np.zeros((len(before), 1), np.int64), last_break[:, :-1]), axis=1)
    closed = np.where(marked, at_break - previous, 0)
    final = total[:, -1:] - last_break[:, -1:]
    gaps = np.concatenate((closed, final), axis=1)
    rows = np.broadcast_to(np.arange(len(before))[:, None], gaps.shape)
    keep = gaps > 0
    return rows[keep], gaps[keep]
