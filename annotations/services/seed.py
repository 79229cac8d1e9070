"""Loading the seed corpus and default codebook shipped in ``fixtures/``, giving the
administrator the seed project to manage, and (optionally) two demo coders' work.

Idempotent: running it again finds the project, codes and documents already there and
stores nothing twice. Every write goes through the entity services.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from ..domain.textio import normalise_text, sha256_text
from ..models import Assignment, AssignmentStatus, Document, Membership, Project, Role
from . import agreement, assignments, codebook, documents, imports, people, projects, spans
from .base import ServiceError, audit_record

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


@dataclass
class DemoOutcome:
    coders: list[str]
    spans_created: int


def _demo_account(project: Project, username: str):
    """A demo coder's account: it carries spans and cannot log in (no usable password;
    ``manage.py changepassword`` gives it one)."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username)
        user.set_unusable_password()
        user.save()
        audit_record(
            actor=None,
            action="create",
            obj=user,
            project=project,
            after={"username": username, "through": "seed demo"},
        )
    return user


@transaction.atomic
def load_demo(*, seed_dir: Path = SEED_DIR) -> DemoOutcome:
    """Two demo coders who code both seed articles (fixtures/demo.json) and mark them done,
    so agreement and review have something to show at once. Their work goes through the
    same services as a coder's; running it again adds nothing."""
    project = load_seed(seed_dir=seed_dir).project
    spec = json.loads((seed_dir / "demo.json").read_text(encoding="utf-8"))
    codes = {code.name: code for code in project.codebook.codes.all()}
    by_external_id = {d.external_id: d for d in project.documents.all()}
    created = 0
    for username in spec["coders"]:
        coder = _demo_account(project, username)
        if not Membership.objects.filter(project=project, user=coder).exists():
            people.membership_set(project=project, user=coder, role=Role.CODER)
        for external_id, by_coder in spec["spans"].items():
            document = by_external_id[external_id]
            assignment = assignments.assignment_ensure(document=document, coder=coder)
            if assignment.status == AssignmentStatus.DONE or assignment.spans.exists():
                continue  # coded already (by an earlier run, or by hand since)
            text = document.text
            for code_name, quote, *note in by_coder.get(username, []):
                start = text.index(quote)
                spans.span_create(
                    assignment=assignment,
                    code_id=codes[code_name].pk,
                    start=start,
                    end=start + len(quote),
                    quote=quote,
                    note=note[0] if note else "",
                    actor=coder,
                )
                created += 1
            assignments.assignment_set_status(
                assignment=Assignment.objects.get(pk=assignment.pk),
                status=AssignmentStatus.DONE,
                actor=coder,
            )
    if created:
        agreement.agreement_request(
            project=project,
            actor=None,
            run_settings=agreement.RunSettings(unit=project.agreement_unit),
        )
    return DemoOutcome(list(spec["coders"]), created)
