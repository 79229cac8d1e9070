"""Agreement coefficients against published worked examples and reference implementations."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from annotations.agreement import (
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    scott_pi,
    span_f1,
    unitized_alpha,
)
from annotations.domain.agreement.span_match import overlap_matches
from annotations.domain.agreement.unitizing import unitized_components

NAN = math.nan
EXACT = 1e-9
FAST = settings(max_examples=40, deadline=None)

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 observers x 12 units.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]

# Fleiss (1971): 30 subjects, 6 psychiatrists, 5 diagnoses (each row: the six diagnoses).
FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]  # fmt: skip

# Krippendorff (2004: p. 254) as DKPro Agreement's Krippendorff2004Test encodes it: two
# observers on the continuum [150, 450); shifted here to start at 0. (coder, start, end, code)
KRIPPENDORFF_2004 = [
    (0, 225, 295, "c"), (0, 370, 400, "c"),
    (1, 220, 300, "c"), (1, 355, 375, "c"), (1, 400, 420, "c"),
    (0, 180, 240, "k"), (0, 300, 350, "k"), (1, 180, 240, "k"), (1, 300, 350, "k"),
]  # fmt: skip


def shifted(spans, by):
    return [(coder, start - by, end - by, code) for coder, start, end, code in spans]


def krippendorff_1995(stretch: float):
    """DKPro's Krippendorff1995Test example (1995: p. 57): codes A-D, two coders, L = 24."""
    units = {
        "A": [(0, 2, 8), (0, 14, 6), (1, 4, 4), (1, 15, 2)],
        "B": [(0, 0, 18), (1, 0, 2), (1, 2, 1), (1, 3, 1), (1, 4, 1), (1, 5, 1), (1, 6, 3),
              (1, 9, 1)],
        "C": [(0, 2, 6), (0, 10, 2), (0, 14, 4), (0, 20, 2), (1, 0, 2), (1, 4, 4), (1, 10, 4),
              (1, 16, 2), (1, 20, 2)],
        "D": [(0, 0, 2), (0, 2, 8), (0, 10, 4), (0, 14, 6), (0, 20, 4), (1, 0, 4), (1, 4, 4),
              (1, 8, 7), (1, 15, 2), (1, 17, 7)],
    }  # fmt: skip
    spans = [
        (coder, int(offset * stretch), int(offset * stretch) + int(length * stretch), code)
        for code, rows in units.items()
        for coder, offset, length in rows
    ]
    return spans, int(24 * stretch)


# --- Krippendorff's alpha -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_alpha_reproduces_krippendorff_2011_worked_example(level, published):
    assert krippendorff_alpha(KRIPPENDORFF_2011, level) == pytest.approx(published, abs=5e-4)


def test_alpha_2011_example_matches_reference_package_exactly():
    as_floats = [[NAN if v is None else v for v in row] for row in KRIPPENDORFF_2011]
    for level in ("nominal", "ordinal", "interval", "ratio"):
        expected = krippendorff.alpha(as_floats, level_of_measurement=level)
        assert krippendorff_alpha(KRIPPENDORFF_2011, level) == pytest.approx(expected, abs=EXACT)
        assert krippendorff_alpha(np.array(as_floats), level) == pytest.approx(expected, abs=EXACT)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_matches_reference_package_on_random_data_with_missing_values(seed, level):
    rng = np.random.default_rng(seed)
    coders, units = rng.integers(2, 7), rng.integers(5, 200)
    data = rng.integers(1, rng.integers(3, 9), size=(coders, units)).astype(float)
    data[rng.random(data.shape) < 0.3] = np.nan
    expected = krippendorff.alpha(data, level_of_measurement=level)
    assert krippendorff_alpha(data, level) == pytest.approx(expected, abs=EXACT)
    as_lists = [[None if np.isnan(v) else int(v) for v in row] for row in data]
    assert krippendorff_alpha(as_lists, level) == pytest.approx(expected, abs=EXACT)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_alpha_on_arrays_of_sparse_negative_or_fractional_values_matches_the_package(seed, level):
    """Arrays of whole numbers are tabulated straight from the numbers; values in their range
    that nobody gave must not become categories (they would move ordinal distances), and
    fractions or wide ranges go the general way. All must give the package's value."""
    rng = np.random.default_rng(seed)
    palette = [
        np.array([-3.0, 0.0, 7.0]),
        np.array([0.5, 1.0, 2.5]),
        np.array([1.0, 2.0, 4_000_000.0]),
    ][seed % 3]
    data = rng.choice(palette, size=(int(rng.integers(2, 5)), int(rng.integers(20, 120))))
    data[rng.random(data.shape) < 0.25] = np.nan
    expected = krippendorff.alpha(data, level_of_measurement=level)
    assert krippendorff_alpha(data, level) == pytest.approx(expected, abs=EXACT)
    assert krippendorff_alpha(data.astype(np.float32), level) == pytest.approx(expected, abs=1e-6)


