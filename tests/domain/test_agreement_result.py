"""The typed agreement result: what compute_report builds is what the stored JSON gives back."""

from __future__ import annotations

import json

from annotations.domain.agreement.corpus import DocumentData, SpanData
from annotations.domain.agreement.report import compute_report
from annotations.domain.agreement.result import (
    COEFFICIENTS,
    AgreementResult,
    Interval,
    coder_id,
    coder_key,
)

CODES = ["loaded", "source"]
TEXT = "The minister said paid agents stirred the protest. State media reported it.\n"


def corpus() -> list[DocumentData]:
    def span(coder, phrase, code):
        start = TEXT.index(phrase)
        return SpanData(coder, start, start + len(phrase), code)

    docs = []
    for n in range(4):
        docs.append(
            DocumentData(
                id=n + 1,
                text=TEXT,
                coders=("u1", "u2"),
                spans=(
                    span("u1", "paid agents", "loaded"),
                    span("u2", "agents" if n % 2 else "paid agents", "loaded"),
                    span("u1", "said", "source"),
                    span("u2", "State media reported", "source"),
                ),
            )
        )
    return docs


def test_a_real_report_survives_storing_and_reading_back_exactly():
    result = compute_report(corpus(), CODES, n_bootstrap=100, seed=3)
    stored = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert stored["schema"] == 2
    again = AgreementResult.from_json(stored)
    assert again == result
    assert again.to_json() == stored


def test_every_coefficient_has_a_value_or_a_reason_and_every_interval_a_bound_or_a_reason():
    result = compute_report(corpus(), [*CODES, "unused"], n_bootstrap=100)
    for code in (*result.codes, None):
        for name, estimate in (result.overall if code is None else result.per_code[code]).items():
            assert name in COEFFICIENTS
            assert estimate.value is not None or estimate.reason, (code, name)
            interval = estimate.interval
            if interval is not None:
                assert interval.available or interval.reason, (code, name)


def test_tidy_rows_carry_each_interval_of_the_result():
    result = compute_report(corpus(), CODES, n_bootstrap=200)
    rows = {
        (r["coefficient"], r["code"], r["scope"]): r
        for r in result.rows()
        if r["scope"] == "corpus"
    }
    for code in CODES:
        interval = result.figure("alpha_u", code).interval
        row = rows[("alpha_u", code, "corpus")]
        assert (row["ci_low"], row["ci_high"]) == (interval.low, interval.high)
        assert interval.available and interval.low <= row["value"] <= interval.high


def test_results_stored_before_the_schema_number_are_read():
    legacy = {
        "unit": "token",
        "codes": ["X"],
        "coders": ["u3", "u4"],
        "counts": {"documents": 2},
        "per_code": {
            "X": {"alpha_u": 0.5, "alpha_u_ci": {"low": 0.1, "high": 0.8, "resamples": 999}}
        },
        "overall": {"alpha_u": 0.5, "alpha_nominal_ci": None},
        "pairs": {
            "u3|u4": {"documents": 2, "units": 10, "per_code": {}, "overall": {"cohen_kappa": 0.4}}
        },
        "per_document": [{"id": 7, "coders": ["u3", "u4"], "units": 5, "alpha_u": {"X": 0.5}}],
        "bootstrap": {"resamples": 1000, "seed": 0},
    }
    result = AgreementResult.from_json(legacy)
    assert result.schema == 1
    assert result.figure("alpha_u", "X").interval == Interval(0.1, 0.8, 999)
    assert result.pairs[0].coders == ("u3", "u4") and result.pairs[0].overall["cohen_kappa"] == 0.4
    assert result.coder_ids() == [3, 4]
    assert AgreementResult.from_json(None) is None
    assert AgreementResult.from_json({"unexpected": True}) is None


def test_coder_keys_are_the_only_way_coders_appear_in_a_result():
    assert coder_key(42) == "u42" and coder_id("u42") == 42
    assert coder_id("alice") is None and coder_id("u" + "9" * 30) is None
