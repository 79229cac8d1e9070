"""Agreement runs: which work counts, one computation per identical input, safe retries."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from annotations.agreement import span_f1, unitized_alpha
from annotations.models import AgreementRun, AssignmentStatus, RunStatus
from annotations.services import agreement as service
from annotations.services import assignments, spans

pytestmark = pytest.mark.django_db

FAST = service.RunSettings(n_bootstrap=50)


def tag(study, coder: str, code: str, phrase: str, occurrence: int = 0):
    document = study["document"]
    start = -1
    for _ in range(occurrence + 1):
        start = document.text.index(phrase, start + 1)
    return spans.span_create(
        assignment=study[f"assignment_{coder}"],
        code_id=study["codes"][code].pk,
        start=start,
        end=start + len(phrase),
        quote=phrase,
    )


def finish(study, *coders):
    for coder in coders:
        assignments.assignment_set_status(
            assignment=study[f"assignment_{coder}"], status=AssignmentStatus.DONE
        )


@pytest.fixture
def coded(study, django_capture_on_commit_callbacks):
    tag(study, "a", "Sourcing", "Officials said")
    tag(study, "b", "Sourcing", "Officials said")
    tag(study, "a", "Loaded language", "sham")
    tag(study, "b", "Loaded language", "called it a sham")
    tag(study, "a", "Sourcing", "Critics called")
    finish(study, "a", "b")
    return study


def run_now(project, run_settings=FAST):
    run = service.agreement_request(project=project, run_settings=run_settings, enqueue=False).run
    return service.agreement_execute(run_id=run.pk)


def test_alpha_u_per_code_equals_the_coefficient_on_the_same_spans(coded):
    run = run_now(coded["project"])
    assert run.status == RunStatus.DONE
    text = coded["document"].text
    a, b = coded["coder_a"].pk, coded["coder_b"].pk
    spans = [
        (f"u{s.assignment.coder_id}", s.start, s.end, s.code.name)
        for s in coded["document"].assignments.get(coder_id=a).spans.all()
    ] + [
        (f"u{s.assignment.coder_id}", s.start, s.end, s.code.name)
        for s in coded["document"].assignments.get(coder_id=b).spans.all()
    ]
    for code in ("Sourcing", "Loaded language"):
        expected = unitized_alpha(spans, len(text), code=code, coders=[f"u{a}", f"u{b}"])
        assert run.results["per_code"][code]["alpha_u"] == pytest.approx(expected, abs=1e-12)
    exact = span_f1(
        [s[1:] for s in spans if s[0] == f"u{a}"], [s[1:] for s in spans if s[0] == f"u{b}"]
    )
    assert run.results["pairs"][f"u{a}|u{b}"]["overall"]["span_f1_exact"] == pytest.approx(exact)
    assert run.results["counts"]["documents"] == 1
    assert run.results["counts"]["spans"] == 5


def test_only_documents_finished_by_two_coders_count_unless_asked(study):
    tag(study, "a", "Sourcing", "Officials said")
    tag(study, "b", "Sourcing", "Officials said")
    finish(study, "a")
    assert run_now(study["project"]).results["counts"]["documents"] == 0
    with_progress = service.RunSettings(n_bootstrap=50, include_in_progress=True)
    assert run_now(study["project"], with_progress).results["counts"]["documents"] == 1


def reopen(study, coder):
    assignments.assignment_set_status(
        assignment=study[f"assignment_{coder}"], status=AssignmentStatus.IN_PROGRESS
    )


def test_deleted_spans_do_not_count(coded):
    before = run_now(coded["project"]).results["counts"]["spans"]
    reopen(coded, "a")  # work marked done changes only once reopened
    span = coded["assignment_a"].spans.live().get(quote="Critics called")
    spans.span_delete(span=span, expected_version=span.version)
    finish(coded, "a")
    assert run_now(coded["project"]).results["counts"]["spans"] == before - 1


def test_asking_twice_for_the_same_input_gives_the_same_run(coded):
    first = service.agreement_request(
        project=coded["project"], run_settings=FAST, enqueue=False
    ).run
    second = service.agreement_request(
        project=coded["project"], run_settings=FAST, enqueue=False
    ).run
    assert first.pk == second.pk
    service.agreement_execute(run_id=first.pk)
    third = service.agreement_request(
        project=coded["project"], run_settings=FAST, enqueue=False
    ).run
    assert third.pk == first.pk
    reopen(coded, "b")
    tag(coded, "b", "Sourcing", "Critics called")
    finish(coded, "b")
    fourth = service.agreement_request(
        project=coded["project"], run_settings=FAST, enqueue=False
    ).run
    assert fourth.pk != first.pk
    assert AgreementRun.objects.count() == 2


def test_executing_a_run_twice_computes_it_once(coded):
    run = service.agreement_request(project=coded["project"], run_settings=FAST, enqueue=False).run
    service.agreement_execute(run_id=run.pk)
    finished = AgreementRun.objects.get(pk=run.pk)
    service.agreement_execute(run_id=run.pk)
    again = AgreementRun.objects.get(pk=run.pk)
    assert again.attempts == finished.attempts == 1
    assert again.finished_at == finished.finished_at


def test_the_same_seed_gives_the_same_interval(coded):
    first = run_now(coded["project"]).results
    AgreementRun.objects.all().delete()
    second = run_now(coded["project"]).results
    assert first["per_code"] == second["per_code"]


def test_the_sweep_requeues_a_run_stuck_in_running_or_queued(
    coded, django_capture_on_commit_callbacks
):
    run = service.agreement_request(project=coded["project"], run_settings=FAST, enqueue=False).run
    long_ago = timezone.now() - timedelta(hours=1)
    AgreementRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=long_ago, requested_at=long_ago
    )
    fresh = service.agreement_request(
        project=coded["project"], run_settings=service.RunSettings(n_bootstrap=60), enqueue=False
    ).run
    with django_capture_on_commit_callbacks() as callbacks:
        requeued = service.agreement_sweep()
    assert requeued == [run.pk]
    assert len(callbacks) == 1
    stuck = AgreementRun.objects.get(pk=run.pk)
    assert stuck.status == RunStatus.QUEUED and stuck.task_id != run.task_id
    assert AgreementRun.objects.get(pk=fresh.pk).status == RunStatus.QUEUED


def test_marking_done_schedules_an_automatic_run(study, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        finish(study, "a")
    assert len(callbacks) == 1


def test_a_failed_computation_is_recorded_on_the_run(coded, monkeypatch):
    run = service.agreement_request(project=coded["project"], run_settings=FAST, enqueue=False).run

    def broken(*args, **kwargs):
        raise ValueError("numbers went wrong")

    monkeypatch.setattr(service, "compute_report", broken)
    with pytest.raises(ValueError):
        service.agreement_execute(run_id=run.pk)
    failed = AgreementRun.objects.get(pk=run.pk)
    assert failed.status == RunStatus.FAILED
    assert "numbers went wrong" in failed.error


def test_the_command_prints_json_from_the_same_service(coded, capsys):
    call_command("agreement", coded["project"].name, "--json", "--bootstrap", "50")
    data = json.loads(capsys.readouterr().out)
    run = AgreementRun.objects.get(pk=data["run"])
    assert data["per_code"] == run.results["per_code"]
    call_command("agreement", coded["project"].name, "--bootstrap", "50")
    out = capsys.readouterr().out
    assert "Sourcing" in out and "Agreement was assessed on 1 article" in out
    # Each coefficient says what it rests on, and the summary prints it.
    assert "What each coefficient rests on:" in out
    assert "u_alpha: 1 documents, 2 coders" in out and "alpha_u: 1 documents" in out
    assert "All codes, 2016 family:" in out


def test_a_run_whose_message_was_lost_is_queued_again_by_the_sweep_and_by_run_now(
    coded, django_capture_on_commit_callbacks
):
    """The embedded broker once lost a message: the run stayed queued with no attempt, and
    "Run now" kept returning it because its fingerprint was active."""
    project = coded["project"]
    with django_capture_on_commit_callbacks() as sent:
        run = service.agreement_request(project=project, run_settings=FAST).run
    assert len(sent) == 1  # the message that gets lost
    # Asked again at once: the same run, not queued twice.
    with django_capture_on_commit_callbacks() as sent:
        again = service.agreement_request(project=project, run_settings=FAST)
    assert again.run.pk == run.pk and not again.requeued and not sent
    four_minutes_ago = timezone.now() - timedelta(minutes=4)
    AgreementRun.objects.filter(pk=run.pk).update(requested_at=four_minutes_ago)
    with django_capture_on_commit_callbacks() as sent:
        again = service.agreement_request(project=project, run_settings=FAST)
    assert again.run.pk == run.pk and again.requeued and len(sent) == 1
    assert "queued again" in again.message
    AgreementRun.objects.filter(pk=run.pk).update(requested_at=four_minutes_ago)
    with django_capture_on_commit_callbacks() as sent:
        assert service.agreement_sweep() == [run.pk]
    assert len(sent) == 1
    # A run that did start is left to the 15-minute rule (its worker may still be at it).
    AgreementRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, attempts=1, started_at=four_minutes_ago
    )
    assert service.agreement_sweep() == []


def test_asking_for_a_run_reads_no_document_text(coded):
    """The request fingerprints span ids and versions; only the worker loads texts."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        request = service.agreement_request(
            project=coded["project"], run_settings=FAST, enqueue=False
        )
    assert request.created
    selects = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert not [sql for sql in selects if '"annotations_document"."text"' in sql], selects
    assert len(queries) <= 8


