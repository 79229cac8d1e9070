"""Inter-coder agreement coefficients, exactly as defined in ``AGREEMENT.md``.

Every public coefficient returns a ``float``, or ``None`` where the coefficient is undefined:
no pairable values, no variation (``D_e == 0`` or ``p_e == 1``), or empty input. Researchers
publish these numbers, so each one is tested against a published worked example and an
independent reference implementation (``krippendorff``, scikit-learn, statsmodels, DKPro).

Missing values are ``None`` (a float ``NaN`` counts as missing too). For the two-coder
coefficients (:func:`cohen_kappa`, :func:`scott_pi`) a unit where either coder is missing is
dropped before anything is counted.

Unitizing (:func:`unitized_alpha`) follows Krippendorff (1995, 2004 sec. 11.6) as DKPro
Agreement's ``KrippendorffAlphaUnitizingAgreement`` implements it; see
:func:`unitized_components` for the pieces the corpus report pools and bootstraps.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

LEVELS = ("nominal", "ordinal", "interval", "ratio")

# ---------------------------------------------------------------------------------------------
# Krippendorff's alpha for coding (Krippendorff 2011, coincidence-matrix form)
# ---------------------------------------------------------------------------------------------


def krippendorff_alpha(data: Any, level: str = "nominal") -> float | None:
    """Krippendorff's alpha for ``data[coder][unit]`` at the given level of measurement.

    ``data`` is a sequence of coders, each a sequence of values for the same units, or a
    2-D numeric array with ``NaN`` for missing values (the fast path for large data).
    """
    if level not in LEVELS:
        raise ValueError(f"Unknown level {level!r}; use one of {', '.join(LEVELS)}.")
    codes, values = _encode(data, numeric=level != "nominal")
    if level == "ratio" and values.size and values.min() < 0:
        raise ValueError("Ratio-level values must not be negative.")
    return alpha_from_coincidences(coincidence_matrix(codes, len(values)), values, level)


def coincidence_matrix(codes: np.ndarray, n_categories: int) -> np.ndarray:
    """The coincidence matrix ``o`` of a coder x unit matrix of category indices (-1 = missing).

    ``o[c, k] = sum over units of (n_uc n_uk - [c == k] n_uc) / (m_u - 1)``, units with fewer
    than two values dropped; one matrix product instead of a loop over units.
    """
    counts, multiplicity = _value_counts(np.asarray(codes, dtype=np.int64), n_categories)
    pairable = counts.sum(axis=1)
    with np.errstate(divide="ignore"):
        weight = np.where(pairable >= 2, multiplicity / (pairable - 1.0), 0.0)
    weighted = counts * weight[:, None]
    return weighted.T @ counts - np.diag(weighted.sum(axis=0))


def _value_counts(codes: np.ndarray, n_categories: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct per-unit value-count rows (units x categories) and how many units share each.

    Few coders and categories allow few distinct rows, so units are first grouped by the
    tuple of values they received: a million units then cost a handful of array passes.
    """
    n_coders, n_units = codes.shape
    base = n_categories + 1
    if base**n_coders > 1 << 20:
        counts = np.zeros((n_units, n_categories), dtype=np.float64)
        flat = counts.reshape(-1)
        offsets = np.arange(n_units) * n_categories
        for row in codes:  # a coder gives each unit at most one value
            present = row >= 0
            flat[offsets[present] + row[present]] += 1.0
        return counts, np.ones(n_units)
    key = np.zeros(n_units, dtype=np.int64)
    for row in codes:
        key = key * base + (row + 1)
    frequency = np.bincount(key, minlength=base**n_coders)
    patterns = np.flatnonzero(frequency)
    counts = np.zeros((patterns.size, n_categories), dtype=np.float64)
    rest = patterns.copy()
    for _ in range(n_coders):
        digit = rest % base - 1
        rest //= base
        present = digit >= 0
        counts[np.flatnonzero(present), digit[present]] += 1.0
    return counts, frequency[patterns].astype(np.float64)


