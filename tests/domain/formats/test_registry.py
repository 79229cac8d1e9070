"""The one entry point: format detection, the format table, refusals instead of exceptions."""

from __future__ import annotations

import json

import pytest

from annotations.domain.formats import FORMATS, Unit, detect_format, read, write, zip_files
from tests.domain.formats.helpers import jsonl, messages, study


@pytest.mark.parametrize(
    ("name", "data", "format_name"),
    [
        ("a.jsonl", jsonl({"text": "x", "label": [[0, 1, "A"]]}), "doccano"),
        ("a.jsonl", jsonl({"text": "x", "spans": [], "answer": "accept"}), "prodigy"),
        ("a.jsonl", jsonl({"text": "x", "title": "T"}), "plain"),
        ("a.json", json.dumps([{"data": {"text": "x"}}]).encode(), "label-studio"),
        ("a.json", b'{"%TYPES": {}, "%FEATURE_STRUCTURES": []}', "uima-cas"),
        ("a.tsv", b"#FORMAT=WebAnno TSV 3.3\n", "webanno-tsv"),
        ("a.xmi", b"<xmi:XMI/>", "uima-cas"),
        ("a.csv", b"text\nhello\n", "plain"),
        ("a.zip", zip_files([("d.txt", b"x"), ("d.ann", b"")]), "brat"),
        ("a.zip", zip_files([("alice.jsonl", jsonl({"text": "x", "label": []}))]), "doccano"),
        ("a.pdf", b"%PDF-1.4", None),
    ],
)
def test_detects_the_format_from_names_and_content(name, data, format_name):
    assert detect_format(name, data) == format_name


def test_every_written_format_is_detected_and_read_back():
    for name, spec in FORMATS.items():
        if spec.writer is None:
            continue
        files = list(write(name, study()))
        assert "EXPORT-NOTES.txt" not in [path for path, _ in files[:-1]], name  # notes last
        result = read("export.zip", zip_files(files))
        assert result.ok, (name, messages(result))
        assert result.format == read("x", b"", format=name).format
        assert result.span_count == 11, name


def test_the_format_table_states_units_and_what_is_not_carried():
    assert FORMATS["doccano"].default_offsets is Unit.UTF16
    assert FORMATS["label-studio"].default_offsets is Unit.CODEPOINTS
    assert FORMATS["webanno-tsv"].default_offsets is Unit.UTF16
    assert FORMATS["uima-cas"].default_offsets is Unit.UTF16
    assert {FORMATS[n].default_offsets for n in ("brat", "prodigy", "plain")} == {Unit.CODEPOINTS}
    assert all(spec.carries and spec.does_not_carry for spec in FORMATS.values())


def test_undetectable_uploads_and_bad_options_are_problems_not_exceptions():
    assert messages(read("a.pdf", b"%PDF")) == [
        "a.pdf: cannot tell the format; choose one of doccano, label-studio, brat, "
        "webanno-tsv, uima-cas, prodigy, plain"
    ]
    assert messages(read("a.jsonl", b"{}", format="doccano", offsets="bytes")) == [
        "a.jsonl: unknown offset unit 'bytes'; use one of codepoints, utf16, graphemes"
    ]
    assert messages(read("a.json", b"[]", format="label-studio", coder="alice")) == [
        "a.json: Label Studio JSON export names its own coders"
    ]
    assert messages(read("a.zip", b"PK\x03\x04broken")) == [
        "a.zip: cannot tell the format; choose one of doccano, label-studio, brat, "
        "webanno-tsv, uima-cas, prodigy, plain"
    ]


def test_a_lone_file_can_be_given_its_coder():
    result = read("mine.jsonl", jsonl({"text": "x y", "label": [[0, 1, "A"]]}), coder="dana")
    assert result.documents[0].spans[0].coder == "dana"


def test_plain_files_delegate_to_textio_and_report_unread_columns():
    result = read("docs.csv", b"text,title,section\nHello there.,Greeting,A\n")
    assert result.ok and result.documents[0].title == "Greeting"
    assert result.skipped_counts() == {("attribute", "column not imported"): 1}
    refused = read("docs.csv", b"title\nno text column\n")
    assert messages(refused) == ["docs.csv, line 1: missing required column 'text'"]


def test_writing_an_unknown_format_names_the_writable_ones():
    with pytest.raises(ValueError, match="use one of doccano, label-studio, brat"):
        write("plain", study())


def test_hostile_json_is_a_problem_not_a_crash():
    deep = b'{"text": "x", "label": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"
    assert messages(read("deep.jsonl", deep, format="doccano")) == [
        "deep.jsonl, line 1: not usable JSON: nested more than 64 levels deep"
    ]
    huge = b'{"text": "x", "label": [[0, 1' + b"0" * 5000 + b', "A"]]}\n'
    assert "not usable JSON" in messages(read("huge.jsonl", huge, format="doccano"))[0]
    deep_task = b"[" + b"[" * 100_000 + b"]" * 100_000 + b"]"
    assert (
        "nested more than 64 levels deep"
        in messages(read("t.json", deep_task, format="label-studio"))[0]
    )
    repeated = b'[{"data": {"text": "a"}},\n {"data": {"text": "b", "text": "c"}}]'
    assert messages(read("t.json", repeated, format="label-studio")) == [
        "t.json, line 2: key 'text' appears more than once"
    ]


def test_detection_survives_hostile_json():
    deep = b"[" * 100_000 + b"]" * 100_000 + b"\n"
    assert detect_format("deep.jsonl", deep + deep) == "doccano"
    assert messages(read("deep.jsonl", deep + deep))
