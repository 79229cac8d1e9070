"""The 2016 unitizing family in the corpus report, and what each number says it rests on.

Expected values come from ``unitizing_alpha_2016`` (tested on its own against a brute-force
reference and the krippendorff package) on continua built here by hand, and from the
``krippendorff`` package for the nominal "all codes" rule.
"""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest

from annotations.domain.agreement.corpus import DocumentData, SpanData
from annotations.domain.agreement.family import unitizing_alpha_2016
from annotations.domain.agreement.report import compute_report
from annotations.domain.agreement.unitizing import merge_intervals

from .test_agreement_report import CODES, counted, random_corpus

EXACT = 1e-9


def merged(spans):
    """One coder's same-code overlaps merged, as the report does before unitizing."""
    out = []
    for coder in sorted({s[0] for s in spans}):
        for code in sorted({s[3] for s in spans}):
            mine = [(s[1], s[2]) for s in spans if s[0] == coder and s[3] == code]
            if mine:
                starts, ends, _ = merge_intervals(*map(np.array, zip(*mine, strict=True)))
                out += [(coder, int(a), int(b), code) for a, b in zip(starts, ends, strict=True)]
    return out


def laid_end_to_end(docs, codes):
    spans, offset = [], 0
    for doc in docs:
        spans += [
            (s.coder, s.start + offset, s.end + offset, s.code)
            for s in doc.spans
            if s.coder in doc.coders and s.code in codes
        ]
        offset += len(doc.text)
    return merged(spans), offset


@pytest.mark.parametrize("seed", range(4))
def test_each_codes_u_alpha_is_the_family_on_that_code_laid_end_to_end(seed):
    """With the same coders on every document, pooled coincidences equal one continuum."""
    docs = random_corpus(seed, (("ann", "bob", "cat"),), n_docs=6)
    result = compute_report(docs, CODES, n_bootstrap=0)
    for code in CODES:
        spans, length = laid_end_to_end(counted(docs), {code})
        expected = unitizing_alpha_2016(spans, length, coders=["ann", "bob", "cat"])["u_alpha"]
        got = result.value("u_alpha", code)
        assert (got is None and expected is None) or got == pytest.approx(expected, abs=EXACT)


def disjoint_corpus():
    text = "Officials said the confession was voluntary. Critics called it a sham and a farce."
    docs = []
    for n in range(3):
        a = [SpanData("ann", 0, 9, "source"), SpanData("ann", 19, 29, "confession")]
        b = [SpanData("bob", 0, 14, "source"), SpanData("bob", 19, 29 + n, "confession")]
        c = [SpanData("cat", 45, 59, "source"), SpanData("cat", 65, 69, "loaded")]
        docs.append(DocumentData(n + 1, text, ("ann", "bob", "cat"), tuple(a + b + c)))
    return docs


def test_all_codes_is_the_family_of_one_partition_when_codes_do_not_overlap():
    docs = disjoint_corpus()
    codes = ["source", "confession", "loaded", "unused"]
    result = compute_report(docs, codes, n_bootstrap=200)
    spans, length = laid_end_to_end(docs, set(codes))
    expected = unitizing_alpha_2016(spans, length, coders=["ann", "bob", "cat"])
    for name in ("u_alpha", "bu_alpha", "cu_alpha", "coverage"):
        assert result.value(name) == pytest.approx(expected[name], abs=EXACT), name
    for code in ("source", "confession", "loaded"):
        assert result.ku_alpha[code].value == pytest.approx(expected["ku_alpha"][code], abs=EXACT)
    assert "unused" not in result.ku_alpha  # pooled over the used codes only
    interval = result.figure("u_alpha").interval
    assert interval.available or interval.reason


def test_all_codes_is_not_applicable_with_the_reason_when_a_coders_codes_overlap():
    docs = disjoint_corpus()
    nested = SpanData("ann", 20, 25, "loaded")  # loaded language inside a confession
    docs[1] = DocumentData(2, docs[1].text, docs[1].coders, (*docs[1].spans, nested))
    result = compute_report(docs, ["source", "confession", "loaded"], n_bootstrap=50)
    estimate = result.figure("u_alpha")
    assert estimate.value is None and estimate.reason.startswith("not applicable")
    assert "(2)" in estimate.reason  # names the document
    assert result.value("u_alpha", "loaded") is not None  # each code keeps its own layer


def test_documents_with_different_coder_sets_all_count_for_the_2016_family():
    docs = random_corpus(3, (("ann", "bob", "cat"), ("ann", "bob"), ("bob", "cat")), n_docs=9)
    result = compute_report(docs, CODES, n_bootstrap=0)
    assert result.usage["u_alpha"].documents == len(counted(docs))
    assert result.usage["alpha_u"].documents < len(counted(docs))
    reasons = {left.reason for left in result.usage["alpha_u"].left_out}
    assert any("most common set of coders" in reason for reason in reasons)


def test_an_unused_code_does_not_change_all_codes_nominal_alpha():
    docs = random_corpus(5, n_docs=6)
    with_unused = compute_report(docs, [*CODES, "never used"], n_bootstrap=0)
    without = compute_report(docs, CODES, n_bootstrap=0)
    assert with_unused.value("alpha_nominal") == pytest.approx(without.value("alpha_nominal"))
    assert any("not used: never used" in note for note in with_unused.notes)


def test_all_codes_is_undefined_when_no_code_is_defined_on_its_own():
    """Both coders tag every unit with "a" and none with "b": neither code varies, so each
    is undefined; pooling "b" (all zeros) with "a" (all ones) used to print a perfect 1.00."""
    text = "one two three four"
    everything = tuple(SpanData(c, 0, len(text), "a") for c in ("ann", "bob"))
    docs = [DocumentData(1, text, ("ann", "bob"), everything)]
    result = compute_report(docs, ["a", "b"], unit="token", n_bootstrap=0)
    assert result.value("alpha_nominal", "a") is None
    assert result.value("alpha_nominal", "b") is None
    assert result.value("alpha_nominal") is None
    assert result.figure("alpha_nominal").reason.startswith("undefined")


def test_one_double_coded_document_has_no_interval_and_says_why():
    docs = disjoint_corpus()[:1]
    result = compute_report(docs, ["source", "confession", "loaded"], n_bootstrap=100)
    for name, code in (("alpha_u", "source"), ("u_alpha", "source"), ("alpha_nominal", None)):
        interval = result.figure(name, code).interval
        assert not interval.available and "fewer than two documents" in interval.reason


def test_the_nominal_rule_matches_the_krippendorff_package_over_used_codes():
    docs = disjoint_corpus()
    result = compute_report(docs, ["source", "confession", "loaded", "unused"], n_bootstrap=0)
    assert result.value("alpha_nominal", "unused") is None
    # All codes = every (unit, code) pair of the used codes as one binary variable.
    from annotations.domain.units import units

    rows = {c: [] for c in ("ann", "bob", "cat")}
    for doc in docs:
        for code in ("source", "confession", "loaded"):
            for start, end in units(doc.text, "token"):
                for coder in rows:
                    hit = any(
                        s.coder == coder and s.code == code and s.start < end and start < s.end
                        for s in doc.spans
                    )
                    rows[coder].append(1 if hit else 0)
    expected = krippendorff.alpha(
        reliability_data=np.array(list(rows.values()), dtype=float), level_of_measurement="nominal"
    )
    assert result.value("alpha_nominal") == pytest.approx(expected, abs=EXACT)
