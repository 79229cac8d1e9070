"""An agreement run requested through the web service is computed by a real worker process
(embedded broker, or Redis in CI), on its own queue, exactly as in production."""

from __future__ import annotations

import os

import pytest

from annotations.models import AgreementRun, AssignmentStatus, RunStatus
from annotations.services import agreement as service
from annotations.services import assignments, spans
from annotations.tasks import AGREEMENT_NICENESS

from .worker import wait_for, worker_process


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_computes_a_requested_run(study):
    text = study["document"].text
    for coder in ("a", "b"):
        start = text.index("Officials said")
        spans.span_create(
            assignment=study[f"assignment_{coder}"],
            code_id=study["codes"]["Sourcing"].pk,
            start=start,
            end=start + len("Officials said"),
            quote="Officials said",
        )
        assignments.assignment_set_status(
            assignment=study[f"assignment_{coder}"], status=AssignmentStatus.DONE
        )
    with worker_process(queues=["agreement"]) as (process, _):
        run = service.agreement_request(
            project=study["project"], run_settings=service.RunSettings(n_bootstrap=100)
        ).run
        done = wait_for(
            lambda: AgreementRun.objects.filter(pk=run.pk, status=RunStatus.DONE).first(),
            process=process,
            timeout=60,
        )
        # It computed at a lower CPU priority than the web workers it shares a machine with,
        # in every thread (numpy's BLAS threads too: on Linux a nice value is per thread).
        threads = [int(tid) for tid in os.listdir(f"/proc/{process.pid}/task")]
        assert len(threads) > 1
        niceness = {tid: os.getpriority(os.PRIO_PROCESS, tid) for tid in threads}
        assert min(niceness.values()) >= AGREEMENT_NICENESS, niceness
        # And only with CPU time nothing else wants, where Linux offers that class.
        policies = {tid: os.sched_getscheduler(tid) for tid in threads}
        assert set(policies.values()) == {os.SCHED_IDLE}, policies
    assert done.results["per_code"]["Sourcing"]["alpha_u"] == pytest.approx(1.0)
    assert done.attempts == 1
