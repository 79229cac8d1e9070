"""UIMA CAS XMI/JSON through dkpro-cassis: UTF-16 offsets in the file, layers, round trips."""

from __future__ import annotations

import io

from cassis import load_cas_from_xmi, load_typesystem
from hypothesis import given, settings

from annotations.domain.formats import ExportDocument, read, write, zip_files
from annotations.domain.formats.uima_cas import read_uima_cas
from tests.domain.formats.helpers import documents, expected, imported, messages, study

TEXT = "Merkel 😊 sprach über Steuern."  # 😊 counts two UTF-16 units


def feature(name: str, range_type: str = "uima.cas.String") -> str:
    return (
        f"<featureDescription><name>{name}</name><rangeTypeName>{range_type}</rangeTypeName>"
        "</featureDescription>"
    )


def type_(name: str, *features: str) -> str:
    return (
        f"<typeDescription><name>{name}</name><supertypeName>uima.tcas.Annotation"
        f"</supertypeName><features>{''.join(features)}</features></typeDescription>"
    )


TYPESYSTEM = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<typeSystemDescription xmlns="http://uima.apache.org/resourceSpecifier"><types>'
    + type_(
        "de.tudarmstadt.ukp.dkpro.core.api.ner.type.NamedEntity",
        feature("identifier"),
        feature("value"),
    )
    + type_("de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.Token")
    + type_("webanno.custom.Frame", feature("label"), feature("note"), feature("confidence"))
    + type_(
        "webanno.custom.Link",
        feature("Governor", "uima.tcas.Annotation"),
        feature("Dependent", "uima.tcas.Annotation"),
        feature("role"),
    )
    + "</types></typeSystemDescription>"
).encode()


def xmi(frame_end: int = 30) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<xmi:XMI xmlns:xmi="http://www.omg.org/XMI" xmlns:cas="http:///uima/cas.ecore" '
        'xmlns:ner="http:///de/tudarmstadt/ukp/dkpro/core/api/ner/type.ecore" '
        'xmlns:seg="http:///de/tudarmstadt/ukp/dkpro/core/api/segmentation/type.ecore" '
        'xmlns:custom="http:///webanno/custom.ecore" xmi:version="2.0">'
        '<cas:NULL xmi:id="0"/>'
        '<cas:Sofa xmi:id="1" sofaNum="1" sofaID="_InitialView" mimeType="text" '
        f'sofaString="{TEXT}"/>'
        '<ner:NamedEntity xmi:id="2" sofa="1" begin="0" end="6" value="PER" identifier="Q567"/>'
        '<seg:Token xmi:id="3" sofa="1" begin="0" end="6"/>'
        f'<custom:Frame xmi:id="4" sofa="1" begin="10" end="{frame_end}" label="Tax talk" '
        'note="about taxes" confidence="high"/>'
        '<custom:Frame xmi:id="5" sofa="1" begin="7" end="9"/>'
        '<custom:Link xmi:id="6" sofa="1" begin="10" end="16" Governor="2" Dependent="4" role="a"/>'
        '<cas:View sofa="1" members="2 3 4 5 6"/>'
        "</xmi:XMI>"
    ).encode()


def test_reads_span_layers_with_utf16_offsets_from_the_file():
    files = [("annotation/merkel.txt/alice.xmi", xmi()), ("TypeSystem.xml", TYPESYSTEM)]
    result = read_uima_cas("upload", files)
    assert result.ok, messages(result)
    (document,) = result.documents
    assert document.text == TEXT
    assert {(TEXT[s.start : s.end], s.code, s.layer, s.coder, s.note) for s in document.spans} == {
        ("Merkel", "PER", "de.tudarmstadt.ukp.dkpro.core.api.ner.type.NamedEntity", "alice", ""),
        ("sprach über Steuern.", "Tax talk", "webanno.custom.Frame", "alice", "about taxes"),
    }


def test_reports_features_relations_segmentation_and_spans_without_a_code():
    counts = read_uima_cas("x", [("a.xmi", xmi()), ("TypeSystem.xml", TYPESYSTEM)]).skipped_counts()
    assert counts == {
        ("attribute", "feature not imported"): 2,  # identifier=Q567, confidence=high
        ("relation", "relation and chain layers are not imported"): 1,
        ("span", "has no value in feature 'label'"): 1,
        ("layer", "segmentation and metadata are not imported"): 1,
    }


def test_an_offset_inside_the_emoji_is_refused_not_passed_through():
    files = [
        ("a.xmi", xmi().replace(b'begin="7" end="9"/>', b'begin="7" end="8" label="Emo"/>')),
        ("TypeSystem.xml", TYPESYSTEM),
    ]
    assert messages(read_uima_cas("x", files)) == [
        "a.xmi: Frame 5: offsets 7–8 fall inside a character; "
        "the file may count code points: try --offsets codepoints"
    ]


def test_an_xmi_without_its_type_system_is_refused():
    assert "needs the TypeSystem.xml" in messages(read_uima_cas("a.xmi", xmi()))[0]


def test_json_cas_carries_its_own_types():
    typesystem = load_typesystem(io.BytesIO(TYPESYSTEM))
    json_cas = load_cas_from_xmi(io.BytesIO(xmi()), typesystem=typesystem).to_json()
    result = read_uima_cas("annotation/merkel.txt/bob.json", json_cas.encode())
    assert {(TEXT[s.start : s.end], s.coder) for s in result.documents[0].spans} == {
        ("Merkel", "bob"),
        ("sprach über Steuern.", "bob"),
    }


def test_written_xmi_loads_in_cassis_with_utf16_offsets_in_the_file():
    files = dict(write("uima-cas", study()))
    typesystem = load_typesystem(io.BytesIO(files["TypeSystem.xml"]))
    cas = load_cas_from_xmi(io.BytesIO(files["annotation/doc-1/alice.xmi"]), typesystem=typesystem)
    frames = cas.select("webanno.custom.Framing")
    assert {f.get_covered_text() for f in frames} >= {"👩🏽\u200d🔬", "ភាសាខ្មែរ"}
    assert cas.select("de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.Sentence")


def test_round_trip_keeps_spans_coders_and_notes():
    result = read("export.zip", zip_files(write("uima-cas", study())), format="auto")
    assert result.format == "UIMA CAS"
    assert imported(result) == expected(study())
    assert result.documents[1].coders == ("alice", "carol")


@settings(max_examples=40, deadline=None)
@given(documents())
def test_any_spans_on_any_text_survive_an_xmi_round_trip(document):
    files = list(write("uima-cas", [document]))
    if any(path == "EXPORT-NOTES.txt" for path, _ in files):  # control characters: left out
        assert b"XML 1.0 cannot hold" in files[-1][1]
        return
    assert imported(read("x.zip", zip_files(files), format="uima-cas")) == expected([document])


def test_a_document_with_control_characters_is_left_out_of_xmi_with_a_note():
    files = dict(write("uima-cas", [ExportDocument("bell", "ring \x07 ring")]))
    assert "annotation/bell" not in " ".join(files)
    assert b"Document bell holds control characters" in files["EXPORT-NOTES.txt"]
