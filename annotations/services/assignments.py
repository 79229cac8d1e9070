"""Assignments: who codes which document, and the status of their work.

Every path that gives someone a document (one at a time, in bulk, by import) goes through
:func:`_assign`, which checks membership, gives the person a pseudonym and records the
change; every status change goes through :func:`_set_status`, which refuses to reopen work
a reviewer has started on and schedules an agreement run when work becomes *done*.
An assignment that has any span, live or soft-deleted, is never removed.
"""

from __future__ import annotations

import math
import random
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from ..models import (
    Assignment,
    AssignmentStatus,
    Document,
    DocumentReview,
    Membership,
    Project,
    ReviewStatus,
    Role,
    Span,
)
from . import agreement
from .base import ServiceError, audit_record
from .people import pseudonym_ensure


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _assign(
    documents: Iterable[Document], coder, *, actor, project_id: int, audit: bool = True
) -> list[Assignment]:
    """Assign documents of one project to a member; existing assignments are kept as they
    are. The caller holds the transaction."""
    if not Membership.objects.filter(project_id=project_id, user=coder).exists():
        raise ServiceError(f"{coder.get_username()} is not a member of this project.")
    pseudonym_ensure(project_id=project_id, user_id=coder.pk)
    documents = list(documents)
    have = set(
        Assignment.objects.filter(document__in=documents, coder=coder).values_list(
            "document_id", flat=True
        )
    )
    new = [Assignment(document=d, coder=coder) for d in documents if d.pk not in have]
    Assignment.objects.bulk_create(new)
    if audit:
        for assignment in new:
            audit_record(
                actor=actor,
                action="create",
                obj=assignment,
                document=assignment.document,
                after={"coder": coder.get_username()},
            )
    return new


def assignment_ensure(*, document: Document, coder, actor=None) -> Assignment:
    """The coder's assignment for a document, created (and recorded) if it does not exist."""
    with transaction.atomic():
        _assign([document], coder, actor=actor, project_id=document.project_id)
        return Assignment.objects.get(document=document, coder=coder)


@transaction.atomic
def assignment_create(*, document: Document, coder, actor=None) -> Assignment:
    """Assign a document to a member; refused if it is assigned to them already."""
    if Assignment.objects.filter(document=document, coder=coder).exists():
        raise ServiceError(f"“{document.title}” is already assigned to {coder.get_username()}.")
    return assignment_ensure(document=document, coder=coder, actor=actor)


def _set_status(assignment: Assignment, status: str, *, actor) -> Assignment:
    """Change one assignment's status under a row lock; the caller holds the transaction."""
    if status not in AssignmentStatus.values:
        raise ServiceError(f"Unknown status “{status}”.")
    locked = Assignment.objects.select_for_update().select_related("document").get(pk=assignment.pk)
    before = locked.status
    if before == status:
        return locked
    review = DocumentReview.objects.filter(document_id=locked.document_id).first()
    if (
        before == AssignmentStatus.DONE
        and review is not None
        and review.status != ReviewStatus.REOPENED
    ):
        # The reviewer is settling this work; reopening it would change what they review.
        raise ServiceError(
            "A reviewer has started on this document, so it can no longer be reopened; "
            "the project's manager can reopen it for coding."
        )
    locked.status = status
    locked.done_at = timezone.now() if status == AssignmentStatus.DONE else None
    locked.save(update_fields=["status", "done_at", "updated_at"])
    if status == AssignmentStatus.DONE:
        agreement.schedule_after_done(locked.document.project_id)
    audit_record(
        actor=actor,
        action="status",
        obj=locked,
        document=locked.document,
        before={"status": before},
        after={"status": status},
    )
    if status == AssignmentStatus.DONE and review is not None:
        _resume_review(review, locked.document, actor=actor)
    return locked


def _resume_review(review: DocumentReview, document: Document, *, actor) -> None:
    """When every coder of a document reopened for coding is done again, it goes back to
    its reviewer, who settles whatever changed."""
    if review.status != ReviewStatus.REOPENED:
        return
    if Assignment.objects.filter(document=document).exclude(status=AssignmentStatus.DONE).exists():
        return
    review.status = ReviewStatus.IN_REVIEW
    review.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="resume",
        obj=review,
        document=document,
        before={"status": ReviewStatus.REOPENED},
        after={"status": ReviewStatus.IN_REVIEW},
    )


