"""The one "page or fragment" helper: htmx requests get the named partial, others the page.

The view chooses the partial, never the client (a client-chosen partial could skip
checks a page makes), and every response varies on ``HX-Request`` so a cache never hands
a fragment to a full page load.
"""

from __future__ import annotations

from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers


def is_fragment(request) -> bool:
    """An htmx request that wants a fragment (a history restore wants the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def render(request, template: str, context: dict, *, partial: str = "", status: int = 200):
    name = f"{template}#{partial}" if partial and is_fragment(request) else template
    response = TemplateResponse(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
