"""Hostile input: random Unicode, bad offsets, other projects' codes, oversized bodies.

Each gets a clear refusal and leaves the database exactly as it was; whatever is accepted
is stored exactly (quote equals the text slice, text equals the normalised input).
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotations.domain.textio import normalise_text
from annotations.models import AuditEvent, Document, Span
from annotations.services import base, imports, spans

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any code point, including NUL, lone surrogates, RTL marks and line separators.
ANY_TEXT = st.text(alphabet=st.characters(codec=None, min_codepoint=0), max_size=300)
OFFSET = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.none(),
)


def state() -> tuple:
    return (
        Document.objects.count(),
        Span.objects.count(),
        AuditEvent.objects.count(),
        list(Span.objects.order_by("pk").values_list("pk", "version", "deleted_at")),
    )


def rolled_back(func):
    """Run one Hypothesis example in a transaction that is always undone."""
    with transaction.atomic():
        func()
        transaction.set_rollback(True)


@HYPOTHESIS
@given(raw=st.binary(max_size=400), ext=st.sampled_from([".txt", ".csv", ".jsonl", ".md"]))
def test_import_of_random_bytes_stores_exact_text_or_nothing(study, raw, ext):
    project = study["project"]
    before = state()

    def example():
        outcome = imports.documents_import(project=project, files=[("f" + ext, raw)])
        if not outcome.ok:
            assert all(str(problem) for problem in outcome.problems)
            assert state() == before
            return
        for document in outcome.created:
            stored = Document.objects.get(pk=document.pk).text
            assert "\x00" not in stored
            assert stored == normalise_text(stored)
            stored.encode("utf-8")  # no lone surrogates
        if ext == ".txt" and outcome.created:
            assert outcome.created[0].text == normalise_text(raw.decode("utf-8"))

    rolled_back(example)


@HYPOTHESIS
@given(text=ANY_TEXT)
def test_import_of_random_unicode_text_files(study, text):
    project = study["project"]
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")  # invalid UTF-8 on purpose
    before = state()

    def example():
        outcome = imports.documents_import(project=project, files=[("a.txt", data)])
        if outcome.ok and outcome.created:
            assert Document.objects.get(pk=outcome.created[0].pk).text == normalise_text(text)
        else:
            assert state() == before

    rolled_back(example)


@HYPOTHESIS
@given(start=OFFSET, end=OFFSET, quote=st.one_of(ANY_TEXT, st.none()), code=OFFSET)
def test_span_service_refuses_bad_offsets_quotes_and_codes(study, start, end, quote, code):
    assignment = study["assignment_a"]
    text = study["document"].text
    before = state()

    def example():
        try:
            span = spans.span_create(
                assignment=assignment, code_id=code, start=start, end=end, quote=quote
            )
        except base.ServiceError as error:
            assert str(error)
            assert state() == before
            return
        assert text[span.start : span.end] == span.quote
        assert span.code.codebook.project_id == study["project"].pk

    rolled_back(example)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"start": -1, "end": 4, "quote": "Offi"}, "must not be negative"),
        ({"start": 5, "end": 2, "quote": ""}, "empty or reversed"),
        ({"start": 0, "end": 10_000, "quote": "x"}, "after the end of the text"),
        ({"start": "1.5", "end": 4, "quote": "ffi"}, "whole number"),
        ({"start": 0, "end": 9, "quote": "Officials said"}, "does not match"),
        ({"start": 9, "end": 10, "quote": " "}, "Only whitespace"),
    ],
)
def test_span_endpoint_answers_422_with_the_reason_and_changes_nothing(
    client, study, data, message
):
    client.force_login(study["coder_a"])
    before = state()
    url = reverse("span-create", args=[study["document"].pk])
    response = client.post(
        url, {**data, "code": study["codes"]["Sourcing"].pk}, HTTP_HX_REQUEST="1"
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert state() == before


def test_a_code_of_another_project_is_refused(client, study, make_project):
    other_code = make_project("Elsewhere").codebook.codes.first()
    client.force_login(study["coder_a"])
    before = state()
    response = client.post(
        reverse("span-create", args=[study["document"].pk]),
        {"start": 0, "end": 9, "quote": "Officials", "code": other_code.pk},
    )
    assert response.status_code == 422 and "Unknown code" in response.content.decode()
    assert state() == before


@pytest.mark.parametrize("field", ["note", "quote", "code", "start"])
def test_nul_characters_are_refused_before_any_view_runs(client, study, field):
    client.force_login(study["coder_a"])
    before = state()
    data = {"start": 0, "end": 9, "quote": "Officials", "note": "", "code": 1}
    data["code"] = study["codes"]["Sourcing"].pk
    data[field] = f"{data[field]}\x00"
    response = client.post(reverse("span-create", args=[study["document"].pk]), data)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert state() == before


def test_an_oversized_body_is_refused_and_changes_nothing(client, study, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(study["coder_a"])
    before = state()
    response = client.post(
        reverse("span-create", args=[study["document"].pk]),
        {"start": 0, "end": 9, "quote": "Officials", "code": 1, "note": "x" * 5000},
    )
    assert response.status_code == 400
    assert state() == before


def test_invalid_utf8_in_a_form_body_is_refused_by_the_quote_check(client, study):
    client.force_login(study["coder_a"])
    before = state()
    body = f"start=0&end=9&code={study['codes']['Sourcing'].pk}&quote=Offi%FF%FEals"
    response = client.post(
        reverse("span-create", args=[study["document"].pk]),
        body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 422
    assert state() == before
