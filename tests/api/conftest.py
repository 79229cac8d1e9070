"""Fixtures for the API tests: a token for each person of the world, and a JSON client."""

from __future__ import annotations

import json

import pytest

from annotations.services import tokens

PEOPLE = ("outsider", "coder_a", "coder_b", "reviewer", "manager")


@pytest.fixture
def api_tokens(world):
    """A personal token for each person of the ``world`` fixture."""
    return {name: tokens.api_token_create(user=world[name], name="tests")[1] for name in PEOPLE}


class Api:
    """Django's test client speaking JSON with a bearer token (or none), over HTTPS (tests
    run with DEBUG off, where tokens sent in clear text are refused)."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        self.headers["secure"] = True

    def call(self, method: str, path: str, body=None, **extra):
        send = getattr(self.client, method.lower())
        url = path if path.startswith("/") else f"/api/v1/{path}"
        if body is None:
            return send(url, **self.headers, **extra)
        return send(url, json.dumps(body), content_type="application/json", **self.headers, **extra)

    def get(self, path, **extra):
        return self.call("GET", path, **extra)

    def post(self, path, body=None, **extra):
        return self.call("POST", path, body if body is not None else {}, **extra)

    def patch(self, path, body, **extra):
        return self.call("PATCH", path, body, **extra)

    def delete(self, path, **extra):
        return self.call("DELETE", path, **extra)


@pytest.fixture
def api_as(client, api_tokens):
    """``api_as("coder_a")``: a JSON client with that person's token; None: no token."""

    def make(name: str | None) -> Api:
        return Api(client, api_tokens[name] if name else None)

    return make
