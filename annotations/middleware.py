"""Refuse request parameters containing NUL before they reach a view.

PostgreSQL cannot store NUL in text and raises an error mid-transaction, while SQLite
stores it silently: without this, a note or a project name with NUL in it would pass the
tests on SQLite and fail in production with a server error.
"""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError


def _has_nul(querydict) -> bool:
    return any(
        "\x00" in key or any("\x00" in v for v in values) for key, values in querydict.lists()
    )


NUL_MESSAGE = "The request contains a NUL character, which cannot be stored."


def _refused(request):
    if request.path.startswith("/api/"):  # the JSON API answers every error in JSON
        return JsonResponse({"detail": NUL_MESSAGE}, status=400)
    return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or _has_nul(request.GET):
            return _refused(request)
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            try:
                files = [f.name for f in request.FILES.values()] if request.FILES else []
            except MultiPartParserError:
                if not request.path.startswith("/api/"):
                    raise  # Django answers 400
                return JsonResponse({"detail": "The multipart body could not be read."}, status=400)
            if _has_nul(request.POST) or any("\x00" in (name or "") for name in files):
                return _refused(request)
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """Answer 503 with a message a person can act on when the database is down or read-only.

    Every write runs in one transaction, so when the database fails mid-request nothing
    was stored; saying so (and that trying again is safe) is better than a bare 500.
    """

    MESSAGE = (
        "The database is not available at the moment, so nothing was saved. "
        "Please try again in a few seconds."
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import InterfaceError, InternalError, OperationalError

        read_only = isinstance(exception, InternalError) and "read-only" in str(exception)
        if not isinstance(exception, OperationalError | InterfaceError) and not read_only:
            return None
        response = HttpResponse(self.MESSAGE, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "5"
        return response


class InputErrorMiddleware:
    """Answer 422 with the message when a request parameter does not parse.

    Views parse their input at the edge (``annotations.forms``) and most answer a refusal
    on their own page; this is the floor under them, so hostile input can never surface
    as a server error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from .forms import InputError

        if not isinstance(exception, InputError):
            return None
        return HttpResponse(f"{exception}\n", status=422, content_type="text/plain; charset=utf-8")
