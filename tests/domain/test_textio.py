"""Import parsing: exact text, clear problems naming file and line."""

from __future__ import annotations

import datetime
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotations.domain.textio import (
    ParsedDocument,
    ParseResult,
    Problem,
    derive_title,
    normalise_text,
    parse_file,
)

# Emoji ZWJ sequence, combining accent, Khmer, NBSP, curly quotes: all must survive intact.
UNICODE = "The 👩\u200d🔬 said “cafe\u0301” in ភាសាខ្មែរ,\u00a0twice — \u2018really\u2019."


def jsonl(*records: object) -> bytes:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()


def only_problem(result: ParseResult) -> Problem:
    assert result.documents == ()
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


def messages(result: ParseResult) -> list[str]:
    return [str(p) for p in result.problems]


# --- normalise_text ---------------------------------------------------------------


def test_normalise_turns_crlf_and_lone_cr_into_lf():
    assert normalise_text("a\r\nb\rc\nd\r\r\ne") == "a\nb\nc\nd\n\ne"


def test_normalise_drops_a_leading_bom_but_keeps_one_inside_the_text():
    assert normalise_text("\ufeffab\ufeffc") == "ab\ufeffc"


def test_normalise_keeps_unicode_and_surrounding_whitespace_exactly():
    text = f"  {UNICODE}\t\n\n"
    assert normalise_text(text) == text


# Bias towards the characters normalisation cares about, including CRLF pairs and BOM runs.
texts = st.lists(
    st.text(st.characters(codec="utf-8"), max_size=5)
    | st.sampled_from(["\r", "\n", "\r\n", "\ufeff", "\ufeff\ufeff", "\r\r\n"])
).map("".join)


@given(texts)
def test_normalise_is_idempotent(text):
    once = normalise_text(text)
    assert normalise_text(once) == once
    assert "\r" not in once
    assert not once.startswith("\ufeff")


@given(st.text(st.characters(codec="utf-8", blacklist_characters="\r\ufeff")))
def test_normalise_never_changes_text_without_cr_or_bom(text):
    assert normalise_text(text) == text


# --- derive_title -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Floods hit the coast. Thousands fled.", "Floods hit the coast."),
        ("Is it over? Nobody knows.", "Is it over?"),
        ("Wait… what happened", "Wait…"),
        ("He said “no.” Then he left.", "He said “no.”"),
        ("\n\n  No full stop here\nSecond line.", "No full stop here"),
        ("Version 2.5 shipped today. More soon.", "Version 2.5 shipped today."),
        ("Many   spaces\tand\u00a0tabs.", "Many spaces and tabs."),
        ("   ", ""),
    ],
)
def test_title_is_the_first_sentence_with_whitespace_collapsed(text, title):
    assert derive_title(text) == title


def test_long_title_is_cut_at_a_word_and_marked_with_an_ellipsis():
    title = derive_title("word " * 100, limit=30)
    assert len(title) <= 30
    assert title.endswith("word…")


def test_long_title_without_spaces_does_not_split_a_letter_from_its_accent():
    text = "e\u0301" * 40
    title = derive_title(text, limit=10)
    assert len(title) <= 10
    assert title == "e\u0301" * 4 + "…"


# --- .txt -------------------------------------------------------------------------


def test_txt_is_one_document_with_text_preserved_exactly():
    result = parse_file("story.txt", f"{UNICODE}\nSecond line.\n".encode())
    assert result.problems == ()
    assert result.documents == (
        ParsedDocument(
            text=f"{UNICODE}\nSecond line.\n",
            title=derive_title(UNICODE),
            source="story.txt",
        ),
    )


def test_txt_line_endings_normalised_and_bom_dropped_only_at_start():
    data = "\ufeffOne.\r\nTwo\rThree \ufeff end\r\n".encode()
    (doc,) = parse_file("A.TXT", data).documents
    assert doc.text == "One.\nTwo\nThree \ufeff end\n"
    assert doc.title == "One."


# --- .csv -------------------------------------------------------------------------


