"""Personal API tokens: made on one's own page or by the command, shown once, stored as a
hash, revoked at once, refused over plain HTTP in production, and limited in writes."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotations.models import ApiToken, AuditEvent
from annotations.services import tokens

from .conftest import Api

pytestmark = pytest.mark.django_db


def test_a_token_made_on_my_page_is_shown_once_and_stored_only_as_a_hash(client, world):
    client.force_login(world["coder_a"])
    page = client.post(reverse("api-tokens"), {"name": "laptop"})
    assert page.status_code == 200 and page["Cache-Control"] == "private, no-store"
    token = ApiToken.objects.get(user=world["coder_a"])
    secret = page.context["secret"]
    assert secret.startswith("frm_") and secret in page.content.decode()
    assert token.token_hash == tokens.token_hash(secret) and secret not in str(token.__dict__)
    listing = client.get(reverse("api-tokens")).content.decode()
    assert "laptop" in listing and token.prefix in listing and secret not in listing
    assert AuditEvent.objects.filter(object_type="apitoken", action="create").exists()


def test_the_header_links_to_the_tokens_page(client, world):
    client.force_login(world["coder_a"])
    assert reverse("api-tokens") in client.get(reverse("api-tokens")).content.decode()


def test_a_token_needs_a_name(client, world):
    client.force_login(world["coder_a"])
    assert client.post(reverse("api-tokens"), {"name": "  "}).status_code == 422
    assert not ApiToken.objects.exists()


def test_a_revoked_token_stops_working_at_once(client, api_as, api_tokens, world):
    api = api_as("coder_a")
    assert api.get("projects").status_code == 200
    token = ApiToken.objects.get(token_hash=tokens.token_hash(api_tokens["coder_a"]))
    assert token.last_used_at is not None
    client.force_login(world["coder_a"])
    response = client.post(reverse("api-token-revoke", args=[token.pk]))
    assert response.status_code == 302
    assert api.get("projects").status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None  # kept: audit events still name it


def test_nobody_revokes_another_persons_token(client, api_tokens, world):
    token = ApiToken.objects.get(user=world["coder_b"])
    client.force_login(world["coder_a"])
    assert client.post(reverse("api-token-revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_wrong_or_malformed_token_is_401(client, world):
    for header in ("Bearer frm_wrong", "Bearer ", "Bearer " + "x" * 5000, "Basic abc", "frm_x"):
        response = client.get("/api/v1/projects", HTTP_AUTHORIZATION=header, secure=True)
        assert response.status_code == 401, header
        assert response.json() == {"detail": "Unauthorized"}


def test_an_inactive_account_s_token_is_refused(api_as, world):
    world["coder_a"].is_active = False
    world["coder_a"].save()
    assert api_as("coder_a").get("projects").status_code == 401


def test_tokens_are_refused_over_plain_http_in_production(client, api_tokens, settings):
    settings.DEBUG = False
    header = {"HTTP_AUTHORIZATION": f"Bearer {api_tokens['coder_a']}"}
    plain = client.get("/api/v1/projects", **header)
    assert plain.status_code == 403 and "HTTPS" in plain.json()["detail"]
    assert client.get("/api/v1/projects", secure=True, **header).status_code == 200
    settings.DEBUG = True  # `make run` on one machine: plain HTTP on 127.0.0.1
    assert client.get("/api/v1/projects", **header).status_code == 200


def test_the_command_prints_the_token_alone_on_its_last_line(client, world):
    out = io.StringIO()
    call_command("api_token", "manager", "--name", "notebook", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    assert secret.startswith("frm_") and " " not in secret
    token = ApiToken.objects.get(user=world["manager"])
    assert token.name == "notebook" and token.token_hash == tokens.token_hash(secret)
    response = Api(client, secret).get("projects")
    assert response.status_code == 200 and response.json()[0]["role"] == "manager"


def test_the_command_refuses_an_unknown_account():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("api_token", "nobody", stdout=io.StringIO())


def test_writes_beyond_the_limit_get_429_and_change_nothing(api_as, api_tokens, world, settings):
    settings.FRAMING_API_WRITES_PER_MINUTE = 3
    api = api_as("coder_a")
    path = f"spans/{world['span_a'].pk}"
    answers = [api.patch(path, {"version": v, "note": f"n{v}"}) for v in (1, 2, 3, 4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1]["Retry-After"]) >= 1 and answers[-1].json()["detail"]
    world["span_a"].refresh_from_db()
    assert world["span_a"].note == "n3"
    assert api.get("projects").status_code == 200  # reads are not limited
    other = api_as("coder_b")  # every token has its own count
    path = f"assignments/{world['assignment_b'].pk}/status"
    assert other.post(path, {"status": "in_progress"}).status_code == 200


def test_the_count_is_shared_through_the_database(api_tokens, world):
    """Every web worker reads and writes the same row, so the limit holds across them."""
    token = ApiToken.objects.get(user=world["coder_a"])
    first = [tokens.api_write_allowed(token=token, per_minute=2) for _ in range(3)]
    other_worker_copy = ApiToken.objects.get(pk=token.pk)
    assert first == [True, True, False]
    assert tokens.api_write_allowed(token=other_worker_copy, per_minute=2) is False
    ApiToken.objects.filter(pk=token.pk).update(window=1)  # a minute long past
    assert tokens.api_write_allowed(token=other_worker_copy, per_minute=2) is True
