"""Celery tasks: thin interfaces that take ids and call a service."""

from __future__ import annotations

import os
import socket

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .models import Project, WorkerCheck
from .services import agreement as agreement_service

# Only errors that a retry can cure: the database or broker was briefly unreachable.
TRANSIENT = (OperationalError, InterfaceError, ConnectionError)


# An agreement job is heavy and never urgent, coders' writes are light and waited for: the
# worker process computing one gives up CPU to the web workers on the same machine. Where it
# can (Linux), it takes only CPU time nothing else wants (SCHED_IDLE): a nice value alone still
# gave the job a share of a core that web requests were waiting for, and writes during a job
# were up to 2.2x slower at p95 (1.2-1.4x idle-class; bench/load.py).
AGREEMENT_NICENESS = 10


def yield_cpu() -> None:
    """Lower the CPU priority of every thread of this process (never raises one): the idle
    scheduling class where there is one, and AGREEMENT_NICENESS. On Linux both belong to a
    thread, and numpy starts its BLAS threads when it is imported: lowering only the calling
    thread left the matrix work at the web workers' priority."""
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:  # no /proc: the calling thread (the whole process elsewhere)
        threads = [0]
    idle = getattr(os, "SCHED_IDLE", None)
    for thread in threads:
        try:
            if os.getpriority(os.PRIO_PROCESS, thread) < AGREEMENT_NICENESS:
                os.setpriority(os.PRIO_PROCESS, thread, AGREEMENT_NICENESS)
            if idle is not None:
                os.sched_setscheduler(thread, idle, os.sched_param(0))
        except OSError:  # gone meanwhile, or not permitted here: left as it is
            pass


@shared_task(name="annotations.tasks.worker_check", ignore_result=True)
def worker_check(token: str) -> None:
    """Write a row proving that this worker took a task from the broker and reached the database."""
    WorkerCheck.objects.get_or_create(token=token, defaults={"hostname": socket.gethostname()})


@shared_task(
    bind=True,
    name=agreement_service.COMPUTE_TASK,
    ignore_result=True,
    autoretry_for=TRANSIENT,
    retry_backoff=5,
    max_retries=5,
    acks_late=True,
    soft_time_limit=600,
    time_limit=660,
)
def agreement_compute(self, run_id: int) -> None:
    if not self.request.is_eager:
        yield_cpu()

    delivery = self.request.delivery_info or {}
    # A retry after a transient error, or a redelivery after a worker died, finds the run
    # marked running by an attempt that no longer exists.
    taken_over = bool(delivery.get("redelivered")) or self.request.retries > 0
    agreement_service.agreement_execute(run_id=run_id, redelivered=taken_over)


@shared_task(name=agreement_service.AUTO_TASK, ignore_result=True, autoretry_for=TRANSIENT)
def agreement_auto(project_id: int) -> None:
    project = Project.objects.filter(pk=project_id).first()
    if project is not None:
        agreement_service.agreement_request(project=project)


@shared_task(name="annotations.tasks.agreement_sweep", ignore_result=True, autoretry_for=TRANSIENT)
def agreement_sweep() -> None:
    agreement_service.agreement_sweep()
