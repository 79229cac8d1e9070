"""Celery tasks: thin interfaces that take ids and call a service."""

from __future__ import annotations

import socket

from celery import shared_task


@shared_task(name="annotations.tasks.worker_check", ignore_result=True)
def worker_check(token: str) -> None:
    """Write a row proving that this worker took a task from the broker and reached the database."""
    from .models import WorkerCheck

    WorkerCheck.objects.get_or_create(token=token, defaults={"hostname": socket.gethostname()})
