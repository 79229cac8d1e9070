"""Formatting filters for templates (formatting only: no queries, no decisions)."""

from __future__ import annotations

from django import template

from ..domain.rendering import quoted as _quoted

register = template.Library()


@register.filter
def quoted(text: str) -> str:
    """The text in quotation marks, unless it holds quote marks of its own."""
    return _quoted(str(text))
