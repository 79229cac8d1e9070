"""Login lockouts key on the real client, behind the documented proxy and without one.

Behind the README's nginx every request came from 127.0.0.1, so ten wrong passwords from
anyone locked the real user out. ``FRAMING_TRUSTED_PROXIES`` says how many proxies stand
in front; without it ``X-Forwarded-For`` is ignored (a client could write any address).
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PROXY = "127.0.0.1"


def attempt(client: Client, password: str, *, forwarded: str | None = None, remote=PROXY):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(reverse("login"), {"username": "coder_a", "password": password}, **headers)


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return 3


def test_behind_a_trusted_proxy_an_attacker_locks_only_their_own_address(study, settings, limit):
    settings.FRAMING_TRUSTED_PROXIES = 1
    attacker = Client()
    for _ in range(limit + 1):
        attempt(attacker, "wrong", forwarded="203.0.113.9")
    assert (
        attempt(attacker, "correct horse battery staple", forwarded="203.0.113.9").status_code
        == 429
    )
    real = Client()
    response = attempt(real, "correct horse battery staple", forwarded="198.51.100.7")
    assert response.status_code == 302  # the real user, from their own address, logs in


def test_a_forged_header_cannot_dodge_the_lockout_behind_one_proxy(study, settings, limit):
    """nginx appends the address it saw; the client's own entries come before it."""
    settings.FRAMING_TRUSTED_PROXIES = 1
    attacker = Client()
    for n in range(limit + 1):
        attempt(attacker, "wrong", forwarded=f"10.0.0.{n}, 203.0.113.9")
    response = attempt(attacker, "correct horse battery staple", forwarded="10.9.9.9, 203.0.113.9")
    assert response.status_code == 429


def test_without_the_setting_the_forwarded_header_is_ignored(study, settings, limit):
    settings.FRAMING_TRUSTED_PROXIES = 0
    attacker = Client()
    for n in range(limit + 1):
        # A client writing a new address each time must not escape the limit.
        attempt(attacker, "wrong", forwarded=f"203.0.113.{n}", remote="192.0.2.50")
    response = attempt(
        attacker, "correct horse battery staple", forwarded="198.51.100.7", remote="192.0.2.50"
    )
    assert response.status_code == 429
