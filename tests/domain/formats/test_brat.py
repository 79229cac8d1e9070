"""brat standoff: .txt/.ann pairs, notes, refusals, skipped lines, a folder per coder."""

from __future__ import annotations

from annotations.domain.formats import read, write, zip_files
from annotations.domain.formats.brat import brat_type_names, read_brat
from tests.domain.formats.helpers import expected, imported, messages, study

TEXT = "Japan was today struck by 🌊 waves.\r\nTokyo reports damage.\n"
ANN = (
    "T1\tLocation 0 5\tJapan\n"
    "T2\tEvent 16 22\tstruck\n"
    "T3\tHazard 26 33\t🌊 waves\n"
    "T4\tLocation 36 41\tTokyo\n"
    "R1\tHit Arg1:T2 Arg2:T1\n"
    "E1\tEvent:T2 Theme:T1\n"
    "A1\tNegated E1\n"
    "N1\tReference T1 Wikipedia:14532\tJapan\n"
    "#1\tAnnotatorNotes T3\ttsunami, not rain\n"
    "#2\tAnnotatorNotes R1\trelation note\n"
)


def test_reads_text_bound_spans_with_notes_and_the_folder_as_coder():
    result = read_brat("x", [("alice/news.txt", TEXT.encode()), ("alice/news.ann", ANN.encode())])
    assert result.ok, messages(result)
    (document,) = result.documents
    assert document.text == "Japan was today struck by 🌊 waves.\nTokyo reports damage.\n"
    assert [(document.text[s.start : s.end], s.code, s.coder, s.note) for s in document.spans] == [
        ("Japan", "Location", "alice", ""),
        ("struck", "Event", "alice", ""),
        ("🌊 waves", "Hazard", "alice", "tsunami, not rain"),
        ("Tokyo", "Location", "alice", ""),
    ]


def test_relations_events_attributes_and_normalisations_are_reported():
    result = read_brat("x", [("news.txt", TEXT.encode()), ("news.ann", ANN.encode())])
    assert result.skipped_counts() == {
        ("relation", "relations are not imported"): 1,
        ("relation", "events are not imported (their trigger spans are)"): 1,
        ("attribute", "attributes are not imported"): 1,
        ("attribute", "normalisations are not imported"): 1,
        ("comment", "note on an annotation that is not a span"): 1,
    }
    assert result.documents[0].spans[0].coder is None  # no folder, no coder


def test_a_discontinuous_span_is_refused_with_its_line():
    ann = "T1\tLocation 0 5\tJapan\nT2\tEvent 0 5;16 22\tJapan struck\n"
    assert messages(read_brat("x", [("d.txt", TEXT.encode()), ("d.ann", ann.encode())])) == [
        "d.ann, line 2: discontinuous span '0 5;16 22': Framing spans are one stretch of "
        "text; split it into separate spans in brat, or join the pieces"
    ]


def test_fragments_split_only_by_a_line_break_are_one_span():
    ann = "T1\tPlace 26 33;36 41\t🌊 waves Tokyo\n"
    result = read_brat(
        "x", [("d.txt", TEXT.replace(".\r", " \r").encode()), ("d.ann", ann.encode())]
    )
    (span,) = result.documents[0].spans
    assert result.documents[0].text[span.start : span.end] == "🌊 waves \nTokyo"


def test_the_text_field_must_match_the_slice():
    ann = "T1\tLocation 1 6\tJapan\n"
    assert messages(read_brat("x", [("d.txt", TEXT.encode()), ("d.ann", ann.encode())])) == [
        "d.ann, line 1: the text at offsets 1–6 is 'apan ' but the file says 'Japan'"
    ]


def test_utf16_offsets_in_a_brat_file_are_caught_by_the_text_check():
    ann = "T1\tLocation 37 42\tTokyo\n"  # counted with 🌊 as two units
    assert messages(read_brat("x", [("d.txt", TEXT.encode()), ("d.ann", ann.encode())]))[
        0
    ].endswith("try --offsets utf16")


def test_an_ann_without_its_txt_is_a_problem():
    assert messages(read_brat("x", [("lost.ann", b"T1\tX 0 1\tJ\n")])) == [
        "lost.ann: has no matching lost.txt"
    ]


def test_codes_are_mapped_to_brat_type_names_and_back():
    assert brat_type_names(["Economic frame", "Économie", "2nd", "a|b", "a_b"]) == {
        "Economic frame": "Economic_frame",
        "Économie": "Economie",
        "2nd": "C_2nd",
        "a|b": "a_b",
        "a_b": "a_b-2",
    }


def test_writes_a_folder_per_coder_and_configuration():
    files = dict(write("brat", study()))
    assert {"alice/doc-1.txt", "alice/doc-1.ann", "bob/doc-1.ann", "carol/doc-2.ann"} <= set(files)
    assert "Across_lines" in files["annotation.conf"].decode()
    assert "<OVERLAP>" in files["annotation.conf"].decode()
    assert "Across_lines | Across lines" in files["visual.conf"].decode()
    assert b"line breaks are written as spaces" in files["EXPORT-NOTES.txt"]


def test_round_trip_keeps_spans_coders_and_notes_as_brat_holds_them():
    documents = study()
    result = read("export.zip", zip_files(write("brat", documents)), format="auto")
    assert result.format == "brat"
    want = expected(documents)
    want = {
        t: {(a, b, c, d, " ".join(n.splitlines())) for a, b, c, d, n in s} for t, s in want.items()
    }
    assert imported(result) == want
