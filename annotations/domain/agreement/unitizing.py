"""Krippendorff's alpha for unitizing (alpha_U), and the interval arithmetic it is built from.

Follows Krippendorff (1995, 2004 sec. 11.6) as DKPro Agreement's
``KrippendorffAlphaUnitizingAgreement`` implements it; :func:`unitized_components` gives the
pieces the corpus report pools and bootstraps.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class UnitizedComponents:
    """One code's observed and expected disagreement, and how many spans were merged."""

    observed: float
    expected: float
    merges: int

    @property
    def alpha(self) -> float | None:
        return None if self.expected == 0 else 1.0 - self.observed / self.expected


def unitized_alpha(
    spans: Iterable[tuple[Hashable, int, int, Hashable]],
    length: int,
    code: Hashable | None = None,
    coders: Sequence[Hashable] | None = None,
) -> float | None:
    """Krippendorff's alpha_U for spans ``(coder, start, end, code)`` on ``[0, length)``.

    With ``code`` only that code counts; otherwise the codes are pooled as
    ``1 - sum D_o(c) / sum D_e(c)``. ``coders`` must list every coder, including those who
    marked nothing (default: the coders that appear in ``spans``).
    """
    spans = list(spans)
    coder_list = _coder_list(spans, coders)
    if len(coder_list) < 2:
        return None
    codes = None if code is None else [code]
    parts = unitized_components(spans, length, coders=coder_list, codes=codes).values()
    expected = sum(p.expected for p in parts)
    if expected == 0:
        return None
    return 1.0 - sum(p.observed for p in parts) / expected


def unitized_components(
    spans: Iterable[tuple[Hashable, int, int, Hashable]],
    length: int,
    *,
    coders: Sequence[Hashable] | None = None,
    codes: Sequence[Hashable] | None = None,
) -> dict[Hashable, UnitizedComponents]:
    """``D_o``, ``D_e`` and merge count per code (default: every code in ``spans``).

    Same-code overlapping spans of one coder are merged into their union first; spans that
    only touch (one ends where the next begins) stay separate units, as in DKPro.
    """
    spans = list(spans)
    coder_list = _coder_list(spans, coders)
    if len(coder_list) < 2:
        raise ValueError("Unitizing agreement needs at least two coders.")
    if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 1:
        raise ValueError("The continuum length must be a positive whole number.")
    position = {c: i for i, c in enumerate(coder_list)}
    grouped: dict[Hashable, list[list[tuple[int, int]]]] = {}
    for coder, start, end, code in spans:
        if coder not in position:
            raise ValueError(f"Span by {coder!r}, who is not among the coders.")
        if not 0 <= start < end <= length:
            raise ValueError(f"Span [{start}, {end}) is empty or outside [0, {length}).")
        grouped.setdefault(code, [[] for _ in coder_list])[position[coder]].append((start, end))
    wanted = list(grouped) if codes is None else list(codes)
    result = {}
    for code in wanted:
        per_coder = grouped.get(code, [[] for _ in coder_list])
        arrays = [np.array(i, dtype=np.int64).reshape(-1, 2).T for i in per_coder]
        result[code] = code_components(arrays, int(length))
    return result


def _coder_list(spans: list, coders: Sequence[Hashable] | None) -> list[Hashable]:
    if coders is not None:
        return list(dict.fromkeys(coders))
    return sorted({s[0] for s in spans}, key=str)


def code_components(
    per_coder: Sequence[tuple[np.ndarray, np.ndarray]], length: int
) -> UnitizedComponents:
    """One code's components from each coder's span starts and ends on ``[0, length)``."""
    merged = []
    merges = 0
    for starts, ends in per_coder:
        starts, ends, n_merged = merge_intervals(starts, ends)
        merged.append((starts, ends))
        merges += n_merged
    r = len(merged)
    observed_sum = 0
    for i in range(r):
        for j in range(i + 1, r):
            terms_i, terms_j = unitizing_observed_terms(*merged[i], *merged[j])
            observed_sum += int(terms_i.sum()) + int(terms_j.sum())
    unit_lengths = np.concatenate([e - s for s, e in merged])
    gaps = np.concatenate([gap_lengths(s, e, 0, length) for s, e in merged])
    return UnitizedComponents(
        observed=2.0 * observed_sum / (r * (r - 1) * length * length),
        expected=float(unitizing_expected(unit_lengths, gaps, r, length)),
        merges=merges,
    )


