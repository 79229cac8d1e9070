"""The corpus agreement report: every coefficient of ``AGREEMENT.md``, pooled and bootstrapped.

Pure Python and numpy; the output is plain JSON-serialisable data (floats, ints, strings,
lists, dicts, ``None`` for undefined values, never NaN).

Choices the methods note should state (also listed in the report's ``method`` entry):

- Only documents with two or more coders who finished them count. Spans by anyone else, and
  spans of codes not in ``codes``, are ignored.
- Nominal coefficients: one binary variable per code on the chosen units (a coder's value
  is 1 when any character of the unit is in one of their spans of that code). "Overall"
  treats every (unit, code) pair as an item: coincidence matrices, Fleiss counts and Cohen
  tables are summed over codes, so overall values weight codes by their number of units.
- alpha_U: the documents, in ascending id order, are laid end to end as one continuum, so a
  coder's trailing gap in one document and leading gap in the next form one gap. alpha_U
  needs the same coders throughout, so it uses the documents whose coder set is the most
  common one and reports how many it left out. "Overall" is ``1 - sum D_o / sum D_e``.
- Bootstrap: documents are resampled with replacement (``numpy.random.default_rng(seed)``);
  a resample's documents are laid end to end in the order drawn; each coefficient is
  recomputed from the pooled counts of the resample. The 95% interval is the 2.5th and
  97.5th percentile of the resamples where the coefficient is defined; it is ``None`` when
  fewer than 95% of resamples define it (dropping many would bias the interval).
- Span F1 uses the spans as marked (not merged); Cohen's kappa per coder pair uses the units
  of the documents both coders finished; "mean" values average the defined pair values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from annotations.domain.agreement import (
    alpha_from_coincidences,
    cohen_kappa_from_table,
    fleiss_kappa_from_sums,
    merge_intervals,
    overlap_matches,
    unitized_components,
    unitizing_observed_terms,
)
from annotations.domain.units import UNIT_KINDS, unit_bounds

MIN_DEFINED_SHARE = 0.95


@dataclass(frozen=True)
class SpanData:
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


def compute_report(
    documents: Iterable[DocumentData],
    codes: Sequence[str],
    *,
    unit: str = "token",
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> dict:
    if unit not in UNIT_KINDS:
        raise ValueError(f"Unknown unit {unit!r}; use one of {', '.join(UNIT_KINDS)}.")
    corpus = _Corpus(list(documents), list(dict.fromkeys(codes)), unit)
    notes = list(corpus.notes)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, corpus.n_docs, size=(n_bootstrap, corpus.n_docs))
    weights = _draw_counts(draws, corpus.n_docs)

    nominal = [_NominalParts(corpus, c) for c in range(len(corpus.codes))]
    unitizing = [_UnitizingParts(corpus, c) for c in range(len(corpus.codes))]
    eligible, excluded = _alpha_u_documents(corpus)
    if excluded:
        notes.append(
            f"alpha_U uses the {eligible.size} documents coded by the most common set of "
            f"coders; {excluded} documents with other coder sets are left out of it."
        )
    point_u = _alpha_u_point(corpus, eligible)
    boot_u = [_alpha_u_resampled(p, corpus, eligible, draws) for p in unitizing]

    coder_counts = sorted(set(corpus.doc_r.tolist()))
    fleiss_coders = coder_counts[0] if len(coder_counts) == 1 else None
    if len(coder_counts) > 1:
        notes.append("Fleiss' kappa is omitted: documents differ in their number of coders.")

    per_code = {}
    for c, code in enumerate(corpus.codes):
        per_code[code] = {
            "alpha_u": point_u[c].alpha if point_u else None,
            "alpha_u_ci": _interval(*boot_u[c]) if point_u else None,
            **_nominal_summary([nominal[c]], weights, fleiss_coders),
        }
    overall = {
        "alpha_u": _pooled_u(point_u),
        "alpha_u_ci": (
            _interval(sum(b[0] for b in boot_u), sum(b[1] for b in boot_u)) if point_u else None
        ),
        **_nominal_summary(nominal, weights, fleiss_coders),
    }
    pairs = _pairs(corpus, nominal)
    for key in ("cohen_kappa", "span_f1_exact", "span_f1_overlap"):
        overall[f"{key}_mean"] = _mean(p["overall"][key] for p in pairs.values())
        for code in corpus.codes:
            per_code[code][f"{key}_mean"] = _mean(p["per_code"][code][key] for p in pairs.values())
    return {
        "unit": unit,
        "codes": corpus.codes,
        "coders": corpus.coders,
        "counts": _counts(corpus, unitizing, excluded),
        "per_code": per_code,
        "overall": overall,
        "per_document": _per_document(corpus, nominal, unitizing),
        "pairs": pairs,
        "bootstrap": {"resamples": n_bootstrap, "seed": seed, "level": 0.95},
        "notes": notes,
    }


# ---------------------------------------------------------------------------------------------
# The corpus on one line: documents in id order, offsets, units and spans as flat arrays
# ---------------------------------------------------------------------------------------------


class _Corpus:
    def __init__(self, documents: list[DocumentData], codes: list[str], unit: str) -> None:
        self.codes = codes
        self.notes: list[str] = []
        kept = sorted((d for d in documents if len(set(d.coders)) >= 2), key=lambda d: d.id)
        self.skipped = len(documents) - len(kept)
        if self.skipped:
            self.notes.append(
                f"{self.skipped} documents have fewer than two finished coders and are not counted."
            )
        self.docs = kept
        self.n_docs = len(kept)
        self.coders = sorted({c for d in kept for c in d.coders})
        coder_index = {c: i for i, c in enumerate(self.coders)}
        code_index = {c: i for i, c in enumerate(codes)}
        self.lengths = np.array([len(d.text) for d in kept], dtype=np.int64)
        self.offsets = np.concatenate(([0], np.cumsum(self.lengths)[:-1])).astype(np.int64)
        self.member = np.zeros((self.n_docs, len(self.coders)), dtype=bool)
        for i, d in enumerate(kept):
            self.member[i, [coder_index[c] for c in set(d.coders)]] = True
        self.doc_r = self.member.sum(axis=1)

        rows, ignored = [], 0
        for i, d in enumerate(kept):
            done = set(d.coders)
            for s in d.spans:
                if not 0 <= s.start < s.end <= len(d.text):
                    raise ValueError(
                        f"Span [{s.start}, {s.end}) is empty or outside document {d.id}."
                    )
                if s.coder not in done or s.code not in code_index:
                    ignored += 1
                    continue
                off = int(self.offsets[i])
                rows.append(
                    (i, coder_index[s.coder], code_index[s.code], s.start + off, s.end + off)
                )
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


def _draw_counts(draws: np.ndarray, n_docs: int) -> np.ndarray:
    """How often each document was drawn in each resample (resamples x documents)."""
    n = draws.shape[0]
    flat = draws + (np.arange(n) * n_docs)[:, None]
    return np.bincount(flat.ravel(), minlength=n * n_docs).reshape(n, n_docs).astype(float)


# ---------------------------------------------------------------------------------------------
# Nominal coefficients on units: per-document sums, pooled by adding
# ---------------------------------------------------------------------------------------------


class _NominalParts:
    """One code's per-document counts: coincidences, Fleiss sums, per-coder and pair sums."""

    def __init__(self, corpus: _Corpus, code: int) -> None:
        n_coders = len(corpus.coders)
        ones = np.zeros(corpus.unit_start.size, dtype=np.int64)
        covered = []
        for r in range(n_coders):
            s, e, _ = merge_intervals(*corpus.spans_of(code, r))
            covered.append(_covered_units(corpus, s, e))
            ones += covered[-1]
        m = corpus.doc_r.astype(float)
        n_units = corpus.units_per_doc.astype(float)
        s1 = corpus.per_doc(ones).astype(float)
        s2 = corpus.per_doc(ones * ones).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            o01 = (m * s1 - s2) / (m - 1)
            o11 = (s2 - s1) / (m - 1)
            o00 = (m * m * n_units - 2 * m * s1 + s2 - m * n_units + s1) / (m - 1)
        self.coincidence = np.stack([o00, o01, o11], axis=1)  # documents x (00, 01, 11)
        self.values = (m * n_units).astype(np.int64)  # unit-values given
        self.ones = s1.astype(np.int64)
        self.sum_squares = (m * m * n_units - 2 * m * s1 + 2 * s2).astype(np.int64)
        self.coder_ones = np.array([corpus.per_doc(v) for v in covered], dtype=np.int64).T.reshape(
            corpus.n_docs, n_coders
        )
        self.pair_ones = {
            (i, j): corpus.per_doc(covered[i] & covered[j])
            for i, j in combinations(range(n_coders), 2)
        }


