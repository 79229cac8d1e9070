"""Krippendorff's 2016 unitizing family (u-alpha, |u-alpha, cu-alpha, (k)cu-alpha).

The published worked example, Krippendorff (2019) Figure 12.11, could not be located in any
public source reachable from here (its segment layout and its values are in the book only), so
it is not encoded. The family is instead checked against two small examples worked by hand below,
against a character-by-character reference written from the definitions in AGREEMENT.md with
exact fractions, and against the ``krippendorff`` package where u-alpha reduces to
character-level nominal alpha.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

import krippendorff
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from annotations.domain.agreement import family
from annotations.domain.agreement.family import (
    documents_parts,
    family_from_parts,
    family_parts,
    family_resampled,
    pool_parts,
    stack_parts,
    unitizing_alpha_2016,
)

FAST = settings(max_examples=40, deadline=None)
EXACT = 1e-9
VALUES = ("x", "y", "z")
PHI = "<phi>"  # the gap value in the reference; no span uses it
KEYS = ("u_alpha", "bu_alpha", "cu_alpha", "coverage")


# ---------------------------------------------------------------------------------------------
# A reference straight from the definitions: every character, every ordered pair of coders
# ---------------------------------------------------------------------------------------------


def reference_family(documents):
    """The family over ``documents`` [(spans, length, coders)], pooled, in exact fractions."""
    values = sorted({s[3] for spans, _, _ in documents for s in spans}, key=str)
    keys = [PHI, *values]
    o = defaultdict(Fraction)  # observed coincidences l_ck
    weight = defaultdict(Fraction)  # W_c: |S|^2 per valued segment, |S| per gap
    squares = defaultdict(Fraction)  # sum of lambda^2 per value
    total = 0
    for spans, length, coders in documents:
        m = len(coders)
        grid = {coder: [PHI] * length for coder in coders}
        for coder, start, end, value in spans:
            grid[coder][start:end] = [value] * (end - start)
        for x in range(length):
            for i in coders:
                for j in coders:
                    if i != j:
                        o[grid[i][x], grid[j][x]] += Fraction(1, m - 1)
        total += m * length
        weight[PHI] += sum(row.count(PHI) for row in grid.values())
        for coder, start, end, value in spans:
            weight[value] += (end - start) ** 2
            shared = sum(grid[j][x] != PHI for j in coders if j != coder for x in range(start, end))
            squares[value] += Fraction(shared, m - 1) ** 2

    margin = {c: sum(o[c, k] for k in keys) for c in keys}
    w_all = sum(weight.values())
    e = {
        (c, k): total * (margin[c] * margin[k] - (weight[c] if c == k else 0)) / (total**2 - w_all)
        for c in keys
        for k in keys
    }
    pairs = [(c, k) for c in keys for k in keys if c != k]
    result = {
        "u_alpha": one_minus(sum(o[p] for p in pairs), sum(e[p] for p in pairs)),
        "bu_alpha": one_minus(sum(o[PHI, k] for k in values), sum(e[PHI, k] for k in values)),
    }

    star = {(c, k): o[c, k] for c in values for k in values}
    star_total = sum(star.values())
    star_margin = {k: sum(star[c, k] for c in values) for k in values}
    result["coverage"] = Fraction(star_total, total)
    result["cu_alpha"] = None
    result["ku_alpha"] = {k: None for k in values}
    if star_total == 0:
        return result
    denominator = star_total - sum(squares.values()) / star_total
    es = {
        (c, k): (star_margin[c] * star_margin[k] - (squares[c] if c == k else 0)) / denominator
        for c in values
        for k in values
    }
    off = [(c, k) for c in values for k in values if c != k]
    result["cu_alpha"] = one_minus(sum(star[p] for p in off), sum(es[p] for p in off))
    for k in values:
        e_k = sum(es[c, k] for c in values)
        if star_margin[k] == 0:
            continue
        if star[k, k] == star_margin[k]:
            result["ku_alpha"][k] = Fraction(1)
        else:
            disagreement = (star_margin[k] - star[k, k]) / (e_k - es[k, k])
            result["ku_alpha"][k] = 1 - e_k / star_margin[k] * disagreement
    return result


def one_minus(observed, expected):
    return None if expected == 0 else 1 - observed / expected


def assert_same(actual, expected):
    """Same family, value by value; ``None`` (undefined) must match exactly."""
    for key in KEYS:
        assert_close(actual[key], expected[key])
    assert actual["ku_alpha"].keys() == expected["ku_alpha"].keys()
    for value, alpha in expected["ku_alpha"].items():
        assert_close(actual["ku_alpha"][value], alpha)


def assert_close(actual, expected):
    if expected is None:
        assert actual is None
    else:
        assert actual == pytest.approx(float(expected), abs=EXACT)


def alpha_or_none(observed, expected):
    if not (np.isfinite(observed) and np.isfinite(expected)) or expected <= 0:
        return None
    return 1.0 - observed / expected


@st.composite
def continua(draw, coders=None, unit_spans=False):
    """One coded continuum: each coder lays segments (a value, or a gap) end to end."""
    length = draw(st.integers(1, 24))
    if coders is None:
        coders = [f"c{i}" for i in range(draw(st.integers(2, 4)))]
    spans = []
    for coder in coders:
        position = 0
        steps = st.tuples(st.integers(1, 1 if unit_spans else 8), st.sampled_from((None, *VALUES)))
        for step, value in draw(st.lists(steps, max_size=24 if unit_spans else 8)):
            if position >= length:
                break
            end = min(position + step, length)
            if value is not None:
                spans.append((coder, position, end, value))
            position = end
    return spans, length, list(coders)


coder_subsets = st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=2, max_size=4, unique=True)
corpora = st.lists(coder_subsets.flatmap(lambda cs: continua(coders=cs)), min_size=1, max_size=4)


def parts_of(documents):
    values = sorted({s[3] for spans, _, _ in documents for s in spans}, key=str)
    return [family_parts(spans, length, coders, values) for spans, length, coders in documents]


# ---------------------------------------------------------------------------------------------
# Worked by hand
# ---------------------------------------------------------------------------------------------


def test_two_coders_overlapping_halfway_worked_by_hand():
    """A [2,6) x, B [4,8) x on L = 10.

    l: phi-phi 8, phi-x = x-phi 4, x-x 4; l.. = 20, marginals phi 12, x 8. W_x = 4^2 + 4^2 = 32,
    W_phi = 12, so e_phi,x = 20 * 12 * 8 / (400 - 44) and u-alpha = 1 - 8 / (2 * 1920 / 356)
    = 31/120 (character-level alpha would give 5/24: the squared lengths make the difference).
    """
    result = unitizing_alpha_2016([("A", 2, 6, "x"), ("B", 4, 8, "x")], 10)
    assert result["u_alpha"] == pytest.approx(31 / 120, abs=EXACT)
    assert result["bu_alpha"] == pytest.approx(31 / 120, abs=EXACT)
    assert result["cu_alpha"] is None  # one value: nothing to tell apart
    assert result["ku_alpha"] == {"x": pytest.approx(1.0)}
    assert result["coverage"] == pytest.approx(4 / 20, abs=EXACT)


def test_three_coders_worked_by_hand_with_mean_pairable_lengths():
    """A [0,4) x [4,8) y; B [0,6) x; C [2,8) y; L = 10, m = 3.

    l (phi, x, y): [[6,2,2],[2,4,4],[2,4,4]], l.. = 30; W = (10, 16+36, 16+36).
    u-alpha = 1 - 16 / (6 * 30 * 100 / 786) = 113/375; |u-alpha = 1 - 4 / (2 * 3000 / 786)
    = 119/250. Pairable lengths (mean over the other two coders): A's x (4+2)/2 = 3, A's y
    (2+4)/2 = 3, B's x (6+4)/2 = 5, C's y (6+4)/2 = 5, so sum lambda^2 = 34 per value and
    e*_xy = 64 / (16 - 68/16); cu-alpha = 1 - 8 / (128 / 11.75) = 17/64, and each (k)cu-alpha
    = 1 - (8/8) * 4 / (64 / 11.75) = 17/64. The union of the other coders would give A's x
    a pairable length of 4 and another cu-alpha.
    """
    spans = [("A", 0, 4, "x"), ("A", 4, 8, "y"), ("B", 0, 6, "x"), ("C", 2, 8, "y")]
    parts = family_parts(spans, 10, ["A", "B", "C"], ["x", "y"])
    np.testing.assert_allclose(parts.coincidences, [[6, 2, 2], [2, 4, 4], [2, 4, 4]])
    np.testing.assert_allclose(parts.self_weight, [10, 52, 52])
    np.testing.assert_allclose(parts.lambda_squares, [34, 34])
    assert float(parts.total) == 30

    result = unitizing_alpha_2016(spans, 10)
    assert result["u_alpha"] == pytest.approx(113 / 375, abs=EXACT)
    assert result["bu_alpha"] == pytest.approx(119 / 250, abs=EXACT)
    assert result["cu_alpha"] == pytest.approx(17 / 64, abs=EXACT)
    assert result["ku_alpha"] == {"x": pytest.approx(17 / 64), "y": pytest.approx(17 / 64)}
    assert result["coverage"] == pytest.approx(16 / 30, abs=EXACT)


def test_a_coder_who_marked_nothing_still_counts():
    spans = [("A", 2, 6, "x"), ("B", 2, 6, "x")]
    assert unitizing_alpha_2016(spans, 10)["u_alpha"] == pytest.approx(1.0)
    assert unitizing_alpha_2016(spans, 10, coders=["A", "B", "C"])["u_alpha"] < 1.0


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------


@FAST
@given(continua())
def test_family_matches_the_character_by_character_reference(continuum):
    spans, length, coders = continuum
    assert_same(unitizing_alpha_2016(spans, length, coders), reference_family([continuum]))


@FAST
@given(continua(unit_spans=True))
def test_u_alpha_is_character_level_nominal_alpha_when_every_unit_is_one_character(continuum):
    spans, length, coders = continuum
    codes = {None: 0, "x": 1, "y": 2, "z": 3}
    matrix = np.zeros((len(coders), length))
    for coder, start, _, value in spans:
        matrix[coders.index(coder), start] = codes[value]
    result = unitizing_alpha_2016(spans, length, coders)["u_alpha"]
    if np.unique(matrix).size < 2:
        assert result is None
    else:
        expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
        assert result == pytest.approx(expected, abs=EXACT)


@FAST
@given(continua(), st.randoms(use_true_random=False))
def test_family_does_not_depend_on_coder_names_or_order(continuum, rng):
    spans, length, coders = continuum
    renamed = dict(zip(coders, rng.sample(range(100), len(coders)), strict=True))
    moved = [(renamed[c], s, e, v) for c, s, e, v in spans]
    order = rng.sample(list(renamed.values()), len(coders))
    assert_same(
        unitizing_alpha_2016(moved, length, order), unitizing_alpha_2016(spans, length, coders)
    )


@FAST
@given(continua(), st.permutations(["p", "q", "r"]))
def test_family_does_not_depend_on_value_labels(continuum, labels):
    spans, length, coders = continuum
    relabel = dict(zip(VALUES, labels, strict=True))
    moved = unitizing_alpha_2016([(c, s, e, relabel[v]) for c, s, e, v in spans], length, coders)
    original = unitizing_alpha_2016(spans, length, coders)
    for key in KEYS:
        assert_close(moved[key], original[key])
    assert moved["ku_alpha"].keys() == {relabel[v] for v in original["ku_alpha"]}
    for value, alpha in original["ku_alpha"].items():
        assert_close(moved["ku_alpha"][relabel[value]], alpha)


@FAST
@given(continua(coders=["only"]), st.integers(2, 4))
def test_identical_unitizations_agree_perfectly(continuum, n_coders):
    spans, length, _ = continuum
    assume(spans and sum(e - s for _, s, e, _ in spans) < length)  # some gap, some unit
    copies = [(i, s, e, v) for i in range(n_coders) for _, s, e, v in spans]
    result = unitizing_alpha_2016(copies, length, range(n_coders))
    assert result["u_alpha"] == pytest.approx(1.0)
    assert result["bu_alpha"] == pytest.approx(1.0)
    several = len({v for *_, v in spans}) > 1
    assert result["cu_alpha"] == (pytest.approx(1.0) if several else None)
    assert all(a == pytest.approx(1.0) for a in result["ku_alpha"].values())


@FAST
@given(corpora)
def test_pooled_documents_follow_the_formula_on_pooled_coincidences(documents):
    assert_same(family_from_parts(pool_parts(parts_of(documents))), reference_family(documents))


@FAST
@given(corpora, st.sampled_from([1, 7, family._CHUNK_CELLS]))
def test_all_documents_at_once_are_each_document_alone(documents, chunk_cells):
    """The report computes every document's parts in one pass (in chunks of pieces when the
    codebook is large); each document's parts must be what it gives alone."""
    values = sorted({s[3] for spans, _, _ in documents for s in spans}, key=str)
    value_at = {v: i + 1 for i, v in enumerate(values)}
    rows = [
        (d, s, e, value_at[v]) for d, (spans, _, _) in enumerate(documents) for _, s, e, v in spans
    ]
    doc, starts, ends, value_idx = (
        np.array([r[i] for r in rows], dtype=np.int64) for i in range(4)
    )
    saved, family._CHUNK_CELLS = family._CHUNK_CELLS, chunk_cells
    try:
        together = documents_parts(
            doc,
            starts,
            ends,
            value_idx,
            np.array([length for _, length, _ in documents]),
            np.array([len(coders) for _, _, coders in documents]),
            values,
        )
    finally:
        family._CHUNK_CELLS = saved
    alone = stack_parts(parts_of(documents))
    assert together.values == alone.values
    for name in ("coincidences", "total", "self_weight", "lambda_squares"):
        np.testing.assert_allclose(getattr(together, name), getattr(alone, name), rtol=1e-12)


