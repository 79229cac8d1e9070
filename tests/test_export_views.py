"""Download pages: who gets what, pseudonyms, streaming, and refused filters."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import zipfile

import pytest
from django.db import connection, connections
from django.urls import reverse

from annotations import forms
from annotations.models import Span
from annotations.selectors.export import files
from annotations.services import spans

DOWNLOADS = ("export-spans-csv", "export-spans-jsonl", "export-bundle")


@pytest.fixture
def tagged(study):
    codes = study["codes"]
    text = study["document"].text
    for assignment, needle, code in (
        (study["assignment_a"], "Officials said", "Sourcing"),
        (study["assignment_b"], "sham", "Loaded language"),
    ):
        start = text.index(needle)
        spans.span_create(
            assignment=assignment,
            code_id=codes[code].pk,
            start=start,
            end=start + len(needle),
            quote=needle,
        )
    return study


def download(client, user, name, project, **query):
    client.force_login(user)
    return client.get(reverse(name, args=[project.pk]), query)


def csv_rows(response) -> list[dict[str, str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("name", ["export", *DOWNLOADS])
def test_non_members_get_404_and_anonymous_users_the_login_page(client, tagged, make_user, name):
    url = reverse(name, args=[tagged["project"].pk])
    assert client.get(url).status_code == 302
    client.force_login(make_user("outsider"))
    assert client.get(url).status_code == 404


def test_the_form_offers_layers_codes_and_names_to_a_manager(client, tagged):
    response = download(client, tagged["manager"], "export", tagged["project"])
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="gold"' in page
    assert "Only coder_a" in page
    assert 'name="names"' in page
    assert reverse("export-bundle", args=[tagged["project"].pk]) in page


def test_the_form_offers_a_reviewer_pseudonyms_and_a_coder_only_their_own_spans(client, tagged):
    page = download(client, tagged["reviewer"], "export", tagged["project"]).content.decode()
    assert "Only Coder A" in page
    assert "coder_a" not in page
    assert 'name="names"' not in page
    page = download(client, tagged["coder_a"], "export", tagged["project"]).content.decode()
    assert 'name="layer"' not in page
    assert "your own spans" in page


def test_a_coder_downloads_only_their_own_spans_whatever_the_query(client, tagged):
    project = tagged["project"]
    for layer in ("coders", "all", "gold"):
        response = download(
            client, tagged["coder_a"], "export-spans-csv", project, layer=layer, names="on"
        )
        assert [(r["coder"], r["quote"]) for r in csv_rows(response)] == [("You", "Officials said")]


def test_another_coders_layer_answers_a_coder_like_one_that_does_not_exist(client, tagged):
    """Neither a pseudonym nor a user id of a co-coder tells a coder that they exist."""
    project = tagged["project"]
    answers = set()
    for layer in ("Coder B", f"u{tagged['coder_b'].pk}", "Coder Z", "u999999"):
        response = download(client, tagged["coder_a"], "export-spans-csv", project, layer=layer)
        body = re.sub(r"[A-Za-z0-9]{64}", "TOKEN", response.content.decode()).replace(layer, "L")
        answers.add((response.status_code, body))
    assert len(answers) == 1 and answers.pop()[0] == 422


def test_reviewers_see_everyone_under_pseudonyms_even_when_asking_for_names(client, tagged):
    response = download(
        client, tagged["reviewer"], "export-spans-csv", tagged["project"], names="on"
    )
    rows = csv_rows(response)
    assert {(r["coder"], r["quote"]) for r in rows} == {
        ("Coder A", "Officials said"),
        ("Coder B", "sham"),
    }


def test_a_manager_may_export_with_names(client, tagged):
    project = tagged["project"]
    rows = csv_rows(download(client, tagged["manager"], "export-spans-csv", project))
    assert {r["coder"] for r in rows} == {"Coder A", "Coder B"}
    rows = csv_rows(download(client, tagged["manager"], "export-spans-csv", project, names="on"))
    assert {r["coder"] for r in rows} == {"coder_a", "coder_b"}


def test_spans_csv_streams_as_an_attachment_header_first(client, tagged):
    response = download(
        client, tagged["manager"], "export-spans-csv", tagged["project"], flavour="excel"
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="study-spans-coders-excel.csv"'
    first = next(iter(response.streaming_content))
    assert first.startswith("\ufeffproject,document_id,".encode())


def test_unknown_filters_are_refused_with_the_form_and_422(client, tagged, make_project):
    stranger = make_project("Other").codebook.codes.first()
    project = tagged["project"]
    response = download(client, tagged["manager"], "export-spans-csv", project, code=stranger.pk)
    assert response.status_code == 422
    assert "Unknown code." in response.content.decode()
    response = download(client, tagged["manager"], "export-bundle", project, flavour="pdf")
    assert response.status_code == 422
    response = download(client, tagged["manager"], "export-spans-csv", project, layer="u999999")
    assert response.status_code == 422


def test_the_bundle_download_is_a_zip_of_every_file(client, tagged):
    response = download(client, tagged["manager"], "export-bundle", tagged["project"])
    assert response["Content-Type"] == "application/zip"
    data = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert names[0] == "README.txt"
        assert {"spans.csv", "documents.csv", "codebook.csv", "agreement.csv", "audit.csv"} <= set(
            names
        )
        sourcing = tagged["codes"]["Sourcing"].pk
        assert f"reliability_{sourcing}_Sourcing.csv" in names
        assert "coder_a" not in archive.read("audit.csv").decode()


def test_a_coders_bundle_holds_only_their_own_work_named_you(client, tagged):
    response = download(client, tagged["coder_b"], "export-bundle", tagged["project"])
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        names = archive.namelist()
        audit = list(csv.DictReader(io.StringIO(archive.read("audit.csv").decode(), newline="")))
        spans = archive.read("spans.csv").decode()
        readme = archive.read("README.txt").decode()
    assert audit == []  # the fixture's changes were made by services without an actor
    assert ",Coder A," not in spans and ",You," in spans
    assert "agreement.csv" not in names
    assert not [name for name in names if name.startswith("reliability_")]
    assert "a coder of a blind project" in readme
    assert "Agreement run" not in readme and "agreement.csv (one row" not in readme


def test_jsonl_download_is_doccano_lines(client, tagged):
    response = download(client, tagged["manager"], "export-spans-jsonl", tagged["project"])
    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert [line["coder"] for line in lines] == ["Coder A", "Coder B"]
    text = tagged["document"].text
    assert [[text[s:e] for s, e, _ in line["label"]] for line in lines] == [
        ["Officials said"],
        ["sham"],
    ]


def test_a_project_can_keep_exports_from_its_coders(client, study):
    project = study["project"]
    project.coders_may_export = False
    project.save()
    url = reverse("export-spans-csv", args=[project.pk])
    client.force_login(study["coder_a"])
    assert client.get(url).status_code == 404
    assert client.get(reverse("export", args=[project.pk])).status_code == 404
    client.force_login(study["reviewer"])
    assert client.get(url).status_code == 200


def test_managers_switch_coder_exports_off_in_the_settings(client, study):
    project = study["project"]
    client.force_login(study["manager"])
    response = client.post(
        reverse("manage-settings", args=[project.pk]),
        {"name": project.name, "blind": "on", "agreement_unit": "token"},
    )
    assert response.status_code in (200, 302)
    project.refresh_from_db()
    assert project.coders_may_export is False


def test_each_tool_format_downloads_under_its_own_name(client, tagged):
    project = tagged["project"]
    names = set()
    for fmt, offsets, kind in (
        ("doccano", "", "application/zip"),
        ("doccano", "codepoints", "application/zip"),
        ("labelstudio", "", "application/zip"),
        ("brat", "", "application/zip"),
        ("webanno", "", "application/zip"),
        ("uima", "", "application/zip"),
        ("prodigy", "", "application/jsonl; charset=utf-8"),
    ):
        response = download(
            client, tagged["manager"], "export-tool", project, format=fmt, offsets=offsets
        )
        assert response.status_code == 200, (fmt, response.content[:300])
        assert response["Content-Type"] == kind
        names.add(response["Content-Disposition"])
        data = b"".join(response.streaming_content)
        if kind == "application/zip":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                assert archive.testzip() is None and archive.namelist()
        else:
            lines = [json.loads(line) for line in data.splitlines()]
            assert {line["_annotator_id"] for line in lines} == {"Coder A", "Coder B"}
    assert len(names) == 7
    assert 'attachment; filename="study-prodigy-codepoints-coders.jsonl"' in names


def test_a_tool_format_in_a_unit_it_cannot_hold_is_refused_with_the_form(client, tagged):
    project = tagged["project"]
    response = download(
        client, tagged["manager"], "export-tool", project, format="brat", offsets="utf16"
    )
    assert response.status_code == 422
    assert "counts offsets in codepoints, not utf16" in response.content.decode()
    response = download(client, tagged["manager"], "export-tool", project)
    assert response.status_code == 422 and "Choose a format" in response.content.decode()


def test_export_corpus_writes_a_tool_format_into_folders(tagged, tmp_path):
    from django.core.management import call_command

    call_command(
        "export_corpus",
        tagged["project"].name,
        str(tmp_path),
        "--format",
        "brat",
        stdout=io.StringIO(),
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "EXPORT-NOTES.txt",  # "Loaded language" is written as the brat type Loaded_language
        "annotation.conf",
        "coder_a",
        "coder_b",
        "framing-codes.json",
        "visual.conf",
    ]
    ann = (tmp_path / "coder_a" / f"{tagged['document'].pk}.ann").read_text(encoding="utf-8")
    assert ann.startswith("T1\tSourcing 0 14\tOfficials said")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's snapshot isolation")
def test_a_download_reads_one_state_of_the_database_while_it_streams(tagged):
    """A span saved while a bundle streams is in none of its files (PostgreSQL)."""
    project = tagged["project"]
    spec = forms.export_spec(project, names=True)
    chunks = files.snapshot(lambda: files.zip_chunks(files.export_files(project, spec)))
    first = next(chunks)  # the download has started: its snapshot is taken

    def tag_meanwhile():
        text = tagged["document"].text
        start = text.index("Critics")
        spans.span_create(
            assignment=tagged["assignment_b"],
            code_id=tagged["codes"]["Sourcing"].pk,
            start=start,
            end=start + len("Critics"),
            quote="Critics",
        )
        connections.close_all()

    thread = threading.Thread(target=tag_meanwhile)
    thread.start()
    thread.join()
    data = first + b"".join(chunks)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("spans.csv").decode(), newline="")))
    assert "Critics" not in {row["quote"] for row in rows}
    assert Span.objects.filter(quote="Critics").exists()
