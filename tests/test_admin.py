"""The Django admin cannot change a project's data behind the services' backs.

Every write must go through a service, which checks it, records an audit event and bumps
versions; the admin does none of that, so it shows the app's models read-only.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from annotations.models import AuditEvent, Span

pytestmark = pytest.mark.django_db

APP_MODELS = list(apps.get_app_config("annotations").get_models())


def test_every_model_of_the_app_is_registered_and_read_only(make_user):
    superuser = make_user("root", is_staff=True, is_superuser=True)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    registered = {model: site for model, site in admin.site._registry.items()}
    for model in APP_MODELS:
        assert model in registered, f"{model.__name__} has no admin (so it cannot be audited)"
        model_admin = registered[model]
        assert not model_admin.has_add_permission(request), model.__name__
        assert not model_admin.has_change_permission(request), model.__name__
        assert not model_admin.has_delete_permission(request), model.__name__
        assert not model_admin.get_actions(request), model.__name__


def test_a_superuser_posting_to_the_admin_changes_nothing(client, world, make_user):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    span = world["span_a"]
    events = AuditEvent.objects.count()
    url = reverse("admin:annotations_span_change", args=[span.pk])
    assert client.get(url).status_code == 200  # shown, read-only
    response = client.post(url, {"note": "changed behind the services", "start": 1, "end": 3})
    assert response.status_code == 403
    delete = reverse("admin:annotations_span_delete", args=[span.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    add = reverse("admin:annotations_membership_add")
    assert (
        client.post(add, {"project": world["project"].pk, "user": 1, "role": "manager"}).status_code
        == 403
    )
    span.refresh_from_db()
    assert (span.note, span.start, span.version, span.deleted_at) == ("", 0, 1, None)
    assert Span.objects.count() == 1 and AuditEvent.objects.count() == events