def test_alpha_on_empty_or_missing_arrays_is_none():
    assert krippendorff_alpha(np.zeros((2, 0))) is None
    assert krippendorff_alpha(np.full((3, 4), np.nan)) is None


def test_alpha_with_many_coders_takes_the_unpatterned_path():
    rng = np.random.default_rng(3)
    data = rng.integers(0, 9, size=(12, 300)).astype(float)
    data[rng.random(data.shape) < 0.2] = np.nan
    expected = krippendorff.alpha(data, level_of_measurement="nominal")
    assert krippendorff_alpha(data) == pytest.approx(expected, abs=EXACT)


def test_alpha_accepts_string_labels():
    data = [["pos", "neg", "neu", None], ["pos", "neg", "neu", "pos"], ["pos", "neg", "pos", "pos"]]
    assert krippendorff_alpha(data) == pytest.approx(0.722222, abs=1e-6)


def test_alpha_is_none_without_pairable_values_or_variation():
    assert krippendorff_alpha([[1, None], [None, 2]]) is None
    assert krippendorff_alpha([[1, 1, 1], [1, 1, 1]]) is None
    assert krippendorff_alpha([[], []]) is None


def test_alpha_rejects_bad_input():
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha([[1, 2], [1, 2]], "cardinal")
    with pytest.raises(ValueError, match="numeric"):
        krippendorff_alpha([["a", "b"], ["a", "b"]], "interval")
    with pytest.raises(ValueError, match="every unit"):
        krippendorff_alpha([[1, 2], [1]])


coder_matrices = st.integers(2, 5).flatmap(
    lambda coders: st.integers(1, 12).flatmap(
        lambda units: st.lists(
            st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=units, max_size=units),
            min_size=coders,
            max_size=coders,
        )
    )
)


@FAST
@given(coder_matrices, st.sampled_from(["nominal", "ordinal", "interval"]))
def test_identical_coders_agree_perfectly(data, level):
    row = data[0]
    result = krippendorff_alpha([row, row, row], level)
    assert result is None or result == pytest.approx(1.0, abs=EXACT)


@FAST
@given(coder_matrices, st.randoms(use_true_random=False))
def test_alpha_ignores_the_order_of_coders_and_units(data, random):
    expected = krippendorff_alpha(data, "interval")
    coders = random.sample(data, len(data))
    order = random.sample(range(len(data[0])), len(data[0]))
    shuffled = [[row[u] for u in order] for row in coders]
    result = krippendorff_alpha(shuffled, "interval")
    assert (result is None) == (expected is None)
    if expected is not None:
        assert result == pytest.approx(expected, abs=EXACT)


@FAST
@given(coder_matrices, st.permutations(range(5)))
def test_nominal_alpha_ignores_category_labels(data, relabel):
    expected = krippendorff_alpha(data)
    renamed = [[None if v is None else f"code-{relabel[v]}" for v in row] for row in data]
    result = krippendorff_alpha(renamed)
    assert (result is None) == (expected is None)
    if expected is not None:
        assert result == pytest.approx(expected, abs=EXACT)


# --- Cohen's kappa, Scott's pi, Fleiss' kappa -------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_cohen_kappa_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    n, k = rng.integers(5, 300), rng.integers(2, 6)
    a, b = rng.integers(0, k, n).tolist(), rng.integers(0, k, n).tolist()
    b = [x if rng.random() < 0.5 else y for x, y in zip(a, b, strict=True)]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=EXACT)


def test_cohen_kappa_and_scott_pi_drop_units_where_either_coder_is_missing():
    a = [1, 2, None, 1, 2, 3, 1]
    b = [1, 2, 3, None, 1, 3, 1]
    kept = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    xs, ys = [x for x, _ in kept], [y for _, y in kept]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(xs, ys), abs=EXACT)
    assert scott_pi(a, b) == scott_pi(xs, ys)


