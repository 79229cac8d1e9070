"""Agreement runs: gather the coders' spans, compute the report, store it on an AgreementRun.

The maths is in :mod:`annotations.domain.agreement.report` (no Django). This module decides
which work counts, fingerprints it so that an identical run is never computed twice, and
moves a run through queued → running → done/failed under a row lock, so a task delivered
twice (Redis redelivers after a worker dies) computes once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ..domain.agreement.report import DocumentData, SpanData, compute_report
from ..models import AgreementRun, Assignment, AssignmentStatus, Code, Project, RunStatus, Span
from .core import ServiceError

logger = logging.getLogger(__name__)

# Bump when the computation changes, so old fingerprints no longer match.
ALGORITHM_VERSION = 1
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.DONE)
STALE_AFTER = timedelta(minutes=15)


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


@dataclass(frozen=True)
class Inputs:
    documents: tuple[DocumentData, ...]
    codes: tuple[str, ...]
    fingerprint: str


def coder_key(user_id: int) -> str:
    """Coders appear in stored results by id only; pages turn ids into names or pseudonyms."""
    return f"u{user_id}"


def gather(project: Project, run_settings: RunSettings) -> Inputs:
    """The documents that count (two or more coders whose work counts) and their live spans.

    Three queries, whatever the corpus size.
    """
    statuses = [AssignmentStatus.DONE]
    if run_settings.include_in_progress:
        statuses.append(AssignmentStatus.IN_PROGRESS)
    coders_by_doc: dict[int, list[int]] = {}
    for document_id, coder_id in (
        Assignment.objects.filter(document__project=project, status__in=statuses)
        .order_by("document_id", "coder_id")
        .values_list("document_id", "coder_id")
    ):
        coders_by_doc.setdefault(document_id, []).append(coder_id)
    counted = {d: c for d, c in coders_by_doc.items() if len(c) >= 2}
    codes = tuple(
        Code.objects.filter(codebook__project=project)
        .order_by("order", "pk")
        .values_list("name", flat=True)
    )
    spans_by_doc: dict[int, list[SpanData]] = {d: [] for d in counted}
    span_rows = (
        Span.objects.live()
        .filter(assignment__document_id__in=counted.keys(), assignment__status__in=statuses)
        .order_by("assignment__document_id", "assignment__coder_id", "start", "end", "code_id")
        .values_list(
            "assignment__document_id", "assignment__coder_id", "start", "end", "code__name"
        )
    )
    for document_id, coder_id, start, end, code in span_rows.iterator(chunk_size=5000):
        spans_by_doc[document_id].append(SpanData(coder_key(coder_id), start, end, code))
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
    return Inputs(documents, codes, fingerprint(documents, codes, run_settings))


def fingerprint(documents, codes, run_settings: RunSettings) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(run_settings.as_dict(), sort_keys=True).encode())
    digest.update(json.dumps(list(codes)).encode())
    for document in documents:
        digest.update(f"|d{document.id}:{','.join(document.coders)}".encode())
        for span in document.spans:
            digest.update(f";{span.coder},{span.start},{span.end},{span.code}".encode())
    return digest.hexdigest()


def _enqueue(run: AgreementRun) -> None:
    from ..tasks import agreement_compute

    task_id = run.task_id
    transaction.on_commit(lambda: agreement_compute.apply_async(args=[run.pk], task_id=task_id))


def agreement_request(
    *, project: Project, actor=None, run_settings: RunSettings | None = None, enqueue: bool = True
) -> AgreementRun:
    """Queue a run, or return the identical one already queued, running or done."""
    run_settings = run_settings or RunSettings(unit=project.agreement_unit)
    with transaction.atomic():
        # One request at a time per project decides whether a run exists already. NO KEY:
        # span writes insert audit rows referencing the project and must not wait for this.
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()
        inputs = gather(project, run_settings)
        existing = (
            AgreementRun.objects.filter(
                project=project, fingerprint=inputs.fingerprint, status__in=ACTIVE
            )
            .order_by("-pk")
            .first()
        )
        if existing is not None:
            return existing
        run = AgreementRun.objects.create(
            project=project,
            requested_by=actor if actor is not None and actor.is_authenticated else None,
            fingerprint=inputs.fingerprint,
            settings=run_settings.as_dict(),
            task_id=uuid.uuid4().hex,
        )
        if enqueue:
            _enqueue(run)
    return run


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
        inputs = gather(run.project, run_settings)
        gathered = time.perf_counter()
        report = compute_report(
            inputs.documents,
            inputs.codes,
            unit=run_settings.unit,
            n_bootstrap=run_settings.n_bootstrap,
            seed=run_settings.seed,
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
        run.results = report
        # The data may have changed between request and computation: record what was computed.
        run.fingerprint = inputs.fingerprint
        run.status = RunStatus.DONE
        run.finished_at = timezone.now()
        run.timings = {
            "gather_s": round(gathered - started, 4),
            "compute_s": round(finished - gathered, 4),
        }
        run.save()
    return run


def agreement_sweep(*, stale_after: timedelta = STALE_AFTER) -> list[int]:
    """Re-queue runs stuck in queued or running (the embedded broker loses a killed
    worker's task; a lost message leaves a run queued forever)."""
    cutoff = timezone.now() - stale_after
    requeued = []
    with transaction.atomic():
        stuck = AgreementRun.objects.select_for_update().filter(
            status=RunStatus.QUEUED, requested_at__lt=cutoff
        ) | AgreementRun.objects.select_for_update().filter(
            status=RunStatus.RUNNING, started_at__lt=cutoff
        )
        for run in stuck:
            run.status = RunStatus.QUEUED
            run.task_id = uuid.uuid4().hex
            run.requested_at = timezone.now()
            run.save(update_fields=["status", "task_id", "requested_at"])
            _enqueue(run)
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
        locked.status = RunStatus.QUEUED
        locked.task_id = uuid.uuid4().hex
        locked.requested_at = timezone.now()
        locked.save(update_fields=["status", "task_id", "requested_at"])
        _enqueue(locked)
    return locked


def schedule_after_done(project_id: int, *, delay_seconds: int = 30) -> None:
    """Start a run shortly after a coder marks a document done. Several coders finishing at
    once schedule several tasks, but the first computes and the others find its fingerprint:
    that is the debounce."""
    from ..tasks import agreement_auto

    transaction.on_commit(
        lambda: agreement_auto.apply_async(args=[project_id], countdown=delay_seconds)
    )
