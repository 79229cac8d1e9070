"""Every operation of the API, called as every kind of user with a personal token.

Expected, as on the pages: no credentials gets 401; a user who may not see an object gets
404 (never 403, which would confirm it exists); a user whose role allows the call
succeeds. The operations are enumerated from the API's own OpenAPI document: one without
an entry in MATRIX fails ``test_every_operation_has_an_entry``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from annotations.api.main import api

from ..test_authorization import (
    CODER_A,
    CODERS_ASSIGNED,
    MANAGERS,
    MEMBERS,
    REVIEWERS,
    ROLES,
    USERS,
    both_done,
    open_item_key,
)

pytestmark = pytest.mark.django_db

PREFIX = "/api/v1"


@dataclass(frozen=True)
class Call:
    allowed: frozenset[str]
    params: Callable[[dict], dict] = lambda w: {}
    body: Callable[[dict], dict | None] = lambda w: None
    query: Callable[[dict], str] = lambda w: ""
    prepare: Callable[[dict], None] = lambda w: None


def project(w):
    return {"project_id": w["project"].pk}


def document(w):
    return {"document_id": w["document"].pk}


def span_a(w):
    return {"span_id": w["span_a"].pk}


def new_span(w):
    text = w["document"].text
    start = text.index("Critics")
    return {"code": w["code"].pk, "start": start, "end": start + 7, "quote": "Critics"}


MATRIX: dict[tuple[str, str], Call] = {
    ("GET", "/projects"): Call(USERS),
    ("GET", "/projects/{project_id}/codes"): Call(MEMBERS, project),
    ("GET", "/projects/{project_id}/documents"): Call(
        MEMBERS, project, query=lambda w: "?include_text=true"
    ),
    ("POST", "/projects/{project_id}/documents"): Call(
        MANAGERS, project, lambda w: {"documents": [{"text": "A new article."}]}
    ),
    ("GET", "/documents/{document_id}"): Call(CODERS_ASSIGNED | REVIEWERS, document),
    ("GET", "/assignments"): Call(USERS),
    ("POST", "/assignments/{assignment_id}/status"): Call(
        CODER_A,
        lambda w: {"assignment_id": w["assignment_a"].pk},
        lambda w: {"status": "done"},
    ),
    ("POST", "/projects/{project_id}/assignments"): Call(
        MANAGERS, project, lambda w: {"document_id": w["document"].pk, "coder": "reviewer"}
    ),
    ("GET", "/documents/{document_id}/spans"): Call(CODERS_ASSIGNED | REVIEWERS, document),
    ("POST", "/documents/{document_id}/spans"): Call(CODERS_ASSIGNED, document, new_span),
    ("PATCH", "/spans/{span_id}"): Call(
        CODER_A, span_a, lambda w: {"version": w["span_a"].version, "note": "n"}
    ),
    ("DELETE", "/spans/{span_id}"): Call(
        CODER_A, span_a, query=lambda w: f"?version={w['span_a'].version}"
    ),
    # Agreement: reviewers and managers (coders only in open projects; this one is blind).
    ("POST", "/projects/{project_id}/agreement-runs"): Call(REVIEWERS, project, lambda w: {}),
    ("GET", "/agreement-runs/{run_id}"): Call(REVIEWERS, lambda w: {"run_id": w["run"].pk}),
    # Export: every member; what a coder's download holds is tested in test_api_blind.
    ("GET", "/projects/{project_id}/export/{file}"): Call(
        MEMBERS, lambda w: {"project_id": w["project"].pk, "file": "spans.csv"}
    ),
    ("GET", "/documents/{document_id}/review"): Call(REVIEWERS, document, prepare=both_done),
    ("POST", "/documents/{document_id}/review/settle"): Call(
        REVIEWERS,
        document,
        lambda w: {"item_key": open_item_key(w), "action": "reject", "rationale": "no"},
        prepare=both_done,
    ),
}


def operations() -> set[tuple[str, str]]:
    schema = api.get_openapi_schema(path_prefix=f"{PREFIX}/")
    return {
        (method.upper(), path.removeprefix(PREFIX))
        for path, methods in schema["paths"].items()
        for method in methods
    }


def url(call: Call, path: str, world) -> str:
    return PREFIX + path.format(**call.params(world)) + call.query(world)


def test_every_operation_has_an_entry():
    missing = operations() - MATRIX.keys()
    stale = MATRIX.keys() - operations()
    assert not missing, f"API operations without an authorization entry: {sorted(missing)}"
    assert not stale, f"Matrix entries for operations that no longer exist: {sorted(stale)}"


CASES = [(method, path, role) for (method, path) in sorted(MATRIX) for role in ROLES]


@pytest.mark.parametrize(("method", "path", "role"), CASES)
def test_each_role_gets_exactly_what_it_may(api_as, world, method, path, role):
    call = MATRIX[(method, path)]
    call.prepare(world)
    client = api_as(None if role == "anonymous" else role)
    response = client.call(method, url(call, path, world), call.body(world))
    if role == "anonymous":
        assert response.status_code == 401, response.status_code
    elif role in call.allowed:
        assert response.status_code < 400, (response.status_code, response.content[:300])
    else:
        assert response.status_code == 404, (response.status_code, response.content[:300])
        assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_a_session_works_like_a_token_and_unsafe_methods_need_csrf(world, method, path):
    """The browser's session (the docs page) has the same rights; without the CSRF token
    an unsafe call is refused before anything changes."""
    from django.test import Client

    call = MATRIX[(method, path)]
    call.prepare(world)
    role = sorted(call.allowed)[0]
    target = url(call, path, world)
    body = call.body(world)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world[role])
    send = getattr(strict, method.lower())
    kwargs = {"content_type": "application/json"} if body is not None else {}
    data = [json.dumps(body)] if body is not None else []
    response = send(target, *data, **kwargs)
    if method == "GET":
        assert response.status_code < 400, (response.status_code, response.content[:300])
        return
    assert response.status_code == 403, (response.status_code, response.content[:300])
    strict.get("/api/v1/docs")  # sets the CSRF cookie, as the docs page does
    token = strict.cookies["csrftoken"].value
    response = send(target, *data, HTTP_X_CSRFTOKEN=token, **kwargs)
    assert response.status_code < 400, (response.status_code, response.content[:300])
