"""Export shaping: values survive a round trip exactly; only the excel flavour defends cells."""

from __future__ import annotations

import csv
import datetime
import io
import json

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotations.domain.export import (
    CODEBOOK_COLUMNS,
    DOCUMENT_COLUMNS,
    RELIABILITY_KEY_COLUMNS,
    SPAN_COLUMNS,
    CsvFlavour,
    context,
    doccano_line,
    format_value,
    iter_csv,
    neutralise_formula,
    reliability_block,
    reliability_columns,
    reliability_file_name,
    reliability_rows,
    write_csv,
)
from annotations.domain.export_readme import README_TEXT, render_readme
from annotations.domain.textio import parse_file
from annotations.domain.units import unit_bounds

UTC = datetime.UTC
TEXT = 'Le 👩\u200d🔬 a dit « non », puis\r\n"partit", vite.\nFin ភាសា\u00a0.'
DANGEROUS = ["=1+1", "+44 20", "-3 dead", "@SUM(A1)", "\tTab", "\rCR"]


def span_row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "project": "Climate, 2024",
        "document_id": 17,
        "external_id": "-0042",
        "title": 'Floods: "worst" in decades',
        "outlet": "The Times",
        "url": "https://example.org/a?x=1,2",
        "published": datetime.date(2024, 2, 29),
        "text_sha256": "ab" * 32,
        "span_id": "s12",
        "layer": "coder",
        "coder": "ana",
        "code": "economic",
        "start": 3,
        "end": 7,
        "quote": TEXT[3:7],
        "context_before": "Le ",
        "context_after": " a dit",
        "note": 'line one\nline two, with "quotes"\r\nand CRLF',
        "created": datetime.datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
        "updated": datetime.datetime(
            2024, 3, 1, 10, 0, 0, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
        ),
        "provenance": "manual",
        "rationale": None,
        "source_span_ids": "",
        "source_coders": "",
        "settling_action": "",
    }
    row.update(overrides)
    return row


def as_strings(row: dict[str, object]) -> dict[str, str]:
    return {key: format_value(value) for key, value in row.items()}


def render(columns, rows, flavour) -> str:
    stream = io.StringIO(newline="")
    write_csv(stream, columns, rows, flavour)
    return stream.getvalue()


def read_with_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def read_with_pandas(text: str) -> list[dict[str, str]]:
    frame = pd.read_csv(
        io.BytesIO(text.encode("utf-8")), encoding="utf-8-sig", dtype=str, keep_default_na=False
    )
    return frame.to_dict("records")


# --- columns --------------------------------------------------------------------------


def test_column_lists_are_in_the_agreed_order():
    assert SPAN_COLUMNS[:3] == ("project", "document_id", "external_id")
    assert SPAN_COLUMNS[8:10] == ("span_id", "layer")
    assert SPAN_COLUMNS[-5:] == (
        "provenance",
        "rationale",
        "source_span_ids",
        "source_coders",
        "settling_action",
    )
    assert len(SPAN_COLUMNS) == len(set(SPAN_COLUMNS)) == 25
    assert DOCUMENT_COLUMNS[-2:] == ("length", "text")
    assert CODEBOOK_COLUMNS == (
        "code",
        "name",
        "definition",
        "guidance",
        "colour",
        "shortcut",
        "active",
        "order",
    )


# --- values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (42, "42"),
        (datetime.date(2024, 1, 5), "2024-01-05"),
        (datetime.datetime(2024, 1, 5, 8, 0, tzinfo=UTC), "2024-01-05T08:00:00+00:00"),
        ("  as is ", "  as is "),
    ],
)
def test_values_are_formatted_for_csv(value, cell):
    assert format_value(value) == cell


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="no time zone"):
        format_value(datetime.datetime(2024, 1, 5, 8, 0))


# --- context --------------------------------------------------------------------------


