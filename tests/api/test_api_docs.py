"""The OpenAPI document and the browsable docs: public, complete, served from the app's own
static files under its Content Security Policy."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_the_openapi_document_is_public_and_describes_offsets_and_errors(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "code points" in schema["info"]["description"]
    offsets = schema["components"]["schemas"]["SpanIn"]["properties"]["start"]
    assert "code points" in offsets["description"]
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert {"401", "404", "422"} <= set(operation["responses"]), (method, path)
            if method in ("post", "patch", "delete"):
                assert "429" in operation["responses"], (method, path)


def test_every_request_body_refuses_unknown_fields(client):
    schema = client.get("/api/v1/openapi.json").json()
    components = schema["components"]["schemas"]
    checked = 0
    for methods in schema["paths"].values():
        for operation in methods.values():
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            if body is None:
                continue
            ref = body.get("$ref") or body.get("allOf", [{}])[0].get("$ref")
            resolved = components[ref.rsplit("/", 1)[1]] if ref else body
            assert resolved.get("additionalProperties") is False, resolved.get("title")
            checked += 1
    assert checked >= 7


def test_the_docs_page_has_no_inline_script_or_style_and_uses_local_files(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    html = response.content.decode()
    assert "<style" not in html and " style=" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert finders.find(url.removeprefix("/static/")), url
    assert "//" not in "".join(re.findall(r'(?:src|href)="([^"]+)"', html)).replace("data:,", "")


def test_refusals_before_any_operation_runs_answer_json_too(client):
    assert client.get("/api/v1/projects").json() == {"detail": "Unauthorized"}
    nul = client.get("/api/v1/projects?x=%00")
    assert nul.status_code == 400 and "NUL" in nul.json()["detail"]
