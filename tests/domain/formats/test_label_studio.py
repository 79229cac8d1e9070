"""Label Studio JSON: tasks, annotators, what is skipped, value.text checks, round trips."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.domain.formats import read, write
from annotations.domain.formats.labelstudio import labelling_config, read_label_studio
from tests.domain.formats.helpers import documents, expected, imported, messages, study

FIRE = "👨🏻\u200d🚒 firemen drive firetrucks"


def region(start, end, text, *labels, ident="r1", kind="labels"):
    return {
        "id": ident,
        "type": kind,
        "from_name": "label",
        "to_name": "text",
        "value": {"start": start, "end": end, "text": text, "labels": list(labels)},
    }


def export(*tasks) -> bytes:
    return json.dumps(list(tasks), ensure_ascii=False, indent=2).encode()


SAMPLE = export(
    {
        "id": 1,
        "data": {"text": FIRE, "title": "Fire", "source": "feed"},
        "annotations": [
            {
                "id": 11,
                "completed_by": 3,
                "was_cancelled": False,
                "result": [
                    region(19, 29, "firetrucks", "Vehicle", "Object"),
                    {
                        "id": "r1",
                        "type": "textarea",
                        "from_name": "note",
                        "to_name": "text",
                        "value": {"text": ["big red ones"]},
                    },
                    {
                        "id": "c1",
                        "type": "choices",
                        "from_name": "tone",
                        "to_name": "text",
                        "value": {"choices": ["neutral"]},
                    },
                    {"id": "rel", "type": "relation", "from_id": "r1", "to_id": "r2"},
                ],
            },
            {
                "id": 12,
                "completed_by": {"id": 4, "email": "bob@example.org"},
                "was_cancelled": False,
                "result": [],
            },
            {
                "id": 13,
                "completed_by": 5,
                "was_cancelled": True,
                "result": [region(0, 2, "x", "X")],
            },
        ],
        "predictions": [{"model_version": "v1", "result": [region(3, 10, "firemen", "Person")]}],
    }
)


def test_reads_regions_with_one_span_per_label_and_per_region_notes():
    result = read_label_studio("project.json", SAMPLE)
    assert result.ok, messages(result)
    (document,) = result.documents
    assert document.title == "Fire"
    assert {(s.start, s.end, s.code, s.coder, s.note) for s in document.spans} == {
        (19, 29, "Vehicle", "3", "big red ones"),
        (19, 29, "Object", "3", "big red ones"),
    }
    assert document.coders == ("3", "bob@example.org")  # bob finished with nothing marked


def test_reports_choices_relations_cancelled_annotations_predictions_and_data_keys():
    assert read_label_studio("project.json", SAMPLE).skipped_counts() == {
        ("annotation", "results of type 'choices' are not imported"): 1,
        ("relation", "relations are not imported"): 1,
        ("annotation", "cancelled (skipped) by the annotator"): 1,
        ("prediction", "predictions are a model's work, not a coder's"): 1,
        ("attribute", "task data key not imported"): 1,
    }


def test_a_region_whose_text_does_not_match_is_refused_naming_the_task_line():
    text = FIRE + " and more words"
    data = export(
        {"data": {"text": "ok"}, "annotations": []},
        {
            "data": {"text": text},
            "annotations": [
                {"completed_by": 1, "result": [region(22, 32, "firetrucks", "Vehicle")]}
            ],
        },
    )
    assert messages(read_label_studio("old.json", data)) == [
        "old.json, line 8: annotation 1, region r1: the text at offsets 22–32 is 'etrucks an' "
        "but the file says 'firetrucks'; the file may count UTF-16 code units: "
        "try --offsets utf16"
    ]
    assert read_label_studio("old.json", data, offsets="utf16").ok


def test_first_string_in_data_is_the_text_when_there_is_no_text_key():
    data = export(
        {
            "data": {"article": "Some article."},
            "annotations": [{"completed_by": 2, "result": [region(0, 4, "Some", "Q")]}],
        }
    )
    (document,) = read_label_studio("t.json", data).documents
    assert (document.text, document.spans[0].code) == ("Some article.", "Q")


def test_a_json_lines_file_is_not_a_task_list():
    assert messages(read_label_studio("t.json", b'{"data": {"text": "a"}}\n{"data": 1}\n'))


def test_writes_tasks_and_a_labelling_config_that_names_every_code():
    files = dict(write("label-studio", study(), codes=["Unused", "Quote"]))
    config = files["labelling-config.xml"].decode()
    assert '<Label value="Unused"/>' in config and '<Label value="Khmer"/>' in config
    assert '<Text name="text" value="$text"/>' in config
    tasks = json.loads(files["tasks.json"])
    first = tasks[0]["annotations"][0]
    assert first["completed_by"] == {"username": "alice"}
    assert {r["type"] for r in first["result"]} == {"labels", "textarea"}


def test_config_escapes_codes_for_xml():
    assert '<Label value="a &amp; &quot;b&quot; &lt;c&gt;"/>' in labelling_config(['a & "b" <c>'])


def test_round_trip_keeps_offsets_codes_coders_and_notes_in_both_units():
    for unit in ("codepoints", "utf16"):
        files = dict(write("label-studio", study(), offsets=unit))
        result = read("tasks.json", files["tasks.json"], format="label-studio", offsets=unit)
        assert imported(result) == expected(study())
        assert result.documents[1].coders == ("alice", "carol")


@settings(max_examples=60, deadline=None)
@given(documents(), st.sampled_from(["utf16", "codepoints"]))
def test_any_spans_on_any_text_survive_a_label_studio_round_trip(document, unit):
    files = dict(write("label-studio", [document], offsets=unit))
    result = read("tasks.json", files["tasks.json"], format="auto", offsets=unit)
    assert result.format == "Label Studio"
    assert imported(result) == expected([document])