def test_context_is_a_fixed_number_of_code_points_each_side():
    text = "abcdefghij" * 10
    assert context(text, 50, 55, width=5) == (text[45:50], text[55:60]) == ("fghij", "fghij")


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, 2, ("", "cdef")),
        (5, 6, ("bcde", "")),
        (1, 3, ("a", "def")),
        (3, 3, ("abc", "def")),
        (0, 6, ("", "")),
    ],
)
def test_context_stops_at_the_edges_of_the_text(start, end, expected):
    assert context("abcdef", start, end, width=4) == expected


def test_context_counts_emoji_as_code_points():
    text = "😀😀😀 quote 😀😀😀"
    assert context(text, 4, 9, width=2) == ("😀 ", " 😀")


@pytest.mark.parametrize(("start", "end"), [(-1, 2), (3, 2), (0, 7)])
def test_context_rejects_a_span_outside_the_text(start, end):
    with pytest.raises(ValueError, match="outside"):
        context("abcdef", start, end)


# --- formula neutralising -------------------------------------------------------------


@pytest.mark.parametrize("value", DANGEROUS)
def test_every_dangerous_leading_character_gets_an_apostrophe(value):
    assert neutralise_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["", "plain", " =not first", "'quoted", "a-b", "€5"])
def test_safe_values_are_unchanged(value):
    assert neutralise_formula(value) == value


@pytest.mark.parametrize("value", DANGEROUS)
def test_excel_flavour_neutralises_every_text_cell_and_analysis_leaves_it(value):
    text_columns = [c for c, v in span_row().items() if isinstance(v, str) or v is None]
    row = span_row(**dict.fromkeys(text_columns, value))
    excel = read_with_pandas(render(SPAN_COLUMNS, [row], "excel"))[0]
    analysis = read_with_pandas(render(SPAN_COLUMNS, [row], "analysis"))[0]
    for column in text_columns:
        assert excel[column] == "'" + value, column
        assert analysis[column] == value


def test_excel_flavour_never_alters_numbers_dates_or_booleans():
    """Typed values are never text, so never formulas; an id that is text is (issue 13)."""
    row = span_row(external_id="-0042", document_id=-1, start=0, end=4)
    (excel,) = read_with_csv(render(SPAN_COLUMNS, [row], CsvFlavour.EXCEL))
    assert excel["external_id"] == "'-0042"
    assert excel["document_id"] == "-1"
    assert (excel["start"], excel["end"]) == ("0", "4")
    assert excel["published"] == "2024-02-29"
    assert excel["created"] == "2024-03-01T09:30:00+00:00"


def test_excel_flavour_neutralises_coder_names_used_as_headers():
    columns = reliability_columns(["=evil", "ana"])
    header = next(iter_csv(columns, [], "excel"))
    assert header == "\ufeffdocument_id,unit_start,unit_end,'=evil,ana\r\n"


# --- CSV round trip -------------------------------------------------------------------


@pytest.mark.parametrize("reader", [read_with_csv, read_with_pandas])
def test_analysis_csv_round_trips_every_value_exactly(reader):
    rows = [
        span_row(),
        span_row(quote=TEXT, note="", context_before="a,b", rationale="\"'=x"),
        span_row(title="😀" * 3, outlet="", url=None, published=None),
    ]
    assert reader(render(SPAN_COLUMNS, rows, "analysis")) == [as_strings(r) for r in rows]


def test_excel_csv_round_trips_safe_values_exactly():
    rows = [span_row(external_id="x-0042"), span_row(external_id="", quote=TEXT)]
    assert read_with_pandas(render(SPAN_COLUMNS, rows, "excel")) == [as_strings(r) for r in rows]


def test_document_text_round_trips_so_offsets_still_hold():
    row = {
        "document_id": 1,
        "external_id": "",
        "title": "t",
        "outlet": "",
        "url": "",
        "published": None,
        "text_sha256": "00",
        "length": len(TEXT),
        "text": TEXT,
    }
    (back,) = read_with_pandas(render(DOCUMENT_COLUMNS, [row], "analysis"))
    assert back["text"] == TEXT
    assert int(back["length"]) == len(back["text"])
    assert back["text"][3:7] == TEXT[3:7] == "👩\u200d🔬 "