@FAST
@given(st.lists(continua(coders=["a", "b", "c"]), min_size=1, max_size=4))
def test_pooling_documents_of_the_same_coders_is_laying_them_end_to_end(documents):
    laid, offset = [], 0
    for spans, length, _ in documents:
        laid += [(c, s + offset, e + offset, v) for c, s, e, v in spans]
        offset += length
    pooled = family_from_parts(pool_parts(parts_of(documents)))
    assert_same(pooled, unitizing_alpha_2016(laid, offset, ["a", "b", "c"]))


@FAST
@given(st.lists(coder_subsets.flatmap(lambda cs: continua(cs, unit_spans=True)), max_size=4))
def test_pooled_u_alpha_is_krippendorff_alpha_with_absent_coders_missing(documents):
    assume(documents)
    everyone = ["a", "b", "c", "d"]
    codes = {"x": 1, "y": 2, "z": 3}
    blocks = []
    for spans, length, coders in documents:
        block = np.full((len(everyone), length), np.nan)
        block[[everyone.index(c) for c in coders]] = 0
        for coder, start, _, value in spans:
            block[everyone.index(coder), start] = codes[value]
        blocks.append(block)
    matrix = np.concatenate(blocks, axis=1)
    result = family_from_parts(pool_parts(parts_of(documents)))["u_alpha"]
    if np.unique(matrix[~np.isnan(matrix)]).size < 2:
        assert result is None
    else:
        expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
        assert result == pytest.approx(expected, abs=EXACT)


