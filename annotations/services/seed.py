"""Loading the seed corpus and default codebook shipped in ``fixtures/``, and giving the
administrator the seed project to manage.

Idempotent: running it again finds the project, codes and documents already there and
stores nothing twice. Every write goes through the entity services.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from ..domain.textio import normalise_text, sha256_text
from ..models import Document, Membership, Project, Role
from . import codebook, documents, imports, people, projects
from .base import ServiceError

SEED_DIR = Path(settings.BASE_DIR) / "fixtures"


@dataclass
class SeedOutcome:
    project: Project
    documents_created: int
    codes_created: int


def _spec(seed_dir: Path) -> dict:
    return json.loads((seed_dir / "seed.json").read_text(encoding="utf-8"))


@transaction.atomic
def load_seed(*, seed_dir: Path = SEED_DIR, actor=None) -> SeedOutcome:
    spec = _spec(seed_dir)
    project_spec = spec["project"]
    # The seed project is the system's own (no creator): a user's project of the same name
    # is another project.
    project = Project.objects.filter(name=project_spec["name"], created_by__isnull=True).first()
    if project is None:
        project = projects.project_create(
            name=project_spec["name"],
            description=project_spec["description"],
            blind=project_spec["blind"],
            actor=actor,
        )
    existing_codes = set(project.codebook.codes.values_list("name", flat=True))
    codes_created = 0
    for order, code in enumerate(spec["codes"]):
        if code["name"] in existing_codes:
            continue
        codebook.code_create(codebook=project.codebook, order=order, actor=actor, **code)
        codes_created += 1
    documents_created = 0
    for doc in spec["documents"]:
        data = (seed_dir / doc["file"]).read_bytes()
        digest = sha256_text(normalise_text(data.decode("utf-8")))
        if Document.objects.filter(project=project, sha256=digest).exists():
            continue
        outcome = imports.documents_import(
            project=project, files=[(Path(doc["file"]).name, data)], actor=actor
        )
        if not outcome.ok:
            raise ServiceError("; ".join(str(p) for p in outcome.problems))
        for created in outcome.created:
            # The files carry no metadata; seed.json gives outlet and id as the texts state them.
            documents.document_update(
                document=created,
                actor=actor,
                title=doc["title"],
                external_id=doc["external_id"],
                outlet=doc["outlet"],
            )
        documents_created += len(outcome.created)
    return SeedOutcome(project, documents_created, codes_created)


@transaction.atomic
def seed_manager(*, user, seed_dir: Path = SEED_DIR) -> Project | None:
    """Make ``user`` manager of the seed project (they code nothing: the coders do)."""
    name = _spec(seed_dir)["project"]["name"]
    project = Project.objects.filter(name=name, created_by__isnull=True).first()
    if project is None:
        return None
    if not Membership.objects.filter(project=project, user=user, role=Role.MANAGER).exists():
        people.membership_set(project=project, user=user, role=Role.MANAGER, actor=None)
    return project
