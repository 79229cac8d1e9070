"""Pairwise span F1: exact matching and one-to-one overlap matching of two coders' spans."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable

import numpy as np


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
    ia, ib = ia[ranked], ib[ranked]
    # A candidate that shares neither of its spans with another candidate is always taken;
    # only the contested ones need the greedy pass, in rank order.
    taken = (np.bincount(ia, minlength=len(a))[ia] == 1) & (
        np.bincount(ib, minlength=len(b))[ib] == 1
    )
    used_a = np.zeros(len(a), dtype=bool)
    used_b = np.zeros(len(b), dtype=bool)
    contested = np.flatnonzero(~taken)
    for k, x, y in zip(
        contested.tolist(), ia[contested].tolist(), ib[contested].tolist(), strict=True
    ):
        if not used_a[x] and not used_b[y]:
            used_a[x] = used_b[y] = True
            taken[k] = True
    return list(zip(ia[taken].tolist(), order[ib[taken]].tolist(), strict=True))
