"""Coding through the API: spans and assignments behave as on the coding page, and bad
input is refused with a 4xx and a message, changing nothing."""

from __future__ import annotations

import pytest
from django.apps import apps

from annotations.models import AssignmentStatus, AuditEvent, Span
from annotations.services import assignments, review

pytestmark = pytest.mark.django_db


def snapshot() -> tuple:
    return tuple(model.objects.count() for model in apps.get_app_config("annotations").get_models())


def span_body(world, phrase="Critics", **extra):
    text = world["document"].text
    start = text.index(phrase)
    body = {"code": world["code"].pk, "start": start, "end": start + len(phrase), "quote": phrase}
    return {**body, **extra}


def test_a_coder_creates_changes_and_deletes_a_span_with_versions(api_as, world):
    api = api_as("coder_a")
    created = api.post(f"documents/{world['document'].pk}/spans", span_body(world, note="why"))
    assert created.status_code == 201, created.content
    span = created.json()
    assert span["version"] == 1 and span["quote"] == "Critics" and span["note"] == "why"
    text = world["document"].text
    assert text[span["start"] : span["end"]] == span["quote"]

    changed = api.patch(f"spans/{span['id']}", {"version": 1, "note": "better"})
    assert changed.status_code == 200 and changed.json()["version"] == 2

    stale = api.patch(f"spans/{span['id']}", {"version": 1, "note": "lost"})
    assert stale.status_code == 409
    assert stale.json()["current"]["note"] == "better"
    assert stale.json()["current"]["version"] == 2

    assert api.delete(f"spans/{span['id']}?version=1").status_code == 409
    assert api.delete(f"spans/{span['id']}?version=2").status_code == 204
    assert Span.objects.get(pk=span["id"]).deleted_at is not None  # kept, as on the page
    listed = api.get(f"documents/{world['document'].pk}/spans").json()
    assert span["id"] not in {s["id"] for s in listed}


def test_offsets_count_code_points_not_utf16_units(api_as, world, add_document, member):
    text = "Emoji 😀 before the word framing here."
    document = add_document(world["project"], text, "emoji.txt")
    assignments.assignment_create(document=document, coder=world["coder_a"])
    api = api_as("coder_a")
    start = text.index("framing")
    utf16_start = len(text[:start].encode("utf-16-le")) // 2
    body = {"code": world["code"].pk, "end": start + 7, "quote": "framing"}
    wrong = api.post(f"documents/{document.pk}/spans", {**body, "start": utf16_start})
    assert wrong.status_code == 422 and wrong.json()["detail"]
    right = api.post(f"documents/{document.pk}/spans", {**body, "start": start})
    assert right.status_code == 201 and right.json()["start"] == start