cell_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))


@given(st.lists(st.tuples(cell_text, cell_text), max_size=5))
def test_any_text_survives_analysis_csv(values):
    rows = [{"quote": a, "note": b} for a, b in values]
    assert read_with_csv(render(["quote", "note"], rows, "analysis")) == rows


def test_bom_only_in_excel_flavour():
    analysis = render(CODEBOOK_COLUMNS, [], "analysis")
    excel = render(CODEBOOK_COLUMNS, [], "excel")
    assert analysis == ",".join(CODEBOOK_COLUMNS) + "\r\n"
    assert excel == "\ufeff" + analysis
    assert "\ufeff" not in render(["quote"], [{"quote": "x"}], "analysis")


def test_first_chunk_is_the_header_and_rows_follow_in_chunks():
    rows = [{"quote": "x" * 1000, "note": i} for i in range(100)]
    chunks = list(iter_csv(["quote", "note"], rows, "analysis"))
    assert chunks[0] == "quote,note\r\n"
    assert len(chunks) > 3
    assert all(chunk.endswith("\r\n") for chunk in chunks)
    assert len(read_with_csv("".join(chunks))) == 100


def test_iter_csv_consumes_rows_lazily():
    def rows():
        yield {"quote": "a"}
        raise AssertionError("read too far")

    chunks = iter_csv(["quote"], rows(), "analysis")
    assert next(chunks) == "quote\r\n"


def test_a_row_missing_a_column_is_a_bug_not_a_blank():
    with pytest.raises(KeyError, match="'note'"):
        render(["quote", "note"], [{"quote": "x"}], "analysis")


def test_unknown_flavour_is_refused():
    with pytest.raises(ValueError, match="'csv'"):
        render(["quote"], [], "csv")


# --- doccano JSONL --------------------------------------------------------------------


def test_doccano_line_has_text_sorted_labels_and_metadata():
    line = doccano_line(
        "Bonjour 👩\u200d🔬 monde",
        [(10, 15, "b"), (0, 7, "a"), (8, 9, "c")],
        {"external_id": "x-1", "published": datetime.date(2024, 1, 5)},
    )
    assert line == (
        '{"text": "Bonjour 👩\u200d🔬 monde", '
        '"label": [[0, 7, "a"], [8, 9, "c"], [10, 15, "b"]], '
        '"external_id": "x-1", "published": "2024-01-05"}'
    )


def test_doccano_line_stays_one_line_for_unicode_line_separators():
    text = "a\u2028b\u2029c\x85d\ne\rf"
    line = doccano_line(text, [], {})
    assert len(line.splitlines()) == 1
    assert json.loads(line)["text"] == text


def test_doccano_line_writes_notes_as_comments_naming_their_span():
    line = json.loads(doccano_line("abc def", [(0, 3, "x", "a note"), (4, 7, "y")], {}))
    assert line["label"] == [[0, 3, "x"], [4, 7, "y"]]
    assert line["Comments"] == ['[0, 3, "x"] a note']


def test_doccano_export_imports_back_with_the_same_text_and_labels():
    text = "Le 👩\u200d🔬 dit « non ».\nFin."
    labels = [(3, 6, "actor"), (0, 2, "x"), (3, 6, "quote")]
    data = "\n".join(
        [doccano_line(text, labels, {"id": 9, "title": "T"}), doccano_line("Two.", [], {})]
    )
    result = parse_file("spans.jsonl", data.encode())
    assert result.problems == ()
    first, second = result.documents
    assert (first.text, first.labels, first.external_id) == (text, tuple(sorted(labels)), "9")
    assert second.text == "Two."