def _covered_units(corpus: _Corpus, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """1 for each unit sharing a character with one of the (disjoint, sorted) intervals."""
    first = np.searchsorted(corpus.unit_end, starts, side="right")
    stop = np.searchsorted(corpus.unit_start, ends, side="left")
    n = corpus.unit_start.size
    marks = np.bincount(first, minlength=n + 1) - np.bincount(stop, minlength=n + 1)
    return (np.cumsum(marks[:n]) > 0).astype(np.int64)


def _nominal_summary(parts: list[_NominalParts], weights: np.ndarray, n_coders: int | None) -> dict:
    coincidence = sum(p.coincidence.sum(axis=0) for p in parts)
    resampled = sum(weights @ p.coincidence for p in parts)
    values = sum(int(p.values.sum()) for p in parts)
    ones = sum(int(p.ones.sum()) for p in parts)
    fleiss = None
    if n_coders is not None and values:
        fleiss = fleiss_kappa_from_sums(
            sum_squares=sum(int(p.sum_squares.sum()) for p in parts),
            n_units=values // n_coders,
            n_coders=n_coders,
            totals=[values - ones, ones],
        )
    return {
        "alpha_nominal": _binary_alpha(coincidence) if values else None,
        "alpha_nominal_ci": _interval(*_binary_alpha_parts(resampled)),
        "fleiss_kappa": fleiss,
        "prevalence": ones / values if values else None,
    }


def _binary_alpha(o: np.ndarray) -> float | None:
    o00, o01, o11 = (float(x) for x in o)
    return alpha_from_coincidences(np.array([[o00, o01], [o01, o11]]))


def _binary_alpha_parts(o: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observed and expected disagreement (up to a common factor) for many 2x2 matrices."""
    o = np.atleast_2d(o)
    n0, n1 = o[:, 0] + o[:, 1], o[:, 2] + o[:, 1]
    n = n0 + n1
    return (n - 1) * 2 * o[:, 1], 2 * n0 * n1


# ---------------------------------------------------------------------------------------------
# alpha_U: point estimate on the concatenated continuum, bootstrap from per-document parts
# ---------------------------------------------------------------------------------------------


def _alpha_u_documents(corpus: _Corpus) -> tuple[np.ndarray, int]:
    """Documents coded by the most common coder set (ties: larger set, then names)."""
    if corpus.n_docs == 0:
        return np.zeros(0, dtype=np.int64), 0
    keys = [tuple(np.flatnonzero(row)) for row in corpus.member]
    tally = Counter(keys)
    best = max(tally, key=lambda k: (tally[k], len(k), [-x for x in k]))
    chosen = np.array([k == best for k in keys])
    return np.flatnonzero(chosen), int(corpus.n_docs - chosen.sum())


def _alpha_u_point(corpus: _Corpus, eligible: np.ndarray) -> list:
    """Per-code components on the eligible documents laid end to end, by the plain formula."""
    if eligible.size == 0:
        return []
    coders = np.flatnonzero(corpus.member[eligible[0]])
    shift = np.zeros(corpus.n_docs, dtype=np.int64)
    lengths = corpus.lengths[eligible]
    shift[eligible] = np.concatenate(([0], np.cumsum(lengths)[:-1])) - corpus.offsets[eligible]
    keep = np.isin(corpus.span_doc, eligible)
    spans = zip(
        corpus.span_coder[keep].tolist(),
        (corpus.span_start + shift[corpus.span_doc])[keep].tolist(),
        (corpus.span_end + shift[corpus.span_doc])[keep].tolist(),
        corpus.span_code[keep].tolist(),
        strict=True,
    )
    total = int(lengths.sum())
    if total == 0:
        return []
    parts = unitized_components(
        spans, total, coders=coders.tolist(), codes=list(range(len(corpus.codes)))
    )
    return [parts[c] for c in range(len(corpus.codes))]


def _pooled_u(parts: list) -> float | None:
    expected = sum(p.expected for p in parts)
    return None if expected == 0 else 1.0 - sum(p.observed for p in parts) / expected


class _UnitizingParts:
    """One code's alpha_U pieces per document, for per-document values and the bootstrap.

    ``D_o`` adds up over documents. ``D_e`` needs every unit against every gap of the
    continuum: gaps inside a document are tabulated per document against each distinct unit
    length (``inner``), while a document's leading and trailing gaps are kept apart
    (``lead``, ``trail``) because on a continuum they join the neighbouring documents' gaps.
    """

    def __init__(self, corpus: _Corpus, code: int) -> None:
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
    at = np.searchsorted(lens, gaps, side="right") - 1
    fits = at >= 0
    index = rows[fits] * k + at[fits]
    count = np.bincount(index, minlength=n_rows * k).reshape(n_rows, k)
    total = np.bincount(index, weights=gaps[fits], minlength=n_rows * k).reshape(n_rows, k)
    count = np.cumsum(count[:, ::-1], axis=1)[:, ::-1]
    total = np.cumsum(total[:, ::-1], axis=1)[:, ::-1]
    return total - (lens - 1) * count


def _alpha_u_resampled(
    parts: _UnitizingParts, corpus: _Corpus, eligible: np.ndarray, draws: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``D_o`` and ``D_e`` of one code on each resample (its eligible documents, in draw order)."""
    n_boot = draws.shape[0]
    if eligible.size == 0 or n_boot == 0:
        return np.full(n_boot, np.nan), np.full(n_boot, np.nan)
    position = np.full(corpus.n_docs, eligible.size, dtype=np.int64)
    position[eligible] = np.arange(eligible.size)
    sequence = position[draws]  # the last index stands for "not eligible: adds nothing"
    weights = _draw_counts(sequence, eligible.size + 1)[:, :-1]
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


# ---------------------------------------------------------------------------------------------
# Coder pairs: Cohen's kappa on units, span F1
# ---------------------------------------------------------------------------------------------


def _pairs(corpus: _Corpus, nominal: list[_NominalParts]) -> dict:
    result = {}
    n_codes = len(corpus.codes)
    for i, j in combinations(range(len(corpus.coders)), 2):
        shared = corpus.member[:, i] & corpus.member[:, j]
        if not shared.any():
            continue
        units = int(corpus.units_per_doc[shared].sum())
        tables = []
        for part in nominal:
            a = int(part.coder_ones[shared, i].sum())
            b = int(part.coder_ones[shared, j].sum())
            both = int(part.pair_ones[(i, j)][shared].sum())
            tables.append(np.array([[units - a - b + both, b - both], [a - both, both]]))
        a_rows = _pair_spans(corpus, i, shared)
        b_rows = _pair_spans(corpus, j, shared)
        exact = Counter(map(tuple, a_rows.tolist())) & Counter(map(tuple, b_rows.tolist()))
        exact_by_code = np.bincount(
            [key[2] for key, n in exact.items() for _ in range(n)], minlength=n_codes
        )
        matched = overlap_matches(a_rows, b_rows)
        overlap_by_code = np.bincount([int(a_rows[x, 2]) for x, _ in matched], minlength=n_codes)
        size_a = np.bincount(a_rows[:, 2], minlength=n_codes)
        size_b = np.bincount(b_rows[:, 2], minlength=n_codes)
        per_code = {
            code: {
                "cohen_kappa": cohen_kappa_from_table(tables[c]),
                "span_f1_exact": _f1(exact_by_code[c], size_a[c] + size_b[c]),
                "span_f1_overlap": _f1(overlap_by_code[c], size_a[c] + size_b[c]),
            }
            for c, code in enumerate(corpus.codes)
        }
        sizes = int(size_a.sum() + size_b.sum())
        result[f"{corpus.coders[i]}|{corpus.coders[j]}"] = {
            "documents": int(shared.sum()),
            "units": units,
            "per_code": per_code,
            "overall": {
                "cohen_kappa": cohen_kappa_from_table(sum(tables)) if tables else None,
                "span_f1_exact": _f1(exact_by_code.sum(), sizes),
                "span_f1_overlap": _f1(overlap_by_code.sum(), sizes),
            },
        }
    return result


def _pair_spans(corpus: _Corpus, coder: int, shared: np.ndarray) -> np.ndarray:
    chosen = (corpus.span_coder == coder) & shared[corpus.span_doc]
    return np.stack(
        [corpus.span_start[chosen], corpus.span_end[chosen], corpus.span_code[chosen]], axis=1
    )


def _f1(matches: int, sizes: int) -> float | None:
    return None if sizes == 0 else 2.0 * float(matches) / float(sizes)


# ---------------------------------------------------------------------------------------------
# Output shaping
# ---------------------------------------------------------------------------------------------


def _interval(observed: np.ndarray, expected: np.ndarray) -> dict | None:
    """95% percentile interval of ``1 - observed / expected`` over the defined resamples."""
    observed, expected = np.asarray(observed, float), np.asarray(expected, float)
    if observed.size == 0:
        return None
    defined = np.isfinite(expected) & (expected > 0) & np.isfinite(observed)
    if defined.sum() < MIN_DEFINED_SHARE * observed.size:
        return None
    values = 1.0 - observed[defined] / expected[defined]
    low, high = np.percentile(values, [2.5, 97.5])
    return {"low": float(low), "high": float(high), "resamples": int(defined.sum())}


def _mean(values: Iterable[float | None]) -> float | None:
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


def _counts(corpus: _Corpus, unitizing: list[_UnitizingParts], excluded: int) -> dict:
    by_code = np.bincount(corpus.span_code, minlength=len(corpus.codes))
    return {
        "documents": corpus.n_docs,
        "documents_skipped": corpus.skipped,
        "documents_excluded_from_alpha_u": excluded,
        "coders": len(corpus.coders),
        "spans": int(corpus.span_code.size),
        "spans_per_code": {code: int(by_code[c]) for c, code in enumerate(corpus.codes)},
        "units": int(corpus.units_per_doc.sum()),
        "merged_spans": {code: unitizing[c].merges for c, code in enumerate(corpus.codes)},
    }


def _per_document(
    corpus: _Corpus, nominal: list[_NominalParts], unitizing: list[_UnitizingParts]
) -> list[dict]:
    nominal_alpha = []
    for part in nominal:
        observed, expected = _binary_alpha_parts(part.coincidence)
        with np.errstate(divide="ignore", invalid="ignore"):
            nominal_alpha.append(np.where(expected > 0, 1.0 - observed / expected, np.nan))
    rows = []
    for d, doc in enumerate(corpus.docs):
        rows.append(
            {
                "id": doc.id,
                "coders": [corpus.coders[r] for r in np.flatnonzero(corpus.member[d])],
                "units": int(corpus.units_per_doc[d]),
                "alpha_u": {
                    code: unitizing[c].document_alpha(d) for c, code in enumerate(corpus.codes)
                },
                "alpha_nominal": {
                    code: _finite(nominal_alpha[c][d]) for c, code in enumerate(corpus.codes)
                },
            }
        )
    return rows


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
