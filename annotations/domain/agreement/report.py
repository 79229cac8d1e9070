"""The corpus agreement report: every coefficient of ``AGREEMENT.md``, pooled and bootstrapped.

Pure Python and numpy; the result is an :class:`~.result.AgreementResult` (``None`` for
undefined values, never NaN, each with the reason it is undefined).

Choices the methods note states:

- Only documents with two or more coders who finished them count; every other document is
  listed with the reason. Spans by anyone else, and spans of codes not in ``codes``, are
  ignored.
- Nominal coefficients: one binary variable per code on the chosen units (a coder's value
  is 1 when any character of the unit is in one of their spans of that code). "All codes"
  treats every (unit, code) pair as an item: coincidence matrices, Fleiss counts and Cohen
  tables are summed over the codes used by at least one coder in the counted documents (an
  unused code would add agreement on nothing), so it weights codes by their units.
- alpha_U (2004): the documents, in ascending id order, are laid end to end as one
  continuum, so a coder's trailing gap in one document and leading gap in the next form one
  gap. alpha_U needs the same coders throughout, so it uses the documents whose coder set is
  the most common one and lists the others as left out. "All codes" is
  ``1 - sum D_o / sum D_e`` over the used codes.
- Bootstrap: documents are resampled with replacement (``numpy.random.default_rng(seed)``);
  a resample's documents are laid end to end in the order drawn; each coefficient is
  recomputed from the pooled counts of the resample. The 95% interval is the 2.5th and
  97.5th percentile of the resamples where the coefficient is defined; it is not available
  (with the reason) for fewer than two documents or when more than 5% of resamples leave
  the coefficient undefined.
- Span F1 uses the spans as marked (not merged); Cohen's kappa per coder pair uses the units
  of the documents both coders finished; "mean" values average the defined pair values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from annotations.domain.agreement.corpus import Corpus, DocumentData, draw_counts, interval
from annotations.domain.agreement.family_report import family_estimates
from annotations.domain.agreement.nominal import NominalParts, binary_alpha_parts, nominal_summary
from annotations.domain.agreement.pairs import coder_pairs
from annotations.domain.agreement.result import (
    AgreementResult,
    Bootstrap,
    DocumentFigures,
    Estimate,
    LeftOut,
    PairFigures,
    Usage,
)
from annotations.domain.agreement.unitizing_report import (
    UnitizingParts,
    alpha_u_documents,
    alpha_u_point,
    alpha_u_resampled,
    pooled_u,
)
from annotations.domain.units import UNIT_KINDS

OUTSIDE_COMMON_SET = "outside the most common set of coders, which alpha_U (2004) needs throughout"
NO_DOCUMENTS = "undefined: no document has two or more coders who finished it"
NO_VARIATION = "undefined: no variation to compare (expected disagreement is zero)"


def compute_report(
    documents: Iterable[DocumentData],
    codes: Sequence[str],
    *,
    unit: str = "token",
    n_bootstrap: int = 1000,
    seed: int = 0,
    left_out: Iterable[LeftOut] = (),
) -> AgreementResult:
    """Every coefficient over the documents given; ``left_out`` lists documents the caller
    did not pass (too few finished coders), so the result can say what it rests on."""
    if unit not in UNIT_KINDS:
        raise ValueError(f"Unknown unit {unit!r}; use one of {', '.join(UNIT_KINDS)}.")
    corpus = Corpus(list(documents), list(dict.fromkeys(codes)), unit)
    skipped = sorted([*left_out, *corpus.left_out], key=lambda d: d.document_id)
    notes = list(corpus.notes)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, corpus.n_docs, size=(n_bootstrap, corpus.n_docs))
    weights = draw_counts(draws, corpus.n_docs)

    n_codes = len(corpus.codes)
    nominal = [NominalParts(corpus, c) for c in range(n_codes)]
    unitizing = [UnitizingParts(corpus, c) for c in range(n_codes)]
    span_counts = np.bincount(corpus.span_code, minlength=n_codes)
    used = [c for c in range(n_codes) if span_counts[c] > 0]
    unused = [corpus.codes[c] for c in range(n_codes) if span_counts[c] == 0]
    if unused and corpus.n_docs:
        notes.append(
            "“All codes” pools only the codes used in the counted documents; not used: "
            + ", ".join(unused)
            + "."
        )

    eligible, _ = alpha_u_documents(corpus)
    outside = sorted(set(range(corpus.n_docs)) - set(eligible.tolist()))
    if outside:
        notes.append(
            f"alpha_U (2004) uses the {eligible.size} documents coded by the most common set of "
            f"coders; {len(outside)} documents with other coder sets are left out of it."
        )
    point_u = alpha_u_point(corpus, eligible)
    boot_u = [alpha_u_resampled(p, corpus, eligible, draws) for p in unitizing]

    coder_counts = sorted(set(corpus.doc_r.tolist()))
    fleiss_coders = coder_counts[0] if len(coder_counts) == 1 else None
    if len(coder_counts) > 1:
        notes.append("Fleiss' kappa is omitted: documents differ in their number of coders.")

    def alpha_u(indexes: list[int]) -> Estimate:
        if not point_u:
            return Estimate(None, None, NO_DOCUMENTS)
        value = pooled_u([point_u[c] for c in indexes])
        ci = interval(
            sum(boot_u[c][0] for c in indexes),
            sum(boot_u[c][1] for c in indexes),
            n_docs=int(eligible.size),
        )
        return Estimate(value, ci, "" if value is not None else NO_VARIATION)

    pairs = coder_pairs(corpus, nominal)
    family_per_code, family_overall, family_ku, overlaps = family_estimates(corpus, used, weights)
    if overlaps:
        notes.append(
            "The 2016 unitizing family over all codes is not applicable: a coder's spans of "
            f"different codes overlap in {len(overlaps)} documents; each code's uα is reported."
        )
    per_code = {}
    for c, code in enumerate(corpus.codes):
        per_code[code] = {
            "alpha_u": alpha_u([c]),
            "u_alpha": family_per_code[c],
            **nominal_summary([nominal[c]], weights, fleiss_coders),
            **_pair_means(pairs, code),
        }
    overall = {
        "alpha_u": alpha_u(used),
        **family_overall,
        **nominal_summary([nominal[c] for c in used], weights, fleiss_coders),
        **_pair_means(pairs, None),
    }
    if not used:
        reason = (
            "undefined: no code was used in the counted documents"
            if corpus.n_docs
            else NO_DOCUMENTS
        )
        overall = {name: Estimate(None, e.interval, reason) for name, e in overall.items()}
    for name, estimate in overall.items():
        # Pooling codes that are each undefined must not print a number (it would be 1.00).
        singles = [per_code[code][name].value for code in per_code if name in per_code[code]]
        if estimate.value is not None and singles and all(v is None for v in singles):
            overall[name] = Estimate(
                None, estimate.interval, "undefined: no code has a defined value on its own"
            )

    documents_left = [LeftOut(d.document_id, d.reason) for d in skipped]
    common = [corpus.docs[d] for d in eligible.tolist()]
    n_common_coders = int(corpus.member[eligible[0]].sum()) if eligible.size else 0
    usage = {
        "alpha_u": Usage(
            documents=len(common),
            coders=n_common_coders,
            units=int(sum(len(d.text) for d in common)),
            left_out=tuple(
                sorted(
                    [
                        *documents_left,
                        *(LeftOut(corpus.docs[d].id, OUTSIDE_COMMON_SET) for d in outside),
                    ],
                    key=lambda d: d.document_id,
                )
            ),
        ),
        "nominal": Usage(
            documents=corpus.n_docs,
            coders=len(corpus.coders),
            units=int(corpus.units_per_doc.sum()),
            left_out=tuple(documents_left),
        ),
        "u_alpha": Usage(
            documents=corpus.n_docs,
            coders=len(corpus.coders),
            units=int(corpus.lengths.sum()),
            left_out=tuple(documents_left),
        ),
        "pairs": Usage(
            documents=corpus.n_docs,
            coders=len(corpus.coders),
            units=int(corpus.units_per_doc.sum()),
            left_out=tuple(documents_left),
        ),
    }
    return AgreementResult(
        unit=unit,
        codes=tuple(corpus.codes),
        coders=tuple(corpus.coders),
        counts=_counts(corpus, unitizing, len(outside), len(skipped)),
        per_code=per_code,
        overall=overall,
        per_document=_per_document(corpus, nominal, unitizing),
        pairs=tuple(
            PairFigures(
                coders=tuple(key.split("|", 1)),
                documents=pair["documents"],
                units=pair["units"],
                per_code=pair["per_code"],
                overall=pair["overall"],
            )
            for key, pair in pairs.items()
        ),
        usage=usage,
        ku_alpha={corpus.codes[c]: estimate for c, estimate in family_ku.items()},
        bootstrap=Bootstrap(resamples=n_bootstrap, seed=seed, level=0.95),
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------
# Output shaping
# ---------------------------------------------------------------------------------------------


def _pair_means(pairs: dict, code: str | None) -> dict[str, Estimate]:
    means = {}
    for key in ("cohen_kappa", "span_f1_exact", "span_f1_overlap"):
        values = [
            (p["overall"] if code is None else p["per_code"][code])[key] for p in pairs.values()
        ]
        defined = [v for v in values if v is not None]
        if not pairs:
            reason = "undefined: no pair of coders finished the same document"
        elif not defined:
            reason = "undefined for every pair of coders"
        else:
            reason = ""
        means[f"{key}_mean"] = Estimate(
            sum(defined) / len(defined) if defined else None, None, reason
        )
    return means


def _counts(corpus: Corpus, unitizing: list[UnitizingParts], outside: int, skipped: int) -> dict:
    by_code = np.bincount(corpus.span_code, minlength=len(corpus.codes))
    return {
        "documents": corpus.n_docs,
        "documents_skipped": skipped,
        "documents_excluded_from_alpha_u": outside,
        "coders": len(corpus.coders),
        "spans": int(corpus.span_code.size),
        "spans_per_code": {code: int(by_code[c]) for c, code in enumerate(corpus.codes)},
        "units": int(corpus.units_per_doc.sum()),
        "merged_spans": {code: unitizing[c].merges for c, code in enumerate(corpus.codes)},
    }


def _per_document(
    corpus: Corpus, nominal: list[NominalParts], unitizing: list[UnitizingParts]
) -> tuple[DocumentFigures, ...]:
    nominal_alpha = []
    for part in nominal:
        observed, expected = binary_alpha_parts(part.coincidence)
        with np.errstate(divide="ignore", invalid="ignore"):
            nominal_alpha.append(np.where(expected > 0, 1.0 - observed / expected, np.nan))
    return tuple(
        DocumentFigures(
            id=doc.id,
            coders=tuple(corpus.coders[r] for r in np.flatnonzero(corpus.member[d])),
            units=int(corpus.units_per_doc[d]),
            alpha_u={code: unitizing[c].document_alpha(d) for c, code in enumerate(corpus.codes)},
            alpha_nominal={
                code: _finite(nominal_alpha[c][d]) for c, code in enumerate(corpus.codes)
            },
        )
        for d, doc in enumerate(corpus.docs)
    )


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
