"""When the database fails mid-request, people get a 503 that says nothing was saved."""

from __future__ import annotations

import pytest
from django.db import InternalError, OperationalError
from django.urls import reverse

from annotations.models import Span
from annotations.services import spans as core

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("server closed the connection unexpectedly"),
        InternalError("cannot execute INSERT in a read-only transaction"),
    ],
)
def test_a_database_failure_answers_503_retry_later_and_stores_nothing(
    client, study, monkeypatch, error
):
    def failing(**kwargs):
        raise error

    monkeypatch.setattr(core.Span, "save", lambda self, *a, **k: failing())
    client.raise_request_exception = False
    client.force_login(study["coder_a"])
    response = client.post(
        reverse("span-create", args=[study["document"].pk]),
        {"start": 0, "end": 9, "quote": "Officials", "code": study["codes"]["Sourcing"].pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "nothing was saved" in response.content.decode()
    assert not Span.objects.exists()


def test_other_errors_still_surface_as_server_errors(client, study, monkeypatch):
    monkeypatch.setattr(core.Span, "save", lambda self, *a, **k: 1 / 0)
    client.raise_request_exception = False
    client.force_login(study["coder_a"])
    response = client.post(
        reverse("span-create", args=[study["document"].pk]),
        {"start": 0, "end": 9, "quote": "Officials", "code": study["codes"]["Sourcing"].pk},
    )
    assert response.status_code == 500
