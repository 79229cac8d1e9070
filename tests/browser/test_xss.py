"""Markup in article text, code names, notes, project names and user names is shown as text
on every page, in a real browser: no payload element is created and no script runs."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from annotations.models import AssignmentStatus, Role
from annotations.services import agreement, assignments, codebook, imports, people, projects, spans
from annotations.services import review as review_service

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCRIPT = "<script>window.__pwned = 1</script>"
IMAGE = '"><img src="x" onerror="window.__pwned = 2">'
PAYLOAD = f"{SCRIPT}{IMAGE}"


@pytest.fixture
def hostile():
    User = get_user_model()
    manager = User.objects.create_user(username=f"boss{IMAGE}", password="x")
    coders = [User.objects.create_user(username=f"c{i}{SCRIPT}", password="x") for i in (1, 2)]
    reviewer = User.objects.create_user(username="rev", password="x")
    project = projects.project_create(
        name=f"Study {PAYLOAD}", description=f"About {PAYLOAD}", actor=manager
    )
    code = codebook.code_create(
        codebook=project.codebook,
        name=f"Loaded {PAYLOAD}",
        definition=PAYLOAD,
        guidance=PAYLOAD,
        shortcut="1",
    )
    text = f"Before {PAYLOAD} after, and more words here.\n\nSecond {PAYLOAD} paragraph."
    outcome = imports.documents_import(
        project=project, files=[("hostile.txt", text.encode("utf-8"))], actor=manager
    )
    document = outcome.created[0]
    people.membership_set(project=project, user=reviewer, role=Role.REVIEWER)
    start = text.index("<script>")
    for user in coders:
        people.membership_set(project=project, user=user, role=Role.CODER)
        assignment = assignments.assignment_create(document=document, coder=user)
        spans.span_create(
            assignment=assignment,
            code_id=code.pk,
            start=start,
            end=start + len(SCRIPT),
            quote=SCRIPT,
            note=PAYLOAD,
            actor=user,
        )
        assignments.assignment_set_status(assignment=assignment, status=AssignmentStatus.DONE)
    run = agreement.agreement_request(
        project=project, run_settings=agreement.RunSettings(n_bootstrap=20), enqueue=False
    ).run
    agreement.agreement_execute(run_id=run.pk)
    review_service.review_start(document=document, actor=reviewer)
    return {
        "manager": manager,
        "coder": coders[0],
        "reviewer": reviewer,
        "project": project,
        "document": document,
    }


def assert_inert(page):
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("img[src='x']").count() == 0
    inline = page.evaluate("() => Array.from(document.scripts).filter(s => !s.src).length")
    assert inline == 0


def test_payloads_are_shown_as_text_on_every_page(coding, hostile):
    p, d = hostile["project"].pk, hostile["document"].pk
    pages = {
        "coder": [
            reverse("home"),
            reverse("project", args=[p]),
            reverse("annotate", args=[d]),
            reverse("inspect", args=[d]) + f"?at={hostile['document'].text.index('<script>')}",
            reverse("export", args=[p]),
        ],
        "reviewer": [
            reverse("review-queue", args=[p]),
            reverse("review", args=[d]),
            reverse("agreement", args=[p]),
        ],
        "manager": [
            reverse("manage-dashboard", args=[p]),
            reverse("manage-documents", args=[p]),
            reverse("manage-codebook", args=[p]),
            reverse("manage-people", args=[p]),
            reverse("manage-assignments", args=[p]),
            reverse("manage-audit", args=[p]),
            reverse("manage-settings", args=[p]),
        ],
    }
    for role, paths in pages.items():
        context = coding.context(hostile[role])
        for path in paths:
            page = coding.open(context, path)
            assert_inert(page)
            assert SCRIPT in page.inner_text("body") or "&lt;script" in page.content(), path
            page.close()


def test_the_article_text_node_content_is_the_stored_text_exactly(coding, hostile):
    document = hostile["document"]
    page = coding.open(hostile["coder"], reverse("annotate", args=[document.pk]))
    assert page.evaluate("() => document.getElementById('doc-text').textContent") == document.text
    assert_inert(page)
