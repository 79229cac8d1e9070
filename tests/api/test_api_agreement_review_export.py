"""Agreement runs, review and downloads through the API: the same deduplication, labels
and files as the pages."""

from __future__ import annotations

import csv
import io
import threading
import zipfile

import pytest
from django.db import connection, connections

from annotations.models import AgreementRun, AssignmentStatus, GoldSpan, RunStatus, Span
from annotations.services import agreement, assignments, spans

pytestmark = pytest.mark.django_db


@pytest.fixture
def coded(world):
    """Both coders tagged "Officials said" and are done."""
    text = world["document"].text
    for key in ("a", "b"):
        spans.span_create(
            assignment=world[f"assignment_{key}"],
            code_id=world["code"].pk,
            start=text.index("Critics"),
            end=text.index("Critics") + len("Critics called"),
            quote="Critics called",
        )
        assignments.assignment_set_status(
            assignment=world[f"assignment_{key}"], status=AssignmentStatus.DONE
        )
    return world


def test_an_identical_request_returns_the_same_run(api_as, coded):
    api = api_as("reviewer")
    path = f"projects/{coded['project'].pk}/agreement-runs"
    first = api.post(path)
    assert first.status_code == 202 and first.json()["created"] is True
    second = api.post(path, {})
    assert second.status_code == 202
    assert second.json()["created"] is False and second.json()["id"] == first.json()["id"]
    other = api.post(path, {"include_in_progress": True})
    assert other.json()["id"] != first.json()["id"]
    assert api.post(path, {"include_in_progress": "yes"}).status_code == 422


def test_a_done_run_has_its_typed_result_with_labels_not_user_ids(api_as, coded):
    project = coded["project"]
    run = agreement.agreement_request(
        project=project, run_settings=agreement.RunSettings(n_bootstrap=20), enqueue=False
    ).run
    agreement.agreement_execute(run_id=run.pk)
    body = api_as("reviewer").get(f"agreement-runs/{run.pk}").json()
    assert body["status"] == RunStatus.DONE
    result = body["result"]
    assert result["coders"] == ["Coder A", "Coder B"]
    assert result["per_code"]["Sourcing"]["alpha_u"]["value"] is not None
    assert {"coefficient", "code", "scope", "value"} <= set(result["rows"][0])
    text = str(body)
    for user in ("coder_a", "coder_b"):
        assert f"u{coded[user].pk}'" not in text and user not in text


def test_a_queued_run_has_no_result_yet(api_as, world):
    body = api_as("manager").get(f"agreement-runs/{world['run'].pk}").json()
    assert body["status"] == "queued" and body["result"] is None


def test_review_items_by_type_and_settling_one(api_as, coded):
    api = api_as("reviewer")
    document = coded["document"]
    everything = api.get(f"documents/{document.pk}/review").json()
    assert everything["coders"] == ["Coder A", "Coder B"]
    kinds = {item["kind"] for item in everything["items"]}
    assert sum(everything["counts"].values()) == len(everything["items"])
    missed = api.get(f"documents/{document.pk}/review?type=missed").json()["items"]
    assert missed and {i["kind"] for i in missed} == {"missed"} and "missed" in kinds
    assert api.get(f"documents/{document.pk}/review?type=other").status_code == 422

    item = missed[0]
    coder = next(v["coders"][0] for v in item["versions"])
    settle = f"documents/{document.pk}/review/settle"
    unknown = api.post(settle, {"item_key": item["key"], "action": "accept", "coder": "coder_a"})
    assert unknown.status_code == 422  # by label only, never by username or id
    done = api.post(settle, {"item_key": item["key"], "action": "accept", "coder": coder})
    assert done.status_code == 200, done.content
    gold = done.json()["gold_span_ids"]
    assert gold and GoldSpan.objects.filter(pk__in=gold).count() == len(gold)
    twice = api.post(settle, {"item_key": item["key"], "action": "reject"})
    assert twice.status_code == 409
    after = api.get(f"documents/{document.pk}/review?type=missed").json()["items"]
    assert next(i for i in after if i["key"] == item["key"])["decision"]["action"] == "accept"


def test_the_export_is_the_page_s_file_narrowed_to_what_a_coder_may_see(api_as, coded):
    project = coded["project"]

    def rows(role, query=""):
        response = api_as(role).get(f"projects/{project.pk}/export/spans.csv{query}")
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        body = b"".join(response.streaming_content).decode("utf-8")
        return list(csv.DictReader(io.StringIO(body)))

    everyone = rows("manager")
    assert {r["coder"] for r in everyone} == {"Coder A", "Coder B"}
    assert {r["coder"] for r in rows("manager", "?names=true")} == {"coder_a", "coder_b"}
    # One coder's layer by the label the caller sees (managers of blind projects: usernames).
    assert {r["coder"] for r in rows("reviewer", "?layer=Coder%20B")} == {"Coder B"}
    assert {r["coder"] for r in rows("manager", "?layer=coder_b")} == {"Coder B"}
    mine = rows("coder_a", "?layer=all&names=true")
    assert len(mine) == 2 and {r["coder"] for r in mine} == {"You"}
    for row in everyone:
        text = coded["document"].text
        assert text[int(row["start"]) : int(row["end"])] == row["quote"]
    bad = api_as("manager").get(f"projects/{project.pk}/export/spans.csv?code=999999")
    assert bad.status_code == 422
    assert api_as("manager").get(f"projects/{project.pk}/export/secrets.txt").status_code == 404


def test_agreement_run_requests_answer_404_to_a_blind_coder(api_as, coded):
    assert (
        api_as("coder_a").post(f"projects/{coded['project'].pk}/agreement-runs").status_code == 404
    )
    assert not AgreementRun.objects.exclude(pk=coded["run"].pk).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's snapshot isolation")
def test_an_api_download_reads_one_state_of_the_database_while_it_streams(api_as, world):
    """A span saved while the bundle streams is in none of its files, as on the pages."""
    response = api_as("manager").get(f"projects/{world['project'].pk}/export/bundle.zip")
    assert response.status_code == 200
    chunks = iter(response.streaming_content)
    first = next(chunks)  # the download has started and read the database: its snapshot

    def tag_meanwhile():
        try:
            text = world["document"].text
            start = text.index("Critics")
            spans.span_create(
                assignment=world["assignment_b"],
                code_id=world["code"].pk,
                start=start,
                end=start + len("Critics"),
                quote="Critics",
            )
        finally:
            connections.close_all()

    thread = threading.Thread(target=tag_meanwhile)
    thread.start()
    thread.join()
    data = first + b"".join(chunks)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("spans.csv").decode(), newline="")))
    assert rows and "Critics" not in {row["quote"] for row in rows}
    assert Span.objects.filter(quote="Critics", assignment=world["assignment_b"]).count() == 1
