"""The corpus report against independent computations on small hand-made corpora.

Expected values are built here from scratch: the unit x coder matrix is assembled by hand and
given to the ``krippendorff`` package, statsmodels and scikit-learn; alpha_U comes from
``unitized_alpha`` on a continuum concatenated here.
"""

from __future__ import annotations

import json

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from annotations.agreement import span_f1, unitized_alpha
from annotations.domain.agreement.corpus import Corpus, DocumentData, SpanData
from annotations.domain.agreement.report import compute_report
from annotations.domain.agreement.unitizing import unitized_components
from annotations.domain.agreement.unitizing_report import (
    UnitizingParts,
    alpha_u_documents,
    alpha_u_resampled,
)
from annotations.domain.units import units


def report(*args, **kwargs) -> dict:
    """The report as it is stored (``to_json``), which every reader parses back."""
    return compute_report(*args, **kwargs).to_json()


EXACT = 1e-9
CODES = ["loaded", "confession", "victim"]
WORDS = [
    "the", "minister", "said", "that", "protesters", "were", "paid", "agents",
    "state", "media", "reported", ".", ",", "!", "?",
]  # fmt: skip


def random_corpus(seed: int, coder_sets=(("ann", "bob", "cat"),), n_docs=8) -> list[DocumentData]:
    rng = np.random.default_rng(seed)
    docs = []
    for doc_id in rng.permutation(np.arange(1, n_docs + 1)).tolist():
        words = rng.choice(WORDS, size=rng.integers(5, 40)).tolist()
        text = " ".join(words) + ("\n\nSecond paragraph here." if rng.random() < 0.5 else "")
        coders = coder_sets[int(rng.integers(len(coder_sets)))]
        spans = []
        for coder in {*coders, "outsider"}:
            for _ in range(rng.integers(0, 6)):
                start = int(rng.integers(0, len(text) - 1))
                end = min(len(text), start + int(rng.integers(1, 25)))
                code = CODES[int(rng.integers(len(CODES)))] if rng.random() < 0.95 else "other"
                spans.append(SpanData(coder, start, end, code))
        # A shared exact span so exact F1 is not always zero.
        spans += [SpanData(c, 0, min(3, len(text)), "loaded") for c in coders[:2]]
        docs.append(DocumentData(doc_id, text, tuple(coders), tuple(spans)))
    return docs


def counted(docs):
    return sorted((d for d in docs if len(set(d.coders)) >= 2), key=lambda d: d.id)


def value_matrix(docs, code, kind, coders):
    """coders x units matrix of 1 / 0 / None, built the slow, obvious way."""
    rows = {c: [] for c in coders}
    for doc in counted(docs):
        for start, end in units(doc.text, kind):
            for coder in coders:
                if coder not in doc.coders:
                    rows[coder].append(None)
                    continue
                hit = any(
                    s.coder == coder and s.code == code and s.start < end and start < s.end
                    for s in doc.spans
                )
                rows[coder].append(1 if hit else 0)
    return [rows[c] for c in coders]


def as_float(matrix):
    return np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)


def continuum(docs, code=None):
    """Spans of the documents laid end to end, in the given order, and the total length."""
    spans, offset = [], 0
    for doc in docs:
        spans += [
            (s.coder, s.start + offset, s.end + offset, s.code)
            for s in doc.spans
            if s.coder in doc.coders and s.code in CODES and (code is None or s.code == code)
        ]
        offset += len(doc.text)
    return spans, offset


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kind", ["token", "sentence", "char"])
def test_nominal_coefficients_match_reference_packages_on_hand_built_unit_matrices(seed, kind):
    coder_sets = (("ann", "bob", "cat"), ("ann", "bob")) if seed % 2 else (("ann", "bob", "cat"),)
    docs = random_corpus(seed, coder_sets)
    result = report(docs, CODES, unit=kind, n_bootstrap=0)
    coders = sorted({c for d in counted(docs) for c in d.coders})
    matrices = {code: value_matrix(docs, code, kind, coders) for code in CODES}
    for code, matrix in matrices.items():
        data = as_float(matrix)
        summary = result["per_code"][code]
        expected = krippendorff.alpha(data, level_of_measurement="nominal")
        assert summary["alpha_nominal"] == pytest.approx(expected, abs=EXACT)
        assert summary["prevalence"] == pytest.approx(np.nanmean(data), abs=EXACT)
        if seed % 2 == 0:
            ones = np.nansum(data, axis=0)
            table = np.stack([len(coders) - ones, ones], axis=1)
            assert summary["fleiss_kappa"] == pytest.approx(sm_fleiss_kappa(table), abs=EXACT)
        else:
            assert summary["fleiss_kappa"] is None
    pooled = np.concatenate([as_float(m) for m in matrices.values()], axis=1)
    expected = krippendorff.alpha(pooled, level_of_measurement="nominal")
    assert result["overall"]["alpha_nominal"] == pytest.approx(expected, abs=EXACT)


