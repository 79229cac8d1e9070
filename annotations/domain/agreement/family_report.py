"""The 2016 unitizing family in the corpus report: per-code layers and the all-codes layer.

Each code is its own layer (code vs gap): a coder's overlapping spans of one code are merged
first, as for the 2004 alpha_U, so the layer is a partition of the text. "All codes" treats
the codes as the values of one layer, which needs every coder's spans of different codes to
be disjoint; where they are not, it is not applicable and says why. Parts are computed per
document (each with its own coders) and pooled by adding, so every document with two or more
finished coders counts, and the bootstrap reweights the same parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotations.domain.agreement.corpus import Corpus, interval
from annotations.domain.agreement.family import (
    documents_parts,
    family_from_parts,
    family_resampled,
)
from annotations.domain.agreement.result import Estimate
from annotations.domain.agreement.unitizing import merge_intervals

NO_DOCUMENTS = "undefined: no document has two or more coders who finished it"


@dataclass(frozen=True)
class Segments:
    """Every coder's spans with one coder's same-code overlaps merged, as flat arrays in
    document, coder, code, start order; offsets local to the document."""

    doc: np.ndarray
    coder: np.ndarray
    code: np.ndarray
    start: np.ndarray
    end: np.ndarray


def merged_segments(corpus: Corpus) -> Segments:
    # Each (coder, code) group is moved to its own stretch of the line, past the corpus's end,
    # so one sorted merge handles all groups and never joins two of them.
    stride = int(corpus.lengths.sum()) + 1
    group = corpus.span_code * len(corpus.coders) + corpus.span_coder
    start, end, _ = merge_intervals(
        corpus.span_start + group * stride, corpus.span_end + group * stride
    )
    group = start // stride
    start, end = start - group * stride, end - group * stride
    doc = corpus.doc_of(start)
    code, coder = np.divmod(group, len(corpus.coders))
    order = np.lexsort((start, code, coder, doc))
    offset = corpus.offsets[doc]
    return Segments(
        doc[order], coder[order], code[order], (start - offset)[order], (end - offset)[order]
    )


def overlapping_documents(segments: Segments) -> list[int]:
    """Documents where a coder's spans of different codes share characters."""
    if segments.doc.size == 0:
        return []
    # One stretch per (document, coder); a segment starting before the furthest end so far in
    # its stretch overlaps an earlier one.
    stride = int(segments.end.max()) + 1
    key = segments.doc * (int(segments.coder.max()) + 1) + segments.coder
    start, end = segments.start + key * stride, segments.end + key * stride
    order = np.lexsort((end, start))
    start, end = start[order], end[order]
    reach = np.maximum.accumulate(end)
    clash = np.flatnonzero(start[1:] < reach[:-1]) + 1
    return sorted(set(segments.doc[order][clash].tolist()))


class FamilyLayer:
    """Per-document family parts for the values ``codes`` (indices into the corpus's codes)."""

    def __init__(self, corpus: Corpus, segments: Segments, codes: list[int]) -> None:
        self.codes = codes
        value_of = np.zeros(len(corpus.codes), dtype=np.int64)
        value_of[codes] = np.arange(1, len(codes) + 1)
        chosen = value_of[segments.code] > 0
        self.stacked = (
            documents_parts(
                segments.doc[chosen],
                segments.start[chosen],
                segments.end[chosen],
                value_of[segments.code[chosen]],
                corpus.lengths,
                corpus.doc_r,
                codes,
            )
            if corpus.n_docs
            else None
        )

    def estimates(self, weights: np.ndarray, n_docs: int) -> dict[str, Estimate]:
        if self.stacked is None:
            return {}
        point = family_from_parts(self.stacked)
        resampled = family_resampled(self.stacked, weights) if weights.size else None

        def estimate(name: str, value, pair) -> Estimate:
            ci = interval(*pair, n_docs=n_docs) if resampled is not None else None
            reason = "" if value is not None else "undefined: no variation to compare"
            return Estimate(value, ci, reason)

        result = {}
        for name in ("u_alpha", "bu_alpha", "cu_alpha"):
            pair = resampled[name] if resampled is not None else (np.zeros(0), np.zeros(0))
            result[name] = estimate(name, point[name], pair)
        result["coverage"] = Estimate(point["coverage"], None, "")
        result["ku_alpha"] = {
            code: estimate(
                "ku_alpha",
                point["ku_alpha"][code],
                resampled["ku_alpha"][code] if resampled is not None else (np.zeros(0),) * 2,
            )
            for code in self.codes
        }
        return result


def family_estimates(
    corpus: Corpus, used: list[int], weights: np.ndarray
) -> tuple[dict[int, Estimate], dict[str, Estimate], dict[int, Estimate], list[int]]:
    """uα per code; the all-codes layer (uα, |uα, cuα, coverage) and (k)cuα per used code;
    and the documents where codes overlap (which make the all-codes layer not applicable)."""
    n_codes = len(corpus.codes)
    if corpus.n_docs == 0:
        nothing = Estimate(None, None, NO_DOCUMENTS)
        overall = dict.fromkeys(("u_alpha", "bu_alpha", "cu_alpha", "coverage"), nothing)
        return dict.fromkeys(range(n_codes), nothing), overall, {}, []
    segments = merged_segments(corpus)
    per_code = {}
    for c in range(n_codes):
        per_code[c] = FamilyLayer(corpus, segments, [c]).estimates(weights, corpus.n_docs)[
            "u_alpha"
        ]
    overlaps = overlapping_documents(segments)
    if overlaps:
        ids = [corpus.docs[d].id for d in overlaps]
        shown = ", ".join(map(str, ids[:10])) + (" …" if len(ids) > 10 else "")
        reason = (
            f"not applicable: a coder's spans of different codes overlap in {len(ids)} "
            f"document{'s' if len(ids) != 1 else ''} ({shown}), so the codes are not one "
            "partition of the text; see each code's own uα"
        )
        na = Estimate(None, None, reason)
        overall = dict.fromkeys(("u_alpha", "bu_alpha", "cu_alpha", "coverage"), na)
        return per_code, overall, dict.fromkeys(used, na), overlaps
    if not used:
        na = Estimate(None, None, "undefined: no code was used in the counted documents")
        overall = dict.fromkeys(("u_alpha", "bu_alpha", "cu_alpha", "coverage"), na)
        return per_code, overall, {}, []
    layer = FamilyLayer(corpus, segments, used).estimates(weights, corpus.n_docs)
    ku = layer.pop("ku_alpha")
    return per_code, layer, ku, []
