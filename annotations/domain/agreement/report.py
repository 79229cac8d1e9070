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

from collections.abc import Iterable, Sequence

import numpy as np

from annotations.domain.agreement.corpus import (
    MIN_DEFINED_SHARE,
    Corpus,
    DocumentData,
    SpanData,
    draw_counts,
    interval,
)
from annotations.domain.agreement.nominal import NominalParts, binary_alpha_parts, nominal_summary
from annotations.domain.agreement.pairs import coder_pairs
from annotations.domain.agreement.unitizing_report import (
    UnitizingParts,
    alpha_u_documents,
    alpha_u_point,
    alpha_u_resampled,
    pooled_u,
)
from annotations.domain.units import UNIT_KINDS

__all__ = ["MIN_DEFINED_SHARE", "DocumentData", "SpanData", "compute_report"]


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
    corpus = Corpus(list(documents), list(dict.fromkeys(codes)), unit)
    notes = list(corpus.notes)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, corpus.n_docs, size=(n_bootstrap, corpus.n_docs))
    weights = draw_counts(draws, corpus.n_docs)

    nominal = [NominalParts(corpus, c) for c in range(len(corpus.codes))]
    unitizing = [UnitizingParts(corpus, c) for c in range(len(corpus.codes))]
    eligible, excluded = alpha_u_documents(corpus)
    if excluded:
        notes.append(
            f"alpha_U uses the {eligible.size} documents coded by the most common set of "
            f"coders; {excluded} documents with other coder sets are left out of it."
        )
    point_u = alpha_u_point(corpus, eligible)
    boot_u = [alpha_u_resampled(p, corpus, eligible, draws) for p in unitizing]

    coder_counts = sorted(set(corpus.doc_r.tolist()))
    fleiss_coders = coder_counts[0] if len(coder_counts) == 1 else None
    if len(coder_counts) > 1:
        notes.append("Fleiss' kappa is omitted: documents differ in their number of coders.")

    per_code = {}
    for c, code in enumerate(corpus.codes):
        per_code[code] = {
            "alpha_u": point_u[c].alpha if point_u else None,
            "alpha_u_ci": interval(*boot_u[c]) if point_u else None,
            **nominal_summary([nominal[c]], weights, fleiss_coders),
        }
    overall = {
        "alpha_u": pooled_u(point_u),
        "alpha_u_ci": (
            interval(sum(b[0] for b in boot_u), sum(b[1] for b in boot_u)) if point_u else None
        ),
        **nominal_summary(nominal, weights, fleiss_coders),
    }
    pairs = coder_pairs(corpus, nominal)
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
# Output shaping
# ---------------------------------------------------------------------------------------------


def _mean(values: Iterable[float | None]) -> float | None:
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


def _counts(corpus: Corpus, unitizing: list[UnitizingParts], excluded: int) -> dict:
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
    corpus: Corpus, nominal: list[NominalParts], unitizing: list[UnitizingParts]
) -> list[dict]:
    nominal_alpha = []
    for part in nominal:
        observed, expected = binary_alpha_parts(part.coincidence)
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