def reopen_for_coding(*, document: Document, actor) -> int:
    """The document's done assignments go back to *in progress* (recorded each); the caller,
    the review service, holds the transaction and has marked the review reopened."""
    reopened = 0
    for assignment in Assignment.objects.filter(document=document, status=AssignmentStatus.DONE):
        _set_status(assignment, AssignmentStatus.IN_PROGRESS, actor=actor)
        reopened += 1
    return reopened


@transaction.atomic
def assignment_set_status(*, assignment: Assignment, status: str, actor=None) -> Assignment:
    return _set_status(assignment, status, actor=actor)


def mark_started(assignment: Assignment) -> None:
    """A coder's first span moves their assignment from *to do* to *in progress*."""
    if assignment.status == AssignmentStatus.TODO:
        assignment.status = AssignmentStatus.IN_PROGRESS
        Assignment.objects.filter(pk=assignment.pk, status=AssignmentStatus.TODO).update(
            status=AssignmentStatus.IN_PROGRESS, updated_at=timezone.now()
        )


@transaction.atomic
def assignment_remove(*, assignment: Assignment, actor) -> None:
    """Withdraw a document from a coder, only while they have not coded anything in it."""
    assignment = Assignment.objects.select_related("document", "coder").get(pk=assignment.pk)
    spans = Span.objects.filter(assignment=assignment).count()
    if spans:
        raise ServiceError(
            f"{assignment.coder.username} has {_plural(spans, 'span')} in "
            f"“{assignment.document.title}”; an assignment with spans stays so that "
            "their work is kept. Assign the document to someone else as well instead."
        )
    audit_record(
        actor=actor,
        action="delete",
        obj=assignment,
        document=assignment.document,
        before={"coder": assignment.coder.username, "status": assignment.status},
    )
    assignment.delete()


# --- Bulk assignment ------------------------------------------------------------------


class BulkMode:
    EVERY = "every"
    EACH_N = "each_n"
    SAMPLE = "sample"
    CHOICES = (
        (EVERY, "Every document to every coder"),
        (EACH_N, "Each document to N coders, balanced"),
        (SAMPLE, "Double-code a random sample, the rest once"),
    )
    VALUES = (EVERY, EACH_N, SAMPLE)


@dataclass
class BulkOutcome:
    created: int = 0
    seed: int | None = None
    double_coded: list[int] = field(default_factory=list)  # document ids in the sample

    @property
    def summary(self) -> str:
        text = f"Created {_plural(self.created, 'assignment')}."
        if self.seed is not None:
            text += (
                f" {_plural(len(self.double_coded), 'document')} double-coded"
                f" (random seed {self.seed}: use it again to draw the same sample)."
            )
        return text


def sample_sizes(strata: dict[str, int], percent: float) -> dict[str, int]:
    """How many documents to draw from each stratum: proportional, rounded so that the
    total is round(percent of all) (largest remainder), so small strata are not all lost."""
    total = sum(strata.values())
    wanted = math.floor(total * percent / 100 + 0.5)
    exact = {key: size * percent / 100 for key, size in strata.items()}
    sizes = {key: math.floor(value) for key, value in exact.items()}
    left = wanted - sum(sizes.values())
    by_remainder = sorted(exact, key=lambda key: (-(exact[key] - sizes[key]), key))
    for key in by_remainder[:left]:
        sizes[key] += 1
    return sizes


