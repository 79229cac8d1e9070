"""Template context every page gets: what the header may offer the user."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from .permissions import site_rights


def site(request) -> dict:
    # Lazy: pages that never show the header (downloads, fragments) pay no query.
    return {"site": SimpleLazyObject(lambda: site_rights(request.user))}