@pytest.mark.parametrize("seed", range(4))
def test_pairwise_cohen_kappa_matches_scikit_learn_on_units_both_coded(seed):
    docs = random_corpus(seed, (("ann", "bob", "cat"), ("ann", "bob")))
    result = report(docs, CODES, n_bootstrap=0)
    coders = ["ann", "bob", "cat"]
    matrices = [value_matrix(docs, code, "token", coders) for code in CODES]
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        pair = result["pairs"].get(f"{coders[i]}|{coders[j]}")
        if pair is None:
            continue
        pooled_a, pooled_b = [], []
        for code, matrix in zip(CODES, matrices, strict=True):
            both = [(a, b) for a, b in zip(matrix[i], matrix[j], strict=True) if None not in (a, b)]
            a, b = [x for x, _ in both], [y for _, y in both]
            pooled_a += a
            pooled_b += b
            got = pair["per_code"][code]["cohen_kappa"]
            if len(set(a) | set(b)) > 1:
                assert got == pytest.approx(cohen_kappa_score(a, b), abs=EXACT)
            else:
                assert got is None  # one value throughout: p_e = 1
        assert pair["overall"]["cohen_kappa"] == pytest.approx(
            cohen_kappa_score(pooled_a, pooled_b), abs=EXACT
        )


@pytest.mark.parametrize("seed", range(4))
def test_pairwise_span_f1_pools_matches_over_documents(seed):
    docs = random_corpus(seed)
    result = report(docs, CODES, n_bootstrap=0)
    for key, pair in result["pairs"].items():
        first, second = key.split("|")
        for match in ("exact", "overlap"):
            matches = sizes = 0
            for doc in counted(docs):
                a = [(s.start, s.end, s.code) for s in doc.spans if s.coder == first]
                b = [(s.start, s.end, s.code) for s in doc.spans if s.coder == second]
                a = [s for s in a if s[2] in CODES]
                b = [s for s in b if s[2] in CODES]
                f1 = span_f1(a, b, match)
                if f1 is not None:
                    matches += round(f1 * (len(a) + len(b)) / 2)
                    sizes += len(a) + len(b)
            expected = 2 * matches / sizes if sizes else None
            assert pair["overall"][f"span_f1_{match}"] == pytest.approx(expected, abs=EXACT)


@pytest.mark.parametrize("seed", range(6))
def test_alpha_u_equals_unitized_alpha_on_the_concatenated_continuum(seed):
    docs = random_corpus(seed)
    result = report(docs, CODES, n_bootstrap=0)
    spans, length = continuum(counted(docs))
    coders = ["ann", "bob", "cat"]
    for code in CODES:
        expected = unitized_alpha(spans, length, code=code, coders=coders)
        assert result["per_code"][code]["alpha_u"] == pytest.approx(expected, abs=EXACT)
    expected = unitized_alpha(spans, length, coders=coders)
    assert result["overall"]["alpha_u"] == pytest.approx(expected, abs=EXACT)


def test_alpha_u_joins_a_trailing_gap_with_the_next_documents_leading_gap():
    # On the continuum bob's unit lies inside ann's gap that runs across the document boundary.
    docs = [
        DocumentData(1, "aaaa bbbb", ("ann", "bob"), (SpanData("ann", 0, 4, "loaded"),)),
        DocumentData(2, "cccc dddd", ("ann", "bob"), (SpanData("bob", 2, 7, "loaded"),)),
    ]
    spans = [("ann", 0, 4, "loaded"), ("bob", 11, 16, "loaded")]
    expected = unitized_alpha(spans, 18, code="loaded", coders=["ann", "bob"])
    result = report(docs, CODES, n_bootstrap=0)
    assert result["per_code"]["loaded"]["alpha_u"] == pytest.approx(expected, abs=EXACT)


def test_alpha_u_uses_the_most_common_coder_set_and_says_so():
    docs = random_corpus(11, (("ann", "bob", "cat"), ("ann", "bob"), ("ann", "bob", "cat")))
    result = report(docs, CODES, n_bootstrap=0)
    kept = [d for d in counted(docs) if set(d.coders) == {"ann", "bob", "cat"}]
    excluded = len(counted(docs)) - len(kept)
    assert excluded > 0
    assert result["counts"]["documents_excluded_from_alpha_u"] == excluded
    assert any("alpha_U" in note and str(excluded) in note for note in result["notes"])
    spans, length = continuum(kept)
    expected = unitized_alpha(spans, length, coders=["ann", "bob", "cat"])
    assert result["overall"]["alpha_u"] == pytest.approx(expected, abs=EXACT)