def _targets(
    documents: list[Document],
    *,
    mode: str,
    pool_size: int,
    per_document: int,
    percent: float,
    stratify_by_outlet: bool,
    rng: random.Random,
    outcome: BulkOutcome,
) -> dict[int, int]:
    """How many coders of the pool each document should end up with."""
    if mode == BulkMode.EVERY:
        return dict.fromkeys((d.pk for d in documents), pool_size)
    if mode == BulkMode.EACH_N:
        if not 1 <= per_document <= pool_size:
            raise ServiceError(
                f"Each document to {per_document} coders needs between 1 and {pool_size} "
                f"(the number of coders chosen)."
            )
        return dict.fromkeys((d.pk for d in documents), per_document)
    if mode == BulkMode.SAMPLE:
        if pool_size < 2:
            raise ServiceError("Double coding needs at least two coders.")
        if not 0 <= percent <= 100:
            raise ServiceError("Give the sample as a percentage between 0 and 100.")
        strata: dict[str, list[Document]] = defaultdict(list)
        for document in documents:
            strata[document.outlet if stratify_by_outlet else ""].append(document)
        sizes = sample_sizes({k: len(v) for k, v in strata.items()}, percent)
        sample: set[int] = set()
        for key in sorted(strata):
            sample.update(d.pk for d in rng.sample(strata[key], sizes[key]))
        outcome.double_coded = sorted(sample)
        return {d.pk: 2 if d.pk in sample else 1 for d in documents}
    raise ServiceError("Choose how to assign the documents.")


@transaction.atomic
def assignments_bulk(
    *,
    project: Project,
    mode: str,
    coders: list | None = None,
    per_document: int = 2,
    percent: float = 10,
    stratify_by_outlet: bool = False,
    seed: int | None = None,
    actor,
) -> BulkOutcome:
    """Assign every document of the project at once; existing assignments count towards
    the target and are never removed.

    ``coders`` defaults to every member with the coder role; anyone else given is refused.
    Load is balanced by giving each document to the coders with the fewest assignments
    in the project so far, ties broken at random from the seed.
    """
    members = {m.user_id: m.user for m in Membership.objects.filter(project=project)}
    if coders is None:
        pool = [
            m.user
            for m in Membership.objects.filter(project=project, role=Role.CODER)
            .select_related("user")
            .order_by("user__username")
        ]
    else:
        pool = []
        for coder in coders:
            if coder.pk not in members:
                raise ServiceError(f"{coder.get_username()} is not a member of this project.")
            pool.append(coder)
    if not pool:
        raise ServiceError("There are no coders to assign to; add coders on the People page first.")
    documents = list(Document.objects.filter(project=project).defer("text").order_by("pk"))
    if not documents:
        raise ServiceError("The project has no documents yet; upload some first.")

    outcome = BulkOutcome()
    rng = random.Random()
    if mode == BulkMode.SAMPLE:
        outcome.seed = secrets.randbelow(1_000_000) if seed is None else seed
        rng.seed(outcome.seed)
    target = _targets(
        documents,
        mode=mode,
        pool_size=len(pool),
        per_document=per_document,
        percent=percent,
        stratify_by_outlet=stratify_by_outlet,
        rng=rng,
        outcome=outcome,
    )
    pool_ids = {c.pk for c in pool}
    assigned: dict[int, set[int]] = defaultdict(set)
    load: Counter[int] = Counter()
    for document_id, coder_id in Assignment.objects.filter(document__project=project).values_list(
        "document_id", "coder_id"
    ):
        assigned[document_id].add(coder_id)
        load[coder_id] += 1
    chosen: dict[int, list[Document]] = defaultdict(list)
    for document in documents:
        have = assigned[document.pk]
        missing = target[document.pk] - len(have & pool_ids)
        candidates = [c for c in pool if c.pk not in have]
        rng.shuffle(candidates)
        candidates.sort(key=lambda c: load[c.pk])  # stable: shuffled order breaks ties
        for coder in candidates[: max(missing, 0)]:
            chosen[coder.pk].append(document)
            load[coder.pk] += 1
            have.add(coder.pk)
    by_id = {c.pk: c for c in pool}
    created: list[Assignment] = []
    for coder_id, docs in chosen.items():
        # One event for the whole batch below, rather than one per assignment.
        created += _assign(docs, by_id[coder_id], actor=actor, project_id=project.pk, audit=False)
    outcome.created = len(created)
    audit_record(
        actor=actor,
        action="bulk_assign",
        obj=project,
        project=project,
        after={
            "mode": mode,
            "created": sorted([a.document_id, a.coder.get_username()] for a in created),
            "seed": outcome.seed,
            "double_coded": outcome.double_coded,
        },
    )
    return outcome
