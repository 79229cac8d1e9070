"""WebAnno TSV 3.x: INCEpTION's text rebuild, disambiguation ids, escaping, UTF-16, round trips."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.domain.formats import read, write, zip_files
from annotations.domain.formats.webanno_tsv import escape_value, read_webanno_tsv, unescape_value
from tests.domain.formats.helpers import documents, expected, imported, messages, study

NE = "de.tudarmstadt.ukp.dkpro.core.api.ner.type.NamedEntity"
POS = "de.tudarmstadt.ukp.dkpro.core.api.lexmorph.type.pos.POS"
DEP = "de.tudarmstadt.ukp.dkpro.core.api.syntax.type.dependency.Dependency"

# Written after the user guide's examples: a two-token PER[1] with a stacked PERpart[2],
# a POS layer, a relation layer, an emoji counting two UTF-16 units, a sub-token, a value
# with escaped characters, and a sentence spread over two #Text lines.
SAMPLE = "\n".join(
    [
        "#FORMAT=WebAnno TSV 3.3",
        f"#T_SP={POS}|PosValue",
        f"#T_SP={NE}|identifier|value",
        f"#T_RL={DEP}|DependencyType|flavor|BT_{POS}",
        "",
        "",
        "#Sentence.id=s1",
        "#Text=Ms. Haag likes it 😊 .",
        "1-1\t0-3\tMs.\tNNP\t*[1]|*[2]\tPER[1]|PERpart[2]\t_\t_\t_\t",
        "1-2\t4-8\tHaag\tNNP\t*[1]\tPER[1]\tSUBJ\t*\t1-3\t",
        "1-3\t9-14\tlikes\tVBZ\t_\t_\t_\t_\t_\t",
        "1-3.1\t9-13\tlike\t_\t_\t_\t_\t_\t_\t",
        "1-4\t15-17\tit\tPRP\t_\t_\t_\t_\t_\t",
        "1-5\t18-20\t😊\tSYM\tQ42\tEMO\\_JI\t_\t_\t_\t",
        "1-6\t21-22\t.\t.\t_\t_\t_\t_\t_\t",
        "",
        "#Text=Next line",
        "#Text=and more .",
        "2-1\t23-27\tNext\t_\t_\tmisc\\|x\t_\t_\t_\t",
        "2-2\t37-41\tmore\t_\t_\t_\t_\t_\t_\t",
        "2-3\t42-43\t.\t_\t*\t_\t_\t_\t_\t",
        "",
    ]
)


def test_rebuilds_the_text_as_inception_does_and_reads_every_span_layer():
    result = read_webanno_tsv("annotation/news.txt/alice.tsv", SAMPLE.encode())
    assert result.ok, [str(p) for p in result.problems]
    (document,) = result.documents
    assert document.text == "Ms. Haag likes it 😊 .\nNext line\nand more ."
    spans = {(document.text[s.start : s.end], s.code, s.layer, s.coder) for s in document.spans}
    assert {(t, c, layer.rsplit(".", 1)[1]) for t, c, layer, _ in spans} >= {
        ("Ms. Haag", "PER", "NamedEntity"),
        ("Ms.", "PERpart", "NamedEntity"),
        ("😊", "EMO_JI", "NamedEntity"),
        ("Next", "misc|x", "NamedEntity"),
        ("Haag", "NNP", "POS"),
    }
    assert {coder for *_, coder in spans} == {"alice"}


def test_reports_other_features_relations_and_spans_without_a_value():
    result = read_webanno_tsv("x.tsv", SAMPLE.encode())
    counts = result.skipped_counts()
    assert counts[("attribute", "feature not imported")] == 1  # identifier=Q42
    assert counts[("relation", "relation layers are not imported")] == 1
    assert counts[("span", "has no value in feature 'value'")] == 1  # the '*' on 2-3


def test_a_token_that_does_not_match_the_text_is_refused_with_its_line():
    bad = SAMPLE.replace("1-4\t15-17\tit", "1-4\t15-17\tis")
    assert messages(read_webanno_tsv("x.tsv", bad.encode())) == [
        "x.tsv, line 13: token 'is' does not match the text at 15–17 ('it')"
    ]


def test_code_point_offsets_are_caught_at_the_emoji():
    bad = SAMPLE.replace("18-20\t😊", "18-19\t😊").replace("21-22", "20-21")
    assert any("inside a character" in m for m in messages(read_webanno_tsv("x.tsv", bad.encode())))


def test_not_a_tsv3_file_is_refused():
    assert messages(read_webanno_tsv("x.tsv", b"#FORMAT=WebAnno TSV 2\n")) == [
        "x.tsv, line 1: not a WebAnno TSV 3 file (the first line must be '#FORMAT=WebAnno TSV 3.x')"
    ]


def test_inception_project_zip_names_coders_and_skips_the_initial_cas():
    archive = zip_files(
        [
            ("annotation/news.txt/alice.tsv", SAMPLE.encode()),
            ("annotation/news.txt/INITIAL_CAS.tsv", SAMPLE.encode()),
            ("source/news.txt", b"Ms. Haag likes it"),
        ]
    )
    result = read("project.zip", archive)
    assert result.format == "WebAnno TSV"
    assert result.documents[0].coders == ("alice",)
    assert ("annotation", "INCEpTION's initial copy of the document, not a coder's") in (
        result.skipped_counts()
    )


def test_values_escape_and_unescape_as_tsv_32_does():
    value = "a_b|c[1]*->d;e\\f\tg\nh"
    assert escape_value(value) == "a\\_b\\|c\\[1\\]\\*\\->d\\;e\\\\f\\tg\\nh"
    assert unescape_value(escape_value(value)) == value


def test_writes_inception_layout_with_a_custom_layer():
    files = dict(write("webanno-tsv", study()))
    alice = files["annotation/doc-1/alice.tsv"].decode()
    assert alice.startswith("#FORMAT=WebAnno TSV 3.3\n#T_SP=webanno.custom.Framing|code|note\n\n\n")
    assert "line one\\nline two" in alice
    assert "annotation/doc-2/carol.tsv" in files


def test_round_trip_keeps_text_spans_coders_and_notes_in_both_units():
    for unit in ("utf16", "codepoints"):
        archive = zip_files(write("webanno-tsv", study(), offsets=unit))
        result = read("export.zip", archive, format="webanno-tsv", offsets=unit)
        assert imported(result) == expected(study())
        assert result.documents[1].coders == ("alice", "carol")


@settings(max_examples=60, deadline=None)
@given(documents(codes=("A", "b_c|d", "[x]*")), st.sampled_from(["utf16", "codepoints"]))
def test_any_spans_on_any_text_survive_a_tsv_round_trip(document, unit):
    """Tokens are cut to fit every span, whitespace edges and all, and the text is rebuilt."""
    archive = zip_files(write("webanno-tsv", [document], offsets=unit))
    result = read("x.zip", archive, format="webanno-tsv", offsets=unit)
    assert imported(result) == expected([document])