@pytest.mark.parametrize(
    ("labels", "meta", "message"),
    [
        ([(0, 9, "x")], {}, "outside"),
        ([(2, 2, "x")], {}, "outside"),
        ([], {"label": []}, "may not contain"),
    ],
)
def test_doccano_line_refuses_inconsistent_input(labels, meta, message):
    with pytest.raises(ValueError, match=message):
        doccano_line("abc", labels, meta)


# --- reliability matrices -------------------------------------------------------------


def test_reliability_rows_are_units_by_coders_with_empty_for_missing():
    units = [(1, 0, 3), (1, 4, 9), (2, 0, 5)]
    values = {"ana": [1, 0, None], "ben": [1, 1, 0]}
    rows = list(reliability_rows(units, values))
    text = render(reliability_columns(values), rows, "analysis")
    assert text == (
        "document_id,unit_start,unit_end,ana,ben\r\n1,0,3,1,1\r\n1,4,9,0,1\r\n2,0,5,,0\r\n"
    )


@given(
    st.text(alphabet="ab .,", max_size=40),
    st.lists(
        st.lists(st.tuples(st.integers(0, 40), st.integers(1, 10)), max_size=5) | st.none(),
        min_size=1,
        max_size=3,
    ),
)
def test_reliability_block_marks_every_unit_a_span_shares_a_character_with(text, coders):
    starts, ends = unit_bounds(text, "token")
    spans = [
        None if c is None else ([s for s, _ in c], [min(s + n, 41) for s, n in c]) for c in coders
    ]
    rows = reliability_block(7, starts, ends, spans)
    assert [r[:3] for r in rows] == [
        (7, s, e) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
    ]
    for k, coder in enumerate(spans):
        for row in rows:
            if coder is None:
                assert row[3 + k] is None
                continue
            shares = any(max(row[1], a) < min(row[2], b) for a, b in zip(*coder, strict=True))
            assert row[3 + k] == int(shares)
    assert all(type(v) is int for r in rows for v in r if v is not None)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"ana": [1]}, "has 1 values for 2 units"),
        ({"ana": [1, 2]}, "other than 1, 0 and None"),
        ({"ana": [1, 0.5]}, "other than 1, 0 and None"),
        ({"ana": [1.0, 0]}, "other than 1, 0 and None"),
        ({"unit_start": [1, 0]}, "unique"),
    ],
)
def test_reliability_rows_refuse_malformed_values(values, message):
    with pytest.raises(ValueError, match=message):
        reliability_rows([(1, 0, 1), (1, 1, 2)], values)


def test_reliability_file_name_is_safe_and_unique_by_the_code_id():
    assert reliability_file_name(3, "econ-1") == "reliability_3_econ-1.csv"
    assert reliability_file_name(4, "../a b") == "reliability_4____a_b.csv"
    names = [reliability_file_name(i, c) for i, c in enumerate(["q_r_13", "q r", "q_r"], 1)]
    assert len({name.lower() for name in names}) == 3


# --- README ---------------------------------------------------------------------------


def test_readme_describes_every_column():
    for column in {*SPAN_COLUMNS, *DOCUMENT_COLUMNS, *CODEBOOK_COLUMNS, *RELIABILITY_KEY_COLUMNS}:
        assert column in README_TEXT, column


def test_readme_states_offset_conventions_and_agreement_methods():
    for phrase in (
        "text[start:end] == quote",
        "substr(text, start + 1, end)",
        "UTF-16",
        "Unitized alpha",
        "Nominal alpha",
        "bootstrap",
    ):
        assert phrase in README_TEXT


def test_readme_renders_its_placeholders():
    readme = render_readme(
        project="Climate",
        exported_at=datetime.datetime(2024, 3, 1, 12, 0, tzinfo=UTC),
        flavour="excel",
        layer="gold",
    )
    assert readme.startswith(
        "Framing export: Climate\nExported: 2024-03-01T12:00:00+00:00\n"
        "CSV flavour: excel\nLayer: gold\n"
    )
    assert "{" not in readme
