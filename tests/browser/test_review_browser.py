"""A reviewer settles a seed article in a real browser with the keyboard alone."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotations.models import (
    AssignmentStatus,
    GoldSpan,
    Provenance,
    ReviewDecision,
    ReviewStatus,
    Role,
    Span,
)
from annotations.services import assignments, people, spans
from annotations.services.seed import load_seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOUNDARY_A = "U.S. imperialism is up to its old tricks"
BOUNDARY_B = "U.S. imperialism"
AGREED = "Hun Sen said"
CLAIM = "Facebook is being utilised by the US deep state"
ONLY_B = "blatant interference"
ONLY_A = "The ministry stated"


def tag(assignment, code, phrase):
    text = assignment.document.text
    start = text.index(phrase)
    return spans.span_create(
        assignment=assignment,
        code_id=code.pk,
        start=start,
        end=start + len(phrase),
        quote=phrase,
        actor=assignment.coder,
    )


@pytest.fixture
def seeded_review(make_user):
    """The first seed article, coded by two coders with every kind of disagreement."""
    project = load_seed().project
    document = project.documents.order_by("pk").first()
    codes = {code.name: code for code in project.codebook.codes.all()}
    coder_a = make_user("alice_coder")
    coder_b = make_user("bob_coder")
    reviewer = make_user("rita_reviewer")
    for user, role in ((coder_a, Role.CODER), (coder_b, Role.CODER), (reviewer, Role.REVIEWER)):
        people.membership_set(project=project, user=user, role=role)
    a = assignments.assignment_create(document=document, coder=coder_a)
    b = assignments.assignment_create(document=document, coder=coder_b)
    tag(a, codes["Loaded language"], BOUNDARY_A)  # boundary
    tag(b, codes["Loaded language"], BOUNDARY_B)
    tag(a, codes["Sourcing"], AGREED)  # agreed
    tag(b, codes["Sourcing"], AGREED)
    tag(a, codes["Foreign-interference claim"], CLAIM)  # code
    tag(b, codes["Loaded language"], CLAIM)
    tag(b, codes["Loaded language"], ONLY_B)  # missed by A
    tag(a, codes["Sourcing"], ONLY_A)  # missed by B
    for assignment in (a, b):
        assignments.assignment_set_status(assignment=assignment, status=AssignmentStatus.DONE)
    return {
        "project": project,
        "document": document,
        "codes": codes,
        "coder_a": coder_a,
        "coder_b": coder_b,
        "reviewer": reviewer,
    }


def settled_rows(page, count: int) -> None:
    expect(page.locator("#review tr.item.settled")).to_have_count(count)


def test_a_reviewer_settles_every_disagreement_type_with_the_keyboard(coding, seeded_review):
    w = seeded_review
    document = w["document"]
    spans_before = list(Span.objects.order_by("pk").values())
    # Chromium asks for /favicon.ico, which we do not serve; any other 404 fails below.
    coding.watcher.allow(r"status of 404")
    missing = []
    context = coding.context(w["reviewer"])
    context.on(
        "response",
        lambda r: (
            missing.append(r.url)
            if r.status == 404 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page = coding.open(context, reverse("review", args=[document.pk]))
    html = page.content()
    assert "alice_coder" not in html and "bob_coder" not in html  # blind: pseudonyms only
    kinds = page.locator("#review tr.item").evaluate_all(
        "rows => rows.map(r => r.className.match(/kind-(\\w+)/)[1])"
    )
    assert kinds == ["boundary", "code", "missed", "missed"]

    page.keyboard.press("a")  # accept every agreed item
    expect(page.locator("#notice")).to_contain_text("Accepted 1 agreed item")

    page.keyboard.press("j")  # boundary: take Coder B's shorter version
    expect(page.locator("#review tr.item.current")).to_have_class("item kind-boundary current")
    expect(page.locator("#review-text .mark.current").first).to_be_visible()
    page.keyboard.press("2")
    settled_rows(page, 1)

    page.keyboard.press("j")  # code: Coder A's foreign-interference claim
    page.keyboard.press("1")
    settled_rows(page, 2)

    page.keyboard.press("j")  # only Coder B marked it: reject, with a rationale
    page.keyboard.press("r")
    page.keyboard.type("Quoted criticism, not the outlet's own charge.")
    page.keyboard.press("Enter")
    page.keyboard.press("x")
    settled_rows(page, 3)

    page.keyboard.press("k")  # back and forth: the current row survives each swap
    page.keyboard.press("j")
    page.keyboard.press("j")  # only Coder A marked it: accept A
    page.keyboard.press("1")
    settled_rows(page, 4)
    expect(page.locator("#open-count")).to_have_text("0 open disagreements")

    page.locator("#finish").click()
    expect(page.locator("#review-state")).to_have_text("Settled")

    gold = {g.quote: g for g in GoldSpan.objects.live().filter(document=document)}
    a, b = w["coder_a"].pk, w["coder_b"].pk
    expected = {
        AGREED: ("Sourcing", Provenance.UNANIMOUS, [a, b]),
        BOUNDARY_B: ("Loaded language", Provenance.DECISION, [b]),
        CLAIM: ("Foreign-interference claim", Provenance.DECISION, [a]),
        ONLY_A: ("Sourcing", Provenance.DECISION, [a]),
    }
    assert {
        quote: (g.code.name, g.provenance, g.source_coders) for quote, g in gold.items()
    } == expected
    for g in gold.values():
        assert document.text[g.start : g.end] == g.quote
        assert g.settled_by == w["reviewer"]
    rejected = ReviewDecision.objects.get(action="reject")
    assert rejected.rationale == "Quoted criticism, not the outlet's own charge."
    assert document.text[rejected.start : rejected.end] == ONLY_B
    assert ReviewDecision.objects.count() == 5
    assert document.review.status == ReviewStatus.SETTLED
    assert list(Span.objects.order_by("pk").values()) == spans_before
    assert not missing


def test_a_coder_cannot_open_the_review_page(coding, seeded_review):
    coding.watcher.allow(r"status of 404")
    document = seeded_review["document"]
    page = coding.open(seeded_review["coder_a"], reverse("review", args=[document.pk]))
    assert "Coder B" not in page.content() and "bob_coder" not in page.content()
    response = page.request.get(coding.url + reverse("review", args=[document.pk]))
    assert response.status == 404
