"""The issue's "done" journey, end to end, over HTTP against a live server with a real
Celery worker process computing the agreement run:

as after ``make run`` (seed project, administrator) with tokens from ``manage.py
api_token``, a client that knows only ``/api/v1/openapi.json`` (it finds every call by its
operationId there) imports two documents, codes spans as two coders, fails on a stale
version with 409, requests an agreement run and polls it to done, and downloads spans.csv.
"""

from __future__ import annotations

import csv
import io
import time

import pytest
import requests
from django.core.management import call_command

from annotations.models import Project, Role
from annotations.services import people

from ..worker import worker_process

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


class Client:
    """A client written from the OpenAPI document alone."""

    def __init__(self, base: str, token: str):
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        schema = requests.get(f"{base}/api/v1/openapi.json", timeout=10).json()
        self.operations = {
            operation["operationId"]: (method.upper(), path)
            for path, methods in schema["paths"].items()
            for method, operation in methods.items()
        }

    def call(self, operation_id: str, *, expect: int, **kwargs) -> requests.Response:
        method, path = self.operations[operation_id]
        url = self.base + path.format(**kwargs.pop("path", {}))
        response = self.session.request(method, url, timeout=30, **kwargs)
        assert response.status_code == expect, (operation_id, response.status_code, response.text)
        return response


def token_from_the_command(username: str) -> str:
    out = io.StringIO()
    call_command("api_token", username, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


@pytest.fixture
def after_make_run(live_server, make_user, settings):
    """What ``make run`` leaves: migrated, the seed project, the administrator managing it
    (DEBUG on, plain HTTP on the loopback); the manager added two coders on People."""
    settings.DEBUG = True
    call_command("load_seed", stdout=io.StringIO())
    call_command("ensure_admin", stdout=io.StringIO())
    project = Project.objects.get(name="Cambodia framing", created_by__isnull=True)
    for name in ("ana", "ben"):
        people.membership_set(project=project, user=make_user(name), role=Role.CODER)
    return live_server.url, project


def test_a_client_from_the_openapi_document_runs_a_study(after_make_run):
    base, project = after_make_run
    manager = Client(base, token_from_the_command("admin"))
    coders = {name: Client(base, token_from_the_command(name)) for name in ("ana", "ben")}
    pid = {"project_id": project.pk}

    # Import two documents (all or nothing), then assign both to both coders.
    texts = [
        "The minister said the vote was free. Observers called it a façade 😐 of democracy.\n",
        "Opposition leaders were jailed before the election, critics said.\n",
    ]
    imported = manager.call(
        "import_documents",
        path=pid,
        json={"documents": [{"text": t, "outlet": "Wire"} for t in texts]},
        expect=201,
    ).json()
    documents = [d["id"] for d in imported["documents_created"]]
    assert len(documents) == 2
    for document_id in documents:
        for name in coders:
            manager.call(
                "create_assignment",
                path=pid,
                json={"document_id": document_id, "coder": name},
                expect=201,
            )

    codes = {c["name"]: c["id"] for c in manager.call("list_codes", path=pid, expect=200).json()}
    code = next(iter(codes.values()))

    # Each coder tags the same phrases (offsets in code points, after an emoji too).
    for name, client in coders.items():
        for assignment in client.call("list_assignments", expect=200).json():
            document = client.call(
                "get_document", path={"document_id": assignment["document_id"]}, expect=200
            ).json()
            text = document["text"]
            phrase = "façade 😐 of democracy" if "façade" in text else "critics said"
            start = text.index(phrase)
            span = client.call(
                "create_span",
                path={"document_id": document["id"]},
                json={"code": code, "start": start, "end": start + len(phrase), "quote": phrase},
                expect=201,
            ).json()
            assert (span["version"], span["quote"]) == (1, phrase)
            client.call(
                "update_span",
                path={"span_id": span["id"]},
                json={"version": 1, "note": f"{name} was sure"},
                expect=200,
            )
            stale = client.call(
                "update_span",
                path={"span_id": span["id"]},
                json={"version": 1, "note": "from a stale tab"},
                expect=409,
            ).json()
            assert (
                stale["current"]["version"] == 2 and stale["current"]["note"] == f"{name} was sure"
            )
            client.call(
                "set_assignment_status",
                path={"assignment_id": assignment["id"]},
                json={"status": "done"},
                expect=200,
            )

    # The agreement run is computed by a real worker process; the client polls it.
    with worker_process(queues=["agreement"]) as (process, _):
        run = manager.call("request_agreement_run", path=pid, json={}, expect=202).json()
        again = manager.call("request_agreement_run", path=pid, json={}, expect=202).json()
        assert again["id"] == run["id"] and again["created"] is False
        deadline = time.monotonic() + 90
        while run["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, "the run did not finish in time"
            assert process.poll() is None, process.stdout.read()
            time.sleep(0.3)
            run = manager.call("get_agreement_run", path={"run_id": run["id"]}, expect=200).json()
    assert run["status"] == "done", run["error"]
    result = run["result"]
    assert result["coders"] == ["Coder A", "Coder B"]
    assert result["overall"]["alpha_u"]["value"] == pytest.approx(1.0)

    # spans.csv, as on the download page: every quote is text[start:end] in code points.
    response = manager.call(
        "export_file", path={**pid, "file": "spans.csv"}, params={"layer": "coders"}, expect=200
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert len(rows) == 4 and {r["coder"] for r in rows} == {"Coder A", "Coder B"}
    by_id = dict(zip(documents, texts, strict=True))
    for row in rows:
        text = by_id[int(row["document_id"])]
        assert text[int(row["start"]) : int(row["end"])] == row["quote"]
