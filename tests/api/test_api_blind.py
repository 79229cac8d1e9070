"""Blind coding leaks nowhere in the API: whatever coder A can call (every operation of
the authorization matrix, every download file, every error) holds nothing of coder B:
no name, pseudonym, note, span id or count."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from annotations.models import Span

from ..test_blind import SECRET, secret_b  # noqa: F401 (a fixture)
from .test_api_authorization import MATRIX, PREFIX, url

pytestmark = pytest.mark.django_db


def body_text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as bundle:
            body = b"".join(bundle.read(name) for name in bundle.namelist())
    return body.decode("utf-8", "replace")


def span_ids(value) -> set[int]:
    """Ids of every span-like object (one with a quote) in a JSON answer."""
    found = set()
    if isinstance(value, dict):
        if "quote" in value and isinstance(value.get("id"), int):
            found.add(value["id"])
        for item in value.values():
            found |= span_ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= span_ids(item)
    return found


def leaks(text: str, theirs: set[int]) -> list[str]:
    found = [
        what
        for what, needle in (
            ("B's note", SECRET),
            ("B's user name", "coder_b"),
            ("a pseudonym", "Coder B"),
            ("a pseudonym", "Coder A"),
        )
        if needle in text
    ]
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if data is not None and span_ids(data) & theirs:
        found.append("B's span ids")
    return found


def test_nothing_of_coder_b_reaches_coder_a_through_any_api_call(api_as, world, secret_b):  # noqa: F811
    api = api_as("coder_a")
    theirs = {span.pk for span in secret_b}
    calls = [
        (method, url(call, path, world))
        for (method, path), call in MATRIX.items()
        if method == "GET" and "coder_a" in call.allowed
    ]
    calls += [
        ("GET", f"{PREFIX}/projects/{world['project'].pk}/export/{name}{query}")
        for name in ("spans.csv", "spans.jsonl", "bundle.zip")
        for query in ("", "?layer=all&names=true", "?layer=gold", "?documents=done")
    ]
    calls.append(("GET", f"{PREFIX}/projects/{world['project'].pk}/documents?include_text=1"))
    checked = 0
    for method, target in calls:
        response = api.call(method, target)
        assert response.status_code == 200, (target, response.status_code)
        assert not leaks(body_text(response), theirs), target
        checked += 1
    assert checked >= 20
    # A's own spans are all A gets.
    listed = api.get(f"documents/{world['document'].pk}/spans").json()
    assert {s["id"] for s in listed} == {world["span_a"].pk}


def test_b_ids_answer_a_exactly_like_ids_that_do_not_exist(api_as, world, secret_b):  # noqa: F811
    api = api_as("coder_a")
    missing = max(Span.objects.values_list("pk", flat=True)) + 1000
    theirs = secret_b[0].pk
    b_assignment = world["assignment_b"].pk
    pairs = [
        ("PATCH", f"spans/{theirs}", f"spans/{missing}", {"version": 1, "note": "x"}),
        ("DELETE", f"spans/{theirs}?version=1", f"spans/{missing}?version=1", None),
        (
            "POST",
            f"assignments/{b_assignment}/status",
            f"assignments/{missing}/status",
            {"status": "in_progress"},
        ),
        ("GET", f"agreement-runs/{world['run'].pk}", f"agreement-runs/{missing}", None),
        ("GET", f"documents/{world['document'].pk}/review", f"documents/{missing}/review", None),
    ]
    before = Span.objects.filter(pk=theirs).values().get()
    for method, theirs_url, missing_url, body in pairs:
        one = api.call(method, theirs_url, body)
        other = api.call(method, missing_url, body)
        assert one.status_code == other.status_code == 404, (theirs_url, one.status_code)
        assert one.content == other.content
    assert Span.objects.filter(pk=theirs).values().get() == before


def test_b_labels_are_unknown_layers_to_a_as_are_made_up_ones(api_as, world, secret_b):  # noqa: F811
    api = api_as("coder_a")
    base = f"projects/{world['project'].pk}/export/spans.csv?layer="
    answers = {
        label: api.get(base + label) for label in ("Coder B", "coder_b", "Coder C", "Nobody")
    }
    assert {r.status_code for r in answers.values()} == {422}
    bodies = {label: r.json()["detail"].replace(label, "…") for label, r in answers.items()}
    assert len(set(bodies.values())) == 1, bodies
