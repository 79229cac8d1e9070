"""Importing other tools' files with their spans, from the command line and the upload page:
offsets in each tool's unit, coders named by the files, nothing dropped without a reason,
and messages that name the fix."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotations.domain.formats import describe_formats
from annotations.models import AuditEvent, Membership, Role, Span

pytestmark = pytest.mark.django_db

FIRE = "👨🏻\u200d🚒 firemen drive firetrucks at work"  # doccano issue #2290's example


def jsonl(*records) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_documents", *map(str, args), stdout=out)
    return out.getvalue()


def refused(*args) -> str:
    with pytest.raises(CommandError) as error:
        call_command("import_documents", *map(str, args), stdout=io.StringIO())
    return str(error.value)


def quotes(project) -> list[tuple[str, str, str]]:
    return sorted(
        (s.assignment.coder.username, s.code.name, s.quote)
        for s in Span.objects.filter(assignment__document__project=project).select_related(
            "assignment__coder", "code"
        )
    )


@pytest.fixture
def target(make_project, make_user, member):
    project = make_project("Target", codes=("Vehicle", "Person"))
    member(project, make_user("dana"))
    return project


def test_doccano_offsets_count_utf16_code_units_by_default(target, tmp_path):
    path = tmp_path / "doccano.jsonl"
    path.write_text(jsonl({"text": FIRE, "label": [[22, 32, "Vehicle"]]}), encoding="utf-8")
    output = run("Target", path, "--coder", "dana")
    assert quotes(target) == [("dana", "Vehicle", "firetrucks")]
    assert "offsets: utf16" in output and "dana: 1 span(s)" in output
    assert "1 span(s) (1 already present)" not in output
    again = run("Target", path, "--coder", "dana")
    assert "Imported 0 document(s) (1 already present)" in again
    assert "dana: 0 span(s) (1 already present)" in again
    assert len(quotes(target)) == 1


def test_an_offset_inside_a_character_is_refused_with_a_hint_about_the_unit(target, tmp_path):
    inside = tmp_path / "inside.jsonl"
    inside.write_text(jsonl({"text": FIRE, "label": [[1, 7, "Person"]]}), encoding="utf-8")
    message = refused("Target", inside, "--coder", "dana")
    assert "fall inside a character" in message and "try --offsets codepoints" in message
    assert quotes(target) == [] and target.documents.count() == 0
    path = tmp_path / "codepoints.jsonl"
    path.write_text(jsonl({"text": FIRE, "label": [[19, 29, "Vehicle"]]}), encoding="utf-8")
    run("Target", path, "--coder", "dana", "--offsets", "codepoints")
    assert quotes(target) == [("dana", "Vehicle", "firetrucks")]


def test_spans_without_a_coder_need_one_and_the_message_says_how(target, tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text(jsonl({"text": "Alpha beta.", "label": [[0, 5, "Person"]]}), encoding="utf-8")
    message = refused("Target", path)
    assert "do not say who made them: give --coder USERNAME" in message
    assert target.documents.count() == 0


def test_unknown_codes_are_refused_naming_create_codes(target, tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text(jsonl({"text": "Alpha beta.", "label": [[0, 5, "Nope"]]}), encoding="utf-8")
    assert "--create-codes" in refused("Target", path, "--coder", "dana")
    run("Target", path, "--coder", "dana", "--create-codes")
    assert quotes(target) == [("dana", "Nope", "Alpha")]


def test_a_pretty_printed_json_file_is_named_as_such_once(target, tmp_path):
    path = tmp_path / "pretty.jsonl"
    records = [{"text": f"Text {n}.", "label": [[0, 4, "Person"]]} for n in range(20)]
    path.write_text(json.dumps(records, indent=2), encoding="utf-8")
    message = refused("Target", path, "--coder", "dana")
    assert "this file is one JSON document, not JSON Lines" in message
    assert message.count("pretty.jsonl") == 1


PRODIGY = [
    {
        "text": "Hun Sen met Kem Sokha.",
        "spans": [{"start": 0, "end": 7, "label": "Person"}],
        "answer": "accept",
        "_annotator_id": "study-ann1",
    },
    {
        "text": "Hun Sen met Kem Sokha.",
        "spans": [{"start": 12, "end": 21, "label": "Person", "text": "Kem Sokha"}],
        "answer": "accept",
        "_annotator_id": "study-ann2",
    },
    {"text": "Rejected text.", "spans": [], "answer": "reject", "_annotator_id": "study-ann1"},
]


def test_several_annotators_and_one_coder_point_to_only_coder(target, tmp_path):
    path = tmp_path / "prodigy.jsonl"
    path.write_text(jsonl(*PRODIGY), encoding="utf-8")
    message = refused("Target", path, "--coder", "dana")
    assert "name 2 annotators (study-ann1, study-ann2)" in message and "--only-coder" in message
    output = run("Target", path, "--coder", "dana", "--only-coder", "study-ann2")
    assert quotes(target) == [("dana", "Person", "Kem Sokha")]
    assert "1 × record: answer is 'reject', not 'accept'" in output
    assert "by another annotator than the one chosen" in output


def test_annotators_the_file_names_become_coders_only_when_asked(target, tmp_path):
    path = tmp_path / "prodigy.jsonl"
    path.write_text(jsonl(*PRODIGY), encoding="utf-8")
    message = refused("Target", path)
    assert "no account is named “study-ann1”: import with --create-coders" in message
    assert not get_user_model().objects.filter(username__startswith="study-").exists()
    output = run("Target", path, "--create-coders")
    assert "study-ann1 (new account): 1 span(s)" in output
    assert quotes(target) == [
        ("study-ann1", "Person", "Hun Sen"),
        ("study-ann2", "Person", "Kem Sokha"),
    ]
    created = get_user_model().objects.get(username="study-ann1")
    assert not created.has_usable_password()
    assert Membership.objects.get(project=target, user=created).role == Role.CODER
    assert AuditEvent.objects.filter(project=target, object_type="user").count() == 2


def test_an_existing_account_is_added_as_a_coder_only_when_asked(target, tmp_path, make_user):
    make_user("outsider_ann")
    path = tmp_path / "one.jsonl"
    record = {**PRODIGY[0], "_annotator_id": "outsider_ann"}
    path.write_text(jsonl(record), encoding="utf-8")
    message = refused("Target", path)
    assert "“outsider_ann” is not a member of this project" in message
    assert "--create-coders" in message
    run("Target", path, "--create-coders")
    assert quotes(target) == [("outsider_ann", "Person", "Hun Sen")]


LABEL_STUDIO = [
    {
        "id": 7,
        "data": {"text": "Officials said the “confession” was voluntary.", "title": "One"},
        "annotations": [
            {
                "completed_by": {"id": 3, "email": "dana@example.org"},
                "was_cancelled": False,
                "result": [
                    {
                        "id": "r1",
                        "type": "labels",
                        "from_name": "label",
                        "to_name": "text",
                        "value": {
                            "start": 19,
                            "end": 31,
                            "text": "“confession”",
                            "labels": ["Person"],
                        },
                    },
                    {
                        "id": "r1",
                        "type": "textarea",
                        "from_name": "note",
                        "to_name": "text",
                        "value": {"text": ["scare quotes"]},
                    },
                ],
            },
            {"completed_by": 4, "was_cancelled": True, "result": []},
        ],
        "predictions": [{"result": [{"type": "labels"}]}],
    }
]


def test_label_studio_names_coders_by_email_and_lists_what_it_leaves_out(target, tmp_path):
    Membership.objects.get(project=target, user__username="dana").user.__class__.objects.filter(
        username="dana"
    ).update(email="dana@example.org")
    path = tmp_path / "export.json"
    path.write_text(json.dumps(LABEL_STUDIO, ensure_ascii=False), encoding="utf-8")
    output = run("Target", path, "--dry-run")
    assert "Would import 1 document(s)" in output
    assert "dana: 1 span(s)" in output
    assert "annotation: cancelled (skipped) by the annotator" in output
    assert "prediction: predictions are a model's work" in output
    assert target.documents.count() == 0
    run("Target", path)
    span = Span.objects.get(assignment__document__project=target)
    assert (span.quote, span.note, span.assignment.coder.username) == (
        "“confession”",
        "scare quotes",
        "dana",
    )


def test_a_brat_folder_gives_each_coder_folder_its_spans(target, tmp_path, make_user, member):
    member(target, make_user("alice"))
    folder = tmp_path / "brat"
    (folder / "alice").mkdir(parents=True)
    text = "Kem Sokha was arrested.\nHun Sen spoke.\n"
    (folder / "alice" / "doc1.txt").write_text(text, encoding="utf-8")
    (folder / "alice" / "doc1.ann").write_text(
        "T1\tPerson 0 9\tKem Sokha\n"
        "T2\tPerson 24 31\tHun Sen\n"
        "#1\tAnnotatorNotes T1\tthe opposition leader\n"
        "R1\tMentions Arg1:T1 Arg2:T2\n",
        encoding="utf-8",
    )
    (folder / "annotation.conf").write_text("[entities]\nPerson\n", encoding="utf-8")
    output = run("Target", folder)
    assert quotes(target) == [("alice", "Person", "Hun Sen"), ("alice", "Person", "Kem Sokha")]
    assert Span.objects.get(quote="Kem Sokha").note == "the opposition leader"
    assert "relation: relations are not imported" in output
    assert "file: brat configuration is not imported" in output


def test_loose_brat_files_are_read_together(target, tmp_path):
    (tmp_path / "d.txt").write_text("Hun Sen spoke.", encoding="utf-8")
    (tmp_path / "d.ann").write_text("T1\tPerson 0 7\tHun Sen\n", encoding="utf-8")
    run("Target", tmp_path / "d.txt", tmp_path / "d.ann", "--coder", "dana")
    assert quotes(target) == [("dana", "Person", "Hun Sen")]


def test_an_unknown_format_or_type_is_refused_with_the_choices(target, tmp_path):
    path = tmp_path / "paper.pdf"
    path.write_bytes(b"%PDF-1.4")
    assert "unsupported file type '.pdf'" in refused("Target", path)
    assert "unknown format “word”" in refused("Target", path, "--format", "word")


def test_the_readmes_table_of_formats_is_the_one_the_code_describes():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert describe_formats() in readme


# --- The upload page ---------------------------------------------------------------------------


def upload(client, project, files, headers=None, **fields):
    return client.post(
        reverse("manage-upload", args=[project.pk]),
        {"files": [SimpleUploadedFile(n, d) for n, d in files], "preview": "1", **fields},
        headers=headers or {},
    )


@pytest.fixture
def manager_client(client, target, make_user, member):
    client.force_login(member(target, make_user("boss"), Role.MANAGER))
    return client


def test_the_preview_lists_spans_per_coder_and_what_is_left_out_then_imports(
    manager_client, target
):
    get_user_model().objects.filter(username="dana").update(email="dana@example.org")
    files = [("export.json", json.dumps(LABEL_STUDIO, ensure_ascii=False).encode())]
    response = upload(manager_client, target, files)
    page = response.content.decode()
    assert response.status_code == 200
    assert "1 document will be created" in page and "1 span will be added" in page
    assert "Spans per coder" in page and "dana@example.org" in page
    assert "cancelled (skipped) by the annotator" in page
    assert "predictions are a model&#x27;s work" in page
    token = re.search(r'name="confirm" value="([^"]+)"', page).group(1)
    assert Span.objects.count() == 0
    response = manager_client.post(
        reverse("manage-upload", args=[target.pk]),
        {"files": [SimpleUploadedFile(*files[0])], "confirm": token},
    )
    assert response.status_code == 302
    assert quotes(target) == [("dana", "Person", "“confession”")]


def test_the_page_never_tells_whether_an_account_exists_elsewhere(
    manager_client, target, make_user
):
    make_user("elsewhere")
    answers = set()
    for name in ("elsewhere", "nobody_at_all"):
        record = {**PRODIGY[0], "_annotator_id": name}
        files = [("p.jsonl", jsonl(record).encode())]
        response = upload(manager_client, target, files, headers={"HX-Request": "true"})
        assert response.status_code == 422
        answers.add(response.content.decode().replace(name, "NAME"))
    assert len(answers) == 1
    assert "is not a member of this project" in answers.pop()
    assert not get_user_model().objects.filter(username="nobody_at_all").exists()


def test_the_page_can_give_every_span_to_one_member_in_the_unit_chosen(manager_client, target):
    files = [("doccano.jsonl", jsonl({"text": FIRE, "label": [[19, 29, "Vehicle"]]}).encode())]
    response = upload(manager_client, target, files, coder="dana", offsets="codepoints")
    page = response.content.decode()
    assert response.status_code == 200, page
    token = re.search(r'name="confirm" value="([^"]+)"', page).group(1)
    changed = upload(manager_client, target, files, coder="dana", confirm=token)
    assert "differ from the ones previewed" in changed.content.decode()  # other offsets
    manager_client.post(
        reverse("manage-upload", args=[target.pk]),
        {
            "files": [SimpleUploadedFile(*files[0])],
            "coder": "dana",
            "offsets": "codepoints",
            "confirm": token,
        },
    )
    assert quotes(target) == [("dana", "Vehicle", "firetrucks")]
    response = upload(manager_client, target, files, coder="not-a-member")
    assert response.status_code == 422 and "Unknown member" in response.content.decode()


def test_the_preview_says_which_coders_work_is_frozen_and_the_import_adds_nothing_to_it(
    manager_client, target, tmp_path
):
    """A file that adds spans to work its coder marked done, or that a reviewer has started
    on, is refused in the preview, by the command and by the page, with the reason."""
    from annotations.models import Assignment, AssignmentStatus, Document
    from annotations.services import assignments, review

    first = tmp_path / "first.jsonl"
    first.write_text(jsonl({"text": FIRE, "label": [[22, 32, "Vehicle"]]}), encoding="utf-8")
    run("Target", first, "--coder", "dana")
    more = jsonl({"text": FIRE, "label": [[0, 7, "Person"], [22, 32, "Vehicle"]]})
    second = tmp_path / "second.jsonl"
    second.write_text(more, encoding="utf-8")
    work = Assignment.objects.get(coder__username="dana")
    assignments.assignment_set_status(assignment=work, status=AssignmentStatus.DONE)
    stored = quotes(target)
    for reason in ("dana marked it done", "a reviewer has started on it"):
        message = refused("Target", second, "--coder", "dana")
        assert reason in message and "firemen" in message  # the document, by its title
        assert reason in refused("Target", second, "--coder", "dana", "--dry-run")
        response = upload(manager_client, target, [("second.jsonl", more.encode())], coder="dana")
        page = response.content.decode()
        assert response.status_code == 422 and reason.replace("'", "&#x27;") in page
        assert 'name="confirm"' not in page
        assert quotes(target) == stored
        boss = get_user_model().objects.get(username="boss")
        review.review_start(document=Document.objects.get(), actor=boss)
    # A file that adds nothing to frozen work is no problem.
    assert "dana: 0 span(s) (1 already present)" in run("Target", first, "--coder", "dana")


def test_the_frozen_work_check_reads_once_however_many_documents_the_file_holds(target, tmp_path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def dry_run(documents: int) -> int:
        texts = [f"Article {documents}-{n}: {FIRE}" for n in range(documents)]
        stored = tmp_path / f"stored-{documents}.jsonl"
        stored.write_text(jsonl(*({"text": t, "label": []} for t in texts)), encoding="utf-8")
        run("Target", stored, "--coder", "dana")
        more = tmp_path / f"more-{documents}.jsonl"
        body = jsonl(*({"text": t, "label": [[22, 32, "Vehicle"]]} for t in texts))
        more.write_text(body, encoding="utf-8")
        with CaptureQueriesContext(connection) as captured:
            run("Target", more, "--coder", "dana", "--dry-run")
        return len(captured.captured_queries)

    assert dry_run(2) == dry_run(8)
