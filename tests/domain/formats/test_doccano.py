"""doccano JSONL: its export shapes, its per-user ZIP, its UTF-16 offsets, and round trips."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.domain.formats import read, write, zip_files
from annotations.domain.formats.doccano import read_doccano
from tests.domain.formats.helpers import (
    TEXT,
    at,
    documents,
    expected,
    imported,
    jsonl,
    messages,
    study,
    utf16,
)

FIRE = "👨🏻\u200d🚒 firemen drive firetrucks"


def test_sequence_labelling_export_with_utf16_offsets_reads_as_code_points():
    data = jsonl(
        {"id": 7, "text": FIRE, "label": [[22, 32, "Vehicle"]], "Comments": [], "outlet": "AP"},
        {"text": "EU rejects German call.", "labels": [[0, 2, "ORG"]]},
    )
    result = read_doccano("export.jsonl", data)
    assert result.ok, messages(result)
    first, second = result.documents
    assert [(s.start, s.end, s.code, s.coder) for s in first.spans] == [(19, 29, "Vehicle", None)]
    assert first.text[19:29] == "firetrucks"
    assert (first.external_id, first.outlet) == ("7", "AP")
    assert [(s.start, s.end, s.code) for s in second.spans] == [(0, 2, "ORG")]


def test_relation_export_reads_entities_and_reports_relations_and_comments():
    record = {
        "text": "Obama visited Paris.",
        "entities": [
            {"id": 1, "label": "PER", "start_offset": 0, "end_offset": 5},
            {"id": 2, "label": "LOC", "start_offset": 14, "end_offset": 19},
        ],
        "relations": [{"id": 3, "from_id": 1, "to_id": 2, "type": "visits"}],
        "Comments": ["check this one"],
        "source": "wire",
    }
    result = read_doccano("rel.jsonl", jsonl(record))
    assert [(s.start, s.end, s.code) for s in result.documents[0].spans] == [
        (0, 5, "PER"),
        (14, 19, "LOC"),
    ]
    assert result.skipped_counts() == {
        ("relation", "relations are not imported"): 1,
        ("comment", "doccano comments belong to the whole text, not to a span"): 1,
        ("attribute", "metadata key not imported"): 1,
    }


def test_categories_are_reported_not_imported():
    data = jsonl(
        {"text": "A text about tax.", "label": ["economy", "politics"]},
        {"text": "Intent text here.", "cats": ["greet"], "label": [[0, 6, "SLOT"]]},
    )
    result = read_doccano("cats.jsonl", data)
    assert result.ok
    assert result.skipped_counts() == {("category", "document categories are not imported"): 3}
    assert result.span_count == 1


def test_per_user_export_zip_gives_each_users_spans_to_that_user():
    text = "Framing is hard 😀 but fun."
    archive = zip_files(
        [
            ("alice.jsonl", jsonl({"text": text, "label": [[0, 7, "Frame"]]})),
            ("bob.jsonl", jsonl({"text": text, "label": [[16, 18, "Emoji"], [19, 22, "Conj"]]})),
        ]
    )
    result = read_doccano("project.zip", archive)
    (document,) = result.documents
    assert {(s.start, s.end, s.code, s.coder) for s in document.spans} == {
        (0, 7, "Frame", "alice"),
        (16, 17, "Emoji", "bob"),
        (18, 21, "Conj", "bob"),
    }
    assert document.coders == ("alice", "bob")


def test_collaborative_all_jsonl_has_no_coder():
    archive = zip_files([("all.jsonl", jsonl({"text": "Shared work.", "label": [[0, 6, "X"]]}))])
    (span,) = read_doccano("project.zip", archive).documents[0].spans
    assert span.coder is None


def test_a_pretty_printed_json_file_gets_one_clear_problem():
    data = json.dumps([{"text": "One.", "label": []}, {"text": "Two.", "label": []}], indent=2)
    result = read_doccano("export.jsonl", data.encode())
    assert messages(result) == [
        "export.jsonl: this file is one JSON document, not JSON Lines (one JSON object per "
        "line); export it as JSONL, or choose the format whose files are one JSON document"
    ]


def test_code_point_offsets_split_a_surrogate_pair_and_the_problem_names_line_and_hint():
    data = jsonl({"text": "ok"}, {"text": "😀 ab", "label": [[1, 3, "X"]]})
    assert messages(read_doccano("x.jsonl", data)) == [
        'x.jsonl, line 2: label 1 [1, 3, "X"]: offsets 1–3 fall inside a character; '
        "the file may count code points: try --offsets codepoints"
    ]
    assert read_doccano("x.jsonl", data, offsets="codepoints").ok


def test_grapheme_mode_projects_read_with_offsets_graphemes():
    text = "👨\u200d👩\u200d👧\u200d👦 family cafe\u0301"
    data = jsonl({"text": text, "label": [[2, 8, "Who"], [9, 13, "Drink"]]})
    spans = read_doccano("g.jsonl", data, offsets="graphemes").documents[0].spans
    assert [text[s.start : s.end] for s in spans] == ["family", "cafe\u0301"]


def test_crlf_text_is_normalised_and_offsets_follow():
    data = jsonl({"text": "one\r\ntwo", "label": [[5, 8, "Two"]]})
    (document,) = read_doccano("crlf.jsonl", data).documents
    assert document.text == "one\ntwo"
    assert [(s.start, s.end) for s in document.spans] == [(4, 7)]


def test_internal_label_ids_of_old_exports_are_refused():
    data = jsonl({"text": "Abc", "annotations": [{"label": 3, "start_offset": 0, "end_offset": 1}]})
    assert "doccano's internal label id (3)" in messages(read_doccano("old.jsonl", data))[0]


def test_written_offsets_are_utf16_by_default_and_notes_become_comments():
    files = dict(write("doccano", study()))
    alice = [json.loads(line) for line in files["alice.jsonl"].decode().splitlines()]
    start, end = at(TEXT, "👩🏽\u200d🔬")
    assert [*utf16(TEXT, start, end), "Emoji"] in alice[0]["label"]
    assert alice[0]["Comments"][0].endswith("] opening quote")
    assert alice[0]["title"] == "First"
    assert "EXPORT-NOTES.txt" in files


def test_round_trip_through_the_per_user_zip_in_utf16_and_code_points():
    documents = study()
    for unit in ("utf16", "codepoints"):
        archive = zip_files(write("doccano", documents, offsets=unit))
        result = read("export.zip", archive, format="doccano", offsets=unit)
        assert imported(result) == expected(documents)


def test_single_file_layout_merges_coders():
    documents = study()
    files = dict(write("doccano", documents, layout="single"))
    result = read_doccano("all.jsonl", files["all.jsonl"])
    assert {(s.start, s.end, s.code) for s in result.documents[0].spans} == {
        (s.start, s.end, s.code) for a in documents[0].annotations for s in a.spans
    }


@settings(max_examples=60, deadline=None)
@given(documents(), st.sampled_from(["utf16", "codepoints"]))
def test_any_spans_on_any_text_survive_a_doccano_round_trip(document, unit):
    archive = zip_files(write("doccano", [document], offsets=unit))
    assert imported(read("x.zip", archive, format="doccano", offsets=unit)) == expected([document])
