"""The coding screen's defects found in a full study run through the browser (issue 15),
each reproduced as it was met, and shown fixed: no lost clicks, feedback where the eyes
are, a codebook that never takes the selection, fast keyboard work, words not fragments.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotations.models import AssignmentStatus, Span
from annotations.services import assignments

from .test_coding_screen import latest_span, seeded_coder, tag, wait_for_entries

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where an element is on screen: inside the viewport, and not covered by another element.
ON_SCREEN = """(selector) => {
  const el = document.querySelector(selector);
  if (!el) return null;
  const r = el.getBoundingClientRect();
  return {top: r.top, bottom: r.bottom, height: r.height, inner: window.innerHeight,
          visible: r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight};
}"""

# The box of code points [a, b) of an article, for a real mouse drag over them.
CHAR_BOXES = """([a, b, id]) => {
  const root = document.getElementById(id);
  const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let seen = 0, first = null, last = null;
  for (let n = w.nextNode(); n; n = w.nextNode()) {
    const len = n.data.length;
    const rect = (from, to) => {
      const r = document.createRange();
      r.setStart(n, from - seen); r.setEnd(n, to - seen);
      return r.getBoundingClientRect();
    };
    if (!first && a < seen + len) first = rect(a, a + 1);
    if (!last && b - 1 < seen + len) last = rect(b - 1, b);
    seen += len;
  }
  return {x1: first.left + 1, y1: first.top + first.height / 2,
          x2: last.right - 1, y2: last.top + last.height / 2};
}"""


def settled(page) -> None:
    """Wait until htmx has swapped and settled (a locator taken earlier may be gone)."""
    busy = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"
    page.wait_for_function("(busy) => !document.querySelector(busy)", arg=busy)


def on_screen(page, selector: str) -> bool:
    box = page.evaluate(ON_SCREEN, selector)
    return bool(box and box["visible"])


def scroll_y(page) -> float:
    return page.evaluate("window.scrollY")


def drag(page, start: int, end: int, container: str = "doc-text") -> None:
    """A real mouse drag from the first to the last character of text[start:end] (the text
    has no characters outside the basic plane here, so code points are UTF-16 units)."""
    box = page.evaluate(CHAR_BOXES, [start, end, container])
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y2"], steps=4)
    page.mouse.up()


def hl(span) -> str:
    return f'#doc-text .hl[data-span="{span.pk}"]'


def test_the_inspector_shows_the_span_clicked_last_even_after_saving_and_scrolling(
    coding, make_user
):
    """Was: click span A near the end, Save, scroll up ~2,000 px, click span B: on
    mousedown the page jumped back to A and the inspector showed A (3 of 3 tries)."""
    coder, document, codes = seeded_coder(make_user)
    far = tag(coder, document, codes["Loaded language"], "the subsequent end of US imperialism")
    near = tag(coder, document, codes["Sourcing"], "Hun Sen said")
    page = coding.open(coder, reverse("annotate", args=[document.pk]))
    for attempt in range(3):
        page.locator(hl(far)).click()
        expect(page.locator(f'#inspector .inspected[data-span="{far.pk}"]')).to_be_visible()
        page.locator("#inspector").get_by_label("Note").fill(f"checked {attempt}")
        before_save = scroll_y(page)
        page.locator("#inspector").get_by_role("button", name="Save").click()
        expect(page.locator("#notice")).to_have_text("Saved.")
        settled(page)
        assert abs(scroll_y(page) - before_save) < 2, "saving moved the page"
        page.locator(hl(near)).scroll_into_view_if_needed()
        assert before_save - scroll_y(page) > 2000
        box = page.locator(hl(near)).bounding_box()
        before_click = scroll_y(page)
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        expect(page.locator(f'#inspector .inspected[data-span="{near.pk}"]')).to_be_visible()
        expect(page.locator("#inspector .inspected")).to_have_count(1)
        assert abs(scroll_y(page) - before_click) < 2, "the click moved the page"
    far.refresh_from_db()
    assert far.note == "checked 2" and far.version == 4


def test_every_message_is_shown_on_screen_and_no_action_moves_the_page(coding, make_user):
    """Was: "Tagged…", "Saved.", "Select some text first…", "already tagged" and "Deleted…
    Undo" drawn above the article (−1,782 px); a delete mid-article jumped the page to the
    end (scrollY 2021 → 4402) with the focused Undo at −4,112 px."""
    coder, document, codes = seeded_coder(make_user)
    text = document.text
    middle = tag(coder, document, codes["Loaded language"], "blatant interference")
    later = tag(coder, document, codes["Sourcing"], "The ministry stated")
    page = coding.open(coder, reverse("annotate", args=[document.pk]))
    page.locator(hl(middle)).scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 300)")
    y = scroll_y(page)
    assert y > 800

    # Tagging with a key, mid-article.
    phrase = "legitimate actions"
    start = text.index(phrase)
    page.focus("#doc-text")
    coding.select(page, text, start, start + len(phrase))
    page.keyboard.press("4")
    expect(page.locator("#notice")).to_have_text("Tagged “Loaded language”.")
    assert on_screen(page, "#notice") and abs(scroll_y(page) - y) < 2

    # The same text and code again: refused, said on screen.
    coding.select(page, text, start, start + len(phrase))
    page.keyboard.press("4")
    expect(page.locator("#error")).to_contain_text("already tagged")
    assert on_screen(page, "#error") and abs(scroll_y(page) - y) < 2

    # A code key with nothing selected.
    page.keyboard.press("Escape")
    page.keyboard.press("3")
    expect(page.locator("#error")).to_have_text("Select some text first, then choose a code.")
    assert on_screen(page, "#error") and abs(scroll_y(page) - y) < 2

    # Saving in the inspector.
    page.locator(hl(later)).click()
    y = scroll_y(page)
    page.locator("#inspector").get_by_label("Code").select_option(label="Loaded language")
    page.locator("#inspector").get_by_role("button", name="Save").click()
    expect(page.locator("#notice")).to_have_text("Saved.")
    assert on_screen(page, "#notice") and abs(scroll_y(page) - y) < 2

    # Deleting mid-article: the page stays, Undo is on screen and focused, and stays until
    # the next action.
    page.locator(hl(middle)).click()
    y = scroll_y(page)
    page.locator("#inspector").get_by_role("button", name="Delete").click()
    expect(page.locator("#notice")).to_contain_text("Deleted “Loaded language”.")
    expect(page.locator("#undo")).to_be_focused()
    assert on_screen(page, "#undo") and abs(scroll_y(page) - y) < 2
    page.locator(hl(later)).click()  # opening another span is no action: Undo stays
    expect(page.locator("#inspector .inspected")).to_have_count(1)
    expect(page.locator("#undo")).to_be_visible()
    page.locator("#undo").click()
    expect(page.locator("#notice")).to_contain_text("Restored “Loaded language”.")
    assert abs(scroll_y(page) - y) < 2
    middle.refresh_from_db()
    assert middle.deleted_at is None

    # The live regions are in the page from the start, so the messages are announced.
    assert page.locator("#feedback-status").get_attribute("role") == "status"
    assert page.locator("#feedback-alert").get_attribute("role") == "alert"
    expect(page.locator("#feedback")).to_have_count(1)


def test_reading_a_definition_keeps_the_selection_and_the_focus(coding, make_user):
    """Was: opening "Definition and guidance" dropped the selection, so the code key
    answered "Select some text first"."""
    coder, document, _ = seeded_coder(make_user)
    text = document.text
    page = coding.open(coder, reverse("annotate", args=[document.pk]))
    phrase = "Human Rights Watch’s Phil Robertson"
    start = text.index(phrase)
    page.focus("#doc-text")
    assert coding.select(page, text, start, start + len(phrase)) == phrase
    sourcing = page.locator(".code", has=page.get_by_role("button", name=re.compile("Sourcing")))
    sourcing.locator("summary").click()
    expect(sourcing.locator("details")).to_have_attribute("open", "")
    expect(sourcing.get_by_text("An attribution of information")).to_be_visible()
    assert coding.selection(page) == phrase
    expect(page.locator("#doc-text")).to_be_focused()
    expect(page.locator("#selection-preview")).to_contain_text(phrase)
    page.keyboard.press("?")  # every definition, from the keyboard, focus staying put
    expect(page.locator(".codebook details.definition[open]")).to_have_count(4)
    assert coding.selection(page) == phrase
    page.keyboard.press("3")
    wait_for_entries(page, 1)
    assert latest_span().quote == phrase


def test_keyboard_lines_sentences_find_and_boundary_keys(coding, make_user):
    """Was: ↓ jumped whole paragraphs, no in-document search, no sentence key."""
    coder, document, _ = seeded_coder(make_user)
    text = document.text
    page = coding.open(coder, reverse("annotate", args=[document.pk]))
    page.focus("#doc-text")
    caret = "() => document.getElementById('caret').getBoundingClientRect().top"
    offset = "() => window.framingOffsets.selectionOffsets().start"

    # Find: "/" and a few letters select the word; Esc leaves the caret there.
    page.keyboard.press("/")
    expect(page.locator("#find-input")).to_be_focused()
    page.keyboard.type("prime")
    expect(page.locator("#find-status")).to_contain_text("Match 1 of")
    page.keyboard.press("Enter")
    expect(page.locator("#doc-text")).to_be_focused()
    assert coding.selection(page) == "Prime"
    page.keyboard.press("ArrowLeft")  # collapse at the caret (the end of "Prime")

    # ↓ moves one line as displayed, not a paragraph.
    top, at = page.evaluate(caret), page.evaluate(offset)
    page.keyboard.press("ArrowDown")
    below, moved = page.evaluate(caret), page.evaluate(offset)
    assert 20 < below - top < 60 and 40 < moved - at < 110
    page.keyboard.press("ArrowUp")
    assert page.evaluate(caret) == top and abs(page.evaluate(offset) - at) <= 2

    # Ctrl+↓ goes to the next sentence; Ctrl+Shift+↓ selects to the end of one.
    page.keyboard.press("Control+ArrowDown")
    sentence = (
        "In response, Hun Sen said he would move to Telegram, Tik Tok and local television "
        "to spread his political message."
    )
    assert page.evaluate(offset) == text.index(sentence)
    page.keyboard.press("Control+Shift+ArrowDown")
    assert coding.selection(page) == sentence
    page.keyboard.press("Control+ArrowUp")  # previous sentence (no Shift: selection gone)

    # Find, then Shift+Enter extends the selection to a second match; boundary keys trim it.
    page.keyboard.press("Control+Home")
    page.keyboard.press("/")
    page.keyboard.type("wash")
    page.keyboard.press("Enter")
    assert coding.selection(page) == "Washington"
    page.keyboard.press("/")
    page.keyboard.type("bid")
    page.keyboard.press("Shift+Enter")
    assert coding.selection(page) == (
        "Washington has employed U.S. based social media giant Facebook to do its bidding"
    )
    page.keyboard.press(",")  # the end one word earlier
    page.keyboard.press("]")  # the start one word later
    assert coding.selection(page) == "has employed U.S. based social media giant Facebook to do its"
    page.keyboard.press("[")
    page.keyboard.press(".")
    page.keyboard.press("2")
    wait_for_entries(page, 1)
    assert latest_span().quote == (
        "Washington has employed U.S. based social media giant Facebook to do its bidding"
    )
    # The find box searches forward from the caret; ↑ in it goes back to an earlier match.
    page.keyboard.press("/")
    page.keyboard.type("washington")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    assert coding.selection(page) == "Washington"
    assert page.evaluate("window.framingOffsets.selectionOffsets().start") == text.index(
        "Washington has employed"
    )


def test_selections_snap_to_whole_words_before_they_are_tagged_unless_the_project_says_not(
    coding, make_user
):
    """Was: mid-word spans ("nsure adherence…") were saved silently."""
    coder, document, _ = seeded_coder(make_user)
    text = document.text
    page = coding.open(coder, reverse("annotate", args=[document.pk]))
    fragment = "mperialism is up to its old tri"
    start = text.index(fragment)
    page.locator("#doc-text").scroll_into_view_if_needed()
    drag(page, start, start + len(fragment))
    # Shown snapped before anything is saved: the selection itself and the preview.
    expect(page.locator("#selection-preview")).to_contain_text(
        "imperialism is up to its old tricks"
    )
    expect(page.locator("#selection-preview")).to_contain_text("widened to whole words")
    page.wait_for_function(
        "(t) => window.getSelection().toString() === t", arg="imperialism is up to its old tricks"
    )
    page.keyboard.press("4")
    wait_for_entries(page, 1)
    assert latest_span().quote == "imperialism is up to its old tricks"

    # A project that keeps exact characters stores exactly what was selected.
    project = document.project
    project.snap_to_words = False
    project.save(update_fields=["snap_to_words"])
    page.reload()
    fragment = "egitimate actio"
    start = text.index(fragment)
    page.evaluate("(y) => window.scrollTo(0, y)", 600)
    drag(page, start, start + len(fragment))
    assert coding.selection(page) == fragment
    expect(page.locator("#selection-preview")).not_to_contain_text("widened")
    page.keyboard.press("4")
    wait_for_entries(page, 2)
    assert latest_span().quote == fragment


def test_a_document_marked_done_says_it_is_read_only_and_the_next_page_says_it_was_done(
    coding, make_user
):
    coder, document, codes = seeded_coder(make_user)
    second = document.project.documents.order_by("pk").last()
    assignments.assignment_create(document=second, coder=coder)
    span = tag(coder, document, codes["Sourcing"], "Hun Sen said")
    page = coding.open(coder, reverse("annotate", args=[document.pk]))
    page.locator("#mark-done").click()
    page.wait_for_url(re.compile(rf"/documents/{second.pk}/code/"))
    expect(page.locator("#feedback-status")).to_contain_text("done.")
    assert on_screen(page, "#feedback-status .notice")

    page.goto(coding.url + reverse("annotate", args=[document.pk]))
    expect(page.locator("#frozen")).to_contain_text("Read-only.")
    expect(page.locator("#frozen")).to_contain_text("Reopen it to change its spans")
    text = document.text
    phrase = "blatant interference"
    start = text.index(phrase)
    coding.select(page, text, start, start + len(phrase))
    page.keyboard.press("4")
    expect(page.locator("#error")).to_contain_text("You marked this document done")
    assert Span.objects.count() == 1
    page.locator(hl(span)).click()
    expect(page.locator("#inspector")).to_contain_text("Hun Sen said")
    expect(page.locator("#inspector form")).to_have_count(0)  # nothing to edit there
    assert document.assignments.get(coder=coder).status == AssignmentStatus.DONE
