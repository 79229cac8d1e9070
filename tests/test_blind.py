"""Blind coding leaks nowhere: whatever coder A can open, full page or htmx fragment,
download or error message, holds nothing of coder B (name, notes, span ids, counts)."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse

from annotations.models import AssignmentStatus
from annotations.services import assignments, spans

from .test_authorization import MATRIX

pytestmark = pytest.mark.django_db

SECRET = "b-private-note-7731"


@pytest.fixture
def secret_b(world):
    text = world["document"].text
    secret = []
    for phrase in ("Critics called", "voluntary", "sham"):
        start = text.index(phrase)
        secret.append(
            spans.span_create(
                assignment=world["assignment_b"],
                code_id=world["code"].pk,
                start=start,
                end=start + len(phrase),
                quote=phrase,
                note=SECRET,
            )
        )
    assignments.assignment_set_status(
        assignment=world["assignment_b"], status=AssignmentStatus.DONE
    )
    return secret


def leaks(body: str, spans) -> list[str]:
    found = []
    if SECRET in body:
        found.append("B's note")
    if "coder_b" in body:
        found.append("B's user name")
    for span in spans:
        if f'data-span="{span.pk}"' in body or f"/spans/{span.pk}/" in body:
            found.append(f"B's span id {span.pk}")
    return found


def test_nothing_of_coder_b_reaches_coder_a(client, world, secret_b):
    client.force_login(world["coder_a"])
    checked = 0
    for name, route in MATRIX.items():
        if "coder_a" not in route.allowed or route.method != "GET":
            continue
        url = reverse(name, kwargs=route.kwargs(world)) + route.query(world)
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = client.get(url, **headers)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            if url.endswith(".zip"):
                with zipfile.ZipFile(io.BytesIO(body)) as bundle:
                    body = b"".join(bundle.read(n) for n in bundle.namelist())
            assert not leaks(body.decode("utf-8", "replace"), secret_b), (name, headers)
            checked += 1
    assert checked >= 12


def test_b_span_ids_give_a_the_same_answer_as_ids_that_do_not_exist(client, world, secret_b):
    client.force_login(world["coder_a"])
    missing = max(s.pk for s in secret_b) + 1000
    for name in ("span-update", "span-delete", "span-restore"):
        theirs = client.post(reverse(name, args=[secret_b[0].pk]), {"version": 1})
        nobody = client.post(reverse(name, args=[missing]), {"version": 1})
        assert theirs.status_code == nobody.status_code == 404
        assert theirs.content == nobody.content


def test_the_admin_shows_nothing_to_non_staff_coders(client, world, secret_b):
    client.force_login(world["coder_a"])
    response = client.get("/admin/annotations/span/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
