"""Schemathesis against the API's own OpenAPI document, fetched from the running app (WSGI,
in this process, so it sees the test database): for every operation it generates valid and
invalid requests and finds no server error and no response that breaks its own schema
(status code, content type, headers and body).

Path ids are swapped for the world's real ones in half of the cases, so generated bodies
and queries reach the services instead of stopping at 404. Each case runs in a savepoint
rolled back afterwards, so every case starts from the same world. Bounded: a few cases
per operation (``SCHEMATHESIS_EXAMPLES`` raises it for a longer local run).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from annotations.forms import MAX_ID
from framing.wsgi import application

from .test_api_authorization import MATRIX, PREFIX

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,  # a request outside the schema is refused with a 4xx
]


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Requests sent straight to the WSGI app end by closing "old" database connections,
    which would close the test's own (and its transaction); Django's test client avoids
    it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# Fetched from the app itself when the tests are collected (no database is needed for it).
# (schemathesis.pytest.from_fixture, the lazy loader, does not work with pytest 9.)
schema = schemathesis.openapi.from_wsgi(f"{PREFIX}/openapi.json", application)


def caller(operation) -> str:
    """Someone allowed to make the call, so it reaches the service: a manager if they may."""
    allowed = MATRIX[(operation.method.upper(), operation.path.removeprefix(PREFIX))].allowed
    return next(role for role in ("manager", "reviewer", "coder_a") if role in allowed)


def real_ids(world) -> dict:
    return {
        "project_id": world["project"].pk,
        "document_id": world["document"].pk,
        "span_id": world["span_a"].pk,
        "assignment_id": world["assignment_a"].pk,
        "run_id": world["run"].pk,
    }


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_no_response_outside_the_schema(case, world, api_tokens, settings):
    settings.FRAMING_API_WRITES_PER_MINUTE = 0  # the limit is tested on its own
    token = api_tokens[caller(case.operation)]
    ids = real_ids(world)
    for name, value in list((case.path_parameters or {}).items()):
        # Only ids the schema allows: an invalid one must stay, and be refused.
        if name in ids and isinstance(value, int) and 1 <= value <= MAX_ID and value % 2 == 0:
            case.path_parameters[name] = ids[name]
    with transaction.atomic():
        case.call_and_validate(
            base_url="https://localhost",
            headers={"Authorization": f"Bearer {token}"},
            checks=CHECKS,
        )
        transaction.set_rollback(True)