def alpha_from_coincidences(
    o: np.ndarray, values: np.ndarray | None = None, level: str = "nominal"
) -> float | None:
    """Alpha from a coincidence matrix over categories whose (sorted) values are ``values``."""
    o = np.asarray(o, dtype=np.float64)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if n <= 1:
        return None
    delta = _delta(n_c, values, level)
    expected = float(n_c @ delta @ n_c)
    if expected <= 0:
        return None
    return 1.0 - (n - 1.0) * float((o * delta).sum()) / expected


def _delta(n_c: np.ndarray, values: np.ndarray | None, level: str) -> np.ndarray:
    k = len(n_c)
    if level == "nominal":
        return 1.0 - np.eye(k)
    if values is None:
        raise ValueError(f"The {level} level needs the category values.")
    v = np.asarray(values, dtype=np.float64)
    if level == "interval":
        return (v[:, None] - v[None, :]) ** 2
    if level == "ratio":
        total = v[:, None] + v[None, :]
        diff = v[:, None] - v[None, :]
        # Equal values are at distance 0, including 0 against 0 where the ratio is 0/0.
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(diff == 0, 0.0, (diff / total) ** 2)
    if level == "ordinal":
        cum = np.cumsum(n_c)
        lo = np.minimum.outer(np.arange(k), np.arange(k))
        hi = np.maximum.outer(np.arange(k), np.arange(k))
        between = cum[hi] - cum[lo] + n_c[lo]
        return (between - (n_c[:, None] + n_c[None, :]) / 2.0) ** 2
    raise ValueError(f"Unknown level {level!r}.")


def _encode(data: Any, *, numeric: bool) -> tuple[np.ndarray, np.ndarray]:
    """Map values to category indices (-1 = missing); return them and the sorted categories."""
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        matrix = data.astype(np.float64, copy=False)
    else:
        rows = [list(row) for row in data]
        if len({len(row) for row in rows}) > 1:
            raise ValueError("Every coder needs a value (or None) for every unit.")
        flat = [v for row in rows for v in row]
        if all(_is_missing(v) or _is_number(v) for v in flat):
            matrix = np.array(
                [[np.nan if _is_missing(v) else float(v) for v in row] for row in rows],
                dtype=np.float64,
            ).reshape(len(rows), -1)
        elif numeric:
            raise ValueError("Ordinal, interval and ratio levels need numeric values.")
        else:
            return _encode_labels(rows)
    if matrix.ndim != 2:
        raise ValueError("Expected data[coder][unit].")
    present = ~np.isnan(matrix)
    values, inverse = _unique_inverse(matrix[present])
    codes = np.full(matrix.shape, -1, dtype=np.int64)
    codes[present] = inverse
    return codes, values


def _encode_labels(rows: list[list[Any]]) -> tuple[np.ndarray, np.ndarray]:
    index: dict[Hashable, int] = {}
    codes = np.full((len(rows), len(rows[0]) if rows else 0), -1, dtype=np.int64)
    for i, row in enumerate(rows):
        for u, v in enumerate(row):
            if not _is_missing(v):
                codes[i, u] = index.setdefault(v, len(index))
    return codes, np.array(list(index), dtype=object)


def _unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Small integer codes are the common case; a counting pass beats np.unique's sort.
    if values.size and np.all(values == np.rint(values)):
        low = values.min()
        span = values.max() - low
        if span < 1_000_000:
            offsets = (values - low).astype(np.int64)
            seen = np.bincount(offsets, minlength=int(span) + 1) > 0
            rank = np.cumsum(seen) - 1
            return np.flatnonzero(seen) + low, rank[offsets]
    uniq, inverse = np.unique(values, return_inverse=True)
    return uniq, inverse.ravel()


def _is_missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _is_number(v: object) -> bool:
    return isinstance(v, int | float | np.integer | np.floating)


# ---------------------------------------------------------------------------------------------
# Cohen's kappa, Scott's pi (two coders), Fleiss' kappa (many coders)
# ---------------------------------------------------------------------------------------------


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float | None:
    """Cohen's (1960) kappa; units where either coder is missing (None/NaN) are dropped."""
    n, agree, ca, cb = _paired_counts(a, b)
    chance = sum(ca[c] * cb[c] for c in ca)
    return _chance_corrected(n * agree, n * n, chance)