def test_csv_reads_text_and_metadata_with_aliases_and_case_insensitive_headers():
    data = (
        "\ufeff Text ,TITLE,id,Outlet,url,Date,ignored\r\n"
        f'"{UNICODE}","  A  title ",42,The Times,https://example.org/a,2024-02-29,x\r\n'
        '"Second, with ""quotes""\r\nand a new line.",,,,,,\r\n'
    ).encode()
    result = parse_file("articles.csv", data)
    assert result.problems == ()
    first, second = result.documents
    assert first == ParsedDocument(
        text=UNICODE,
        title="A title",
        external_id="42",
        outlet="The Times",
        url="https://example.org/a",
        published=datetime.date(2024, 2, 29),
        source="articles.csv, line 2",
    )
    assert second.text == 'Second, with "quotes"\nand a new line.'
    assert second.title == 'Second, with "quotes"'
    assert second.published is None
    assert second.source == "articles.csv, line 3"


def test_csv_line_numbers_are_where_each_row_starts():
    data = b'text,published\n"one\nspans\nthree lines",2024-01-01\n"two",bad\n'
    result = parse_file("a.csv", data)
    assert messages(result) == [
        "a.csv, line 5: publication date 'bad' is not a valid date (use YYYY-MM-DD)"
    ]


def test_csv_skips_blank_lines_and_keeps_leading_whitespace_of_text():
    (doc,) = parse_file("a.csv", b"text\n\n  indented\n").documents
    assert doc.text == "  indented"


def test_csv_without_text_column_is_rejected():
    problem = only_problem(parse_file("a.csv", b"title,body\nx,y\n"))
    assert str(problem) == "a.csv, line 1: missing required column 'text'"


def test_csv_with_semicolons_gets_a_hint():
    problem = only_problem(parse_file("a.csv", b"title;text\nx;y\n"))
    assert "save it as comma-separated" in problem.message


def test_csv_with_a_repeated_column_is_rejected():
    problem = only_problem(parse_file("a.csv", b"text,Text\nx,y\n"))
    assert problem.message == "column 'text' appears more than once in the header"


def test_csv_empty_text_is_reported_per_row():
    result = parse_file("a.csv", b"text,title\nfine,\n ,t\n")
    assert [d.text for d in result.documents] == ["fine"]
    assert messages(result) == ["a.csv, line 3: 'text' is empty"]


def test_csv_row_with_wrong_field_count_is_reported():
    result = parse_file("a.csv", b"text,title\nok,t,extra\nalone\nfine,t,\n")
    assert messages(result) == [
        "a.csv, line 2: row has 3 fields but the header has 2",
        "a.csv, line 3: row has 1 fields but the header has 2",
    ]
    assert [d.text for d in result.documents] == ["fine"]


def test_csv_malformed_quoting_is_reported_with_its_line():
    result = parse_file("a.csv", b'text\nok\n"bad"quote\n')
    assert messages(result) == ["a.csv, line 3: malformed CSV: ',' expected after '\"'"]


def test_csv_unterminated_quote_names_the_row_start():
    result = parse_file("a.csv", b'text\n"never closed\nmore\n')
    assert messages(result) == [
        "a.csv, line 2: malformed CSV: unexpected end of data "
        "(in the row starting here, noticed at line 3)"
    ]


def test_csv_with_only_a_header_has_no_documents():
    assert str(only_problem(parse_file("a.csv", b"text\n"))) == "a.csv: contains no documents"


def test_csv_rejects_a_url_that_is_not_http():
    result = parse_file("a.csv", b"text,url\nx,javascript:alert(1)\n")
    assert messages(result) == [
        "a.csv, line 2: url 'javascript:alert(1)' must start with http:// or https://"
    ]


@pytest.mark.parametrize("value", ["2024-13-40", "2024-02-30", "20240105", "05/01/2024"])
def test_csv_bad_date_is_reported(value):
    problem = only_problem(parse_file("a.csv", f"text,published\nx,{value}\n".encode()))
    assert problem == Problem(
        "a.csv", 2, f"publication date '{value}' is not a valid date (use YYYY-MM-DD)"
    )


# --- .jsonl -----------------------------------------------------------------------


