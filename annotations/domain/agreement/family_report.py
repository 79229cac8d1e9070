"""The 2016 unitizing family in the corpus report: per-code layers and the all-codes layer.

Each code is its own layer (code vs gap): a coder's overlapping spans of one code are merged
first, as for the 2004 alpha_U, so the layer is a partition of the text. "All codes" treats
the codes as the values of one layer, which needs every coder's spans of different codes to
be disjoint; where they are not, it is not applicable and says why. Parts are computed per
document (each with its own coders) and pooled by adding, so every document with two or more
finished coders counts, and the bootstrap reweights the same parts.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

import numpy as np

from annotations.domain.agreement.corpus import Corpus, interval
from annotations.domain.agreement.family import (
    FamilyParts,
    family_from_parts,
    family_parts,
    family_resampled,
    stack_parts,
)
from annotations.domain.agreement.result import Estimate
from annotations.domain.agreement.unitizing import merge_intervals

NO_DOCUMENTS = "undefined: no document has two or more coders who finished it"


def merged_segments(corpus: Corpus) -> dict[int, list[tuple[int, int, int, int]]]:
    """Per document: (coder, start, end, code) with one coder's same-code overlaps merged,
    offsets local to the document."""
    groups: dict[tuple[int, int, int], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for d, r, c, s, e in zip(
        corpus.span_doc.tolist(),
        corpus.span_coder.tolist(),
        corpus.span_code.tolist(),
        corpus.span_start.tolist(),
        corpus.span_end.tolist(),
        strict=True,
    ):
        starts, ends = groups[(d, r, c)]
        starts.append(s)
        ends.append(e)
    segments: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
    for (d, r, c), (starts, ends) in groups.items():
        s, e, _ = merge_intervals(np.array(starts), np.array(ends))
        offset = int(corpus.offsets[d])
        segments[d].extend(
            (r, int(a) - offset, int(b) - offset, c) for a, b in zip(s, e, strict=True)
        )
    return segments


def overlapping_documents(segments: dict[int, list[tuple[int, int, int, int]]]) -> list[int]:
    """Documents where a coder's spans of different codes share characters."""
    found = []
    for d, rows in segments.items():
        by_coder: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for r, s, e, _ in rows:
            by_coder[r].append((s, e))
        for spans in by_coder.values():
            spans.sort()
            if any(b[0] < a[1] for a, b in pairwise(spans)):
                found.append(d)
                break
    return sorted(found)


class FamilyLayer:
    """Per-document family parts for the values ``codes`` (indices into the corpus's codes)."""

    def __init__(self, corpus: Corpus, segments: dict, codes: list[int]) -> None:
        self.codes = codes
        wanted = set(codes)
        parts: list[FamilyParts] = []
        for d in range(corpus.n_docs):
            coders = np.flatnonzero(corpus.member[d]).tolist()
            rows = [row for row in segments.get(d, ()) if row[3] in wanted]
            parts.append(family_parts(rows, int(corpus.lengths[d]), coders, codes))
        self.stacked = stack_parts(parts) if parts else None

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