def test_the_fingerprint_changes_with_every_edit_that_changes_the_input(coded):
    project = coded["project"]
    first = service.fingerprint(project, FAST)
    assert service.fingerprint(project, FAST) == first
    reopen(coded, "a")
    finish(coded, "a")
    reopened = service.fingerprint(project, FAST)
    assert reopened == first  # the same work, done again: the same input
    reopen(coded, "a")
    span = coded["assignment_a"].spans.live().first()
    spans.span_update(span=span, expected_version=span.version, note="doubt", actor=None)
    finish(coded, "a")
    second = service.fingerprint(project, FAST)
    assert second != first
    assert service.fingerprint(project, service.RunSettings(n_bootstrap=51)) != second


def test_a_document_only_one_coder_finished_is_listed_with_the_reason(study):
    tag(study, "a", "Sourcing", "Officials said")
    finish(study, "a")
    result = run_now(study["project"]).results
    assert result["counts"]["documents"] == 0
    left = result["usage"]["nominal"]["left_out"]
    assert left == [{"document": study["document"].pk, "reason": "only one coder finished it"}]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's snapshot isolation")
def test_a_run_records_the_fingerprint_of_exactly_what_it_computed(study, monkeypatch):
    """A coder reopening their work between the fingerprint and the gathering of the input
    is in neither: the run's fingerprint describes its input, so asking again re-runs."""
    tag(study, "a", "Sourcing", "Officials said")
    tag(study, "b", "Sourcing", "Officials said")
    finish(study, "a", "b")
    run = service.agreement_request(project=study["project"], run_settings=FAST, enqueue=False).run
    real_gather, seen = service.gather, {}

    def gather_after_a_write(project, run_settings):
        def reopen_meanwhile():
            try:
                assignments.assignment_set_status(
                    assignment=study["assignment_b"], status=AssignmentStatus.IN_PROGRESS
                )
            finally:
                connections.close_all()

        thread = threading.Thread(target=reopen_meanwhile)
        thread.start()
        thread.join()
        inputs = real_gather(project, run_settings)
        seen["spans"] = sum(len(d.spans) for d in inputs.documents)
        return inputs

    monkeypatch.setattr(service, "gather", gather_after_a_write)
    done = service.agreement_execute(run_id=run.pk)
    assert seen["spans"] == 2  # coder b's work still counted: the reopening was not read
    assert done.fingerprint == run.fingerprint  # and the recorded input is what was read
    monkeypatch.setattr(service, "gather", real_gather)
    again = service.agreement_request(project=study["project"], run_settings=FAST, enqueue=False)
    assert again.created  # the reopening is new input
