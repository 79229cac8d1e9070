"""Loading the seed corpus and default codebook shipped in ``fixtures/``.

Idempotent: running it again finds the project, codes and documents already there
and stores nothing twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from . import services
from .models import Codebook, Document, Project

SEED_DIR = Path(settings.BASE_DIR) / "fixtures"


@dataclass
class SeedOutcome:
    project: Project
    documents_created: int
    codes_created: int


@transaction.atomic
def load_seed(*, seed_dir: Path = SEED_DIR, actor=None) -> SeedOutcome:
    spec = json.loads((seed_dir / "seed.json").read_text(encoding="utf-8"))
    project_spec = spec["project"]
    project = Project.objects.filter(name=project_spec["name"]).first()
    if project is None:
        project = services.project_create(
            name=project_spec["name"],
            description=project_spec["description"],
            blind=project_spec["blind"],
            actor=actor,
        )
    codebook, _ = Codebook.objects.get_or_create(project=project)
    existing_codes = set(codebook.codes.values_list("name", flat=True))
    codes_created = 0
    for order, code in enumerate(spec["codes"]):
        if code["name"] in existing_codes:
            continue
        services.code_create(codebook=codebook, order=order, actor=actor, **code)
        codes_created += 1
    documents_created = 0
    for doc in spec["documents"]:
        data = (seed_dir / doc["file"]).read_bytes()
        text = data.decode("utf-8").replace("\r\n", "\n")
        if Document.objects.filter(project=project, sha256=services.sha256_text(text)).exists():
            continue
        outcome = services.documents_import(
            project=project, files=[(Path(doc["file"]).name, data)], actor=actor
        )
        if not outcome.ok:
            raise services.ServiceError("; ".join(str(p) for p in outcome.problems))
        for created in outcome.created:
            # The files carry no metadata; seed.json gives outlet and id as the texts state them.
            Document.objects.filter(pk=created.pk).update(
                title=doc["title"], external_id=doc["external_id"], outlet=doc["outlet"]
            )
        documents_created += len(outcome.created)
    return SeedOutcome(project, documents_created, codes_created)
