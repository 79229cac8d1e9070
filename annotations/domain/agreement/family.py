"""Krippendorff's 2016 unitizing family: u-alpha, |u-alpha, cu-alpha and (k)cu-alpha.

Krippendorff, Mathet, Bouvry & Widlöcher (2016), "On the reliability of unitizing textual
continua: further developments", Quality & Quantity 50:2347-2364; Krippendorff (2019),
*Content Analysis*, 4th ed., sec. 12.6. The 2004 alpha_U (``unitizing``) misbehaves with more
than two coders; this family replaces it, and both are kept (see AGREEMENT.md).

Each coder partitions ``[0, L)`` into valued segments (their spans) and gaps (value phi). Every
coefficient is ``1 - observed / expected`` over sums that add up across documents, so a corpus is
pooled by adding :class:`FamilyParts` and bootstrapped by weighting them
(:func:`family_resampled`), the expected terms always coming from the pooled marginals.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

Span = tuple[Hashable, int, int, Hashable]


@dataclass(frozen=True)
class FamilyParts:
    """The additive pieces of the family for values ``values`` (index 0 of each axis is phi).

    ``coincidences`` is the observed matrix ``l`` (shape ``(V+1, V+1)``), ``total`` is
    ``l.. = m L``, ``self_weight`` is ``W`` per value (a valued segment adds ``|S|^2``, a gap
    ``|S|``), ``lambda_squares`` is the sum of squared pairable lengths per valued value (shape
    ``(V,)``); the cu-alpha matrix ``l*`` is the valued block of ``coincidences``. Stacked parts
    (:func:`stack_parts`) carry a leading document axis on every array.
    """

    values: tuple[Hashable, ...]
    coincidences: np.ndarray
    total: np.ndarray
    self_weight: np.ndarray
    lambda_squares: np.ndarray

    @property
    def valued_block(self) -> np.ndarray:
        return self.coincidences[..., 1:, 1:]

    def __add__(self, other: FamilyParts) -> FamilyParts:
        if self.values != other.values:
            raise ValueError("Only parts over the same values can be added.")
        return FamilyParts(
            values=self.values,
            coincidences=self.coincidences + other.coincidences,
            total=self.total + other.total,
            self_weight=self.self_weight + other.self_weight,
            lambda_squares=self.lambda_squares + other.lambda_squares,
        )


def unitizing_alpha_2016(
    spans: Iterable[Span], length: int, coders: Sequence[Hashable] | None = None
) -> dict:
    """The whole family for spans ``(coder, start, end, value)`` on ``[0, length)``.

    ``coders`` must list every coder, including those who marked nothing (default: the coders
    in ``spans``, sorted by ``str``). Returns ``u_alpha``, ``bu_alpha`` (|u-alpha), ``cu_alpha``,
    ``ku_alpha`` (value -> (k)cu-alpha, for every value that occurs) and ``coverage``; a
    coefficient without variation to measure is ``None``.
    """
    spans = list(spans)
    coder_list = (
        list(dict.fromkeys(coders))
        if coders is not None
        else sorted({s[0] for s in spans}, key=str)
    )
    values = sorted({s[3] for s in spans}, key=str)
    return family_from_parts(family_parts(spans, length, coder_list, values))


def family_parts(
    spans: Iterable[Span], length: int, coders: Sequence[Hashable], values: Sequence[Hashable]
) -> FamilyParts:
    """:class:`FamilyParts` of one continuum coded by ``coders`` (at least two) over ``values``.

    The continuum is cut at every span boundary; between two cuts each coder holds one value, so
    the character-level coincidences are counted per piece, weighted by its length.
    """
    coder_list = list(dict.fromkeys(coders))
    value_list = tuple(dict.fromkeys(values))
    if len(coder_list) < 2:
        raise ValueError("Unitizing agreement needs at least two coders.")
    if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 1:
        raise ValueError("The continuum length must be a positive whole number.")
    starts, ends, value_idx = _validated(list(spans), int(length), coder_list, value_list)
    stacked = documents_parts(
        np.zeros(starts.size, dtype=np.int64),
        starts,
        ends,
        value_idx,
        np.array([length], dtype=np.int64),
        np.array([len(coder_list)], dtype=np.int64),
        value_list,
    )
    return FamilyParts(
        values=value_list,
        coincidences=stacked.coincidences[0],
        total=stacked.total[0],
        self_weight=stacked.self_weight[0],
        lambda_squares=stacked.lambda_squares[0],
    )


def documents_parts(
    doc: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    value_idx: np.ndarray,
    lengths: np.ndarray,
    n_coders: np.ndarray,
    values: Sequence[Hashable],
) -> FamilyParts:
    """Stacked :class:`FamilyParts` of many documents at once, from checked spans.

    Span ``i`` lies in document ``doc[i]`` at ``[starts[i], ends[i])`` (offsets local to the
    document) with value index ``value_idx[i]`` (1..V); one coder's spans must not overlap.
    Document ``d`` has length ``lengths[d]`` and ``n_coders[d]`` (at least two) coders.

    The documents are laid end to end and cut at every span and document boundary; between two
    cuts each coder holds one value. The sums are whole numbers until the last division, so
    they are exact in any order.
    """
    doc, starts, ends, value_idx = (
        np.asarray(a, dtype=np.int64) for a in (doc, starts, ends, value_idx)
    )
    lengths = np.asarray(lengths, dtype=np.int64)
    m = np.asarray(n_coders, dtype=np.int64)
    n_docs, n_values = lengths.size, len(values) + 1
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    begin, finish = starts + offsets[doc], ends + offsets[doc]
    cuts = np.unique(np.concatenate((offsets, [lengths.sum()], begin, finish)))
    widths = np.diff(cuts)
    piece_doc = np.searchsorted(offsets, cuts[:-1], side="right") - 1
    first, last = np.searchsorted(cuts, begin), np.searchsorted(cuts, finish)

    # Valued matter per piece (all coders), for the pairable lengths.
    covered = np.cumsum(
        np.bincount(first, minlength=cuts.size) - np.bincount(last, minlength=cuts.size)
    )[:-1]
    coincidences = np.zeros(n_docs * n_values * n_values)
    for lo, hi in _piece_chunks(piece_doc, n_values):
        chosen = (first >= lo) & (first < hi)
        coincidences += _chunk_coincidences(
            first[chosen] - lo,
            last[chosen] - lo,
            value_idx[chosen],
            widths[lo:hi],
            piece_doc[lo:hi],
            m[piece_doc[lo:hi]] - covered[lo:hi],
            n_docs,
            n_values,
        )
    divisor = (m - 1).astype(np.float64)
    coincidences = coincidences.reshape(n_docs, n_values, n_values) / divisor[:, None, None]

    span_lengths = ends - starts
    self_weight = np.bincount(
        doc * n_values + value_idx,
        weights=(span_lengths**2).astype(np.float64),
        minlength=n_docs * n_values,
    ).reshape(n_docs, n_values)
    # Gaps count as runs of one-character units.
    self_weight[:, 0] = m * lengths - np.bincount(doc, weights=span_lengths, minlength=n_docs)
    # Pairable length: the mean over the other coders of the overlap with their valued
    # segments, i.e. the valued matter of all coders under the segment minus the segment itself.
    valued_prefix = np.concatenate(([0], np.cumsum(covered * widths)))
    pairable = (valued_prefix[last] - valued_prefix[first] - span_lengths) / divisor[doc]
    lambda_squares = np.bincount(
        doc * (n_values - 1) + value_idx - 1,
        weights=pairable**2,
        minlength=n_docs * (n_values - 1),
    ).reshape(n_docs, n_values - 1)
    return FamilyParts(
        values=tuple(values),
        coincidences=coincidences,
        total=(m * lengths).astype(np.float64),
        self_weight=self_weight,
        lambda_squares=lambda_squares,
    )


_CHUNK_CELLS = 4_000_000  # pieces x values held at once: bounds memory for large codebooks


def _piece_chunks(piece_doc: np.ndarray, n_values: int) -> list[tuple[int, int]]:
    """Ranges of pieces, cut at document boundaries, each small enough to tabulate densely."""
    size = max(1, _CHUNK_CELLS // n_values)
    doc_starts = np.flatnonzero(np.concatenate(([True], piece_doc[1:] != piece_doc[:-1])))
    bounds, lo = [], 0
    while lo < piece_doc.size:
        # The first document boundary at or after lo + size (a long document stays whole).
        at = np.searchsorted(doc_starts, lo + size)
        hi = int(doc_starts[at]) if at < doc_starts.size else piece_doc.size
        bounds.append((lo, hi))
        lo = hi
    return bounds


def _chunk_coincidences(
    first: np.ndarray,
    last: np.ndarray,
    value_idx: np.ndarray,
    widths: np.ndarray,
    piece_doc: np.ndarray,
    gap_count: np.ndarray,
    n_docs: int,
    n_values: int,
) -> np.ndarray:
    """``sum over pieces of width * (n_a n_b - [a = b] n_a)`` per document and value pair, flat.

    ``n_v`` is how many coders hold value ``v`` on the piece; only the values present on a piece
    are paired, so the work grows with the coders per piece, not with the codebook squared.
    """
    n_pieces = widths.size
    change = np.bincount(first * n_values + value_idx, minlength=(n_pieces + 1) * n_values)
    change -= np.bincount(last * n_values + value_idx, minlength=(n_pieces + 1) * n_values)
    counts = np.cumsum(change.reshape(n_pieces + 1, n_values), axis=0)[:-1]
    counts[:, 0] = gap_count
    piece, value = np.nonzero(counts)
    count = counts[piece, value]
    per_piece = np.bincount(piece, minlength=n_pieces)
    entry_start = np.cumsum(per_piece) - per_piece
    partners = per_piece[piece]
    a = np.repeat(np.arange(piece.size), partners)
    b = np.repeat(entry_start[piece] - (np.cumsum(partners) - partners), partners) + np.arange(
        a.size
    )
    pa = piece[a]
    weight = widths[pa] * count[a] * (count[b] - (value[a] == value[b]))
    index = (piece_doc[pa] * n_values + value[a]) * n_values + value[b]
    return np.bincount(index, weights=weight.astype(np.float64), minlength=n_docs * n_values**2)


def _validated(
    spans: list, length: int, coders: list[Hashable], values: tuple[Hashable, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Starts, ends and value indices (1..V) of the spans, after checking bounds, coders,
    values and that no coder's spans overlap."""
    coder_at = {c: i for i, c in enumerate(coders)}
    value_at = {v: i + 1 for i, v in enumerate(values)}
    by_coder: dict[Hashable, list[tuple[int, int, Hashable]]] = {c: [] for c in coders}
    for coder, start, end, value in spans:
        if coder not in coder_at:
            raise ValueError(f"Span by {coder!r}, who is not among the coders.")
        if value not in value_at:
            raise ValueError(f"Span value {value!r} is not among the values.")
        if not 0 <= start < end <= length:
            raise ValueError(f"Span [{start}, {end}) is empty or outside [0, {length}).")
        by_coder[coder].append((int(start), int(end), value))
    rows = []
    for coder in coders:
        ordered = sorted(by_coder[coder], key=lambda s: (s[0], s[1]))
        reach: tuple[int, int, Hashable] | None = None
        for span in ordered:
            if reach is not None and span[0] < reach[1]:
                raise ValueError(
                    f"Coder {coder!r} has overlapping spans [{reach[0]}, {reach[1]}) "
                    f"{reach[2]!r} and [{span[0]}, {span[1]}) {span[2]!r}; one coder's spans "
                    "must not overlap."
                )
            if reach is None or span[1] > reach[1]:
                reach = span
            rows.append((span[0], span[1], value_at[span[2]]))
    table = np.array(rows, dtype=np.int64).reshape(-1, 3)
    return table[:, 0], table[:, 1], table[:, 2]


