"""The audit trail records every change with before and after, and managers can read it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import AuditEvent
from annotations.services import spans

pytestmark = pytest.mark.django_db


def test_every_change_to_a_span_is_recorded_with_before_and_after(study):
    text = study["document"].text
    span = spans.span_create(
        assignment=study["assignment_a"],
        code_id=study["codes"]["Sourcing"].pk,
        start=0,
        end=9,
        quote=text[:9],
        actor=study["coder_a"],
    )
    span = spans.span_update(
        span=span, expected_version=1, note="attribution", actor=study["coder_a"]
    )
    span = spans.span_delete(span=span, expected_version=2, actor=study["coder_a"])
    spans.span_restore(span=span, expected_version=3, actor=study["coder_a"])
    events = list(AuditEvent.objects.filter(object_type="span", object_id=span.pk).order_by("pk"))
    assert [e.action for e in events] == ["create", "change", "delete", "restore"]
    assert events[1].before["note"] == "" and events[1].after["note"] == "attribution"
    assert events[2].after["deleted"] is True and events[3].after["deleted"] is False
    assert all(e.actor == study["coder_a"] and e.document == study["document"] for e in events)


def test_managers_read_the_trail_filtered_by_document_and_person(client, study):
    text = study["document"].text
    spans.span_create(
        assignment=study["assignment_a"],
        code_id=study["codes"]["Sourcing"].pk,
        start=0,
        end=9,
        quote=text[:9],
        actor=study["coder_a"],
    )
    client.force_login(study["manager"])
    url = reverse("manage-audit", args=[study["project"].pk])
    page = client.get(url, {"user": study["coder_a"].pk, "document": study["document"].pk})
    html = page.content.decode()
    assert page.status_code == 200
    assert "create span" in html and "coder_a" in html
    other = client.get(url, {"user": study["coder_b"].pk}).content.decode()
    assert "create span" not in other
