"""The review page lists disagreements 30 at a time: j/k cross window edges, settling
works in a later window, and the article's marks (built in the browser) stay exact."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotations.models import AssignmentStatus, ReviewDecision
from annotations.services import assignments, imports, spans

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reviewer_moves_across_windows_and_settles_with_the_keyboard(coding, study):
    words = [f"w{i:03d}" for i in range(70)]
    text = "Intro 😀 “quoted” " + " ".join(words) + " <b>&amp; end.\n"
    document = imports.documents_import(
        project=study["project"], files=[("win.txt", text.encode())]
    ).created[0]
    a = assignments.assignment_create(document=document, coder=study["coder_a"])
    b = assignments.assignment_create(document=document, coder=study["coder_b"])
    code = study["codes"]["Sourcing"]
    for w in words:
        s = document.text.index(w)
        spans.span_create(assignment=a, code_id=code.pk, start=s, end=s + len(w), quote=w)
    s = document.text.index("end")
    for x in (a, b):
        spans.span_create(assignment=x, code_id=code.pk, start=s, end=s + 3, quote="end")
        assignments.assignment_set_status(assignment=x, status=AssignmentStatus.DONE)
    page = coding.open(study["reviewer"], reverse("review", args=[document.pk]))
    assert page.locator("#review-text").evaluate("e => e.textContent") == document.text
    expect(page.locator("#review tr.item")).to_have_count(30)
    marks = page.locator("#review-text .mark")
    expect(marks).to_have_count(71)
    assert marks.nth(0).text_content() == "w000"
    assert marks.nth(70).text_content() == "end"
    assert "<b>" in page.locator("#review-text").text_content()
    for _ in range(30):
        page.keyboard.press("j")
    expect(page.locator("#review tr.item.current th")).to_have_text("30")
    page.keyboard.press("j")
    expect(page.locator("#review tr.item.current th")).to_have_text("31")
    expect(page.locator("#review tr.item").first.locator("th")).to_have_text("31")
    expect(page.locator("#review-text .mark.current")).to_have_text("w030")
    page.keyboard.press("x")
    expect(page.locator("#review tr.item.settled")).to_have_count(1)
    expect(page.locator("#review tr.item.current th")).to_have_text("31")
    expect(page.locator("#open-count")).to_have_text("69 open disagreements")
    # the settled mark loses its highlight even though the article is not re-rendered
    expect(page.locator("#review-text .mark.settled")).to_have_count(2)  # w030 and agreed 'end'
    page.keyboard.press("k")
    expect(page.locator("#review tr.item.current th")).to_have_text("30")
    expect(page.locator("#review tr.item").first.locator("th")).to_have_text("1")
    page.locator("#review-text .mark", has_text="w065").click()
    expect(page.locator("#review tr.item.current th")).to_have_text("66")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("#review tr.item.settled")).to_have_count(1)
    expect(page.locator("#review tr.item.current th")).to_have_text("67")
    page.locator(".window-earlier").click()
    expect(page.locator("#review tr.item").first.locator("th")).to_have_text("31")
    expect(page.locator("#review tr.item.settled")).to_have_count(1)
    assert ReviewDecision.objects.count() == 2
