"""The production layout on one machine: worker processes on separate queues stand in for
separate machines (one for ordinary tasks on ``celery``, one or more for agreement jobs on
``agreement``), all sharing the broker and the database, as README's deployment section
describes. Runs on the embedded broker and, in CI, on Redis and PostgreSQL."""

from __future__ import annotations

import contextlib
import random
import re
import uuid

import pytest
from django.conf import settings

from annotations.models import AgreementRun, RunStatus, WorkerCheck
from annotations.services import agreement as service
from annotations.services import assignments, base, spans
from annotations.tasks import agreement_compute, worker_check

from .test_faults import generated_text
from .worker import wait_for, worker_process

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def coded_project(make_project, make_user, add_document, member):
    """Four documents finished by three coders, tagged through the services."""
    from annotations.models import Assignment, AssignmentStatus

    rng = random.Random(4)
    project = make_project("Queues", codes=("Sourcing", "Loaded language", "Conflict"))
    codes = list(project.codebook.codes.all())
    coders = [member(project, make_user()) for _ in range(3)]
    for number in range(4):
        document = add_document(project, generated_text(rng, 800), f"doc{number}.txt")
        words = [(m.start(), m.end()) for m in re.finditer(r"\S+", document.text)]
        for coder in coders:
            assignment = assignments.assignment_create(document=document, coder=coder)
            for _ in range(6):
                first = rng.randrange(len(words) - 3)
                start, end = words[first][0], words[first + rng.randint(0, 2)][1]
                with contextlib.suppress(base.ServiceError):  # the same span drawn twice
                    spans.span_create(
                        assignment=assignment,
                        code_id=rng.choice(codes).pk,
                        start=start,
                        end=end,
                        quote=document.text[start:end],
                    )
            # Set directly: the service would also schedule an automatic run on "celery".
            Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.DONE)
    return project


def test_agreement_jobs_go_to_the_agreement_worker_and_other_tasks_to_the_default_one(
    coded_project,
):
    assert settings.CELERY_TASK_ROUTES["annotations.tasks.agreement_compute"] == {
        "queue": "agreement"
    }
    with worker_process(queues=["celery"]) as (web_tasks, _):
        run = service.agreement_request(
            project=coded_project, run_settings=service.RunSettings(n_bootstrap=200)
        ).run
        # Sent after the agreement job: once it is done, the default worker has been
        # taking tasks all along, and still it did not take the agreement job.
        token = uuid.uuid4().hex
        worker_check.delay(token)
        wait_for(
            lambda: WorkerCheck.objects.filter(token=token).exists(), process=web_tasks, timeout=60
        )
        assert AgreementRun.objects.get(pk=run.pk).status == RunStatus.QUEUED
        with worker_process(queues=["agreement"]) as (agreement_worker, _):
            done = wait_for(
                lambda: AgreementRun.objects.filter(pk=run.pk, status=RunStatus.DONE).first(),
                process=agreement_worker,
                timeout=60,
            )
    assert done.attempts == 1
    assert done.results["counts"]["documents"] == 4


def test_an_agreement_job_gives_the_same_results_whichever_worker_runs_it(coded_project):
    """Two workers that differ in what a machine may differ in (hash seed, time zone) each
    compute the same request; the stored results are identical, key for key."""
    run_settings = service.RunSettings(n_bootstrap=500, seed=7)
    first = service.agreement_request(
        project=coded_project, run_settings=run_settings, enqueue=False
    ).run
    second = AgreementRun.objects.create(
        project=coded_project,
        fingerprint=first.fingerprint,
        settings=first.settings,
        task_id=uuid.uuid4().hex,
    )
    machine_a = {"PYTHONHASHSEED": "1", "TZ": "UTC"}
    machine_b = {"PYTHONHASHSEED": "2", "TZ": "Pacific/Auckland"}
    with (
        worker_process(queues=["agreement-a"], extra_env=machine_a) as (worker_a, _),
        worker_process(queues=["agreement-b"], extra_env=machine_b) as (worker_b, _),
    ):
        agreement_compute.apply_async(args=[first.pk], queue="agreement-a")
        agreement_compute.apply_async(args=[second.pk], queue="agreement-b")
        for run, process in ((first, worker_a), (second, worker_b)):
            wait_for(
                lambda run=run: AgreementRun.objects.filter(
                    pk=run.pk, status=RunStatus.DONE
                ).exists(),
                process=process,
                timeout=60,
            )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.results["counts"]["coders"] == 3
    assert first.results == second.results
    assert first.fingerprint == second.fingerprint
