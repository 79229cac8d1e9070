"""Who is calling: a personal token (``Authorization: Bearer …``) or the browser's session
(with CSRF on unsafe methods, for the docs page), the write rate limit per token, and the
audit source every change of the request is recorded with."""

from __future__ import annotations

import functools
import time

from django.conf import settings
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer, SessionAuth
from ninja.throttling import BaseThrottle

from ..services import tokens
from ..services.base import AuditSource, audit_source

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HTTPS_ONLY = (
    "API tokens are accepted only over HTTPS: this one was sent in clear text, so revoke it "
    "on your tokens page and make a new one."
)


class TokenAuth(HttpBearer):
    """A personal API token (see ``/account/tokens/`` or ``manage.py api_token``)."""

    def authenticate(self, request, token: str):
        if not settings.DEBUG and not request.is_secure():
            raise HttpError(403, HTTPS_ONLY)
        found = tokens.api_token_authenticate(token)
        if found is None:
            # Refused outright, not passed on to the session: a script whose token was
            # revoked must fail, whatever cookies its client also holds.
            raise AuthenticationError()
        request.user = found.user
        request.api_token = found
        audit_source.set(AuditSource(via="api", token_id=found.pk))
        return found.user


class BrowserSession(SessionAuth):
    """The logged-in browser session, e.g. on the docs page; unsafe methods need CSRF."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is not None:
            audit_source.set(AuditSource(via="api"))
        return user


AUTH = [TokenAuth(), BrowserSession()]


class WriteThrottle(BaseThrottle):
    """At most ``FRAMING_API_WRITES_PER_MINUTE`` writes per token and minute (429 beyond).

    Counted in the database, so every web worker on every machine shares one count. A
    browser session writes at the pace of a person and is not limited here."""

    def allow_request(self, request) -> bool:
        token = getattr(request, "api_token", None)
        if request.method not in WRITES or token is None:
            return True
        return tokens.api_write_allowed(
            token=token, per_minute=settings.FRAMING_API_WRITES_PER_MINUTE
        )

    def wait(self) -> float:
        return 60 - time.time() % 60  # until the next minute's count starts


def audit_scope(run):
    """Every operation runs in a fresh audit source, which authentication sets and which
    ends with the request (view mode: around authentication and the view)."""

    @functools.wraps(run)
    def wrapper(*args, **kwargs):
        marker = audit_source.set(None)
        try:
            return run(*args, **kwargs)
        finally:
            audit_source.reset(marker)

    return wrapper
