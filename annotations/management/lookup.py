"""What the management commands share: finding a project by name or id."""

from __future__ import annotations

from django.core.management.base import CommandError

from ..models import Project


def find_project(name_or_id: str) -> Project:
    project = Project.objects.filter(name=name_or_id).first()
    if project is None and name_or_id.isdigit() and len(name_or_id) < 19:
        project = Project.objects.filter(pk=int(name_or_id)).first()
    if project is None:
        raise CommandError(f"No project named or numbered “{name_or_id}”.")
    return project
