"""The API object: authentication, the rate limit, the docs page and every error as JSON.

Errors are ``{"detail": "…"}`` or ``{"detail": [{"loc": […], "msg": "…", "type": "…"}]}``:
401 without credentials, 404 for anything missing or not allowed (the same answer for
both, as on the pages), 409 for a stale version or frozen work, 422 for a value that
does not parse or that a service refuses, 429 when a token's writes are used up.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from django.shortcuts import render
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError
from ninja.openapi.docs import DocsBase

from ..permissions import NOT_FOUND
from ..services.base import ConflictError, ServiceError
from . import agreement, coding, documents, export, projects, review
from .auth import AUTH, WriteThrottle, audit_scope
from .schemas import OFFSETS

DESCRIPTION = f"""
The Framing API: the same projects, documents, spans, agreement runs, reviews and downloads
as the pages, with the same rules (what a role may see and change; in a blind project a
coder learns nothing of other coders).

**Authentication.** Make a personal token on your *API tokens* page (or with
`manage.py api_token USERNAME`) and send it as `Authorization: Bearer <token>` (only over
HTTPS in production). A logged-in browser session works too (unsafe methods then need the
`X-CSRFToken` header, which this page sends).

**Offsets.** {OFFSETS}

**Errors** are JSON `{{"detail": …}}`. Anything missing or not yours answers 404, alike.
A change of a span carries the version you read; a stale one answers 409 with the current
state. Writes with a token are limited per minute (429, with `Retry-After`).
"""


class Docs(DocsBase):
    """Swagger UI from the app's own static files (no CDN), with no inline script or
    style, so the page runs under the app's Content Security Policy."""

    def render_page(self, request, api, **kwargs):
        context = {"api": api, "openapi_url": self.get_openapi_url(api, kwargs)}
        return render(request, "api/docs.html", context)


class FramingAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__  # short ids for generated clients


api = FramingAPI(
    title="Framing API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=AUTH,
    throttle=[WriteThrottle()],
    docs=Docs(),
)
api.add_decorator(audit_scope, mode="view")


def _error(request, status: int, detail):
    return api.create_response(request, {"detail": detail}, status=status)


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, NOT_FOUND)


@api.exception_handler(ServiceError)
def refused(request, exc):
    return _error(request, 409 if isinstance(exc, ConflictError) else 422, str(exc))


@api.exception_handler(HttpError)
def http_error(request, exc):
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(SuspiciousOperation)
def suspicious(request, exc):
    if isinstance(exc, RequestDataTooBig):
        return _error(request, 413, "The request is larger than the upload limit.")
    return _error(request, 400, "The request could not be read.")


def _location(loc) -> list[str | int]:
    parts = [part if isinstance(part, int) else str(part) for part in loc]
    if parts[:2] == ["body", "payload"]:
        del parts[1]  # the view's parameter name, not a part of the request
    return parts


@api.exception_handler(ValidationError)
def invalid(request, exc):
    errors = [
        {
            "loc": _location(error["loc"]),
            "msg": str(error.get("msg", "Invalid value.")),
            "type": str(error.get("type", "value_error")),
        }
        for error in exc.errors
    ]
    if errors and all(error["loc"][:1] == ["path"] for error in errors):
        # An id that cannot exist is as missing as one that does not.
        return _error(request, 404, NOT_FOUND)
    return _error(request, 422, errors)


for module in (projects, documents, coding, agreement, export, review):
    api.add_router("", module.router)