@FAST
@given(corpora)
def test_bootstrap_weights_reproduce_single_documents_and_the_pool(documents):
    parts = parts_of(documents)
    n = len(parts)
    stacked = stack_parts(parts)
    weights = np.vstack([np.eye(n), np.ones((1, n))])
    resampled = family_resampled(stacked, weights)
    for row, expected in enumerate([*map(family_from_parts, parts), family_from_parts(stacked)]):
        for key in KEYS:
            assert_close(alpha_or_none(*(a[row] for a in resampled[key])), expected[key])
        for value, alpha in expected["ku_alpha"].items():
            pair = resampled["ku_alpha"][value]
            assert_close(alpha_or_none(pair[0][row], pair[1][row]), alpha)
    assert_same(family_from_parts(stacked), family_from_parts(pool_parts(parts)))


def test_bootstrap_counts_a_document_drawn_twice_twice():
    docs = [
        ([("a", 0, 4, "x"), ("b", 2, 6, "x"), ("b", 6, 9, "y")], 12, ["a", "b"]),
        ([("a", 1, 3, "y"), ("c", 1, 5, "y"), ("b", 0, 2, "x")], 8, ["a", "b", "c"]),
    ]
    parts = parts_of(docs)
    resampled = family_resampled(stack_parts(parts), np.array([[2.0, 1.0]]))
    twice = family_from_parts(pool_parts([parts[0], parts[0], parts[1]]))
    observed, expected = resampled["cu_alpha"]
    assert twice["cu_alpha"] is not None
    assert alpha_or_none(observed[0], expected[0]) == pytest.approx(twice["cu_alpha"])
    rng = np.random.default_rng(7)
    draws = rng.multinomial(2, [0.5, 0.5], size=200).astype(float)
    observed, expected = family_resampled(stack_parts(parts), draws)["u_alpha"]
    assert observed.shape == expected.shape == (200,)
    assert np.all(np.isfinite(observed) & (expected > 0))


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_overlapping_spans_of_one_coder_are_rejected_by_name():
    spans = [("A", 0, 5, "x"), ("B", 0, 3, "x"), ("B", 6, 9, "x"), ("B", 2, 4, "y")]
    with pytest.raises(ValueError, match=r"'B' has overlapping spans \[0, 3\) 'x' and \[2, 4\)"):
        unitizing_alpha_2016(spans, 10)


