"""The review side's defects from the study run through the browser (issue 15): reviewers
never saw coders' notes, gold boundaries were typed as code-point numbers, "Review next"
and "Run now" said nothing when there was nothing to do, and a reviewer landed on a
coder's page with nothing in the header leading to the review queue."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotations.domain.settling import item_key
from annotations.models import GoldSpan, Provenance, Span
from annotations.selectors.review import document_alignment
from annotations.services import review

from .test_coding_defects import drag, on_screen, settled
from .test_review_browser import BOUNDARY_A, ONLY_B, seeded_review  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE_A = "Unsure: is “up to its old tricks” the outlet's own charge?"
NOTE_B = "Only the label; the rest is description."


def test_a_reviewer_sees_each_coders_note_and_sets_gold_by_selecting_words(
    coding,
    seeded_review,  # noqa: F811
):
    w = seeded_review
    document = w["document"]
    Span.objects.filter(assignment__coder=w["coder_a"], quote=BOUNDARY_A).update(note=NOTE_A)
    Span.objects.filter(assignment__coder=w["coder_b"], quote=ONLY_B).update(note=NOTE_B)
    # A reviewer's home is the review area: the queue and agreement, from the header too.
    page = coding.open(w["reviewer"], reverse("home"))
    expect(page).to_have_url(re.compile(r"/review/$"))
    header = page.get_by_role("navigation", name="Main")
    expect(header.get_by_role("link", name="Review and agreement")).to_be_visible()
    expect(header.get_by_role("link", name="Next document")).to_have_count(0)
    expect(page.get_by_role("link", name="Agreement", exact=True)).to_be_visible()
    page.get_by_role("link", name="Review next").click()
    expect(page).to_have_url(re.compile(rf"/documents/{document.pk}/review/"))
    # A click does not wait for the page's deferred script, which the keys below need:
    # on a loaded machine "j" could come before it listened.
    page.wait_for_load_state("load")

    # Notes: beside each coder's version, under the coder's pseudonym.
    lanes = page.locator("#review tr.item .lane .coder-note")
    expect(lanes.filter(has_text=NOTE_A)).to_contain_text("Note by Coder A:")
    expect(lanes.filter(has_text=NOTE_B)).to_contain_text("Note by Coder B:")
    html = page.content()
    assert "alice_coder" not in html and "bob_coder" not in html

    # Gold boundaries from a selection in the article, moved by word and character keys.
    page.keyboard.press("j")  # the boundary disagreement: "U.S. imperialism …"
    expect(page.locator("#review tr.item.current")).to_have_class(re.compile("kind-boundary"))
    text = document.text
    fragment = "mperialism is up to its old"
    start = text.index(fragment)
    drag(page, start, start + len(fragment), "review-text")
    edit = page.locator("#review form.settle details.edit")
    expect(edit).to_have_attribute("open", "")
    expect(edit.locator(".edit-quote")).to_have_text("“imperialism is up to its old”")
    expect(edit.locator(".edit-submit")).to_be_focused()
    page.keyboard.press(".")  # end one word later
    page.keyboard.press("[")  # start one word earlier: "S. imperialism …" ("U.S." is two words)
    expect(edit.locator(".edit-quote")).to_have_text("“S. imperialism is up to its old tricks”")
    page.keyboard.press("}")  # one character later: ". imperialism …"
    expect(edit.locator(".edit-quote")).to_have_text("“. imperialism is up to its old tricks”")
    page.keyboard.press("{")
    page.keyboard.press("[")
    expect(edit.locator(".edit-quote")).to_have_text("“U.S. imperialism is up to its old tricks”")
    page.keyboard.press(",")
    expect(edit.locator(".edit-quote")).to_have_text("“U.S. imperialism is up to its old”")
    page.keyboard.press("Enter")
    expect(page.locator("#review tr.item.settled")).to_have_count(1)
    expect(page.locator("#notice")).to_contain_text("Settled (edit)")
    assert on_screen(page, "#notice")
    gold = GoldSpan.objects.live().get(document=document, provenance=Provenance.EDIT)
    assert gold.quote == "U.S. imperialism is up to its old"
    assert text[gold.start : gold.end] == gold.quote

    # An existing gold span moves by one character with the gold lane's buttons.
    settled(page)
    cell = page.locator(f'.gold-span[data-gold="{gold.pk}"]')
    cell.get_by_role("button", name="‹ end").click()
    expect(page.locator("#notice")).to_have_text("Gold span saved.")
    gold.refresh_from_db()
    assert gold.quote == "U.S. imperialism is up to its ol"


def test_review_next_and_run_now_say_when_there_is_nothing_to_do(
    coding,
    seeded_review,  # noqa: F811
):
    w = seeded_review
    project, document, reviewer = w["project"], w["document"], w["reviewer"]
    page = coding.open(reviewer, reverse("agreement", args=[project.pk]))
    page.locator("#run-now").click()
    expect(page.locator("#feedback-status")).to_contain_text("is queued")
    settled(page)
    page.locator("#run-now").click()
    expect(page.locator("#feedback-status")).to_contain_text("no new run was started")
    assert on_screen(page, "#feedback-status p")

    # Review next, once everything is settled.
    review.gold_accept_agreed(document=document, actor=reviewer)
    for item in document_alignment(document).items:
        if item.kind != "agreed":
            review.gold_settle(
                document=document, item_key=item_key(item), action="reject", actor=reviewer
            )
    page.goto(coding.url + reverse("review-next", args=[project.pk]))
    expect(page).to_have_url(re.compile(rf"/projects/{project.pk}/review/$"))
    expect(page.locator("#feedback-status")).to_contain_text("Nothing left to review")
    assert on_screen(page, "#feedback-status p")
