"""A Celery worker killed in the middle of an agreement job loses nothing.

Each test starts real ``celery worker`` processes (tests/worker.py) and kills one with
SIGKILL while the run it took is ``running``, as a machine that loses power would. Then:

- Redis (``CELERY_BROKER_URL`` set): the task was never acknowledged (``acks_late``), so
  Redis hands it to another worker after the visibility timeout, which must finish the run.
- Embedded broker (``filesystem://``): the transport deletes a message when a worker takes
  it, so the task is gone and the run stays ``running``; the sweep (Celery beat, every
  minute) or the "Re-run" button on the agreement page queues it again.

"Completes once" is read from ``AgreementRun.attempts``, which goes up each time a worker
starts computing: the killed attempt plus exactly one finished attempt make two, and a
duplicate delivery that arrives after the run is done leaves it at two.

The slow faults (PostgreSQL restarted during the load test, database made read-only) are
in bench/faults.py and bench/load.py, run by ``make bench``.
"""

from __future__ import annotations

import json
import random
import re
import signal
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from annotations.models import AgreementRun, Assignment, AssignmentStatus, RunStatus, Span
from annotations.services import agreement as service

from .worker import wait_for, worker_process

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ON_REDIS = settings.CELERY_BROKER_URL.startswith("redis")
# About two seconds of numpy on six short documents: long enough to kill the worker
# mid-way, short enough for the suite.
SLOW = service.RunSettings(n_bootstrap=100_000)
# Seconds before Redis hands an unacknowledged task to another worker (900 in production).
VISIBILITY_TIMEOUT = 1
WORKER_ENV = {"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}
WORDS = (
    *("officials", "said", "the", "ministry", "claimed", "foreign", "interference", "was"),
    *("a", "sham", "while", "critics", "reported", "that", "opposition", "leaders"),
    *("confessed", "on", "camera", "under", "pressure"),
)


def generated_text(rng: random.Random, length: int = 2000) -> str:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < length:
        words.append(rng.choice(WORDS))
    return " ".join(words) + ".\n"


@pytest.fixture
def corpus(make_project, make_user, add_document, member):
    """Six documents, each finished by two coders with fifteen spans apiece.

    Spans are bulk-inserted and statuses set directly: built through the services this
    would take seconds, and assignment_set_status would also schedule an automatic run
    that a later test's worker could take.
    """
    rng = random.Random(9)
    project = make_project("Faults", codes=("Sourcing", "Loaded language", "Conflict"))
    codes = list(project.codebook.codes.all())
    coders = [member(project, make_user()) for _ in range(2)]
    spans = []
    for number in range(6):
        document = add_document(project, generated_text(rng), f"doc{number}.txt")
        words = [(m.start(), m.end()) for m in re.finditer(r"\S+", document.text)]
        for coder in coders:
            assignment = Assignment.objects.create(
                document=document, coder=coder, status=AssignmentStatus.DONE
            )
            chosen = set()
            while len(chosen) < 15:
                first = rng.randrange(len(words) - 4)
                chosen.add((first, first + rng.randint(0, 3), rng.choice(codes)))
            for first, last, code in chosen:
                start, end = words[first][0], words[last][1]
                spans.append(
                    Span(
                        assignment=assignment,
                        code=code,
                        start=start,
                        end=end,
                        quote=document.text[start:end],
                    )
                )
    Span.objects.bulk_create(spans)
    return project


def queued_messages(queue: str) -> int:
    """Messages for ``queue`` still in the broker, waiting or taken but not acknowledged."""
    if ON_REDIS:
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        unacked = sum(
            1
            for payload in client.hvals("unacked")
            if json.loads(payload)[2] == queue  # [message, exchange, routing key]
        )
        return client.llen(queue) + unacked
    from framing.celery import app

    # The conftest points the tests at a private folder.
    folder = Path(app.conf.broker_transport_options["data_folder_in"])
    return sum(1 for path in folder.iterdir() if path.name.endswith(f".{queue}.msg"))


def restore_timed_out_messages() -> None:
    """Put tasks unacknowledged for longer than the visibility timeout back on their queue.

    Every Redis worker does this itself, but kombu 5.7 only scans every
    ``unacked_restore_interval`` × ``unacked_restore_throttle`` = 10 s × 10 = 100 s (and
    once soon after start), which is fine against a 900 s timeout and too slow for a test.
    """
    from kombu import Connection

    options = {"visibility_timeout": VISIBILITY_TIMEOUT}
    with Connection(settings.CELERY_BROKER_URL, transport_options=options) as connection:
        connection.default_channel.qos.restore_visible(num=100)


def run_state(run_id: int) -> AgreementRun:
    return AgreementRun.objects.get(pk=run_id)


def kill_mid_run(run_id: int) -> float:
    """Start a worker, let it take the run, and SIGKILL it while the run is ``running``.

    Returns the monotonic time at which the worker had the task (for the visibility timeout).
    """
    with worker_process(queues=["agreement"], extra_env=WORKER_ENV) as (process, _):
        wait_for(
            lambda: run_state(run_id).status == RunStatus.RUNNING,
            process=process,
            timeout=60,
            interval=0.02,
        )
        taken_at = time.monotonic()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    killed = run_state(run_id)
    assert killed.status == RunStatus.RUNNING and killed.results is None, "killed too late"
    assert killed.attempts == 1
    return taken_at


def finish_duplicates(process) -> None:
    """On Redis the killed worker's own task comes back too: let the live worker take it
    (it must find the run done and not compute again)."""
    if ON_REDIS:
        restore_timed_out_messages()
    # acks_late: a task leaves the broker only once it has returned.
    wait_for(lambda: queued_messages("agreement") == 0, process=process, timeout=10)


def assert_completed_once(run_id: int, project) -> None:
    done = run_state(run_id)
    assert done.status == RunStatus.DONE
    assert done.results["counts"]["documents"] == 6
    assert done.attempts == 2, "one killed attempt and one that finished"
    assert AgreementRun.objects.filter(project=project).count() == 1
    assert queued_messages("agreement") == 0, "a duplicate task is still waiting"


@pytest.mark.skipif(not ON_REDIS, reason="needs Redis: the embedded broker loses the task")
def test_with_redis_a_killed_workers_job_is_redelivered_and_completes_once(corpus):
    run = service.agreement_request(project=corpus, run_settings=SLOW).run
    taken_at = kill_mid_run(run.pk)
    time.sleep(max(0.0, taken_at + VISIBILITY_TIMEOUT + 0.2 - time.monotonic()))
    restore_timed_out_messages()
    assert queued_messages("agreement") == 1, "the killed worker's task was not kept"
    with worker_process(queues=["agreement"], extra_env=WORKER_ENV) as (process, _):
        # acks_late: the task leaves the broker only once it has returned.
        wait_for(lambda: queued_messages("agreement") == 0, process=process, timeout=30)
    assert run_state(run.pk).status == RunStatus.DONE, "the redelivered task did not compute"
    assert_completed_once(run.pk, corpus)


def test_a_run_left_running_by_a_killed_worker_is_requeued_by_the_sweep_and_completes_once(
    corpus,
):
    run = service.agreement_request(project=corpus, run_settings=SLOW).run
    kill_mid_run(run.pk)
    with worker_process(queues=["agreement"], extra_env=WORKER_ENV) as (process, _):
        if not ON_REDIS:
            # The embedded broker deleted the message when the first worker took it.
            wait_for(lambda: queued_messages("agreement") == 0, process=process, timeout=10)
            time.sleep(1.0)
            assert run_state(run.pk).status == RunStatus.RUNNING, "the lost task came back"
        assert service.agreement_sweep(stale_after=timedelta(0)) == [run.pk]
        wait_for(
            lambda: run_state(run.pk).status == RunStatus.DONE,
            process=process,
            timeout=60,
        )
        finish_duplicates(process)
    assert_completed_once(run.pk, corpus)


def test_the_rerun_button_finishes_a_run_left_running_by_a_killed_worker(
    corpus, client, make_user, member
):
    from annotations.models import Role

    manager = member(corpus, make_user(f"manager-{uuid.uuid4().hex[:6]}"), Role.MANAGER)
    client.force_login(manager)
    run = service.agreement_request(project=corpus, run_settings=SLOW).run
    kill_mid_run(run.pk)
    with worker_process(queues=["agreement"], extra_env=WORKER_ENV) as (process, _):
        response = client.post(
            reverse("agreement-rerun", args=[corpus.pk, run.pk]), headers={"HX-Request": "true"}
        )
        assert response.status_code == 200
        assert run_state(run.pk).status in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.DONE)
        wait_for(
            lambda: run_state(run.pk).status == RunStatus.DONE,
            process=process,
            timeout=60,
        )
        finish_duplicates(process)
    assert_completed_once(run.pk, corpus)