def merge_intervals(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Sorted union of intervals ``[start, end)`` that share characters; and how many merged."""
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    if starts.size == 0:
        return starts, ends, 0
    order = np.lexsort((ends, starts))
    starts, ends = starts[order], ends[order]
    reach = np.maximum.accumulate(ends)
    # A new interval begins where nothing before it reaches past its start.
    first = np.concatenate(([True], starts[1:] >= reach[:-1]))
    heads = np.flatnonzero(first)
    tails = np.concatenate((heads[1:], [starts.size])) - 1
    return starts[heads], reach[tails], int(starts.size - heads.size)


def gap_lengths(starts: np.ndarray, ends: np.ndarray, begin: int, end: int) -> np.ndarray:
    """Lengths of the non-empty gaps around sorted disjoint intervals inside ``[begin, end)``."""
    bounds_lo = np.concatenate(([begin], ends))
    bounds_hi = np.concatenate((starts, [end]))
    gaps = bounds_hi - bounds_lo
    return gaps[gaps > 0]


def unitizing_observed_terms(
    a_starts: np.ndarray, a_ends: np.ndarray, b_starts: np.ndarray, b_ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sum of ``delta2`` over two coders' overlapping segments, split per unit.

    Both coders' units must be sorted and disjoint. Returns one term per unit of ``a`` (its
    overlaps with ``b``'s units, or ``l^2`` when it lies inside a gap of ``b``) and one per
    unit of ``b`` (``l^2`` when it lies inside a gap of ``a``, else 0, its overlaps being
    counted on ``a``'s side). Gap-gap pairs and partly overlapping unit-gap pairs add 0.
    """
    lo = np.searchsorted(b_ends, a_starts, side="right")
    hi = np.searchsorted(b_starts, a_ends, side="left")
    hits = hi - lo
    owner = np.repeat(np.arange(a_starts.size), hits)
    first = np.cumsum(hits) - hits
    partner = lo[owner] + np.arange(owner.size) - first[owner]
    delta = (a_starts[owner] - b_starts[partner]) ** 2 + (a_ends[owner] - b_ends[partner]) ** 2
    terms_a = np.bincount(owner, weights=delta, minlength=a_starts.size).astype(np.int64)
    terms_a = np.where(hits == 0, (a_ends - a_starts) ** 2, terms_a)
    b_lo = np.searchsorted(a_ends, b_starts, side="right")
    b_hi = np.searchsorted(a_starts, b_ends, side="left")
    terms_b = np.where(b_hi == b_lo, (b_ends - b_starts) ** 2, 0)
    return terms_a, terms_b


def gap_tail_sums(gaps: np.ndarray, unit_lengths: np.ndarray) -> np.ndarray:
    """``sum over gaps g >= l of (g - l + 1)`` for each unit length ``l``."""
    ordered = np.sort(np.asarray(gaps, dtype=np.int64))
    suffix = np.concatenate((np.cumsum(ordered[::-1])[::-1], [0]))
    at = np.searchsorted(ordered, unit_lengths, side="left")
    return suffix[at] - (unit_lengths - 1) * (ordered.size - at)


def unitizing_expected(
    unit_lengths: np.ndarray, gaps: np.ndarray, n_coders: int, length: int
) -> float:
    """``D_e`` of one code: Krippendorff (2004) as restated in AGREEMENT.md, step 4."""
    lengths = np.asarray(unit_lengths, dtype=np.int64)
    if lengths.size == 0:
        return 0.0
    lf = lengths.astype(np.float64)
    shapes = (2 * lf**3 - 3 * lf**2 + lf) / 3.0
    tails = gap_tail_sums(gaps, lengths).astype(np.float64)
    total = (lengths.size - 1) * shapes.sum() + float(lf**2 @ tails)
    rl = n_coders * length
    denominator = rl * (rl - 1) - int((lengths * (lengths - 1)).sum())
    return float(2.0 * total / (length * denominator))