def scott_pi(a: Sequence[Any], b: Sequence[Any]) -> float | None:
    """Scott's pi (pooled marginals); units where either coder is missing are dropped."""
    n, agree, ca, cb = _paired_counts(a, b)
    chance = sum((ca[c] + cb[c]) ** 2 for c in ca.keys() | cb.keys())
    return _chance_corrected(4 * n * agree, 4 * n * n, chance)


def _paired_counts(a: Sequence[Any], b: Sequence[Any]) -> tuple[int, int, Counter, Counter]:
    if len(a) != len(b):
        raise ValueError(f"Both coders need the same units ({len(a)} != {len(b)} values).")
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if not (_is_missing(x) or _is_missing(y))]
    return (
        len(pairs),
        sum(1 for x, y in pairs if x == y),
        Counter(x for x, _ in pairs),
        Counter(y for _, y in pairs),
    )


def _chance_corrected(observed: int, total: int, chance: int) -> float | None:
    # (p_o - p_e) / (1 - p_e) with every term over the same integer denominator, so the
    # only rounding is the final division.
    if total == 0 or chance == total:
        return None
    return (observed - chance) / (total - chance)


def fleiss_kappa(counts: Any) -> float | None:
    """Fleiss' (1971) kappa from ``counts[unit][category]`` (the same number of coders per unit)."""
    table = np.asarray(counts)
    if table.size == 0:
        return None
    if table.ndim != 2:
        raise ValueError("Expected counts[unit][category].")
    if table.dtype.kind not in "iub":
        if not np.all(table == np.rint(table)):
            raise ValueError("Counts must be whole numbers.")
        table = np.rint(table)
    table = table.astype(np.int64)
    if (table < 0).any():
        raise ValueError("Counts must not be negative.")
    per_unit = table.sum(axis=1)
    if (per_unit != per_unit[0]).any():
        raise ValueError("Fleiss' kappa needs the same number of coders for every unit.")
    return fleiss_kappa_from_sums(
        sum_squares=int((table * table).sum()),
        n_units=table.shape[0],
        n_coders=int(per_unit[0]),
        totals=[int(t) for t in table.sum(axis=0)],
    )


def fleiss_kappa_from_sums(
    *, sum_squares: int, n_units: int, n_coders: int, totals: Sequence[int]
) -> float | None:
    """Fleiss' kappa from ``sum_u sum_c counts^2``, the unit count, coders per unit and the
    category totals: all it depends on, so a corpus can be pooled by adding these up."""
    n = n_coders
    m = n_units * n
    if n < 2 or m == 0:
        return None
    agreement = sum_squares - m
    chance = sum(t * t for t in totals)
    if chance == m * m:
        return None
    # kappa = (P - P_e) / (1 - P_e), rearranged over integers (see AGREEMENT.md).
    return (agreement * m - chance * (n - 1)) / ((n - 1) * (m * m - chance))


def cohen_kappa_from_table(table: Any) -> float | None:
    """Cohen's kappa from a square table of counts, ``table[value of a][value of b]``."""
    t = np.asarray(table, dtype=np.int64)
    n = int(t.sum())
    agree = int(np.trace(t))
    chance = int(t.sum(axis=1) @ t.sum(axis=0))
    return _chance_corrected(n * agree, n * n, chance)


# ---------------------------------------------------------------------------------------------
# Krippendorff's alpha for unitizing (alpha_U)
# ---------------------------------------------------------------------------------------------


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
        result[code] = _code_components(per_coder, int(length))
    return result


def _coder_list(spans: list, coders: Sequence[Hashable] | None) -> list[Hashable]:
    if coders is not None:
        return list(dict.fromkeys(coders))
    return sorted({s[0] for s in spans}, key=str)