def test_cohen_and_scott_reproduce_krippendorff_1995_digitized_example():
    # DKPro's Krippendorff1995Test: section A of the 1995 paper, digitized per character.
    bertha = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
    bill = [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert cohen_kappa(bertha, bill) == pytest.approx(0.385, abs=1e-3)
    assert scott_pi(bertha, bill) == pytest.approx(0.314, abs=1e-3)
    assert krippendorff_alpha([bertha, bill]) == pytest.approx(0.329, abs=1e-3)


def test_scott_pi_is_two_coder_alpha_without_small_sample_correction():
    rng = np.random.default_rng(5)
    a, b = rng.integers(0, 3, 40), rng.integers(0, 3, 40)
    # alpha = 1 - (n - 1) / n * (1 - pi) for two coders and no missing values (n = 2N values).
    alpha = krippendorff_alpha([a.tolist(), b.tolist()])
    n = 80
    assert alpha == pytest.approx(1 - (n - 1) / n * (1 - scott_pi(a.tolist(), b.tolist())))


def test_two_coder_measures_are_undefined_without_variation_or_units():
    assert cohen_kappa([1, 1, 1], [1, 1, 1]) is None
    assert scott_pi([1, 1], [1, 1]) is None
    assert cohen_kappa([None], [1]) is None
    assert cohen_kappa([], []) is None
    with pytest.raises(ValueError, match="same units"):
        cohen_kappa([1, 2], [1])
    with pytest.raises(ValueError, match="same units"):
        scott_pi([1], [1, 2])


@FAST
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=30))
def test_pairwise_measures_are_symmetric(pairs):
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    for measure in (cohen_kappa, scott_pi):
        forward, backward = measure(a, b), measure(b, a)
        assert (forward is None) == (backward is None)
        if forward is not None:
            assert forward == pytest.approx(backward, abs=EXACT)


def test_fleiss_kappa_reproduces_fleiss_1971():
    counts, _ = aggregate_raters(np.array(FLEISS_1971))
    assert fleiss_kappa(counts) == pytest.approx(0.430, abs=5e-4)
    assert fleiss_kappa(counts) == pytest.approx(sm_fleiss_kappa(counts, "fleiss"), abs=EXACT)


@pytest.mark.parametrize("seed", range(10))
def test_fleiss_kappa_matches_statsmodels(seed):
    rng = np.random.default_rng(seed)
    ratings = rng.integers(0, rng.integers(2, 6), size=(rng.integers(3, 80), rng.integers(2, 8)))
    counts, _ = aggregate_raters(ratings)
    expected = sm_fleiss_kappa(counts, method="fleiss")
    assert fleiss_kappa(counts) == pytest.approx(expected, abs=EXACT)
    assert fleiss_kappa(counts.tolist()) == pytest.approx(expected, abs=EXACT)


def test_fleiss_kappa_needs_the_same_number_of_coders_per_unit():
    with pytest.raises(ValueError, match="same number of coders"):
        fleiss_kappa([[2, 1], [1, 1]])
    assert fleiss_kappa([]) is None
    assert fleiss_kappa([[3, 0], [3, 0]]) is None


@FAST
@given(st.lists(st.lists(st.integers(0, 3), min_size=4, max_size=4), min_size=2, max_size=15))
def test_fleiss_kappa_ignores_unit_order_and_category_order(rows):
    counts, _ = aggregate_raters(np.array(rows), n_cat=4)
    expected = fleiss_kappa(counts)
    reordered = fleiss_kappa(counts[::-1, ::-1])
    assert (expected is None) == (reordered is None)
    if expected is not None:
        assert reordered == pytest.approx(expected, abs=EXACT)


# --- alpha_U ----------------------------------------------------------------------------------


def test_unitized_alpha_reproduces_krippendorff_2004_example():
    spans = shifted(KRIPPENDORFF_2004, 150)
    parts = unitized_components(spans, 300)
    assert parts["c"].observed == pytest.approx(0.0144, abs=1e-4)
    assert parts["c"].expected == pytest.approx(0.0532, abs=1e-4)
    assert unitized_alpha(spans, 300, code="c") == pytest.approx(0.7286, abs=1e-4)
    assert parts["k"].observed == 0
    assert parts["k"].expected == pytest.approx(0.0490, abs=1e-4)
    assert unitized_alpha(spans, 300, code="k") == pytest.approx(1.0, abs=EXACT)
    assert unitized_alpha(spans, 300) == pytest.approx(0.8591, abs=5e-4)