@pytest.mark.parametrize("seed", range(3))
def test_bootstrap_resamples_equal_the_plain_formula_on_each_resampled_continuum(seed):
    docs = random_corpus(seed, (("ann", "bob", "cat"), ("ann", "cat")), n_docs=7)
    corpus = Corpus(docs, CODES, "token")
    eligible, _ = alpha_u_documents(corpus)
    draws = np.random.default_rng(seed).integers(0, corpus.n_docs, size=(5, corpus.n_docs))
    coders = [corpus.coders[r] for r in np.flatnonzero(corpus.member[eligible[0]])]
    for c, code in enumerate(CODES):
        parts = UnitizingParts(corpus, c)
        observed, expected = alpha_u_resampled(parts, corpus, eligible, draws)
        for row in range(len(draws)):
            chosen = [corpus.docs[d] for d in draws[row] if d in set(eligible.tolist())]
            spans, length = continuum(chosen, code)
            plain = unitized_components(spans, length, coders=coders, codes=[code])[code]
            assert observed[row] == pytest.approx(plain.observed, abs=EXACT)
            assert expected[row] == pytest.approx(plain.expected, abs=EXACT)


@pytest.mark.parametrize("seed", range(3))
def test_per_document_values_are_each_document_alone(seed):
    docs = random_corpus(seed, (("ann", "bob", "cat"), ("bob", "cat")))
    result = report(docs, CODES, n_bootstrap=0)
    for row, doc in zip(result["per_document"], counted(docs), strict=True):
        assert row["id"] == doc.id
        spans, length = continuum([doc])
        for code in CODES:
            expected = unitized_alpha(spans, length, code=code, coders=list(doc.coders))
            got = row["alpha_u"][code]
            assert (got is None) == (expected is None)
            if expected is not None:
                assert got == pytest.approx(expected, abs=EXACT)
            matrix = as_float(value_matrix([doc], code, "token", sorted(doc.coders)))
            variation = len(set(matrix[~np.isnan(matrix)].tolist())) > 1
            nominal = row["alpha_nominal"][code]
            if variation:
                expected = krippendorff.alpha(matrix, level_of_measurement="nominal")
                assert nominal == pytest.approx(expected, abs=EXACT)
            else:
                assert nominal is None


def test_bootstrap_intervals_are_reproducible_and_bracket_the_estimate():
    docs = random_corpus(3, n_docs=12)
    first = report(docs, CODES, n_bootstrap=200, seed=7)
    again = report(list(reversed(docs)), CODES, n_bootstrap=200, seed=7)
    assert first == again
    for key in ("alpha_u", "alpha_nominal"):
        interval = first["overall"][f"{key}_ci"]
        assert interval["low"] <= first["overall"][key] <= interval["high"]
    other = report(docs, CODES, n_bootstrap=200, seed=8)
    assert other["overall"]["alpha_u_ci"] != first["overall"]["alpha_u_ci"]


def test_report_is_strict_json_and_counts_what_it_used():
    docs = random_corpus(5)
    docs.append(DocumentData(99, "Alone here.", ("ann",), (SpanData("ann", 0, 5, "loaded"),)))
    result = report(docs, CODES, unit="sentence", n_bootstrap=50)
    json.dumps(result, allow_nan=False)
    used = [s for d in counted(docs) for s in d.spans if s.coder in d.coders and s.code in CODES]
    counts = result["counts"]
    assert counts["documents"] == len(counted(docs))
    assert counts["documents_skipped"] == 1
    assert counts["spans"] == len(used)
    assert counts["units"] == sum(len(units(d.text, "sentence")) for d in counted(docs))
    assert sorted(result["pairs"]) == ["ann|bob", "ann|cat", "bob|cat"]
    for code in CODES:
        spans, length = continuum(counted(docs), code)
        merges = unitized_components(spans, length, coders=["ann", "bob", "cat"], codes=[code])
        assert counts["merged_spans"][code] == merges[code].merges
    left = {"document": 99, "reason": "only one coder finished it"}
    assert all(left in result["usage"][name]["left_out"] for name in ("alpha_u", "nominal"))
    assert any("ignored" in note for note in result["notes"])


def test_report_on_no_countable_documents_is_all_undefined():
    docs = [DocumentData(1, "Only one coder.", ("ann",), ())]
    result = report(docs, CODES, n_bootstrap=10)
    json.dumps(result, allow_nan=False)
    assert result["counts"]["documents"] == 0
    assert result["overall"]["alpha_u"] is None
    assert result["overall"]["alpha_nominal"] is None
    assert result["pairs"] == {}


def test_report_refuses_spans_outside_their_document():
    docs = [DocumentData(1, "short", ("ann", "bob"), (SpanData("ann", 2, 9, "loaded"),))]
    with pytest.raises(ValueError, match="outside"):
        compute_report(docs, CODES)
    with pytest.raises(ValueError, match="Unknown unit"):
        compute_report([], CODES, unit="paragraph")
