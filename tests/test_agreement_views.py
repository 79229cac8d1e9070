"""The agreement page: who may see it, run now, polling while a run is under way."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import AgreementRun, AssignmentStatus
from annotations.services import agreement as service
from annotations.services import assignments, spans

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished(study):
    text = study["document"].text
    for coder, phrase in (("a", "Officials said"), ("b", "Officials")):
        start = text.index(phrase)
        spans.span_create(
            assignment=study[f"assignment_{coder}"],
            code_id=study["codes"]["Sourcing"].pk,
            start=start,
            end=start + len(phrase),
            quote=phrase,
        )
        assignments.assignment_set_status(
            assignment=study[f"assignment_{coder}"], status=AssignmentStatus.DONE
        )
    return study


def page(client, user, project):
    client.force_login(user)
    return client.get(reverse("agreement", args=[project.pk]))


def test_coders_of_a_blind_project_cannot_open_the_agreement_page(client, finished):
    assert page(client, finished["coder_a"], finished["project"]).status_code == 404


def test_coders_of_an_open_project_may_see_agreement(client, finished):
    finished["project"].blind = False
    finished["project"].save()
    assert page(client, finished["coder_a"], finished["project"]).status_code == 200


def test_reviewer_sees_results_pseudonymous_pairs_and_a_methods_sentence(client, finished):
    run = service.agreement_request(
        project=finished["project"], run_settings=service.RunSettings(n_bootstrap=50), enqueue=False
    ).run
    service.agreement_execute(run_id=run.pk)
    response = page(client, finished["reviewer"], finished["project"])
    html = response.content.decode()
    assert response.status_code == 200
    assert "Agreement was assessed on 1 article coded independently by 2 coders" in html
    assert "Coder A · Coder B" in html
    assert "coder_a" not in html and "coder_b" not in html
    assert 'hx-trigger="every 2s"' not in html


def test_run_now_queues_one_run_and_the_panel_polls_until_it_ends(
    client, finished, django_capture_on_commit_callbacks
):
    client.force_login(finished["manager"])
    url = reverse("agreement-run", args=[finished["project"].pk])
    with django_capture_on_commit_callbacks() as callbacks:
        first = client.post(url, HTTP_HX_REQUEST="true")
        client.post(url, HTTP_HX_REQUEST="true")
    assert first.status_code == 200
    assert AgreementRun.objects.count() == 1
    assert len(callbacks) == 1
    html = first.content.decode()
    assert 'hx-trigger="every 2s"' in html and "<html" not in html
    assert first["Vary"] and "HX-Request" in first["Vary"]
    run = AgreementRun.objects.get()
    service.agreement_execute(run_id=run.pk)
    client.force_login(finished["manager"])
    done = client.get(reverse("agreement", args=[finished["project"].pk]), HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 2s"' not in done.content.decode()
    assert "Results of run" in done.content.decode()


def test_rerun_of_another_projects_run_is_not_found(client, finished, make_project):
    other = make_project("Other")
    run = AgreementRun.objects.create(project=other, fingerprint="x")
    client.force_login(finished["manager"])
    url = reverse("agreement-rerun", args=[finished["project"].pk, run.pk])
    assert client.post(url).status_code == 404


def test_the_page_prints_both_unitizing_coefficients_and_what_each_rests_on(client, finished):
    run = service.agreement_request(
        project=finished["project"], run_settings=service.RunSettings(n_bootstrap=50), enqueue=False
    ).run
    service.agreement_execute(run_id=run.pk)
    html = page(client, finished["reviewer"], finished["project"]).content.decode()
    assert "uα</abbr>" in html and "αu (2004)</abbr>" in html
    assert 'id="family"' in html or 'id="family-not-applicable"' in html
    # One double-coded document: no interval can be estimated, and the page says so.
    assert "not available" in html and "95% CI .89–.89" not in html
    assert "fewer than two documents" in html
    assert "unitizing uα (Krippendorff, Mathet, Bouvry &amp; Widlöcher 2016;" in html
    assert "1 article, 2 coders" in html


def test_run_now_on_unchanged_work_says_nothing_new_was_started(client, finished):
    client.force_login(finished["reviewer"])
    url = reverse("agreement-run", args=[finished["project"].pk])
    first = client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert "is queued" in first
    again = client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Nothing changed since run" in again
    assert AgreementRun.objects.count() == 1


def test_an_interval_every_resample_agrees_on_says_so_rather_than_looking_missing(
    client, study, add_document
):
    """Two documents both coders tagged identically: every resample gives 1, so the interval
    is 1 to 1; the page and the sentence say that every resample gave that value."""
    second = add_document(study["project"], "Officials said the vote was free.", "second.txt")
    for key in ("a", "b"):
        own = assignments.assignment_create(document=second, coder=study[f"coder_{key}"])
        for assignment, text in ((study[f"assignment_{key}"], study["document"].text), (own, "")):
            text = text or second.text
            spans.span_create(
                assignment=assignment,
                code_id=study["codes"]["Sourcing"].pk,
                start=text.index("Officials said"),
                end=text.index("Officials said") + len("Officials said"),
                quote="Officials said",
            )
            assignments.assignment_set_status(assignment=assignment, status=AssignmentStatus.DONE)
    run = service.agreement_request(
        project=study["project"], run_settings=service.RunSettings(n_bootstrap=50), enqueue=False
    ).run
    service.agreement_execute(run_id=run.pk)
    html = page(client, study["reviewer"], study["project"]).content.decode()
    assert "1.000 to 1.000" in html
    assert "every one of 50 resamples gave 1.000" in html
    assert "(every one of 50 resamples gave 1.00)" in html  # the methods sentence
