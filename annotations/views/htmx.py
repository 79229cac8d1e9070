"""The one "page or fragment" helper: htmx requests get the named partial, others the page.

The view chooses the partial, never the client (a client-chosen partial could skip
checks a page makes), and every response varies on ``HX-Request`` so a cache never hands
a fragment to a full page load.

Feedback ("Saved.", an error, Undo) has one place on every page: the region fixed to the
viewport that ``base.html`` draws outside any swapped element. A full page fills it from
the context; a fragment carries it out of band (``hx-swap-oob="innerHTML"``, so the live
regions themselves stay in the page and screen readers announce the new text). Every
action (any request but a GET) replaces what it showed, so Undo stays until the next
action; a GET (a poll, a window of rows) changes it only when it has something to say.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe

FEEDBACK = "annotations/_feedback.html"
SAFE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Undo:
    """An Undo button for the feedback region: where it posts, with what, which element
    the answer replaces."""

    url: str
    values: dict
    target: str

    @property
    def json(self) -> str:
        """The values for ``hx-vals='…'``: names and values of word characters only, so
        the JSON needs no escaping inside a single-quoted attribute."""
        for item in (*self.values, *self.values.values()):
            if not SAFE.fullmatch(str(item)):
                raise ValueError(f"Undo value {item!r} is not a plain word.")
        return mark_safe(json.dumps(self.values))  # noqa: S308 (checked just above)


def is_fragment(request) -> bool:
    """An htmx request that wants a fragment (a history restore wants the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def render(request, template: str, context: dict, *, partial: str = "", status: int = 200):
    fragment = bool(partial) and is_fragment(request)
    name = f"{template}#{partial}" if fragment else template
    response = TemplateResponse(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    if fragment and (request.method != "GET" or context.get("message") or context.get("error")):
        response.add_post_render_callback(
            lambda rendered: _append_feedback(request, rendered, context)
        )
    return response


def _append_feedback(request, response, context: dict) -> None:
    region = render_to_string(FEEDBACK, {**context, "oob": True}, request=request)
    response.content = response.content + region.encode(response.charset)
