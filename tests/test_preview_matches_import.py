"""A file the upload preview accepts imports; one it refuses says why, line by line.

The preview (a dry run) runs exactly the validation the import runs, including the
model's own field checks, so "1 document will be created" is never followed by a failure.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from annotations.models import Document
from annotations.services import imports

pytestmark = pytest.mark.django_db


def jsonl(**fields) -> bytes:
    return (json.dumps({"text": "A sentence about Cambodia.", **fields}) + "\n").encode()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"outlet": "x" * 201}, "outlet"),
        ({"external_id": "y" * 201}, "external_id"),
        ({"url": "https://exa mple .org/<script>"}, "url"),
        ({"title": "t" * 400}, ""),  # long titles are cut, not refused
    ],
)
def test_the_preview_refuses_exactly_what_the_import_refuses(study, fields, message):
    project = study["project"]
    files = [("batch.jsonl", jsonl(**fields))]
    preview = imports.documents_import(project=project, files=files, dry_run=True)
    outcome = imports.documents_import(project=project, files=files)
    assert preview.ok == outcome.ok
    assert [str(p) for p in preview.problems] == [str(p) for p in outcome.problems]
    if message:
        assert not outcome.ok and message in str(outcome.problems[0])
        assert "batch.jsonl, line 1" in str(outcome.problems[0])
    else:
        assert outcome.ok and len(outcome.created) == 1


def test_an_upload_the_preview_accepted_imports_over_http(client, study):
    client.force_login(study["manager"])
    url = reverse("manage-upload", args=[study["project"].pk])
    before = Document.objects.count()
    data = jsonl(outlet="x" * 201)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(url, {"files": SimpleUploadedFile("a.jsonl", data)})
    assert response.status_code == 422
    assert "outlet" in response.content.decode()
    assert Document.objects.count() == before


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"text": "x", "label": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested more than"),
        ('{"text": "x", "label": [[0, ' + "9" * 5000 + ', "A"]]}', "more than 18 digits"),
        ('{"text": "x", "id": NaN}', "not a JSON number"),
        ('{"text": "x", "text": "y"}', "appears more than once"),
    ],
)
def test_hostile_json_lines_are_refused_with_the_line_named(study, line, message):
    data = ('{"text": "A fine first line."}\n' + line + "\n").encode()
    outcome = imports.documents_import(project=study["project"], files=[("bad.jsonl", data)])
    assert not outcome.ok
    (problem,) = outcome.problems
    assert str(problem).startswith("bad.jsonl, line 2:") and message in str(problem)
    assert Document.objects.filter(project=study["project"]).count() == 1  # the fixture's