def test_a_span_that_merely_touches_the_next_is_not_an_overlap():
    spans = [("A", 0, 3, "x"), ("A", 3, 6, "x"), ("B", 0, 6, "x")]
    assert unitizing_alpha_2016(spans, 10)["u_alpha"] is not None


@pytest.mark.parametrize(("start", "end"), [(-1, 2), (8, 11), (4, 4), (5, 3)])
def test_spans_outside_the_continuum_or_empty_are_rejected(start, end):
    with pytest.raises(ValueError, match="outside"):
        unitizing_alpha_2016([("A", start, end, "x"), ("B", 0, 2, "x")], 10)


def test_fewer_than_two_coders_are_rejected():
    with pytest.raises(ValueError, match="two coders"):
        unitizing_alpha_2016([("A", 0, 2, "x")], 10)
    with pytest.raises(ValueError, match="two coders"):
        unitizing_alpha_2016([], 10, coders=["A"])


def test_spans_by_unknown_coders_or_with_unknown_values_are_rejected():
    with pytest.raises(ValueError, match="not among the coders"):
        unitizing_alpha_2016([("C", 0, 2, "x")], 10, coders=["A", "B"])
    with pytest.raises(ValueError, match="not among the values"):
        family_parts([("A", 0, 2, "w")], 10, ["A", "B"], ["x"])