BAD_BODIES = {
    "a string for a number": {"start": "5"},
    "a float for a number": {"end": 12.0},
    "a boolean for a number": {"code": True},
    "a negative offset": {"start": -1},
    "a huge offset": {"end": 2**70},
    "an end beyond the text": {"end": 10_000},
    "start after end": {"start": 20, "end": 10},
    "a quote that differs": {"quote": "Critic!"},
    "an unknown field": {"colour": "red"},
    "a code of no project of mine": {"code": 999_999},
    "a NUL in the note": {"note": "a\x00b"},
    "a note past its limit": {"note": "n" * 10_001},
    "null for a required field": {"quote": None},
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_span_input_is_refused_with_a_message_and_changes_nothing(api_as, world, case):
    api = api_as("coder_a")
    before = snapshot()
    response = api.post(
        f"documents/{world['document'].pk}/spans", span_body(world) | BAD_BODIES[case]
    )
    assert 400 <= response.status_code < 500, (case, response.status_code)
    assert response.json()["detail"], case
    assert snapshot() == before, case


def test_bad_changes_are_refused_and_change_nothing(api_as, world):
    api = api_as("coder_a")
    span = world["span_a"]
    before = snapshot()
    for body in (
        {"note": "no version"},
        {"version": "1"},
        {"version": 1, "start": 5, "end": 2},
        {"version": 1, "end": 10_000},
        {"version": 1, "owner": "me"},
        {"version": 1, "code": 999_999},
    ):
        response = api.patch(f"spans/{span.pk}", body)
        assert 400 <= response.status_code < 500, (body, response.status_code)
    for query in ("", "?version=abc", "?version=-1", f"?version={2**70}"):
        assert api.delete(f"spans/{span.pk}{query}").status_code == 422, query
    assert snapshot() == before
    span.refresh_from_db()
    assert (span.version, span.deleted_at) == (1, None)


def test_work_under_review_is_frozen_with_409_saying_why(api_as, world):
    for key in ("assignment_a", "assignment_b"):
        assignments.assignment_set_status(assignment=world[key], status=AssignmentStatus.DONE)
    review.review_start(document=world["document"], actor=world["reviewer"])
    api = api_as("coder_a")
    created = api.post(f"documents/{world['document'].pk}/spans", span_body(world))
    assert created.status_code == 409 and "reviewer" in created.json()["detail"]
    changed = api.patch(f"spans/{world['span_a'].pk}", {"version": 1, "note": "x"})
    assert changed.status_code == 409 and changed.json()["current"]["version"] == 1


def test_my_assignments_and_their_status(api_as, world):
    api = api_as("coder_a")
    mine = api.get("assignments").json()
    assert [(a["id"], a["spans"]) for a in mine] == [(world["assignment_a"].pk, 1)]
    done = api.post(f"assignments/{world['assignment_a'].pk}/status", {"status": "done"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    again = api.post(f"assignments/{world['assignment_a'].pk}/status", {"status": "todo"})
    assert again.status_code == 422  # only done or in_progress, as on the page


def test_a_manager_assigns_a_document_to_a_member_by_username(api_as, world):
    api = api_as("manager")
    path = f"projects/{world['project'].pk}/assignments"
    made = api.post(path, {"document_id": world["document"].pk, "coder": "reviewer"})
    assert made.status_code == 201 and made.json()["coder"] == "reviewer"
    # Twice, a non-member and an account elsewhere are refused alike: 422, nothing made.
    before = snapshot()
    for coder in ("reviewer", "outsider", "nobody-at-all"):
        response = api.post(path, {"document_id": world["document"].pk, "coder": coder})
        assert response.status_code == 422, coder
    assert api.post(path, {"document_id": 999_999, "coder": "reviewer"}).status_code == 404
    assert snapshot() == before


def test_changes_through_the_api_are_audited_with_the_token(
    client, api_as, api_tokens, world, make_user, member
):
    import csv
    import io

    from annotations import forms
    from annotations.models import Role
    from annotations.selectors.export import files
    from annotations.services.tokens import token_hash

    api = api_as("coder_a")
    created = api.post(f"documents/{world['document'].pk}/spans", span_body(world)).json()
    event = AuditEvent.objects.get(object_type="span", object_id=created["id"], action="create")
    assert event.via == "api"
    assert event.api_token.token_hash == token_hash(api_tokens["coder_a"])
    assert event.actor == world["coder_a"]
    # The same service called by a page records no API source.
    page = AuditEvent.objects.get(object_type="span", object_id=world["span_a"].pk)
    assert (page.via, page.api_token) == ("", None)
    # The trail a manager reads, and audit.csv, say how each change came.
    client.force_login(member(world["project"], make_user("auditor"), Role.MANAGER))
    html = client.get(f"/manage/{world['project'].pk}/audit/").content.decode()
    assert "<td>API (a personal token)</td>" in html and '<span class="muted">app</span>' in html
    project = world["project"]
    spec = forms.export_spec(project, names=True)
    sources = dict(files.export_files(project, spec))
    rows = list(csv.DictReader(io.StringIO("".join(sources["audit.csv"]()), newline="")))
    via = {(r["object_type"], r["object_id"], r["action"]): r["via"] for r in rows}
    assert via[("span", str(created["id"]), "create")] == "api"
    assert via[("span", str(world["span_a"].pk), "create")] == ""


def test_a_session_s_changes_are_audited_as_api_calls_without_a_token(client, world):
    client.force_login(world["coder_a"])
    response = client.patch(
        f"/api/v1/spans/{world['span_a'].pk}",
        '{"version": 1, "note": "from the docs page"}',
        content_type="application/json",
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(object_id=world["span_a"].pk, action="change")
    assert (event.via, event.api_token) == ("api", None)