def _code_components(per_coder: list[list[tuple[int, int]]], length: int) -> UnitizedComponents:
    merged = []
    merges = 0
    for intervals in per_coder:
        arr = np.array(intervals, dtype=np.int64).reshape(-1, 2)
        starts, ends, n_merged = merge_intervals(arr[:, 0], arr[:, 1])
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


# ---------------------------------------------------------------------------------------------
# Pairwise span F1
# ---------------------------------------------------------------------------------------------


def span_f1(
    a: Iterable[tuple[int, int, Hashable]],
    b: Iterable[tuple[int, int, Hashable]],
    match: str = "exact",
) -> float | None:
    """F1 between two coders' spans ``(start, end, code)``: ``2 matches / (|A| + |B|)``.

    ``exact`` matches identical spans one to one; ``overlap`` pairs same-code spans sharing a
    character, one to one, greedily by largest overlap (see :func:`overlap_matches`).
    """
    a, b = list(a), list(b)
    if not a and not b:
        return None
    if match == "exact":
        matches = sum((Counter(a) & Counter(b)).values())
    elif match == "overlap":
        labels = {c: i for i, c in enumerate(dict.fromkeys(s[2] for s in a + b))}
        arr_a = np.array([(s, e, labels[c]) for s, e, c in a], dtype=np.int64).reshape(-1, 3)
        arr_b = np.array([(s, e, labels[c]) for s, e, c in b], dtype=np.int64).reshape(-1, 3)
        matches = len(overlap_matches(arr_a, arr_b))
    else:
        raise ValueError(f"Unknown match {match!r}; use 'exact' or 'overlap'.")
    return 2.0 * matches / (len(a) + len(b))


def overlap_matches(a: np.ndarray, b: np.ndarray) -> list[tuple[int, int]]:
    """One-to-one overlap matching of rows ``(start, end, code)``; returns (row a, row b) pairs.

    Candidate pairs share a code and a character. They are taken greedily by largest overlap,
    ties broken by the two spans' (start, end) in sorted order, so the result depends
    neither on input order nor on which coder is ``a``.
    """
    if len(a) == 0 or len(b) == 0:
        return []
    # Codes become disjoint stretches of one line, so a single sorted search finds candidates.
    stride = int(max(a[:, 1].max(), b[:, 1].max())) + 1
    a_s, a_e = a[:, 0] + a[:, 2] * stride, a[:, 1] + a[:, 2] * stride
    order = np.argsort(b[:, 0] + b[:, 2] * stride, kind="stable")
    b_s, b_e = (b[order, 0] + b[order, 2] * stride), (b[order, 1] + b[order, 2] * stride)
    longest = int((b_e - b_s).max())
    lo = np.searchsorted(b_s, a_s - longest, side="right")
    hi = np.searchsorted(b_s, a_e, side="left")
    hits = hi - lo
    ia = np.repeat(np.arange(len(a)), hits)
    ib = lo[ia] + np.arange(ia.size) - (np.cumsum(hits) - hits)[ia]
    keep = b_e[ib] > a_s[ia]
    ia, ib = ia[keep], ib[keep]
    overlap = np.minimum(a_e[ia], b_e[ib]) - np.maximum(a_s[ia], b_s[ib])
    a_first = (a_s[ia] < b_s[ib]) | ((a_s[ia] == b_s[ib]) & (a_e[ia] <= b_e[ib]))
    low_s = np.where(a_first, a_s[ia], b_s[ib])
    low_e = np.where(a_first, a_e[ia], b_e[ib])
    high_s = np.where(a_first, b_s[ib], a_s[ia])
    high_e = np.where(a_first, b_e[ib], a_e[ia])
    ranked = np.lexsort((high_e, high_s, low_e, low_s, -overlap))
    used_a = np.zeros(len(a), dtype=bool)
    used_b = np.zeros(len(b), dtype=bool)
    pairs = []
    for x, y in zip(ia[ranked].tolist(), ib[ranked].tolist(), strict=True):
        if not used_a[x] and not used_b[y]:
            used_a[x] = used_b[y] = True
            pairs.append((x, int(order[y])))
    return pairs
