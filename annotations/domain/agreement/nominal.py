"""Nominal coefficients of the corpus report: one binary variable per code on the units.

Per-document sums (coincidences, Fleiss sums, per-coder and per-pair counts) are pooled by
adding, so the point estimate and every bootstrap resample come from the same counts.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from annotations.domain.agreement.coefficients import (
    alpha_from_coincidences,
    fleiss_kappa_from_sums,
)
from annotations.domain.agreement.corpus import Corpus, interval
from annotations.domain.agreement.result import Estimate
from annotations.domain.agreement.unitizing import merge_intervals


class NominalParts:
    """One code's per-document counts: coincidences, Fleiss sums, per-coder and pair sums."""

    def __init__(self, corpus: Corpus, code: int) -> None:
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


def _covered_units(corpus: Corpus, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """1 for each unit sharing a character with one of the (disjoint, sorted) intervals."""
    first = np.searchsorted(corpus.unit_end, starts, side="right")
    stop = np.searchsorted(corpus.unit_start, ends, side="left")
    n = corpus.unit_start.size
    marks = np.bincount(first, minlength=n + 1) - np.bincount(stop, minlength=n + 1)
    return (np.cumsum(marks[:n]) > 0).astype(np.int64)


def nominal_summary(
    parts: list[NominalParts], weights: np.ndarray, n_coders: int | None
) -> dict[str, Estimate]:
    """Nominal alpha (with its interval), Fleiss' kappa and prevalence of the pooled parts."""
    if not parts:
        nothing = "undefined: no units were coded"
        empty = interval(np.zeros(weights.shape[0]), np.zeros(weights.shape[0]), n_docs=0)
        return {
            "alpha_nominal": Estimate(None, empty, nothing),
            "fleiss_kappa": Estimate(None, None, nothing),
            "prevalence": Estimate(None, None, nothing),
        }
    coincidence = sum(p.coincidence.sum(axis=0) for p in parts)
    resampled = sum(weights @ p.coincidence for p in parts)
    values = sum(int(p.values.sum()) for p in parts)
    ones = sum(int(p.ones.sum()) for p in parts)
    fleiss, fleiss_reason = None, ""
    if n_coders is None:
        fleiss_reason = "not applicable: documents differ in their number of coders"
    elif values:
        fleiss = fleiss_kappa_from_sums(
            sum_squares=sum(int(p.sum_squares.sum()) for p in parts),
            n_units=values // n_coders,
            n_coders=n_coders,
            totals=[values - ones, ones],
        )
    alpha = _binary_alpha(coincidence) if values else None
    no_data = "undefined: no units were coded" if not values else ""
    no_variation = "undefined: no variation (every unit has the same value)"
    return {
        "alpha_nominal": Estimate(
            alpha,
            interval(*binary_alpha_parts(resampled), n_docs=weights.shape[1]),
            "" if alpha is not None else (no_data or no_variation),
        ),
        "fleiss_kappa": Estimate(
            fleiss, None, "" if fleiss is not None else (fleiss_reason or no_data or no_variation)
        ),
        "prevalence": Estimate(ones / values if values else None, None, no_data),
    }


def _binary_alpha(o: np.ndarray) -> float | None:
    o00, o01, o11 = (float(x) for x in o)
    return alpha_from_coincidences(np.array([[o00, o01], [o01, o11]]))


def binary_alpha_parts(o: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observed and expected disagreement (up to a common factor) for many 2x2 matrices."""
    o = np.atleast_2d(o)
    n0, n1 = o[:, 0] + o[:, 1], o[:, 2] + o[:, 1]
    n = n0 + n1
    return (n - 1) * 2 * o[:, 1], 2 * n0 * n1
