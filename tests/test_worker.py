"""A real Celery worker process takes a task from the configured broker and writes to the
database: the embedded filesystem broker by default, Redis when CELERY_BROKER_URL says so."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings

from annotations.models import WorkerCheck
from annotations.tasks import worker_check

from .worker import wait_for, worker_process


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_takes_a_task_from_the_broker_and_writes_to_the_database():
    token = uuid.uuid4().hex
    with worker_process() as (process, queues):
        worker_check.apply_async(args=[token], queue=queues[0])
        check = wait_for(
            lambda: WorkerCheck.objects.filter(token=token).first(), process=process, timeout=60
        )
    assert check.hostname


def test_the_broker_is_the_embedded_one_unless_configured():
    import os

    if os.environ.get("CELERY_BROKER_URL"):
        assert settings.CELERY_BROKER_URL == os.environ["CELERY_BROKER_URL"]
    else:
        assert settings.CELERY_BROKER_URL == "filesystem://"
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        assert options["data_folder_in"] == options["data_folder_out"]
        assert options["data_folder_in"].startswith("/")
