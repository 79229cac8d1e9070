"""Every page, as each role sees it, checked with axe-core; and the screenshots looked at.

axe-core comes from the npm registry for the tests only (``make test`` installs it into
var/test-node/); the app never ships or serves it. The test serves it to the pages from a
route of its own on the page's origin, so the pages keep their strict CSP. Serious and
critical violations fail; every finding is written to var/reports/axe.md.

The screenshots of the coding, review, agreement and dashboard pages are written to
var/screenshots/ on the way.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from annotations.models import AgreementRun, Role
from annotations.services import agreement, assignments, people
from annotations.services.seed import load_demo

from .test_coding_screen import tag

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "var" / "test-node" / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL = "/__tests__/axe.min.js"  # answered by the test's route, never by the app
REPORT = Path(settings.BASE_DIR) / "var" / "reports" / "axe.md"
FAILING = {"serious", "critical"}
# WCAG 2.0/2.1/2.2 A and AA, plus axe's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))
  }));
}"""


def check(page, label: str, findings: dict) -> None:
    page.add_script_tag(url=AXE_URL)
    findings[label] = page.evaluate(RUN_AXE, TAGS)


@pytest.fixture
def study(make_user):
    """The seed project with the demo coders' finished work, a finished agreement run, a
    coder in progress, a reviewer and a manager."""
    load_demo()
    from annotations.models import Project

    project = Project.objects.get(name="Cambodia framing", created_by__isnull=True)
    run = AgreementRun.objects.filter(project=project).latest("pk")
    agreement.agreement_execute(run_id=run.pk)
    coder, reviewer, manager = make_user("coder"), make_user("reviewer"), make_user("manager")
    for user, role in ((coder, Role.CODER), (reviewer, Role.REVIEWER), (manager, Role.MANAGER)):
        people.membership_set(project=project, user=user, role=role)
    document = project.documents.order_by("pk").first()
    assignments.assignment_create(document=document, coder=coder)
    codes = {code.name: code for code in project.codebook.codes.all()}
    tag(coder, document, codes["Loaded language"], "U.S. imperialism is up to its old tricks")
    tag(coder, document, codes["Sourcing"], "Hun Sen said", note="attribution only")
    tag(coder, document, codes["Loaded language"], "blatant interference")
    return {
        "project": project,
        "document": document,
        "coda": project.documents.order_by("pk").last(),
        "coder": coder,
        "reviewer": reviewer,
        "manager": manager,
    }


def test_every_page_passes_axe_for_each_role_and_screenshots_are_taken(coding, study, screenshots):
    if not AXE.exists():
        pytest.skip("axe-core is not installed: make test installs it (npm) into var/test-node")
    project, document = study["project"], study["document"]
    findings: dict[str, list] = {}

    def open_as(user):
        if user is None:
            context = coding.browser.new_context(viewport={"width": 1400, "height": 1000})
            coding.contexts.append(context)
        else:
            context = coding.context(user)
        context.route(
            f"**{AXE_URL}",
            lambda route: route.fulfill(
                body=AXE.read_bytes(), content_type="text/javascript; charset=utf-8"
            ),
        )
        return context

    # Coder: my work, the project, the coding page (a span open, the find box open).
    context = open_as(study["coder"])
    page = coding.open(context, reverse("home"))
    # "My work" names each document's outlet (was: two truncated first sentences only).
    expect(page.get_by_role("columnheader", name="Outlet")).to_be_visible()
    expect(page.get_by_role("cell", name="Red Fire Online")).to_be_visible()
    check(page, "coder · My work", findings)
    page.goto(coding.url + reverse("project", args=[project.pk]))
    check(page, "coder · project", findings)
    page.goto(coding.url + reverse("annotate", args=[document.pk]))
    page.locator("#doc-text .hl").first.click()
    expect(page.locator("#inspector")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=screenshots / "coding-page.png")
    check(page, "coder · coding page (span open)", findings)
    page.focus("#doc-text")
    page.keyboard.press("/")
    page.keyboard.type("wash")
    page.screenshot(path=screenshots / "coding-find.png")
    page.keyboard.press("Enter")
    check(page, "coder · coding page (find, selection)", findings)
    page.keyboard.press("Escape")
    page.keyboard.press("4")  # nothing selected: an error in the feedback region
    expect(page.locator("#error")).to_be_visible()
    page.screenshot(path=screenshots / "coding-feedback.png")
    check(page, "coder · coding page (error shown)", findings)

    # Reviewer: home, queue, review page (notes, the settle toolbar, edit open), agreement.
    context = open_as(study["reviewer"])
    page = coding.open(context, reverse("home"))
    page.screenshot(path=screenshots / "review-home.png")
    check(page, "reviewer · review home", findings)
    page.goto(coding.url + reverse("review-queue", args=[project.pk]))
    check(page, "reviewer · review queue", findings)
    page.goto(coding.url + reverse("review", args=[study["coda"].pk]))
    # A quote with quote marks of its own gets no second pair.
    expect(page.locator("#review tr.item .what .quote").first).to_have_text(
        "released over 30 seemingly forced “confession” videos from his supporters"
    )
    page.keyboard.press("j")
    page.keyboard.press("e")
    expect(page.locator("#review form.settle details.edit")).to_have_attribute("open", "")
    page.screenshot(path=screenshots / "review-page.png")
    check(page, "reviewer · review page (edit open)", findings)
    page.goto(coding.url + reverse("agreement", args=[project.pk]))
    expect(page.locator("#per-code")).to_be_visible()
    # A code found in one document only: its interval is "not available", never ".81–.81".
    expect(page.locator("#per-code tr", has_text="Forced confession")).to_contain_text(
        "not available"
    )
    page.screenshot(path=screenshots / "agreement-page.png", full_page=True)
    check(page, "reviewer · agreement", findings)

    # Manager: every manage page, the audit trail, downloads.
    context = open_as(study["manager"])
    page = coding.open(context, reverse("home"))
    expect(page).to_have_url(coding.url + reverse("manage-dashboard", args=[project.pk]))
    page.screenshot(path=screenshots / "dashboard-page.png", full_page=True)
    check(page, "manager · dashboard", findings)
    for name in (
        "manage-projects",
        "manage-documents",
        "manage-codebook",
        "manage-people",
        "manage-assignments",
        "manage-settings",
        "manage-audit",
        "export",
    ):
        args = [] if name == "manage-projects" else [project.pk]
        page.goto(coding.url + reverse(name, args=args))
        check(page, f"manager · {name.removeprefix('manage-')}", findings)

    # Nobody logged in: the login page.
    page = coding.open(open_as(None), reverse("login"))
    check(page, "anonymous · login", findings)

    write_report(findings)
    failing = {
        label: [v for v in violations if v["impact"] in FAILING]
        for label, violations in findings.items()
    }
    failing = {label: v for label, v in failing.items() if v}
    assert not failing, f"serious or critical axe violations (see {REPORT}): {failing}"


def write_report(findings: dict[str, list]) -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# axe-core on every page, per role",
        "",
        f"Rules: {', '.join(TAGS)}. Produced by `pytest tests/browser/test_accessibility.py`.",
        "",
        "| page | serious or critical | moderate or minor | findings |",
        "| --- | ---: | ---: | --- |",
    ]
    for label, violations in findings.items():
        bad = sum(v["impact"] in FAILING for v in violations)
        other = len(violations) - bad
        listed = "; ".join(
            f"{v['id']} ({v['impact']}: {', '.join(v['nodes'])})" for v in violations
        )
        lines.append(f"| {label} | {bad} | {other} | {listed or 'none'} |")
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
