"""Export reads and the doccano import: exact offsets, safe Excel cells, pseudonyms, bundles."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pandas as pd
import pytest
from django.core.management import call_command

from annotations import forms
from annotations.domain.export import SPAN_COLUMNS, reliability_file_name
from annotations.models import (
    AssignmentStatus,
    DocumentReview,
    GoldSpan,
    Provenance,
    ReviewStatus,
    Role,
    Span,
)
from annotations.permissions import export_scope
from annotations.selectors.export import doccano, files
from annotations.selectors.export import rows as matrix
from annotations.selectors.export.audit import audit_rows
from annotations.selectors.export.spec import coder_labels
from annotations.services import assignments, base, imports, spans

TEXT = (
    'Le 👩\u200d🔬 a dit « non », puis\n"partit", vite. Officials said the “confession” '
    "was voluntary.\nFin ភាសា\u00a0.\n"
)
DANGEROUS = ["=1+1", "+44 20", "-3 dead", "@SUM(A1)", "\tTab", "\rCR"]


def tag(assignment, code, needle, *, note="", text=None):
    """A span created through the coding service (offsets checked against the text)."""
    text = text or assignment.document.text
    start = text.index(needle)
    return spans.span_create(
        assignment=assignment,
        code_id=code.pk,
        start=start,
        end=start + len(needle),
        quote=needle,
        note=note,
    )


def raw_span(assignment, code, start, end, note=""):
    """A span stored as is (the coding screen trims whitespace; imports do not)."""
    text = assignment.document.text
    return Span.objects.create(
        assignment=assignment, code=code, start=start, end=end, quote=text[start:end], note=note
    )


def spans_csv(project, **options) -> str:
    spec = forms.export_spec(project, **options)
    return "".join(files.spans_csv_chunks(project, spec))


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def read_pandas(text: str) -> list[dict[str, str]]:
    frame = pd.read_csv(
        io.BytesIO(text.encode("utf-8")), encoding="utf-8-sig", dtype=str, keep_default_na=False
    )
    return frame.to_dict("records")


@pytest.fixture
def corpus(study, add_document):
    project, codes = study["project"], study["codes"]
    other = add_document(project, TEXT, "other.txt")
    a_other = assignments.assignment_create(document=other, coder=study["coder_a"])
    tag(study["assignment_a"], codes["Sourcing"], "Officials said", note='first, "quoted"')
    tag(study["assignment_a"], codes["Loaded language"], "sham")
    tag(study["assignment_b"], codes["Loaded language"], "“confession”")
    tag(a_other, codes["Sourcing"], "👩\u200d🔬")
    tag(a_other, codes["Loaded language"], "ភាសា")
    tag(a_other, codes["Loaded language"], '« non », puis\n"partit"')
    start = other.text.index("non")
    GoldSpan.objects.create(
        document=other,
        code=codes["Loaded language"],
        start=start,
        end=start + 3,
        quote="non",
        provenance=Provenance.DECISION,
        rationale="=both agreed",
        settled_by=study["reviewer"],
    )
    return {**study, "other": other, "a_other": a_other}


# --- spans.csv ------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["analysis", "excel"])
def test_every_exported_quote_is_the_document_text_slice_in_csv_and_pandas(corpus, flavour):
    project = corpus["project"]
    text = spans_csv(project, layer="all", flavour=flavour)
    texts = {d.pk: d.text for d in project.documents.all()}
    for rows in (read_csv(text), read_pandas(text)):
        assert len(rows) == 7
        assert list(rows[0]) == list(SPAN_COLUMNS)
        for row in rows:
            quote = texts[int(row["document_id"])][int(row["start"]) : int(row["end"])]
            assert row["quote"] == quote
    assert text.startswith("\ufeff") == (flavour == "excel")


def test_span_rows_carry_document_metadata_context_layers_and_gold_fields(corpus):
    rows = read_csv(spans_csv(corpus["project"], layer="all", names=True))
    gold = [row for row in rows if row["layer"] == "gold"]
    assert len(gold) == 1
    assert gold[0]["provenance"] == "decision"
    assert gold[0]["rationale"] == "=both agreed"
    assert gold[0]["coder"] == "reviewer"
    first = next(row for row in rows if row["quote"] == "Officials said")
    assert first["coder"] == "coder_a"
    assert first["note"] == 'first, "quoted"'
    assert first["text_sha256"] == corpus["document"].sha256
    assert first["context_before"] == ""
    assert first["context_after"] == corpus["document"].text[14:54]
    assert first["created"].endswith("+00:00")


def test_deleted_spans_are_not_exported(corpus):
    span = Span.objects.get(quote="sham")
    spans.span_delete(span=span, expected_version=span.version)
    quotes = {row["quote"] for row in read_csv(spans_csv(corpus["project"]))}
    assert "sham" not in quotes
    assert "Officials said" in quotes


def test_filters_select_codes_one_coder_gold_and_done_work(corpus):
    project, codes = corpus["project"], corpus["codes"]
    loaded = codes["Loaded language"].pk
    rows = read_csv(spans_csv(project, code_ids=[loaded], names=True))
    assert {row["code"] for row in rows} == {"Loaded language"}
    rows = read_csv(spans_csv(project, coder_id=corpus["coder_b"].pk, names=True))
    assert [(row["coder"], row["quote"]) for row in rows] == [("coder_b", "“confession”")]
    rows = read_csv(spans_csv(project, layer="gold"))
    assert [row["quote"] for row in rows] == ["non"]
    assert read_csv(spans_csv(project, done_only=True)) == []
    assignments.assignment_set_status(
        assignment=corpus["assignment_b"], status=AssignmentStatus.DONE
    )
    rows = read_csv(spans_csv(project, done_only=True))
    assert [row["quote"] for row in rows] == ["“confession”"]
    assert read_csv(spans_csv(project, layer="gold", done_only=True)) == []
    DocumentReview.objects.create(document=corpus["other"], status=ReviewStatus.SETTLED)
    assert len(read_csv(spans_csv(project, layer="gold", done_only=True))) == 1


def test_a_code_from_another_project_is_refused(corpus, make_project):
    stranger = make_project("Elsewhere").codebook.codes.first()
    with pytest.raises(base.ServiceError, match="Unknown code"):
        forms.export_spec(corpus["project"], code_ids=[stranger.pk])


# --- Excel flavour --------------------------------------------------------------------------


@pytest.fixture
def dangerous(make_project, add_document, make_user, member):
    project = make_project("Dangerous")
    # Stored texts have no CR (normalised at import), so that quote starts with a space.
    body = " | ".join(value.replace("\r", " ") for value in DANGEROUS)
    document = add_document(project, f"start {body} | end")
    coder = member(project, make_user())
    assignment = assignments.assignment_create(document=document, coder=coder)
    code = project.codebook.codes.first()
    text = document.text
    for value in DANGEROUS:
        quote = value.replace("\r", " ")
        start = text.index(quote)
        raw_span(assignment, code, start, start + len(quote), note=value)
    return project, document


@pytest.mark.parametrize("value", DANGEROUS)
def test_excel_flavour_neutralises_a_cell_starting_with_each_dangerous_character(dangerous, value):
    project, document = dangerous
    type(document).objects.filter(pk=document.pk).update(title=value)
    excel = read_csv(spans_csv(project, flavour="excel"))
    analysis = read_csv(spans_csv(project, flavour="analysis"))
    assert len(excel) == len(analysis) == len(DANGEROUS)
    for safe, exact in zip(excel, analysis, strict=True):
        assert safe["title"] == "'" + value
        assert exact["title"] == value
        assert safe["note"] == "'" + exact["note"]
        assert exact["note"] in DANGEROUS
        if exact["quote"][0] == " ":
            assert safe["quote"] == exact["quote"]
        else:
            assert safe["quote"] == "'" + exact["quote"]
        assert exact["quote"] == document.text[int(exact["start"]) : int(exact["end"])]
        for column in ("document_id", "start", "end", "text_sha256", "created"):
            assert safe[column] == exact[column]


def test_excel_flavour_neutralises_an_uploaded_id_and_leaves_safe_cells_alone(corpus):
    """external_id comes from an uploaded file: text like any other (issue 13, finding 8)."""
    type(corpus["other"]).objects.filter(pk=corpus["other"].pk).update(external_id="-0042")
    rows = read_csv(spans_csv(corpus["project"], flavour="excel", layer="all"))
    assert {row["external_id"] for row in rows} >= {"'-0042"}
    assert any(row["quote"] == "Officials said" for row in rows)
    gold = next(row for row in rows if row["layer"] == "gold")
    assert gold["rationale"] == "'=both agreed"


# --- Pseudonyms and permissions -------------------------------------------------------------


def test_blind_projects_name_coders_by_membership_order_unless_names_are_asked(corpus):
    labels = coder_labels(corpus["project"], names=False)
    assert labels[corpus["coder_a"].pk] == "Coder A"
    assert labels[corpus["coder_b"].pk] == "Coder B"
    assert labels[corpus["reviewer"].pk] == "Reviewer A"
    assert labels[corpus["manager"].pk] == "Manager A"
    rows = read_csv(spans_csv(corpus["project"], layer="all"))
    assert {row["coder"] for row in rows} == {"Coder A", "Coder B", "Reviewer A"}
    assert "coder_a" not in spans_csv(corpus["project"])


def test_open_projects_always_show_usernames(make_project):
    project = make_project("Open", blind=False)
    assert forms.export_spec(project, names=False).names is True


def test_coders_export_only_their_own_spans_whatever_they_ask(corpus):
    project = corpus["project"]
    member = project.memberships.get(user=corpus["coder_b"])
    asked = forms.export_spec(project, layer="all", names=True)
    spec = export_scope(asked, member)
    rows = read_csv("".join(files.spans_csv_chunks(project, spec)))
    assert [(row["coder"], row["quote"]) for row in rows] == [("You", "“confession”")]
    reviewer = project.memberships.get(user=corpus["reviewer"])
    assert export_scope(asked, reviewer).names is False
    manager = project.memberships.get(user=corpus["manager"])
    assert export_scope(asked, manager).names is True


# --- doccano JSONL --------------------------------------------------------------------------


def test_jsonl_round_trip_into_a_new_project_gives_identical_spans(
    corpus, make_project, make_user, member
):
    source = corpus["project"]
    spec = forms.export_spec(source, coder_id=corpus["coder_a"].pk)
    data = "".join(doccano.doccano_chunks(source, spec)).encode("utf-8")
    target = make_project("Copy")
    coder = member(target, make_user("copy_coder"))
    outcome = imports.jsonl_import(project=target, name="spans.jsonl", data=data, coder=coder)
    assert outcome.documents_created == 2
    assert outcome.spans_created == 5

    def spans(project, user):
        return sorted(
            (s.assignment.document.sha256, s.start, s.end, s.code.name, s.quote)
            for s in Span.objects.live()
            .filter(assignment__document__project=project, assignment__coder=user)
            .select_related("assignment__document", "code")
        )

    assert spans(target, coder) == spans(source, corpus["coder_a"])
    again = imports.jsonl_import(project=target, name="spans.jsonl", data=data, coder=coder)
    assert (again.spans_created, again.spans_present, again.documents_present) == (0, 5, 2)


def test_jsonl_export_has_one_line_per_document_and_coder_with_metadata(corpus):
    project = corpus["project"]
    spec = forms.export_spec(project, layer="all")
    lines = [json.loads(x) for x in "".join(doccano.doccano_chunks(project, spec)).splitlines()]
    assert [(x["document_id"], x["layer"], x["coder"]) for x in lines] == [
        (corpus["document"].pk, "coder", "Coder A"),
        (corpus["document"].pk, "coder", "Coder B"),
        (corpus["other"].pk, "coder", "Coder A"),
        (corpus["other"].pk, "gold", ""),
    ]
    for line in lines:
        for start, end, code in line["label"]:
            assert code in corpus["codes"]
            assert 0 <= start < end <= len(line["text"])
    assert lines[0]["title"] == corpus["document"].title


def test_importing_one_coders_lines_from_a_multi_coder_file(
    corpus, make_project, make_user, member
):
    project = corpus["project"]
    data = "".join(doccano.doccano_chunks(project, forms.export_spec(project))).encode()
    target = make_project("Copy B")
    coder = member(target, make_user())
    outcome = imports.jsonl_import(
        project=target, name="all.jsonl", data=data, coder=coder, only_coder="Coder B"
    )
    assert outcome.spans_created == 1
    assert Span.objects.get(assignment__coder=coder).quote == "“confession”"


def test_jsonl_import_is_all_or_nothing_on_unknown_codes(make_project, make_user, member):
    target = make_project("Strict")
    coder = member(target, make_user())
    data = (
        b'{"text": "Alpha beta.", "label": [[0, 5, "Sourcing"]]}\n'
        b'{"text": "Gamma delta.", "label": [[0, 5, "Nope"]]}\n'
    )
    with pytest.raises(base.ServiceError, match="Nope"):
        imports.jsonl_import(project=target, name="x.jsonl", data=data, coder=coder)
    assert target.documents.count() == 0
    outcome = imports.jsonl_import(
        project=target, name="x.jsonl", data=data, coder=coder, create_codes=True, mark_done=True
    )
    assert outcome.spans_created == 2
    assert target.codebook.codes.filter(name="Nope").exists()
    assert set(Span.objects.values_list("assignment__status", flat=True)) == {"done"}


def test_jsonl_import_keeps_offsets_with_edge_whitespace_exactly(make_project, make_user, member):
    target = make_project("Exact")
    coder = member(target, make_user())
    data = b'{"text": "Alpha beta gamma.", "label": [[5, 11, "Sourcing"]]}\n'
    imports.jsonl_import(project=target, name="x.jsonl", data=data, coder=coder)
    span = Span.objects.get()
    assert (span.start, span.end, span.quote) == (5, 11, " beta ")


def test_jsonl_import_refuses_a_non_member(make_project, make_user):
    target = make_project("Closed")
    data = b'{"text": "Alpha.", "label": []}\n'
    with pytest.raises(base.ServiceError, match="not a member"):
        imports.jsonl_import(project=target, name="x.jsonl", data=data, coder=make_user())


# --- Reliability, agreement, audit ----------------------------------------------------------


def test_reliability_matrix_marks_units_coded_absent_and_missing(
    study, make_user, member, add_document
):
    """Without a finished run, the matrices hold what a default run counts: documents that
    at least two coders marked done, and those coders (an idle coder is no column)."""
    project, codes = study["project"], study["codes"]
    assignments.assignment_create(
        document=study["document"], coder=member(project, make_user("idle"))
    )
    lone = add_document(project, "Only one coder finished this.", "lone.txt")
    lone_a = assignments.assignment_create(document=lone, coder=study["coder_a"])
    tag(study["assignment_a"], codes["Sourcing"], "Officials said")
    tag(study["assignment_b"], codes["Loaded language"], "sham")  # coded, not with Sourcing
    for assignment in (study["assignment_a"], study["assignment_b"], lone_a):
        assignments.assignment_set_status(assignment=assignment, status=AssignmentStatus.DONE)
    source = matrix.reliability_input(project)
    labels = coder_labels(project, names=False)
    assert [labels[c] for c in source.coders] == ["Coder A", "Coder B"]
    assert set(source.counted) == {study["document"].pk}
    rows = list(matrix.reliability_matrix_rows(source, codes["Sourcing"].pk))
    text = study["document"].text
    assert {r[0] for r in rows} == {study["document"].pk}
    assert [text[start:end] for _, start, end, *_ in rows[:3]] == ["Officials", "said", "the"]
    assert [tuple(r[3:]) for r in rows[:3]] == [(1, 0), (1, 0), (0, 0)]
    assert all(isinstance(v, int) for r in rows for v in r)


def test_audit_rows_are_pseudonymised_in_blind_exports(corpus):
    project = corpus["project"]
    rows = list(audit_rows(project, forms.export_spec(project)))
    text = json.dumps([{k: str(v) for k, v in row.items()} for row in rows])
    assert rows and "coder_a" not in text
    assert any('"coder": "Coder A"' in row["after"] for row in rows)


# --- Bundle and command ---------------------------------------------------------------------


def bundle_files(project, spec) -> dict[str, bytes]:
    data = b"".join(files.zip_chunks(files.export_files(project, spec)))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def test_bundle_contains_every_file_and_the_command_writes_the_same(corpus, tmp_path):
    project = corpus["project"]
    spec = forms.export_spec(project, layer="all", names=True)
    files = bundle_files(project, spec)
    expected = {
        "README.txt",
        "spans.csv",
        "documents.csv",
        "codebook.csv",
        "agreement.csv",
        reliability_file_name(corpus["codes"]["Sourcing"].pk, "Sourcing"),
        reliability_file_name(corpus["codes"]["Loaded language"].pk, "Loaded language"),
        "audit.csv",
        "spans.jsonl",
    }
    assert set(files) == expected
    documents = read_csv(files["documents.csv"].decode())
    assert {row["text"] for row in documents} == {d.text for d in project.documents.all()}
    assert "agreement.csv" in files["README.txt"].decode()
    call_command(
        "export_corpus", project.name, str(tmp_path), "--layer", "all", stdout=io.StringIO()
    )
    written = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    assert set(written) == expected
    for name in expected - {"README.txt"}:
        assert written[name] == files[name], name


def test_command_exports_one_coder_in_excel_flavour(corpus, tmp_path):
    call_command(
        "export_corpus",
        corpus["project"].name,
        str(tmp_path),
        "--layer",
        "coder_b",
        "--flavour",
        "excel",
        stdout=io.StringIO(),
    )
    data = (tmp_path / "spans.csv").read_bytes()
    assert data.startswith("\ufeff".encode())
    rows = read_csv(data.decode("utf-8"))
    assert [row["coder"] for row in rows] == ["coder_b"]


def test_import_command_round_trips_an_exported_file(
    corpus, tmp_path, make_project, make_user, member
):
    call_command("export_corpus", corpus["project"].name, str(tmp_path), stdout=io.StringIO())
    target = make_project("Imported")
    member(target, make_user("importer"), Role.CODER)
    out = io.StringIO()
    call_command(
        "import_jsonl",
        target.name,
        str(tmp_path / "spans.jsonl"),
        "--coder",
        "importer",
        "--only-coder",
        "coder_a",
        stdout=out,
    )
    assert "5 span(s)" in out.getvalue()
