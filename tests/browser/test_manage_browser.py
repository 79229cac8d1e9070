"""A principal investigator sets up a study in the browser alone, from a fresh install:
no seed, no admin, no shell. Uses the shared ``coding`` fixture (tests/browser/conftest.py),
which fails the test on any console error or CSP violation."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from annotations.models import Assignment, Document, Membership, Project, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CORPUS = sorted((Path(settings.BASE_DIR) / "fixtures" / "corpus").glob("*.txt"))


def test_a_manager_goes_from_nothing_to_two_coders_assigned_to_both_seed_articles(
    coding, make_user
):
    assert len(CORPUS) == 2
    assert not Project.objects.exists()
    pi = make_user("pi")
    call_command("project_creators", "add", "pi", stdout=io.StringIO())
    context = coding.context(pi)
    # base.html declares no favicon, so chromium's automatic request would log a 404.
    context.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page = coding.open(context, reverse("manage-projects"))
    expect(page.get_by_text("You do not manage any project yet")).to_be_visible()

    # 1. Create the project.
    page.get_by_label("Name").fill("Cambodia 2023")
    page.get_by_label("Description").fill("Framing of the 2023 elections.")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Documents")).to_be_visible()
    project = Project.objects.get(name="Cambodia 2023")

    # 2. Upload both seed files: the preview stores nothing, the confirmation imports both.
    page.get_by_label("Files").set_input_files([str(path) for path in CORPUS])
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("2 documents will be created")).to_be_visible()
    assert not Document.objects.filter(project=project).exists()
    page.get_by_role("button", name="Import 2 documents").click()
    expect(page.get_by_text("Imported 2 documents.")).to_be_visible()
    assert Document.objects.filter(project=project).count() == 2

    # 3. Invite two coders; each opens their link in their own browser and chooses a
    #    password, which creates their account and makes them members.
    page.get_by_role("link", name="People").click()
    links = {}
    for username in ("alice", "bob"):
        page.get_by_label("User name").fill(username)
        page.get_by_label("Role", exact=True).select_option("coder")
        page.get_by_role("button", name="Invite", exact=True).click()
        expect(page.get_by_text(f"Invited {username} as coder")).to_be_visible()
        link = page.get_by_label(f"Invitation link for {username}")
        expect(link).to_have_value(re.compile(r"/invitations/[^/]+/$"))
        links[username] = link.input_value()
    for link in links.values():
        newcomer = coding.browser.new_context()
        own = newcomer.new_page()
        coding.watcher.watch(own)
        own.goto(link)
        own.get_by_label("Password", exact=True).fill("a quiet river 42")
        own.get_by_label("The same password again").fill("a quiet river 42")
        own.get_by_role("button", name="Choose password and join").click()
        expect(own.get_by_text("Welcome: you joined “Cambodia 2023”.")).to_be_visible()
        newcomer.close()

    # 4. Assign every document to every coder.
    page.get_by_role("link", name="Assignments").click()
    page.get_by_label("Every document to every coder").check()
    page.get_by_role("button", name="Assign", exact=True).first.click()
    expect(page.get_by_text("Created 4 assignments.")).to_be_visible()

    # 5. The dashboard shows both coders with two documents each.
    page.get_by_role("link", name="Progress").click()
    expect(page.get_by_role("cell", name="alice")).to_be_visible()

    coders = {
        m.user.username
        for m in Membership.objects.filter(project=project, role=Role.CODER).select_related("user")
    }
    assert coders == {"alice", "bob"}
    pairs = set(
        Assignment.objects.filter(document__project=project).values_list(
            "document__title", "coder__username"
        )
    )
    titles = set(Document.objects.filter(project=project).values_list("title", flat=True))
    assert pairs == {(title, coder) for title in titles for coder in coders}
    assert Membership.objects.get(project=project, user=pi).role == Role.MANAGER
