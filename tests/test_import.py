"""Importing articles: one service behind the command line and the browser; all or nothing."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from annotations.domain.textio import sha256_text
from annotations.models import AuditEvent, Document
from annotations.services import imports

pytestmark = pytest.mark.django_db

AWKWARD = "Kem Sokha\u00a0said “no”.\r\nRésumé e\u0301 👩‍🔬 ក្មែរ — end."


def _import(project, *files, **kwargs):
    return imports.documents_import(project=project, files=list(files), **kwargs)


def test_a_txt_file_becomes_one_document_with_lf_line_endings_and_a_derived_title(make_project):
    project = make_project()
    outcome = _import(project, ("article.txt", ("\ufeff" + AWKWARD).encode("utf-8")))
    assert outcome.ok and len(outcome.created) == 1
    document = Document.objects.get(project=project)
    assert document.text == AWKWARD.replace("\r\n", "\n")
    assert document.title == "Kem Sokha said “no”."
    assert document.sha256 == sha256_text(document.text)
    assert AuditEvent.objects.filter(action="import", object_id=document.pk).exists()


def test_a_csv_file_imports_every_row_with_its_metadata(make_project):
    body = (
        "text,title,outlet,url,published,external_id\r\n"
        '"First, with a comma.",One,Coda Story,https://example.org/1,2019-11-05,c-1\r\n'
        '"Second\nspans two lines.",,Red Fire Online,,,\r\n'
    )
    outcome = _import(make_project(), ("batch.csv", body.encode("utf-8")))
    assert outcome.ok, outcome.problems
    first, second = outcome.created
    assert (first.title, first.outlet, first.external_id) == ("One", "Coda Story", "c-1")
    assert str(first.published) == "2019-11-05"
    assert second.text == "Second\nspans two lines."
    assert second.published is None and second.url == ""


def test_a_jsonl_file_imports_one_document_per_line(make_project):
    lines = [
        json.dumps({"text": "Alpha text.", "outlet": "Coda Story"}),
        "",
        json.dumps({"text": AWKWARD, "title": "Awkward"}, ensure_ascii=False),
    ]
    outcome = _import(make_project(), ("batch.jsonl", "\n".join(lines).encode("utf-8")))
    assert outcome.ok, outcome.problems
    assert [d.title for d in outcome.created] == ["Alpha text.", "Awkward"]
    assert outcome.created[1].text == AWKWARD.replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("nul.txt", b"line one\nline\x00 two\n", "nul.txt, line 2: "),
        ("bad.txt", b"fine\n\xff broken\n", "bad.txt, line 2: "),
        ("nocol.csv", b"body,title\nhello,x\n", "text"),
        ("empty.csv", b"text,title\n,x\n", "line 2"),
        ("bad.jsonl", b'{"text": "ok"}\n{not json}\n', "bad.jsonl, line 2"),
        ("notobj.jsonl", b'["text"]\n', "bad"),
        ("date.csv", b"text,published\nhello,2024-13-40\n", "2024-13-40"),
        ("paper.docx", b"PK\x03\x04", ".docx"),
        ("empty.txt", b"", "empty.txt"),
    ],
)
def test_bad_input_is_refused_with_the_file_and_line_named_and_nothing_is_stored(
    make_project, name, data, message
):
    project = make_project()
    good = ("good.txt", b"A perfectly good article.")
    outcome = _import(project, good, (name, data))
    assert not outcome.ok
    if message != "bad":
        assert any(message in str(problem) for problem in outcome.problems), outcome.problems
    assert Document.objects.filter(project=project).count() == 0


def test_an_oversized_file_is_refused_with_the_limit_stated(make_project):
    project = make_project()
    outcome = _import(project, ("big.txt", b"x" * 2_000), max_bytes=1_000)
    assert not outcome.ok
    assert "limit" in str(outcome.problems[0])
    assert not Document.objects.filter(project=project).exists()


def test_importing_the_same_text_again_stores_nothing_twice(make_project):
    """Two files of one import holding one text are one document, already present here."""
    project = make_project()
    assert len(_import(project, ("a.txt", b"Same text.")).created) == 1
    again = _import(project, ("b.txt", b"Same text."), ("c.txt", b"Same text.\r\n"[:-2]))
    assert again.ok and again.created == [] and again.already_present == 1
    assert Document.objects.filter(project=project).count() == 1


def test_the_same_text_may_exist_in_two_projects(make_project):
    for project in (make_project(), make_project()):
        assert len(_import(project, ("a.txt", b"Shared text.")).created) == 1
    assert Document.objects.count() == 2


def test_dry_run_reports_what_would_be_created_and_stores_nothing(make_project):
    project = make_project()
    outcome = _import(project, ("a.txt", b"One."), ("b.txt", b"Two."), dry_run=True)
    assert outcome.ok and len(outcome.created) == 2
    assert not Document.objects.filter(project=project).exists()


def test_the_import_command_reads_every_format(make_project, tmp_path, capsys):
    project = make_project("Command project")
    (tmp_path / "a.txt").write_text("From a text file.", encoding="utf-8")
    (tmp_path / "b.csv").write_text("text\nFrom a CSV row.\n", encoding="utf-8")
    (tmp_path / "c.jsonl").write_text('{"text": "From JSONL."}\n', encoding="utf-8")
    call_command("import_documents", "Command project", *sorted(map(str, tmp_path.iterdir())))
    assert "Imported 3 document(s)" in capsys.readouterr().out
    call_command("import_documents", str(project.pk), str(tmp_path / "a.txt"))
    assert "0 document(s)" in capsys.readouterr().out
    assert project.documents.count() == 3


def test_the_import_command_refuses_bad_files_and_names_the_problem(make_project, tmp_path):
    project = make_project("Strict")
    (tmp_path / "ok.txt").write_text("Fine.", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"a\x00b")
    with pytest.raises(CommandError, match=r"bad\.txt, line 1"):
        call_command(
            "import_documents", "Strict", str(tmp_path / "ok.txt"), str(tmp_path / "bad.txt")
        )
    assert project.documents.count() == 0
    with pytest.raises(CommandError, match="No project"):
        call_command("import_documents", "Nope", str(tmp_path / "ok.txt"))
