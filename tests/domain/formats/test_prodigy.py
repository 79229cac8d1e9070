"""Prodigy / spaCy JSONL: accepted answers only, annotators, ents, round trips."""

from __future__ import annotations

from annotations.domain.formats import read, write
from annotations.domain.formats.prodigy import read_prodigy
from tests.domain.formats.helpers import expected, imported, jsonl, messages, study

TEXT = "Apple opens 🍎 store in Paris"


def test_reads_accepted_spans_with_annotator_and_skips_other_answers():
    data = jsonl(
        {
            "text": TEXT,
            "spans": [
                {
                    "start": 0,
                    "end": 5,
                    "label": "ORG",
                    "token_start": 0,
                    "token_end": 0,
                    "text": "Apple",
                },
                {"start": 23, "end": 28, "label": "GPE"},
            ],
            "answer": "accept",
            "_annotator_id": "news-alice",
            "_session_id": "news-alice",
            "_input_hash": 1,
            "_task_hash": 2,
            "tokens": [],
            "meta": {"title": "Apple"},
        },
        {
            "text": TEXT,
            "spans": [{"start": 0, "end": 5, "label": "PER"}],
            "answer": "reject",
            "_annotator_id": "news-bob",
        },
        {"text": TEXT, "spans": [], "answer": "ignore", "_annotator_id": "news-carol"},
        {
            "text": TEXT,
            "spans": [],
            "answer": "accept",
            "_session_id": "news-dave",
            "relations": [{"head": 0, "child": 1, "label": "IN"}],
        },
    )
    result = read_prodigy("db.jsonl", data)
    assert result.ok, messages(result)
    (document,) = result.documents
    assert document.title == "Apple"
    assert [(s.start, s.end, s.code, s.coder) for s in document.spans] == [
        (0, 5, "ORG", "news-alice"),
        (23, 28, "GPE", "news-alice"),
    ]
    assert document.coders == ("news-alice", "news-dave")
    assert result.skipped_counts() == {
        ("record", "answer is 'reject', not 'accept'"): 1,
        ("record", "answer is 'ignore', not 'accept'"): 1,
        ("relation", "relations are not imported"): 1,
    }


def test_spacy_ents_are_read_like_spans():
    data = jsonl({"text": TEXT, "ents": [{"start": 12, "end": 13, "label": "FRUIT"}]})
    (span,) = read_prodigy("doc.jsonl", data).documents[0].spans
    assert TEXT[span.start : span.end] == "🍎"


def test_span_text_is_checked_and_a_utf16_file_is_named():
    data = jsonl(
        {"text": TEXT, "spans": [{"start": 24, "end": 29, "label": "GPE", "text": "Paris"}]}
    )
    assert messages(read_prodigy("db.jsonl", data)) == [
        "db.jsonl, line 1: spans 1: offsets 24–29 go beyond the end of the text, which is 28 "
        "code points long; the file may count UTF-16 code units: try --offsets utf16"
    ]


def test_round_trip_in_both_units():
    for unit in ("codepoints", "utf16"):
        files = dict(write("prodigy", study(), offsets=unit))
        result = read("annotations.jsonl", files["annotations.jsonl"], offsets=unit)
        assert result.format == "Prodigy"
        assert imported(result) == expected(study())