def test_jsonl_reads_text_metadata_and_doccano_labels():
    data = jsonl(
        {
            "id": 7,
            "text": UNICODE,
            "label": [[9, 15, "quote"], [4, 7, "actor"], [4, 7, "actor"]],
            "publication_date": "2023-05-01",
            "meta": {"ignored": True},
        },
        {"text": "Plain.", "external_id": "ext-2", "title": None, "outlet": "Le Monde"},
    )
    result = parse_file("a.jsonl", b"\n" + data + b"\n\n")
    assert result.problems == ()
    first, second = result.documents
    assert first.text == UNICODE
    assert first.external_id == "7"
    assert first.published == datetime.date(2023, 5, 1)
    assert first.labels == ((4, 7, "actor"), (9, 15, "quote"))
    assert first.text[4:7] == "👩\u200d🔬"
    assert first.source == "a.jsonl, line 2"
    assert second == ParsedDocument(
        text="Plain.",
        title="Plain.",
        external_id="ext-2",
        outlet="Le Monde",
        source="a.jsonl, line 3",
    )


def test_jsonl_text_with_crlf_is_normalised_when_there_are_no_labels():
    (doc,) = parse_file("a.jsonl", jsonl({"text": "a\r\nb"})).documents
    assert doc.text == "a\nb"


def test_jsonl_labels_on_text_that_normalisation_would_shift_are_refused():
    result = parse_file("a.jsonl", jsonl({"text": "a\r\nb", "label": [[3, 4, "x"]]}))
    problem = only_problem(result)
    assert problem.line == 1
    assert "CR line endings" in problem.message


def test_jsonl_bad_json_line_names_the_line():
    result = parse_file("a.jsonl", b'{"text": "ok"}\r\n{"text": \r\n{"text": "fine"}\r\n')
    assert [d.text for d in result.documents] == ["ok", "fine"]
    assert messages(result) == ["a.jsonl, line 2: not valid JSON: Expecting value (column 10)"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[1, 2]", "expected a JSON object, got a list"),
        ('"text"', "expected a JSON object, got a string"),
        ("{}", "missing required key 'text'"),
        ('{"text": ""}', "'text' is empty"),
        ('{"text": " \\n "}', "'text' is empty"),
        ('{"text": 5}', "'text' must be a string, not a number"),
        ('{"text": "a", "title": ["x"]}', "'title' must be a string, not a list"),
        ('{"text": "a", "id": true}', "'external_id' must be a string, not a boolean"),
        ('{"text": "a", "text": "b"}', "key 'text' appears more than once"),
        ('{"text": "a\\u0000b"}', "'text' contains a NUL character (\\u0000)"),
        ('{"text": "a\\ud800"}', "'text' contains an unpaired surrogate escape (such as \\ud800)"),
        (
            '{"text": "a", "date": "2024-13-40"}',
            "publication date '2024-13-40' is not a valid date (use YYYY-MM-DD)",
        ),
    ],
)
def test_jsonl_invalid_record_is_reported(line, message):
    assert only_problem(parse_file("a.jsonl", line.encode())) == Problem("a.jsonl", 1, message)


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ('"x"', "'label' must be a list of [start, end, \"code\"], not a string"),
        ("[[0, 1]]", 'label 1 [0, 1]: must be [start, end, "code"]'),
        ('[[0, 1, "x", 2]]', 'label 1 [0, 1, "x", 2]: must be [start, end, "code"]'),
        ('[{"start": 0}]', 'label 1 {"start": 0}: must be [start, end, "code"]'),
        ('[[0.0, 1, "x"]]', 'label 1 [0.0, 1, "x"]: start and end must be whole numbers'),
        ('[[false, true, "x"]]', 'label 1 [false, true, "x"]: start and end must be whole numbers'),
        ('[["0", 1, "x"]]', 'label 1 ["0", 1, "x"]: start and end must be whole numbers'),
        ("[[0, 1, 3]]", "label 1 [0, 1, 3]: the code must be a non-empty string"),
        ('[[0, 1, " "]]', 'label 1 [0, 1, " "]: the code must be a non-empty string'),
        ('[[2, 2, "x"]]', 'label 1 [2, 2, "x"]: start must be at least 0 and less than end'),
        ('[[3, 1, "x"]]', 'label 1 [3, 1, "x"]: start must be at least 0 and less than end'),
        ('[[-1, 1, "x"]]', 'label 1 [-1, 1, "x"]: start must be at least 0 and less than end'),
        (
            '[[0, 5, "ok"], [4, 6, "x"]]',
            'label 2 [4, 6, "x"]: end is beyond the text, which has 5 characters',
        ),
    ],
)
def test_jsonl_bad_labels_are_reported(label, message):
    data = f'{{"text": "héllo", "label": {label}}}'.encode()
    assert only_problem(parse_file("a.jsonl", data)) == Problem("a.jsonl", 1, message)