def test_unitized_alpha_one_long_unit_against_three_short_ones():
    # DKPro UnitizingAgreementTest: r0 -11111111- ; r1 --1-1-1--- on L = 10.
    spans = [(0, 1, 9, "A"), (1, 2, 3, "A"), (1, 4, 5, "A"), (1, 6, 7, "A")]
    parts = unitized_components(spans, 10)["A"]
    assert parts.observed == pytest.approx(0.9100, abs=EXACT)
    assert parts.expected == pytest.approx(0.5351, abs=1e-4)
    assert unitized_alpha(spans, 10, code="A") == pytest.approx(-0.7003, abs=1e-4)


def test_unitized_alpha_single_unit_and_empty_study_follow_dkpro():
    # One 1-character unit among three coders: D_o equals D_e, so alpha is 0.
    assert unitized_alpha([(0, 0, 1, "X")], 20, coders=[0, 1, 2]) == pytest.approx(0, abs=EXACT)
    assert unitized_alpha([], 20, coders=[0, 1, 2]) is None


def test_unitized_alpha_reproduces_krippendorff_1995_observed_disagreement():
    spans, length = krippendorff_1995(1)
    parts = unitized_components(spans, length)
    for code, published in {"A": 0.03125, "B": 2.26736, "C": 0.02777, "D": 0.38715}.items():
        assert parts[code].observed == pytest.approx(published, abs=1e-5)


def test_unitized_alpha_reproduces_krippendorff_1995_stretched_values():
    spans, length = krippendorff_1995(1_200_000 / 24)
    parts = unitized_components(spans, length)
    expected = {"A": 0.06990, "B": 1.17731, "C": 0.08642, "D": 0.41445}
    alphas = {"A": 0.553, "B": -0.926, "C": 0.679, "D": 0.066}
    for code in "ABCD":
        assert parts[code].expected == pytest.approx(expected[code], abs=5e-3)
        assert unitized_alpha(spans, length, code=code) == pytest.approx(alphas[code], abs=0.02)


def test_unitized_alpha_merges_a_coders_overlapping_same_code_spans():
    merged = [(0, 2, 8, "A"), (1, 2, 8, "A"), (1, 9, 12, "A")]
    split = [(0, 2, 5, "A"), (0, 4, 8, "A"), (1, 2, 8, "A"), (1, 9, 12, "A")]
    assert unitized_components(split, 20)["A"].merges == 1
    assert unitized_alpha(split, 20) == pytest.approx(unitized_alpha(merged, 20), abs=EXACT)


def test_unitized_alpha_counts_coders_who_marked_nothing():
    spans = [(0, 2, 8, "A"), (1, 2, 8, "A")]
    assert unitized_alpha(spans, 20) == pytest.approx(1.0)
    assert unitized_alpha(spans, 20, coders=[0, 1, 2]) < 1.0


def test_unitized_alpha_rejects_spans_outside_the_continuum():
    for start, end in [(-1, 3), (5, 5), (6, 4), (8, 11)]:
        with pytest.raises(ValueError, match="outside"):
            unitized_alpha([(0, start, end, "A"), (1, 0, 2, "A")], 10)
    with pytest.raises(ValueError, match="not among the coders"):
        unitized_alpha([(0, 0, 2, "A"), (2, 0, 2, "A")], 10, coders=[0, 1])


span_sets = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 38), st.integers(1, 10), st.sampled_from("AB")),
    max_size=12,
).map(lambda rows: [(c, s, min(s + n, 40), code) for c, s, n, code in rows])


@FAST
@given(span_sets)
def test_unitized_alpha_is_symmetric_in_coders_and_one_for_identical_coders(spans):
    swapped = [(2 - c, s, e, code) for c, s, e, code in spans]
    forward = unitized_alpha(spans, 40, coders=[0, 1, 2])
    backward = unitized_alpha(swapped, 40, coders=[0, 1, 2])
    assert (forward is None) == (backward is None)
    if forward is not None:
        assert backward == pytest.approx(forward, abs=EXACT)
    copies = [(c, s, e, code) for _, s, e, code in spans for c in (0, 1)]
    same = unitized_alpha(copies, 40, coders=[0, 1])
    assert same is None or same == pytest.approx(1.0, abs=EXACT)


# --- span F1 ----------------------------------------------------------------------------------


def test_span_f1_exact_and_overlap():
    a = [(0, 5, "A"), (10, 15, "A"), (20, 25, "B")]
    b = [(0, 5, "A"), (12, 18, "A"), (20, 25, "A")]
    assert span_f1(a, b) == pytest.approx(2 * 1 / 6)
    assert span_f1(a, b, match="overlap") == pytest.approx(2 * 2 / 6)
    assert span_f1([], []) is None
    assert span_f1(a, []) == 0.0
    with pytest.raises(ValueError, match="match"):
        span_f1(a, b, match="fuzzy")