def stack_parts(parts: Sequence[FamilyParts]) -> FamilyParts:
    """Per-document parts stacked along a leading document axis (for the bootstrap)."""
    if not parts:
        raise ValueError("Nothing to stack.")
    values = parts[0].values
    if any(p.values != values for p in parts):
        raise ValueError("Only parts over the same values can be stacked.")
    return FamilyParts(
        values=values,
        coincidences=np.stack([p.coincidences for p in parts]),
        total=np.stack([p.total for p in parts]),
        self_weight=np.stack([p.self_weight for p in parts]),
        lambda_squares=np.stack([p.lambda_squares for p in parts]),
    )


def pool_parts(parts: Iterable[FamilyParts]) -> FamilyParts:
    """The sum of several documents' parts: the pooled corpus."""
    parts = list(parts)
    if not parts:
        raise ValueError("Nothing to pool.")
    pooled = parts[0]
    for p in parts[1:]:
        pooled = pooled + p
    return pooled


def family_from_parts(parts: FamilyParts) -> dict:
    """The family from (pooled) parts; stacked parts are pooled over their document axis.

    Same keys as :func:`unitizing_alpha_2016`; ``ku_alpha`` has an entry for every value of
    ``parts``, ``None`` for a value without pairable matter.
    """
    stacked = parts.coincidences.ndim == 3
    pooled = _weighted(parts, np.ones((1, parts.coincidences.shape[0])) if stacked else None)
    terms = _terms(pooled)
    total, relevant = float(pooled.total[0]), float(pooled.valued_block[0].sum())
    return {
        "u_alpha": _alpha(*terms["u_alpha"]),
        "bu_alpha": _alpha(*terms["bu_alpha"]),
        "cu_alpha": _alpha(*terms["cu_alpha"]),
        "ku_alpha": {v: _alpha(*t) for v, t in terms["ku_alpha"].items()},
        "coverage": relevant / total if total > 0 else None,
    }


