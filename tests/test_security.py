"""Headers, CSRF, login rate limiting, and templates that keep to the CSP and escaping rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from annotations.models import Span

pytestmark = pytest.mark.django_db

TEMPLATES = sorted((Path(settings.BASE_DIR) / "templates").rglob("*.html"))


def test_pages_carry_a_strict_content_security_policy_and_framing_protection(client, study):
    client.force_login(study["coder_a"])
    response = client.get(reverse("annotate", args=[study["document"].pk]))
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_posts_without_a_csrf_token_are_refused_and_htmx_header_tokens_accepted(study):
    client = Client(enforce_csrf_checks=True)
    client.force_login(study["coder_a"])
    page = client.get(reverse("annotate", args=[study["document"].pk]))
    token = page.cookies["csrftoken"].value
    url = reverse("span-create", args=[study["document"].pk])
    data = {"start": 0, "end": 9, "quote": "Officials", "code": study["codes"]["Sourcing"].pk}
    assert client.post(url, data).status_code == 403
    assert not Span.objects.exists()
    response = client.post(url, data, HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert Span.objects.count() == 1


def test_repeated_failed_logins_lock_the_account_even_for_the_right_password(study, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    url = reverse("login")
    for _ in range(3):
        client.post(url, {"username": "coder_a", "password": "wrong"})
    response = client.post(url, {"username": "coder_a", "password": "correct horse battery staple"})
    assert response.status_code in (403, 429)
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_templates_have_no_inline_script_or_style_and_never_mark_text_safe(path):
    source = path.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source), "inline <script>"
    assert "<style" not in source, "inline <style>"
    assert not re.search(r"\sstyle=", source), "style attribute"
    assert "hx-on" not in source, "hx-on needs eval"
    assert "|safe" not in source and "autoescape off" not in source, "unescaped output"
    assert '"js:' not in source and "'js:" not in source, "hx-vals js: needs eval"