def test_span_f1_overlap_is_one_to_one_by_largest_overlap():
    # b's long span overlaps both of a's; it goes to the larger overlap, the other stays single.
    a = [(0, 4, "A"), (4, 20, "A")]
    b = [(2, 18, "A")]
    assert span_f1(a, b, match="overlap") == pytest.approx(2 * 1 / 3)
    assert span_f1([(0, 10, "A"), (0, 10, "A")], [(0, 10, "A")]) == pytest.approx(2 / 3)


spans_ab = st.lists(
    st.tuples(st.integers(0, 30), st.integers(1, 8), st.sampled_from("AB")), max_size=10
).map(lambda rows: [(s, s + n, code) for s, n, code in rows])


@FAST
@given(spans_ab, spans_ab, st.randoms(use_true_random=False))
def test_span_f1_ignores_input_order_and_which_coder_comes_first(a, b, random):
    for match in ("exact", "overlap"):
        expected = span_f1(a, b, match)
        assert span_f1(random.sample(a, len(a)), random.sample(b, len(b)), match) == expected
        assert span_f1(b, a, match) == expected


def greedy_overlap_reference(a, b):
    """Every same-code pair sharing a character, taken greedily by largest overlap, ties by
    the two spans in sorted order: the rule :func:`overlap_matches` states, done slowly."""
    candidates = []
    for x, (sa, ea, ca) in enumerate(a):
        for y, (sb, eb, cb) in enumerate(b):
            overlap = min(ea, eb) - max(sa, sb)
            if ca == cb and overlap > 0:
                low, high = sorted([(sa, ea), (sb, eb)])
                candidates.append((-overlap, low, high, x, y))
    used_a, used_b, pairs = set(), set(), []
    for *_, x, y in sorted(candidates):
        if x not in used_a and y not in used_b:
            used_a.add(x)
            used_b.add(y)
            pairs.append((a[x], b[y]))
    return sorted(pairs)


@FAST
@given(spans_ab, spans_ab)
def test_overlap_matching_is_the_greedy_rule_it_states(a, b):
    codes = {"A": 0, "B": 1}
    rows_a = np.array([(s, e, codes[c]) for s, e, c in a], dtype=np.int64).reshape(-1, 3)
    rows_b = np.array([(s, e, codes[c]) for s, e, c in b], dtype=np.int64).reshape(-1, 3)
    got = sorted(
        (tuple(rows_a[x].tolist()), tuple(rows_b[y].tolist()))
        for x, y in overlap_matches(rows_a, rows_b)
    )
    as_rows = [(s, e, codes[c]) for s, e, c in a], [(s, e, codes[c]) for s, e, c in b]
    assert got == greedy_overlap_reference(*as_rows)


def test_nested_and_stacked_spans_of_other_codes_never_count_as_disagreement():
    """A loaded-language span inside a foreign-interference span is its own layer: both
    coders agree on interference whether or not they also marked the nested phrase."""
    length = 200
    interference = [("a", 20, 120, "FI"), ("b", 20, 120, "FI")]
    nested = [("a", 40, 60, "LL")]  # only coder a marks the phrase inside
    stacked = [("a", 150, 170, "SRC"), ("a", 150, 170, "LL2"), ("b", 150, 170, "SRC")]
    spans = interference + nested + stacked
    coders = ["a", "b"]
    assert unitized_alpha(spans, length, code="FI", coders=coders) == pytest.approx(1.0)
    assert unitized_alpha(spans, length, code="SRC", coders=coders) == pytest.approx(1.0)
    # The nested phrase is a real disagreement in its own layer, and only there.
    assert unitized_alpha(spans, length, code="LL", coders=coders) < 0.5
    # Pooled over codes, the disagreement is LL's and LL2's alone: adding the agreed layers
    # raises alpha, it never lowers it.
    only_disputed = unitized_alpha(nested + stacked[1:2], length, coders=coders)
    pooled = unitized_alpha(spans, length, coders=coders)
    assert pooled > only_disputed


def test_a_coders_overlapping_same_code_spans_are_merged_before_alpha_u():
    merged = unitized_alpha(
        [("a", 10, 30, "C"), ("a", 20, 40, "C"), ("b", 10, 40, "C")], 100, code="C", coders="ab"
    )
    assert merged == pytest.approx(1.0)
