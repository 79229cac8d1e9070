"""Coder pairs in the corpus report: Cohen's kappa on units and span F1, per pair of coders."""

from __future__ import annotations

from itertools import combinations

import numpy as np

from annotations.domain.agreement.coefficients import cohen_kappa_from_table
from annotations.domain.agreement.corpus import Corpus
from annotations.domain.agreement.nominal import NominalParts
from annotations.domain.agreement.span_match import overlap_matches


def coder_pairs(corpus: Corpus, nominal: list[NominalParts]) -> dict:
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
        exact_by_code = _exact_matches_by_code(a_rows, b_rows, n_codes)
        matched = np.array([x for x, _ in overlap_matches(a_rows, b_rows)], dtype=np.int64)
        overlap_by_code = np.bincount(a_rows[matched, 2], minlength=n_codes)
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


def _pair_spans(corpus: Corpus, coder: int, shared: np.ndarray) -> np.ndarray:
    chosen = (corpus.span_coder == coder) & shared[corpus.span_doc]
    return np.stack(
        [corpus.span_start[chosen], corpus.span_end[chosen], corpus.span_code[chosen]], axis=1
    )


def _exact_matches_by_code(a: np.ndarray, b: np.ndarray, n_codes: int) -> np.ndarray:
    """Identical rows matched one to one (a multiset intersection), counted per code."""
    rows = np.concatenate((a, b))
    if len(rows) == 0:
        return np.zeros(n_codes, dtype=np.int64)
    side = np.concatenate((np.zeros(len(a), np.int64), np.ones(len(b), np.int64)))
    order = np.lexsort((rows[:, 1], rows[:, 0], rows[:, 2]))
    rows, side = rows[order], side[order]
    new_group = np.concatenate(([True], (rows[1:] != rows[:-1]).any(axis=1)))
    group = np.cumsum(new_group) - 1
    from_b = np.bincount(group, weights=side).astype(np.int64)
    from_a = np.bincount(group).astype(np.int64) - from_b
    code = rows[new_group, 2]
    return np.bincount(code, weights=np.minimum(from_a, from_b), minlength=n_codes).astype(np.int64)


def _f1(matches: int, sizes: int) -> float | None:
    return None if sizes == 0 else 2.0 * float(matches) / float(sizes)
