"""Agreement coefficients for coding: Krippendorff's alpha, Cohen's and Fleiss' kappa, Scott's pi.

Exactly as defined in ``AGREEMENT.md``. Every public coefficient returns a ``float``, or
``None`` where the coefficient is undefined: no pairable values, no variation (``D_e == 0`` or
``p_e == 1``), or empty input.

Missing values are ``None`` (a float ``NaN`` counts as missing too). For the two-coder
coefficients (:func:`cohen_kappa`, :func:`scott_pi`) a unit where either coder is missing is
dropped before anything is counted.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
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
    grouped = _small_integer_patterns(data)
    if grouped is not None:
        counts, multiplicity, values = grouped
    else:
        codes, values = _encode(data, numeric=level != "nominal")
        counts, multiplicity = _value_counts(np.asarray(codes, dtype=np.int64), len(values))
    if level == "ratio" and values.size and values.min() < 0:
        raise ValueError("Ratio-level values must not be negative.")
    return alpha_from_coincidences(_coincidences(counts, multiplicity), values, level)


def coincidence_matrix(codes: np.ndarray, n_categories: int) -> np.ndarray:
    """The coincidence matrix ``o`` of a coder x unit matrix of category indices (-1 = missing).

    ``o[c, k] = sum over units of (n_uc n_uk - [c == k] n_uc) / (m_u - 1)``, units with fewer
    than two values dropped; one matrix product instead of a loop over units.
    """
    return _coincidences(*_value_counts(np.asarray(codes, dtype=np.int64), n_categories))


def _coincidences(counts: np.ndarray, multiplicity: np.ndarray) -> np.ndarray:
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


_PATTERN_LIMIT = 1 << 20  # distinct (value per coder) tuples tabulated at once


def _small_integer_patterns(data: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`_value_counts` straight from a numeric coder x unit array of small whole numbers
    (``NaN`` missing), the common large input: each unit's tuple of values is read as one
    number without first building a matrix of category indices. ``None`` when the array is
    not of that kind (the general path then handles it)."""
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.dtype.kind not in "biuf":
        return None
    matrix = data.astype(np.float64, copy=False)
    if matrix.size == 0:
        return None
    low, high = np.fmin.reduce(matrix, axis=None), np.fmax.reduce(matrix, axis=None)
    n_coders, n_units = matrix.shape
    base = high - low + 2  # digit 0 stands for "missing"
    if not np.isfinite(base) or base**n_coders > _PATTERN_LIMIT:
        return None  # all missing, infinite, or too many distinct tuples
    base = int(base)
    # Row by row into reused buffers: fresh full-size temporaries would cost more than the sums.
    key, digits, whole = np.zeros(n_units), np.empty(n_units), np.empty(n_units)
    for row in matrix:
        np.subtract(row, low - 1.0, out=digits)
        # Values give digits of 1 or more; NaN (missing) becomes 0, as fmax ignores NaN. (A
        # masked copy did the same at ten times the cost.)
        np.fmax(digits, 0.0, out=digits)
        if not np.array_equal(digits, np.rint(digits, out=whole)):
            return None
        key *= base
        key += digits  # whole numbers below 2**20: exact in a float
    frequency = np.bincount(key.astype(np.int64), minlength=base**n_coders)
    patterns = np.flatnonzero(frequency)
    counts = np.zeros((patterns.size, base - 1), dtype=np.float64)
    rest = patterns.copy()
    for _ in range(n_coders):
        digit = rest % base - 1
        rest //= base
        present = digit >= 0
        counts[np.flatnonzero(present), digit[present]] += 1.0
    used = counts.sum(axis=0) > 0  # values between low and high that nobody gave are no category
    values = np.arange(base - 1, dtype=np.float64)[used] + low
    return counts[:, used], frequency[patterns].astype(np.float64), values


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