def family_resampled(stacked: FamilyParts, weights: np.ndarray) -> dict:
    """``(observed, expected)`` arrays per resample for each coefficient of the family.

    ``weights[r, d]`` is how often document ``d`` was drawn in resample ``r``; the coefficient of
    a resample is ``1 - observed / expected`` (``ku_alpha`` maps each value to such a pair, and
    ``coverage`` is given the same form), ready for :func:`corpus.interval`. Undefined resamples
    hold non-finite or non-positive ``expected``.
    """
    if stacked.coincidences.ndim != 3:
        raise ValueError("Resampling needs parts stacked per document.")
    return _terms(_weighted(stacked, np.asarray(weights, dtype=np.float64)))


def _weighted(parts: FamilyParts, weights: np.ndarray | None) -> FamilyParts:
    """Parts with a leading resample axis: weighted sums of stacked parts, or one row as is."""

    def combine(array: np.ndarray) -> np.ndarray:
        array = np.asarray(array, dtype=np.float64)
        if weights is None:
            return array[None, ...]
        return np.tensordot(weights, array, axes=(1, 0))

    return FamilyParts(
        values=parts.values,
        coincidences=combine(parts.coincidences),
        total=combine(parts.total),
        self_weight=combine(parts.self_weight),
        lambda_squares=combine(parts.lambda_squares),
    )