def test_jsonl_label_may_end_exactly_at_the_end_of_the_text():
    (doc,) = parse_file("a.jsonl", jsonl({"text": "héllo", "label": [[0, 5, "x"]]})).documents
    assert doc.labels == ((0, 5, "x"),)


def test_jsonl_every_problem_of_a_line_is_reported():
    result = parse_file("a.jsonl", jsonl({"text": "", "date": "x", "url": "ftp://a"}))
    assert [p.message for p in result.problems] == [
        "'text' is empty",
        "publication date 'x' is not a valid date (use YYYY-MM-DD)",
        "url 'ftp://a' must start with http:// or https://",
    ]


# --- duplicates within a file -----------------------------------------------------


def test_repeated_text_keeps_the_first_occurrence_silently():
    result = parse_file(
        "a.jsonl",
        jsonl(
            {"text": "Same.", "title": "first", "label": [[0, 4, "x"]]},
            {"text": "Other."},
            {"text": "Same.", "title": "second"},
            {"text": "Same.", "label": [[0, 4, "x"]]},
        ),
    )
    assert result.problems == ()
    assert [d.title for d in result.documents] == ["first", "Other."]


def test_repeated_text_with_new_labels_is_reported_rather_than_lost():
    result = parse_file(
        "a.jsonl", jsonl({"text": "Same."}, {"text": "Same.", "label": [[0, 4, "x"]]})
    )
    assert messages(result) == [
        "a.jsonl, line 2: repeats the text of line 1 with different labels; "
        "merge the labels into one line"
    ]


# --- whole-file problems ----------------------------------------------------------


@pytest.mark.parametrize("name", ["a.txt", "a.csv", "a.jsonl"])
@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b" \r\n\t\n"])
def test_empty_file_is_rejected(name, data):
    assert str(only_problem(parse_file(name, data))) == f"{name}: file is empty"


@pytest.mark.parametrize("name", ["a.txt", "a.csv", "a.jsonl"])
def test_nul_byte_is_rejected_with_its_line(name):
    data = b"text\r\nline two\rline three\nline\x00four\n"
    assert str(only_problem(parse_file(name, data))) == f"{name}, line 4: contains a NUL byte"


def test_invalid_utf8_is_rejected_with_its_line_and_byte():
    problem = only_problem(parse_file("a.txt", "first ✓\ncaf".encode() + b"\xff\n"))
    assert problem == Problem(
        "a.txt", 2, "invalid UTF-8 (byte 0xff); save the file with UTF-8 encoding"
    )


def test_windows_1252_file_is_rejected_as_invalid_utf8():
    problem = only_problem(parse_file("a.csv", "text\ncafé\n".encode("cp1252")))
    assert str(problem) == (
        "a.csv, line 2: invalid UTF-8 (byte 0xe9); save the file with UTF-8 encoding"
    )


def test_truncated_utf8_sequence_shows_all_its_bytes():
    problem = only_problem(parse_file("a.txt", b"ok \xe2\x80"))
    assert problem.message.startswith("invalid UTF-8 (bytes 0xe2 0x80)")


@pytest.mark.parametrize(
    ("name", "shown"),
    [("report.docx", "'.docx'"), ("notes", "without an extension"), ("a.txt.gz", "'.gz'")],
)
def test_unsupported_file_type_is_rejected(name, shown):
    problem = only_problem(parse_file(name, b"hello"))
    assert str(problem) == f"{name}: unsupported file type {shown} (use .txt, .csv or .jsonl)"


def test_oversize_file_is_rejected_before_parsing():
    data = b"x" * 12_300_000
    problem = only_problem(parse_file("big.docx", data, max_bytes=10_000_000))
    assert str(problem) == "big.docx: file is 12.3 MB; the limit is 10.0 MB"


def test_oversize_by_a_few_bytes_shows_exact_sizes():
    problem = only_problem(parse_file("a.txt", b"x" * 1001, max_bytes=1000))
    assert problem.message == "file is 1,001 bytes; the limit is 1,000 bytes"


def test_file_at_the_limit_is_accepted():
    assert parse_file("a.txt", b"x" * 1000, max_bytes=1000).problems == ()


def test_problem_without_a_line_omits_it():
    assert str(Problem("a.csv", None, "file is empty")) == "a.csv: file is empty"
