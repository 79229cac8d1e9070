"""Agreement runs: decide which work counts, fingerprint it, compute the report in a worker.

The maths is in :mod:`annotations.domain.agreement` (no Django). A request fingerprints the
input cheaply (span ids and versions, assignment statuses, codes and settings; never the
document texts) so an identical run is never computed twice; only the worker reads texts.
A run moves queued → running → done/failed under a row lock, so a task delivered twice
(Redis redelivers after a worker dies) computes once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app
from django.db import transaction
from django.utils import timezone

from ..domain.agreement.corpus import NO_CODER, ONE_CODER, DocumentData, SpanData
from ..domain.agreement.report import compute_report
from ..domain.agreement.result import LeftOut, coder_key
from ..models import AgreementRun, Assignment, AssignmentStatus, Code, Project, RunStatus, Span
from ..selectors.rows import streamed_raw_rows
from ..selectors.snapshot import one_snapshot
from .base import ServiceError, actor_or_none

logger = logging.getLogger(__name__)

# Bump when the computation changes, so old fingerprints no longer match.
ALGORITHM_VERSION = 2
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.DONE)
STALE_AFTER = timedelta(minutes=15)
# A queued run that no worker has picked up after this long lost its message.
NEVER_STARTED_AFTER = timedelta(minutes=3)


@dataclass(frozen=True)
class RunSettings:
    unit: str = "token"
    n_bootstrap: int = 1000
    seed: int = 0
    include_in_progress: bool = False

    def as_dict(self) -> dict:
        return {
            "unit": self.unit,
            "n_bootstrap": self.n_bootstrap,
            "seed": self.seed,
            "include_in_progress": self.include_in_progress,
            "algorithm": ALGORITHM_VERSION,
        }

    @classmethod
    def from_dict(cls, data: dict) -> RunSettings:
        return cls(
            unit=data.get("unit", "token"),
            n_bootstrap=int(data.get("n_bootstrap", 1000)),
            seed=int(data.get("seed", 0)),
            include_in_progress=bool(data.get("include_in_progress", False)),
        )

    @property
    def statuses(self) -> list[str]:
        """Assignment statuses whose work counts."""
        if self.include_in_progress:
            return [AssignmentStatus.DONE, AssignmentStatus.IN_PROGRESS]
        return [AssignmentStatus.DONE]


def _codes(project: Project) -> list[tuple[int, str]]:
    return list(
        Code.objects.filter(codebook__project=project)
        .order_by("order", "pk")
        .values_list("pk", "name")
    )


def _assignments(project: Project) -> list[tuple[int, int, str]]:
    return list(
        Assignment.objects.filter(document__project=project)
        .order_by("document_id", "coder_id")
        .values_list("document_id", "coder_id", "status")
    )


def _counted(assignments, run_settings: RunSettings) -> dict[int, list[int]]:
    """Document id → the coders whose work counts there (every assigned document listed)."""
    statuses = set(run_settings.statuses)
    coders: dict[int, list[int]] = {}
    for document_id, coder_id, status in assignments:
        mine = coders.setdefault(document_id, [])
        if status in statuses:
            mine.append(coder_id)
    return coders


def fingerprint(project: Project, run_settings: RunSettings) -> str:
    """A hash of everything a run reads, without reading any document text (4 queries)."""
    digest = hashlib.sha256()
    digest.update(json.dumps(run_settings.as_dict(), sort_keys=True).encode())
    digest.update(json.dumps(_codes(project)).encode())
    assignments = _assignments(project)
    digest.update(json.dumps(assignments).encode())
    counted = [d for d, coders in _counted(assignments, run_settings).items() if len(coders) >= 2]
    rows = (
        Span.objects.live()
        .filter(assignment__document_id__in=counted, assignment__status__in=run_settings.statuses)
        .order_by("pk")
        .values_list("pk", "version")
    )
    for pk, version in rows.iterator(chunk_size=5000):
        digest.update(f";{pk}.{version}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Inputs:
    documents: tuple[DocumentData, ...]
    left_out: tuple[LeftOut, ...]
    codes: tuple[str, ...]


def gather(project: Project, run_settings: RunSettings) -> Inputs:
    """What the worker computes on: the documents with two or more coders whose work counts,
    their live spans and texts, and every other assigned document with the reason it does
    not count. A fixed number of queries, whatever the corpus size."""
    counted = _counted(_assignments(project), run_settings)
    left_out = tuple(
        LeftOut(document_id, ONE_CODER if len(coders) == 1 else NO_CODER)
        for document_id, coders in counted.items()
        if len(coders) < 2
    )
    counted = {d: c for d, c in counted.items() if len(c) >= 2}
    spans_by_doc: dict[int, list[SpanData]] = {d: [] for d in counted}
    span_rows = (
        Span.objects.live()
        .filter(
            assignment__document_id__in=counted.keys(),
            assignment__status__in=run_settings.statuses,
        )
        .order_by("assignment__document_id", "assignment__coder_id", "start", "end", "code_id")
        .values_list("assignment__document_id", "assignment__coder_id", "start", "end", "code_id")
    )
    codes = dict(_codes(project))
    keys = {c: coder_key(c) for coders in counted.values() for c in coders}
    # Whole numbers only, so the driver's rows need none of Django's per-value converters.
    for document_id, coder_id, start, end, code_id in streamed_raw_rows(span_rows):
        # A coder unfinished on this document (while finished elsewhere) is named too: the
        # report counts and ignores such spans with a note.
        key = keys.get(coder_id) or coder_key(coder_id)
        spans_by_doc[document_id].append(SpanData(key, start, end, codes[code_id]))
    texts = dict(
        project.documents.filter(pk__in=counted.keys()).values_list("pk", "text").iterator()
    )
    documents = tuple(
        DocumentData(
            id=document_id,
            text=texts[document_id],
            coders=tuple(coder_key(c) for c in counted[document_id]),
            spans=tuple(spans_by_doc[document_id]),
        )
        for document_id in sorted(counted)
    )
    return Inputs(documents, left_out, tuple(codes.values()))


@dataclass(frozen=True)
class RunRequest:
    """What asking for a run did: a new run, the identical one, or a lost one re-queued."""

    run: AgreementRun
    created: bool = False
    requeued: bool = False

    @property
    def message(self) -> str:
        if self.created:
            return f"Run #{self.run.pk} is queued."
        if self.requeued:
            return f"Run #{self.run.pk} had not started; it is queued again."
        return (
            f"Nothing changed since run #{self.run.pk} ({self.run.get_status_display().lower()}):"
            " the same spans and settings give the same results, so no new run was started."
        )


# The tasks that run this module's work, by name: sending by name keeps this module from
# importing the task module that imports it (tasks.py registers the tasks under these names;
# settings route the computation to its own queue).
COMPUTE_TASK = "annotations.tasks.agreement_compute"
AUTO_TASK = "annotations.tasks.agreement_auto"


def _enqueue(run: AgreementRun) -> None:
    task_id = run.task_id
    transaction.on_commit(
        lambda: current_app.send_task(COMPUTE_TASK, args=[run.pk], task_id=task_id)
    )


def _requeue(run: AgreementRun) -> None:
    """Queue a locked run again under a new task id (its message may have been lost)."""
    run.status = RunStatus.QUEUED
    run.task_id = uuid.uuid4().hex
    run.requested_at = timezone.now()
    run.save(update_fields=["status", "task_id", "requested_at"])
    _enqueue(run)


def _never_started(run: AgreementRun) -> bool:
    return (
        run.status == RunStatus.QUEUED
        and run.attempts == 0
        and timezone.now() - run.requested_at > NEVER_STARTED_AFTER
    )


def agreement_request(
    *, project: Project, actor=None, run_settings: RunSettings | None = None, enqueue: bool = True
) -> RunRequest:
    """Queue a run, or return the identical one already queued, running or done (and queue
    it again when it has waited so long without starting that its message was lost)."""
    run_settings = run_settings or RunSettings(unit=project.agreement_unit)
    with transaction.atomic():
        # One request at a time per project decides whether a run exists already. NO KEY:
        # span writes insert audit rows referencing the project and must not wait for this.
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()
        digest = fingerprint(project, run_settings)
        existing = (
            AgreementRun.objects.select_for_update()
            .filter(project=project, fingerprint=digest, status__in=ACTIVE)
            .order_by("-pk")
            .first()
        )
        if existing is not None:
            if enqueue and _never_started(existing):
                _requeue(existing)
                return RunRequest(existing, requeued=True)
            return RunRequest(existing)
        run = AgreementRun.objects.create(
            project=project,
            requested_by=actor_or_none(actor),
            fingerprint=digest,
            settings=run_settings.as_dict(),
            task_id=uuid.uuid4().hex,
        )
        if enqueue:
            _enqueue(run)
    return RunRequest(run, created=True)


def agreement_execute(*, run_id: int, redelivered: bool = False) -> AgreementRun:
    """Compute one run. Safe to call twice for the same run: the second call does nothing.

    ``redelivered`` says the broker handed this task out again because the worker that
    had it died (Redis, after the visibility timeout): that run is marked running but
    nobody is computing it, so this call takes it over.
    """
    with transaction.atomic():
        run = AgreementRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            raise ServiceError(f"Agreement run {run_id} does not exist.")
        if run.status == RunStatus.DONE:
            return run
        if (
            run.status == RunStatus.RUNNING
            and not redelivered
            and run.started_at
            and timezone.now() - run.started_at < STALE_AFTER
        ):
            return run  # another worker has it
        run.status = RunStatus.RUNNING
        run.started_at = timezone.now()
        run.attempts += 1
        run.error = ""
        run.save(update_fields=["status", "started_at", "attempts", "error"])
    started = time.perf_counter()
    run_settings = RunSettings.from_dict(run.settings)
    try:
        # The input may change between request and computation: record what was computed,
        # read from the same state as the input itself (a short read-only transaction on
        # PostgreSQL; it never blocks coders' writes).
        with one_snapshot():
            digest = fingerprint(run.project, run_settings)
            inputs = gather(run.project, run_settings)
        gathered = time.perf_counter()
        result = compute_report(
            inputs.documents,
            inputs.codes,
            unit=run_settings.unit,
            n_bootstrap=run_settings.n_bootstrap,
            seed=run_settings.seed,
            left_out=inputs.left_out,
        )
    except Exception as error:
        # Recorded on the run, where the people who asked for it see it; then re-raised so
        # the worker logs it too. Transient database errors are retried by the task.
        AgreementRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            error=f"{type(error).__name__}: {error}"[:4000],
            finished_at=timezone.now(),
        )
        raise
    finished = time.perf_counter()
    with transaction.atomic():
        run = AgreementRun.objects.select_for_update().get(pk=run.pk)
        run.results = result.to_json()
        run.fingerprint = digest
        run.status = RunStatus.DONE
        run.finished_at = timezone.now()
        run.timings = {
            "gather_s": round(gathered - started, 4),
            "compute_s": round(finished - gathered, 4),
        }
        run.save()
    return run


def agreement_sweep(*, stale_after: timedelta = STALE_AFTER) -> list[int]:
    """Re-queue runs stuck in queued or running: a lost message leaves a run queued with no
    attempt (found after a few minutes), a killed worker leaves it running (15 minutes)."""
    now = timezone.now()
    requeued = []
    with transaction.atomic():
        stuck = (
            AgreementRun.objects.select_for_update().filter(
                status=RunStatus.QUEUED, requested_at__lt=now - stale_after
            )
            | AgreementRun.objects.select_for_update().filter(
                status=RunStatus.QUEUED,
                attempts=0,
                requested_at__lt=now - min(NEVER_STARTED_AFTER, stale_after),
            )
            | AgreementRun.objects.select_for_update().filter(
                status=RunStatus.RUNNING, started_at__lt=now - stale_after
            )
        )
        for run in stuck:
            _requeue(run)
            requeued.append(run.pk)
    if requeued:
        logger.warning("Re-queued stuck agreement runs: %s", requeued)
    return requeued


def agreement_rerun(*, run: AgreementRun, actor=None) -> AgreementRun:
    """Compute a failed or stuck run again (the "re-run" button)."""
    with transaction.atomic():
        locked = AgreementRun.objects.select_for_update().get(pk=run.pk)
        if locked.status == RunStatus.DONE:
            return locked
        _requeue(locked)
    return locked


def schedule_after_done(project_id: int, *, delay_seconds: int = 30) -> None:
    """Start a run shortly after a coder marks a document done. Several coders finishing at
    once schedule several tasks, but the first computes and the others find its fingerprint:
    that is the debounce."""
    transaction.on_commit(
        lambda: current_app.send_task(AUTO_TASK, args=[project_id], countdown=delay_seconds)
    )
