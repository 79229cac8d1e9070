"""What the management commands share: finding a project by name or id."""

from __future__ import annotations

from django.core.management.base import CommandError

from ..models import Project


def find_project(name_or_id: str) -> Project:
    """The project of that name, or of that id; names are unique per creator only, so a
    name two projects share is refused with their ids."""
    named = list(Project.objects.filter(name=name_or_id).order_by("pk")[:10])
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        ids = ", ".join(str(p.pk) for p in named)
        raise CommandError(f"Several projects are named “{name_or_id}” (ids {ids}); give the id.")
    if name_or_id.isascii() and name_or_id.isdigit() and len(name_or_id) < 19:
        project = Project.objects.filter(pk=int(name_or_id)).first()
        if project is not None:
            return project
    raise CommandError(f"No project named or numbered “{name_or_id}”.")
