"""Span writes answered with only what changed: after every kind of write, the page htmx
patched is the page a fresh load draws (chromium, live server).

Each step compares, with a new tab opened on the same page: the text's markup and its
``textContent`` (the stored text, to the character), the span list, the span count and
the state token. The tint of the spans open in the inspector is compared apart: it is
set by the page's script, for exactly the spans the inspector shows.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotations.models import Span

from .test_coding_defects import settled
from .test_coding_screen import latest_span, seeded_coder, tag, wait_for_entries

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DRAWN = """() => ({
  text: document.getElementById("doc-text").innerHTML.replaceAll(" selected", ""),
  content: document.getElementById("doc-text").textContent,
  list: document.getElementById("span-groups").innerHTML,
  count: document.getElementById("span-count").textContent,
  token: document.getElementById("coding-state").dataset.state,
})"""

TINTED = """() => ({
  tinted: [...new Set(Array.from(document.querySelectorAll("#doc-text .hl.selected"),
                                 (el) => el.dataset.span))].sort(),
  open: Array.from(document.querySelectorAll("#inspector .inspected"),
                   (el) => el.dataset.span).sort(),
})"""


def test_the_page_after_creates_changes_deletes_and_undo_is_the_page_a_fresh_load_draws(
    coding, make_user
):
    coder, document, codes = seeded_coder(make_user, snap=False)
    text = document.text
    tag(coder, document, codes["Sourcing"], "Hun Sen said")
    url = reverse("annotate", args=[document.pk])
    context = coding.context(coder)
    page = coding.open(context, url)
    writes = []
    page.on(
        "response",
        lambda r: writes.append(r) if r.request.method == "POST" and "/spans" in r.url else None,
    )

    def same_as_a_fresh_load(step: str) -> None:
        settled(page)
        drawn = page.evaluate(DRAWN)
        assert drawn["content"] == text, step
        fresh = coding.open(context, url)
        expected = fresh.evaluate(DRAWN)
        fresh.close()
        for part in ("text", "list", "count", "token"):
            assert drawn[part] == expected[part], f"{step}: {part}"
        tint = page.evaluate(TINTED)
        assert tint["tinted"] == tint["open"], step

    def select_and_press(phrase: str, key: str, occurrence: int = 0) -> None:
        start = -1
        for _ in range(occurrence + 1):
            start = text.index(phrase, start + 1)
        assert coding.select(page, text, start, start + len(phrase)) == phrase
        count = page.locator(".span-entry").count()
        page.keyboard.press(key)
        wait_for_entries(page, count + 1)

    page.focus("#doc-text")
    claim = "Facebook is being utilised by the US deep state to prosecute its ongoing meddling"
    select_and_press(claim, "2")
    same_as_a_fresh_load("a first span")
    select_and_press("US deep state", "4")  # nested: the cluster is redrawn with two lanes
    same_as_a_fresh_load("a nested span")
    select_and_press("meddling in Cambodian affairs", "3")  # across the claim's end
    same_as_a_fresh_load("an overlapping span")
    outer, inner = Span.objects.get(quote=claim), Span.objects.get(quote="US deep state")

    # The inspector: a click opens the stack; a save changes one block.
    page.locator(f'.hl[data-span="{inner.pk}"]').first.click()
    expect(page.locator("#inspector .inspected")).to_have_count(2)
    same_as_a_fresh_load("two spans opened")
    block = page.locator(f'#inspector .inspected[data-span="{inner.pk}"]')
    block.get_by_label("Note").fill("a label, not a fact <b>")
    block.get_by_role("button", name="Save").click()
    expect(page.locator("#notice")).to_have_text("Saved.")
    same_as_a_fresh_load("a note")
    block = page.locator(f'#inspector .inspected[data-span="{inner.pk}"]')
    block.get_by_label("Code").select_option(label="Sourcing")
    block.get_by_role("button", name="Save").click()
    expect(page.locator(f"#insp-{inner.pk} .muted")).to_contain_text("version 3")
    same_as_a_fresh_load("another code")
    expect(page.locator("#inspector .inspected")).to_have_count(2)
    page.locator(f"#insp-{outer.pk}").get_by_role("button", name="end ⇥").click()
    expect(page.locator(f"#insp-{outer.pk} .quote")).to_have_text(claim + " in")
    same_as_a_fresh_load("a boundary moved")

    # Delete from the two-span inspector, then Undo with the keyboard.
    page.locator(f"#insp-{inner.pk}").get_by_role("button", name="Delete").click()
    expect(page.locator("#undo")).to_be_focused()
    expect(page.locator("#inspector .inspected")).to_have_count(1)
    same_as_a_fresh_load("a deletion")
    page.keyboard.press("Enter")
    expect(page.locator("#notice")).to_contain_text("Restored")
    same_as_a_fresh_load("undone")

    # A clicked code button and a span far down the text; then every span deleted.
    phrase = "the subsequent end of US imperialism"
    start = text.index(phrase)
    coding.select(page, text, start, start + len(phrase))
    page.get_by_role("button", name=re.compile("Loaded language")).click()
    wait_for_entries(page, 5)
    same_as_a_fresh_load("a clicked code")
    assert latest_span().quote == phrase
    for span in Span.objects.filter(deleted_at__isnull=True).order_by("pk"):
        page.locator(f'#doc-text .hl[data-span="{span.pk}"]').first.click()
        block = page.locator(f"#insp-{span.pk}")
        block.get_by_role("button", name="Delete").click()
        expect(page.locator(f'#doc-text .hl[data-span="{span.pk}"]')).to_have_count(0)
    same_as_a_fresh_load("all deleted")

    # Every write from the current page was answered with pieces, not the workspace.
    bodies = [response.text() for response in writes]
    assert len(bodies) >= 14
    assert all('id="workspace"' not in body for body in bodies)


def test_a_tab_that_is_behind_gets_the_whole_workspace_on_its_next_write(coding, make_user):
    coder, document, codes = seeded_coder(make_user)
    text = document.text
    url = reverse("annotate", args=[document.pk])
    context = coding.context(coder)
    behind = coding.open(context, url)
    tag(coder, document, codes["Sourcing"], "Hun Sen said")  # written elsewhere
    phrase = "blatant interference"
    start = text.index(phrase)
    behind.focus("#doc-text")
    coding.select(behind, text, start, start + len(phrase))
    behind.keyboard.press("4")
    wait_for_entries(behind, 2)
    settled(behind)
    fresh = coding.open(context, url)
    assert behind.evaluate(DRAWN) == fresh.evaluate(DRAWN)
    assert behind.locator("#doc-text .hl").count() == 2
