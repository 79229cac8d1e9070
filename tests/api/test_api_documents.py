"""Documents through the API: pages of them, one with its text, and imports (JSON or any
importable file), all or nothing, with a dry run."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile

from annotations.models import Document, Span

pytestmark = pytest.mark.django_db


def snapshot() -> tuple:
    return tuple(model.objects.count() for model in apps.get_app_config("annotations").get_models())


def test_documents_are_paginated_and_texts_come_when_asked(api_as, world, add_document):
    for i in range(4):
        add_document(world["project"], f"Article number {i}.", f"a{i}.txt")
    api = api_as("manager")
    path = f"projects/{world['project'].pk}/documents"
    first = api.get(f"{path}?page_size=2").json()
    assert first["count"] == 5 and len(first["items"]) == 2
    assert all(item["text"] is None for item in first["items"])
    last = api.get(f"{path}?page_size=2&page=3&include_text=true").json()
    assert [item["text"] for item in last["items"]] == ["Article number 3."]
    assert api.get(f"{path}?page=99").json()["items"] == []
    for query in ("?page=0", "?page_size=501", "?page=x", f"?page={2**70}", "?include_text=x"):
        assert api.get(path + query).status_code == 422, query


def test_a_coder_lists_and_reads_only_assigned_documents(api_as, world, add_document):
    other = add_document(world["project"], "Not assigned to anyone.", "other.txt")
    api = api_as("coder_a")
    listed = api.get(f"projects/{world['project'].pk}/documents").json()
    assert [d["id"] for d in listed["items"]] == [world["document"].pk]
    assert listed["items"][0]["my_assignment"]["id"] == world["assignment_a"].pk
    assert api.get(f"documents/{other.pk}").status_code == 404
    one = api.get(f"documents/{world['document'].pk}").json()
    assert one["text"] == world["document"].text and one["length"] == len(one["text"])


def test_json_documents_are_imported_all_or_nothing_with_a_dry_run(api_as, world):
    api = api_as("manager")
    path = f"projects/{world['project'].pk}/documents"
    docs = [
        {"text": "First article. It says things.", "outlet": "Daily", "published": "2024-05-01"},
        {"text": "Second article.", "title": "Two", "external_id": "x-2"},
    ]
    before = snapshot()
    dry = api.post(path, {"documents": docs, "dry_run": True})
    assert dry.status_code == 200 and dry.json()["stored"] is False
    assert [d["id"] for d in dry.json()["documents_created"]] == [None, None]
    assert snapshot() == before

    bad = api.post(path, {"documents": [*docs, {"text": "Bad date", "published": "2024-13-45"}]})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"][:3] == ["body", "documents", 2]
    assert snapshot() == before

    stored = api.post(path, {"documents": docs})
    assert stored.status_code == 201 and stored.json()["stored"] is True
    ids = [d["id"] for d in stored.json()["documents_created"]]
    first = Document.objects.get(pk=ids[0])
    assert (first.outlet, str(first.published)) == ("Daily", "2024-05-01")
    assert Document.objects.get(pk=ids[1]).title == "Two"
    again = api.post(path, {"documents": docs})
    assert again.json()["documents_created"] == [] and again.json()["documents_present"] == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"documents": []},
        {"documents": [{"text": ""}]},
        {"documents": [{"text": "x", "colour": "red"}]},
        {"documents": [{"text": 5}]},
        {"documents": [{"text": "x\x00y"}]},
        {"documents": "text"},
        {"documents": [{"text": "x"}], "dry_run": "yes"},
    ],
)
def test_bad_import_bodies_are_refused_and_store_nothing(api_as, world, body):
    before = snapshot()
    response = api_as("manager").post(f"projects/{world['project'].pk}/documents", body)
    assert response.status_code == 422, (body, response.content)
    assert response.json()["detail"]
    assert snapshot() == before


def test_a_file_in_another_tool_s_format_is_imported_with_its_spans(client, api_tokens, world):
    text = "Officials said the “confession” was voluntary. Critics called it a sham.\n"
    start = text.index("Critics")
    record = {"text": text, "label": [[start, start + 7, "Sourcing"]]}
    upload = SimpleUploadedFile("coder_b.jsonl", (json.dumps(record) + "\n").encode())
    response = client.post(
        f"/api/v1/projects/{world['project'].pk}/documents",
        {"files": [upload], "format": "doccano", "coder": "coder_b"},
        HTTP_AUTHORIZATION=f"Bearer {api_tokens['manager']}",
        secure=True,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["documents_present"] == 1 and body["spans_created"] == 1
    assert Span.objects.filter(assignment__coder=world["coder_b"], start=start).exists()


def test_a_file_problem_names_the_file_and_stores_nothing(client, api_tokens, world):
    before = snapshot()
    response = client.post(
        f"/api/v1/projects/{world['project'].pk}/documents",
        {"files": [SimpleUploadedFile("bad.csv", b"title,no_text_column\nA,B\n")]},
        HTTP_AUTHORIZATION=f"Bearer {api_tokens['manager']}",
        secure=True,
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:3] == ["body", "files", "bad.csv"]
    assert snapshot() == before
    for form in ({}, {"files": [SimpleUploadedFile("a.txt", b"x")], "sneaky": "1"}):
        refused = client.post(
            f"/api/v1/projects/{world['project'].pk}/documents",
            form,
            HTTP_AUTHORIZATION=f"Bearer {api_tokens['manager']}",
            secure=True,
        )
        assert refused.status_code == 422, form
    assert snapshot() == before
