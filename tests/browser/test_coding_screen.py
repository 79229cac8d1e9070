"""Journeys through the coding screen in a real browser (chromium, live server).

Every offset check compares the database with what the browser itself had selected
(``window.getSelection().toString()`` captured before the code was chosen).
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotations.models import Role, Span
from annotations.services import assignments, people, spans
from annotations.services.seed import load_seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AWKWARD = (
    "Lab notes 👩‍🔬 from the café: “Cafe\u0301 owners said the ‘rules’ were unfair,” wrote "
    "Dara.\u00a0In Khmer, ក្មែរ means Khmer; ‘ក្មែរ’ again 👩‍🔬👩‍🔬 and “re\u0301sume\u0301” ends."
    "\n\nSecond paragraph 😀 with more text.\n"
)


def seeded_coder(make_user, username="coder", *, snap=True):
    """A coder assigned the first seed article; returns (coder, document, codes)."""
    project = load_seed().project
    if project.snap_to_words != snap:
        project.snap_to_words = snap
        project.save(update_fields=["snap_to_words"])
    document = project.documents.order_by("pk").first()
    coder = make_user(username)
    people.membership_set(project=project, user=coder, role=Role.CODER)
    assignments.assignment_create(document=document, coder=coder)
    return coder, document, {code.name: code for code in project.codebook.codes.all()}


def tag(coder, document, code, phrase, occurrence=0, note=""):
    start = -1
    for _ in range(occurrence + 1):
        start = document.text.index(phrase, start + 1)
    return spans.span_create(
        assignment=document.assignments.get(coder=coder),
        code_id=code.pk,
        start=start,
        end=start + len(phrase),
        quote=phrase,
        note=note,
        actor=coder,
    )


def wait_for_entries(page, count: int) -> None:
    page.wait_for_function("n => document.querySelectorAll('.span-entry').length === n", arg=count)


def latest_span() -> Span:
    return Span.objects.select_related("code").latest("pk")


def test_a_coder_tags_spans_with_the_mouse_and_with_the_keyboard_alone(coding, make_user):
    # Exact characters (snapping off): the keys below step through single characters.
    coder, document, codes = seeded_coder(make_user, snap=False)
    text = document.text
    page = coding.open(coder, reverse("annotate", args=[document.pk]))

    # Mouse, part 1: a selection made by a Range, then a click on the code.
    phrase = "U.S. imperialism is up to its old tricks"
    start = text.index(phrase)
    assert coding.select(page, text, start, start + len(phrase)) == phrase
    page.get_by_role("button", name=re.compile("Loaded language")).click()
    wait_for_entries(page, 1)
    span = latest_span()
    assert (span.start, span.quote, span.code) == (start, phrase, codes["Loaded language"])

    # Mouse, part 2: a real drag from the first to the last character of a phrase.
    phrase = "Prime Minister Hun Sen"
    start = text.index(phrase)
    box = page.evaluate(
        """([a, b]) => {
          const root = document.getElementById("doc-text");
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
        }""",
        [start, start + len(phrase)],
    )
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y2"], steps=5)
    page.mouse.up()
    dragged = coding.selection(page)
    assert dragged.strip() == phrase
    page.keyboard.press("3")  # Sourcing's shortcut
    wait_for_entries(page, 2)
    assert latest_span().quote == dragged.strip()

    # Keyboard alone: focus the text, move the caret, select with Shift and Ctrl+Shift.
    page.focus("#doc-text")
    page.keyboard.press("Control+Home")
    for _ in range(2):
        page.keyboard.press("ArrowDown")  # to the start of "The quinquennial ..."
    page.keyboard.press("Control+ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("Control+Shift+ArrowRight")
    for _ in range(10):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowLeft")
    selected = coding.selection(page)
    assert selected == "quinquennial Cambodian election"
    page.keyboard.press("2")
    wait_for_entries(page, 3)
    span = latest_span()
    assert (span.quote, span.code) == (selected, codes["Foreign-interference claim"])
    assert text[span.start : span.end] == selected

    # Focus stays in the text after the swap, so the coder goes on with the keyboard.
    expect(page.locator("#doc-text")).to_be_focused()
    page.keyboard.press("Control+Shift+ArrowRight")
    assert coding.selection(page) == "s"
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("Control+Shift+ArrowRight")
    selected = coding.selection(page)
    assert selected == "are set"  # the leading space is not shown as selected: not tagged
    page.keyboard.press("4")
    wait_for_entries(page, 4)
    assert latest_span().quote == "are set"

    # Enter on the caret opens every span under it in the inspector, focus still in the text.
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")
    expect(page.locator("#inspector .inspected")).to_have_count(1)
    assert page.evaluate("document.activeElement.id") == "doc-text"


def test_offsets_are_exact_with_emoji_combining_accents_khmer_and_curly_quotes(
    coding, make_project, add_document, make_user, member
):
    project = make_project("Awkward text")
    project.snap_to_words = False  # exact characters: the selections below are mid-word
    project.save(update_fields=["snap_to_words"])
    document = add_document(project, AWKWARD)
    assert document.text == AWKWARD
    coder = member(project, make_user("unicode_coder"))
    assignments.assignment_create(document=document, coder=coder)
    page = coding.open(coder, reverse("annotate", args=[document.pk]))
    assert page.evaluate("document.getElementById('doc-text').textContent") == AWKWARD

    phrases = [
        ("from the café", "1"),
        ("Cafe\u0301 owners", "2"),
        ("\u00a0In Khmer, ក្មែរ means Khmer", "1"),
        ("‘ក្មែរ’ again 👩‍🔬👩‍🔬", "2"),
        ("“re\u0301sume\u0301”", "1"),
        ("ends.\n\nSecond paragraph 😀", "2"),
        ("😀 with", "click"),
    ]
    for count, (phrase, key) in enumerate(phrases, start=1):
        start = AWKWARD.index(phrase)
        end = start + len(phrase)
        selected = coding.select(page, AWKWARD, start, end)
        assert selected == phrase
        offsets = page.evaluate("window.framingOffsets.selectionOffsets()")
        assert (offsets["start"], offsets["end"]) == (start, end)
        if key == "click":
            page.get_by_role("button", name=re.compile("Sourcing")).click()
        else:
            page.keyboard.press(key)
        wait_for_entries(page, count)
        span = latest_span()
        assert span.quote == selected.strip()
        assert AWKWARD[span.start : span.end] == span.quote

    # With the keyboard: the caret steps over code points, through the emoji and the accents.
    page.focus("#doc-text")
    page.keyboard.press("Control+Home")
    for _ in range(2):
        page.keyboard.press("Control+ArrowRight")  # after "Lab notes"
    for _ in range(6):
        page.keyboard.press("Shift+Control+ArrowRight")  # over the emoji, accents and quotes
    selected = coding.selection(page)
    assert selected == "👩‍🔬 from the café: “Cafe\u0301 owners said"  # shown without the space
    page.keyboard.press("2")
    wait_for_entries(page, len(phrases) + 1)
    span = latest_span()
    assert span.quote == selected.strip() == AWKWARD[span.start : span.end]

    stored = {s.quote for s in Span.objects.all()}
    assert "In Khmer, ក្មែរ means Khmer" in stored  # no-break space trimmed
    assert all(AWKWARD[s.start : s.end] == s.quote for s in Span.objects.all())


def test_nested_and_overlapping_spans_are_all_visible_and_editable(coding, make_user):
    coder, document, codes = seeded_coder(make_user)
    outer = tag(
        coder,
        document,
        codes["Foreign-interference claim"],
        "Facebook is being utilised by the US deep state to prosecute its ongoing meddling",
    )
    inner = tag(coder, document, codes["Loaded language"], "US deep state")
    across = tag(coder, document, codes["Sourcing"], "meddling in Cambodian affairs")
    page = coding.open(coder, reverse("annotate", args=[document.pk]))

    # One piece of text carries both highlights, one element inside the other.
    nested = page.locator(
        f'.hl[data-span="{outer.pk}"] .hl[data-span="{inner.pk}"],'
        f'.hl[data-span="{inner.pk}"] .hl[data-span="{outer.pk}"]'
    )
    expect(nested).to_have_count(1)
    expect(nested).to_be_visible()
    overlap = page.locator(
        f'.hl[data-span="{across.pk}"] .hl[data-span="{outer.pk}"],'
        f'.hl[data-span="{outer.pk}"] .hl[data-span="{across.pk}"]'
    )
    expect(overlap).to_have_text("meddling")
    for span in (outer, inner, across):
        expect(page.locator(f'#doc-text .hl[data-span="{span.pk}"]').first).to_be_visible()

    nested.click()
    inspected = page.locator("#inspector .inspected")
    expect(inspected).to_have_count(2)
    inner_form = page.locator(f'#inspector .inspected[data-span="{inner.pk}"]')
    inner_form.get_by_label("Code").select_option(label="Sourcing")
    inner_form.get_by_role("button", name="Save").click()
    expect(page.locator("#notice")).to_have_text("Saved.")
    inner.refresh_from_db()
    assert (inner.code, inner.version) == (codes["Sourcing"], 2)

    outer_form = page.locator(f'#inspector .inspected[data-span="{outer.pk}"]')
    outer_form.get_by_label("Note").fill("claim made as fact")
    outer_form.get_by_role("button", name="Save").click()
    expect(outer_form.get_by_label("Note")).to_have_value("claim made as fact")
    expect(page.locator(f'#inspector .inspected[data-span="{outer.pk}"] .muted')).to_contain_text(
        "version 2"
    )
    outer.refresh_from_db()
    assert outer.note == "claim made as fact"

    # A boundary button moves the end by one word and the highlight follows.
    outer_form.get_by_role("button", name="end ⇥").click()
    expect(page.locator(f'#inspector .inspected[data-span="{outer.pk}"] .quote')).to_have_text(
        outer.quote + " in"
    )
    outer.refresh_from_db()
    assert outer.quote.endswith("meddling in") and outer.version == 3


def test_delete_offers_undo_and_undo_brings_the_span_back(coding, make_user):
    coder, document, codes = seeded_coder(make_user)
    span = tag(coder, document, codes["Loaded language"], "blatant interference")
    page = coding.open(coder, reverse("annotate", args=[document.pk]))
    page.locator(f'.hl[data-span="{span.pk}"]').click()
    page.locator("#inspector").get_by_role("button", name="Delete").click()
    undo = page.locator("#undo")
    expect(undo).to_be_visible()
    expect(page.locator("#doc-text .hl")).to_have_count(0)
    span.refresh_from_db()
    assert span.deleted_at is not None
    expect(undo).to_be_focused()  # keyboard users can undo at once with Enter
    page.keyboard.press("Enter")
    expect(page.locator("#notice")).to_contain_text("Restored “Loaded language”.")
    expect(page.locator(f'#doc-text .hl[data-span="{span.pk}"]')).to_have_count(1)
    span.refresh_from_db()
    assert span.deleted_at is None and span.version == 3


def test_a_save_from_a_stale_tab_is_refused_and_the_first_tabs_change_is_kept(coding, make_user):
    coder, document, codes = seeded_coder(make_user)
    span = tag(coder, document, codes["Sourcing"], "Human Rights Watch’s Phil Robertson")
    context = coding.context(coder)
    url = reverse("annotate", args=[document.pk])
    tab1, tab2 = coding.open(context, url), coding.open(context, url)
    for tab in (tab1, tab2):
        tab.locator(f'.hl[data-span="{span.pk}"]').click()
        expect(tab.locator("#inspector .inspected")).to_have_count(1)

    tab1.get_by_label("Note").fill("written in tab one")
    tab1.locator("#inspector").get_by_role("button", name="Save").click()
    expect(tab1.locator("#notice")).to_have_text("Saved.")

    tab2.get_by_label("Note").fill("written in tab two")
    tab2.locator("#inspector").get_by_role("button", name="Save").click()
    expect(tab2.locator("#error")).to_contain_text("changed in another tab or window")
    expect(tab2.get_by_label("Note")).to_have_value("written in tab one")
    span.refresh_from_db()
    assert (span.note, span.version) == ("written in tab one", 2)


def test_two_coders_never_see_each_others_work(coding, make_user):
    coder_a, document, _ = seeded_coder(make_user, "coder_a")
    coder_b = make_user("coder_b")
    people.membership_set(project=document.project, user=coder_b, role=Role.CODER)
    assignments.assignment_create(document=document, coder=coder_b)
    only_a = document.project.documents.order_by("pk").last()
    assignments.assignment_create(document=only_a, coder=coder_a)
    url = reverse("annotate", args=[document.pk])

    page_a = coding.open(coder_a, url)
    phrase = "the liberal Western media"
    start = document.text.index(phrase)
    coding.select(page_a, document.text, start, start + len(phrase))
    page_a.keyboard.press("4")
    wait_for_entries(page_a, 1)
    span = latest_span()

    page_b = coding.open(coder_b, url)
    expect(page_b.locator("#doc-text")).to_be_visible()
    expect(page_b.locator("#doc-text .hl")).to_have_count(0)
    expect(page_b.locator(".span-entry")).to_have_count(0)
    assert "0 spans" in page_b.locator(".doc-status").inner_text()
    page_b.locator("#doc-text").click(position={"x": 40, "y": 40})
    coding.watcher.allow(r"status of 404")
    status = page_b.evaluate(
        """async (url) => {
          const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
          const body = new URLSearchParams({version: "1", note: "B was here"});
          const r = await fetch(url, {method: "POST", body, headers: {"X-CSRFToken": token}});
          return r.status;
        }""",
        reverse("span-update", args=[span.pk]),
    )
    assert status == 404
    response = page_b.goto(coding.url + reverse("annotate", args=[only_a.pk]))
    assert response.status == 404
    span.refresh_from_db()
    assert span.note == "" and span.version == 1


def test_screenshots_of_the_annotation_page_with_nested_codes(coding, make_user, screenshots):
    coder, document, codes = seeded_coder(make_user)
    claim = "Facebook is being utilised by the US deep state to prosecute its ongoing meddling"
    tag(coder, document, codes["Foreign-interference claim"], claim, note="asserted as fact")
    tag(coder, document, codes["Loaded language"], "US deep state")
    tag(coder, document, codes["Loaded language"], "deep state")
    tag(coder, document, codes["Sourcing"], "meddling in Cambodian affairs")
    tag(coder, document, codes["Loaded language"], "U.S. imperialism is up to its old tricks")
    tag(coder, document, codes["Foreign-interference claim"], "Washington has employed U.S.")
    tag(coder, document, codes["Sourcing"], "Hun Sen said")
    tag(coder, document, codes["Forced confession"], "threatened his political opponents")
    page = coding.open(coder, reverse("annotate", args=[document.pk]))
    page.screenshot(path=screenshots / "annotate-page.png")
    stack = page.locator("#doc-text .hl[data-count]").first
    stack.scroll_into_view_if_needed()
    box = stack.bounding_box()
    page.screenshot(
        path=screenshots / "annotate-stacked-detail.png",
        clip={"x": 40, "y": box["y"] - 50, "width": 660, "height": 130},
    )
    page.locator("#doc-text .hl[data-count]").first.click()
    expect(page.locator("#inspector")).to_be_visible()
    page.screenshot(path=screenshots / "annotate-inspector.png")
    page.focus("#doc-text")
    page.keyboard.press("Control+Home")
    for _ in range(4):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Shift+Control+ArrowRight")
    page.keyboard.press("Shift+Control+ArrowRight")
    page.screenshot(path=screenshots / "annotate-keyboard-focus.png")
    page.keyboard.press("Escape")
    page.evaluate("window.scrollTo(0, 1800)")
    page.wait_for_function("window.scrollY >= 1800")
    page.screenshot(path=screenshots / "annotate-scrolled.png")
    assert all(
        (screenshots / name).stat().st_size > 10_000
        for name in ("annotate-page.png", "annotate-inspector.png", "annotate-keyboard-focus.png")
    )