def _terms(parts: FamilyParts) -> dict:
    """Observed and expected disagreements, each an array over the leading resample axis.

    Disagreements are sums of off-diagonal cells, never totals minus diagonals, so that "no
    disagreement" and "no variation" come out as exact zeros.
    """
    observed, total = parts.coincidences, parts.total
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = observed.sum(axis=2)
        scale = total / (total**2 - parts.self_weight.sum(axis=1))
        expected = scale[:, None, None] * (_outer(margin) - _diag(parts.self_weight))
        result = {
            "u_alpha": (_off(observed).sum(axis=(1, 2)), _off(expected).sum(axis=(1, 2))),
            "bu_alpha": (observed[:, 0, 1:].sum(axis=1), expected[:, 0, 1:].sum(axis=1)),
        }

        star = parts.valued_block
        star_total = star.sum(axis=(1, 2))
        star_margin = star.sum(axis=1)
        squares = parts.lambda_squares
        denominator = star_total - squares.sum(axis=1) / star_total
        star_expected = (_outer(star_margin) - _diag(squares)) / denominator[:, None, None]
        result["cu_alpha"] = (_off(star).sum(axis=(1, 2)), _off(star_expected).sum(axis=(1, 2)))

        # (k)cu-alpha = 1 - (e*.k / l*.k) (l*.k - l*kk) / (e*.k - e*kk); it is 1 when value k
        # met no other value, and undefined when k has no pairable matter at all.
        k_observed = star_expected.sum(axis=1) * _off(star).sum(axis=1)
        k_expected = star_margin * _off(star_expected).sum(axis=1)
        perfect = (star_margin > 0) & (_off(star).sum(axis=1) == 0)
        k_observed = np.where(perfect, 0.0, np.where(star_margin > 0, k_observed, np.nan))
        k_expected = np.where(perfect, 1.0, np.where(star_margin > 0, k_expected, np.nan))
        result["ku_alpha"] = {
            v: (k_observed[:, i], k_expected[:, i]) for i, v in enumerate(parts.values)
        }
        result["coverage"] = (total - star_total, total)
    return result


def _outer(margins: np.ndarray) -> np.ndarray:
    return margins[:, :, None] * margins[:, None, :]


def _diag(rows: np.ndarray) -> np.ndarray:
    return rows[:, :, None] * np.eye(rows.shape[1])


def _off(matrices: np.ndarray) -> np.ndarray:
    """The matrices with their diagonals set to zero."""
    return np.where(np.eye(matrices.shape[1], dtype=bool), 0.0, matrices)


def _alpha(observed: np.ndarray, expected: np.ndarray) -> float | None:
    o, e = float(observed[0]), float(expected[0])
    if not (np.isfinite(o) and np.isfinite(e)) or e <= 0:
        return None
    return 1.0 - o / e
