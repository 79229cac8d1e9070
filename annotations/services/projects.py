"""Projects: the one place a project is created or its settings change.

A new project gets its codebook and, when someone created it, that person as manager,
in the same transaction.
"""

from __future__ import annotations

from django.db import transaction

from ..models import Project, Role, UnitKind
from . import codebook as codebooks
from . import people
from .base import ServiceError, actor_or_none, audit_record

PROJECT_FIELDS = (
    "name",
    "description",
    "blind",
    "feedback_to_coders",
    "agreement_unit",
    "coders_may_export",
    "snap_to_words",
)


def _checked_name(name: str, *, creator_id: int | None, exclude: Project | None = None) -> str:
    """A name unique among the creator's own projects: whether someone else chose the same
    name elsewhere is neither checked nor revealed."""
    name = name.strip()
    if not name:
        raise ServiceError("A project needs a name.")
    if len(name) > Project._meta.get_field("name").max_length:
        raise ServiceError("A project name has at most 200 characters.")
    clash = Project.objects.filter(name=name, created_by_id=creator_id)
    if exclude is not None:
        clash = clash.exclude(pk=exclude.pk)
    if clash.exists():
        raise ServiceError(f"You already have a project named “{name}”.")
    return name


def _checked_unit(unit: str) -> str:
    if unit not in UnitKind.values:
        raise ServiceError(f"Unknown agreement unit “{unit}”.")
    return unit


@transaction.atomic
def project_create(
    *,
    name: str,
    description: str = "",
    blind: bool = True,
    feedback_to_coders: bool = False,
    agreement_unit: str = UnitKind.TOKEN,
    coders_may_export: bool = True,
    snap_to_words: bool = True,
    actor=None,
) -> Project:
    """A new project with an empty codebook; its creator (if any) becomes its manager."""
    creator = actor_or_none(actor)
    project = Project.objects.create(
        name=_checked_name(name, creator_id=creator.pk if creator else None),
        created_by=creator,
        description=description.strip(),
        blind=bool(blind),
        feedback_to_coders=bool(feedback_to_coders),
        agreement_unit=_checked_unit(agreement_unit),
        coders_may_export=bool(coders_may_export),
    )
    codebooks.codebook_create(project=project)
    audit_record(
        actor=actor,
        action="create",
        obj=project,
        project=project,
        after={f: getattr(project, f) for f in PROJECT_FIELDS},
    )
    if actor is not None and actor.is_authenticated:
        people.membership_set(project=project, user=actor, role=Role.MANAGER, actor=actor)
    return project


@transaction.atomic
def project_update(
    *,
    project: Project,
    name: str,
    description: str,
    blind: bool,
    feedback_to_coders: bool,
    agreement_unit: str,
    coders_may_export: bool | None = None,
    snap_to_words: bool | None = None,
    actor,
) -> Project:
    project = Project.objects.select_for_update().get(pk=project.pk)
    before = {f: getattr(project, f) for f in PROJECT_FIELDS}
    project.name = _checked_name(name, creator_id=project.created_by_id, exclude=project)
    project.description = description.strip()
    project.blind = bool(blind)
    project.feedback_to_coders = bool(feedback_to_coders)
    project.agreement_unit = _checked_unit(agreement_unit)
    if coders_may_export is not None:
        project.coders_may_export = bool(coders_may_export)
    if snap_to_words is not None:
        project.snap_to_words = bool(snap_to_words)
    after = {f: getattr(project, f) for f in PROJECT_FIELDS}
    if after != before:
        project.save(update_fields=list(PROJECT_FIELDS))
        audit_record(
            actor=actor, action="change", obj=project, project=project, before=before, after=after
        )
    return project
