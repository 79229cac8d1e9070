"""The coding screen over HTTP: page and htmx fragments, errors, conflicts, blind coding."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.domain.rendering import CHUNK
from annotations.models import AssignmentStatus, DocumentReview, Span
from annotations.services import assignments, imports, spans
from tests import oob

HX = {"HTTP_HX_REQUEST": "true"}
TEXT = "Officials said the “confession” was voluntary. Critics called it a sham.\n"


@pytest.fixture(autouse=True)
def _no_static_root_warning(settings):
    # WhiteNoise warns (an error under our filterwarnings) when STATIC_ROOT does not exist
    # yet, as on a fresh checkout; autorefresh mode does not look for the folder.
    settings.WHITENOISE_AUTOREFRESH = True


def tag(study, start, end, code="Sourcing", coder="a", note=""):
    return spans.span_create(
        assignment=study[f"assignment_{coder}"],
        code_id=study["codes"][code].pk,
        start=start,
        end=end,
        quote=None,
        note=note,
        actor=study[f"coder_{coder}"],
    )


def page_url(study):
    return reverse("annotate", args=[study["document"].pk])


def html(response) -> str:
    return response.content.decode()


def doc_text(response) -> str:
    """The inner HTML of #doc-text, tags removed: what the browser's textContent will be."""
    match = re.search(r'<div id="doc-text"[^>]*>(.*?)</div>', html(response), re.S)
    assert match, "no #doc-text in the response"
    import html as html_lib

    return html_lib.unescape(re.sub(r"<[^>]+>", "", match.group(1)))


# --- Page and fragment ------------------------------------------------------------------


def test_the_page_shows_the_text_exactly_with_the_coders_spans_highlighted(client, study):
    tag(study, 0, 14)
    tag(study, 10, 30, code="Loaded language", note="loaded <b>")
    client.force_login(study["coder_a"])
    response = client.get(page_url(study))
    assert response.status_code == 200
    assert doc_text(response) == TEXT
    body = html(response)
    assert body.count('class="hl ') == 4  # 3 pieces, the middle one covered twice
    assert 'data-count="2"' in body
    assert "loaded &lt;b&gt;" in body and "loaded <b>" not in body
    assert "<html" in body and 'id="span-form"' in body


def test_an_htmx_request_gets_the_workspace_fragment_with_the_same_data(client, study):
    tag(study, 0, 14)
    client.force_login(study["coder_a"])
    page = client.get(page_url(study))
    fragment = client.get(page_url(study), **HX)
    assert fragment.status_code == 200
    assert "<html" not in html(fragment)
    assert html(fragment).lstrip().startswith('<div id="workspace"')
    assert html(fragment).strip() in html(page)
    for response in (page, fragment):
        assert "HX-Request" in response["Vary"]


def test_a_history_restore_request_gets_the_whole_page(client, study):
    client.force_login(study["coder_a"])
    response = client.get(page_url(study), HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HX)
    assert "<html" in html(response)


def test_the_annotation_page_needs_the_same_queries_for_1_or_200_spans(
    client, study, django_assert_max_num_queries
):
    document = imports.documents_import(
        project=study["project"], files=[("long.txt", ("word " * 1000).encode())]
    ).created[0]
    assignment = assignments.assignment_create(document=document, coder=study["coder_a"])
    codes = list(study["codes"].values())
    url = reverse("annotate", args=[document.pk])
    client.force_login(study["coder_a"])

    def queries_with(n: int) -> int:
        Span.objects.filter(assignment=assignment).delete()
        Span.objects.bulk_create(
            Span(
                assignment=assignment,
                code=codes[i % 2],
                start=5 * (i // 2),
                end=5 * (i // 2) + 9,
                quote=document.text[5 * (i // 2) : 5 * (i // 2) + 9],
            )
            for i in range(n)
        )
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        assert html(response).count("span-entry") == n
        return len(captured)

    one, many = queries_with(1), queries_with(200)
    assert one == many
    with django_assert_max_num_queries(12):
        client.get(url, **HX)


# --- Creating ---------------------------------------------------------------------------


def test_creating_a_span_returns_the_workspace_with_the_new_span_selected(client, study):
    client.force_login(study["coder_a"])
    response = client.post(
        reverse("span-create", args=[study["document"].pk]),
        {"start": "9", "end": "19", "quote": " said the ", "code": study["codes"]["Sourcing"].pk},
        **HX,
    )
    assert response.status_code == 200
    span = Span.objects.get()
    assert (span.start, span.end, span.quote) == (10, 18, "said the")
    body = html(response)
    assert "Tagged “Sourcing”." in body and 'id="inspector"' in body
    assert f'data-span="{span.pk}"' in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"start": "0", "end": "9", "quote": "Oficials"}, "does not match"),
        ({"start": "0", "end": "500", "quote": ""}, "after the end of the text"),
        ({"start": "x", "end": "9", "quote": "Officials"}, "whole number"),
        ({"start": "9", "end": "10", "quote": " "}, "Only whitespace"),
        ({"start": "0", "end": "9", "quote": "Officials", "code": "999999"}, "Unknown code"),
    ],
)
def test_bad_input_answers_422_with_the_message_and_changes_nothing(client, study, data, message):
    client.force_login(study["coder_a"])
    data = {"code": study["codes"]["Sourcing"].pk, **data}
    response = client.post(reverse("span-create", args=[study["document"].pk]), data, **HX)
    assert response.status_code == 422
    # The message goes to the page's alert region (role="alert"), out of band.
    alert = html(response).split('<div id="feedback-alert" hx-swap-oob="innerHTML">')[1]
    assert message in alert.split("</div>")[0]
    assert "<html" not in html(response)
    assert not Span.objects.exists()


def test_a_duplicate_span_answers_422(client, study):
    tag(study, 0, 9)
    client.force_login(study["coder_a"])
    data = {"start": 0, "end": 9, "quote": "Officials", "code": study["codes"]["Sourcing"].pk}
    response = client.post(reverse("span-create", args=[study["document"].pk]), data, **HX)
    assert response.status_code == 422
    assert "already tagged “Sourcing”" in html(response)
    assert Span.objects.count() == 1


# --- Inspecting, changing, deleting -----------------------------------------------------


def test_inspecting_a_place_lists_every_span_under_it(client, study):
    outer = tag(study, 0, 30)
    inner = tag(study, 10, 14, code="Loaded language")
    tag(study, 40, 45)
    client.force_login(study["coder_a"])
    response = client.get(reverse("inspect", args=[study["document"].pk]), {"at": 11}, **HX)
    inspector = html(response).split('id="inspector"')[1].split("</section>")[0]
    assert inspector.count('class="inspected ') == 2
    assert reverse("span-update", args=[outer.pk]) in inspector
    assert reverse("span-update", args=[inner.pk]) in inspector
    response = client.get(reverse("inspect", args=[study["document"].pk]), {"at": "x"}, **HX)
    assert 'id="inspector"' not in html(response)


def test_changing_code_and_note_saves_and_bumps_the_version(client, study):
    span = tag(study, 0, 9)
    client.force_login(study["coder_a"])
    response = client.post(
        reverse("span-update", args=[span.pk]),
        {"version": 1, "code": study["codes"]["Loaded language"].pk, "note": "a note"},
        **HX,
    )
    assert response.status_code == 200 and "Saved." in html(response)
    span.refresh_from_db()
    assert (span.code.name, span.note, span.version) == ("Loaded language", "a note", 2)


def test_after_a_change_the_inspector_keeps_the_other_stacked_spans_open(client, study):
    outer = tag(study, 0, 30)
    inner = tag(study, 10, 14, code="Loaded language")
    other_coders = tag(study, 0, 9, coder="b", note="B's own")
    client.force_login(study["coder_a"])
    response = client.post(
        reverse("span-update", args=[inner.pk]),
        {"version": 1, "note": "n", "keep": [outer.pk, inner.pk, other_coders.pk]},
        **HX,
    )
    inspector = html(response).split('id="inspector"')[1].split("</section>")[0]
    assert inspector.count('class="inspected ') == 2
    assert f'data-span="{outer.pk}"' in inspector and "B's own" not in html(response)


def test_a_span_whose_code_was_retired_can_still_get_a_note(client, study):
    span = tag(study, 0, 9)
    code = study["codes"]["Sourcing"]
    code.active = False
    code.save()
    client.force_login(study["coder_a"])
    response = client.post(
        reverse("span-update", args=[span.pk]), {"version": 1, "code": code.pk, "note": "n"}, **HX
    )
    assert response.status_code == 200
    span.refresh_from_db()
    assert (span.note, span.code_id) == ("n", code.pk)


def test_boundary_buttons_move_a_span_edge_by_one_word(client, study):
    span = tag(study, 10, 14)  # "said"
    client.force_login(study["coder_a"])
    url = reverse("span-update", args=[span.pk])
    client.post(url, {"version": 1, "adjust": "end-later"}, **HX)
    span.refresh_from_db()
    assert span.quote == "said the"
    client.post(url, {"version": 2, "adjust": "start-earlier"}, **HX)
    span.refresh_from_db()
    assert span.quote == "Officials said the"
    client.post(url, {"version": 3, "adjust": "start-later"}, **HX)
    span.refresh_from_db()
    assert span.quote == "said the"
    response = client.post(url, {"version": 4, "adjust": "end-earlier"}, **HX)
    span.refresh_from_db()
    assert span.quote == "said" and response.status_code == 200


def test_a_save_from_a_stale_tab_answers_409_and_shows_the_fresh_state(client, study):
    span = tag(study, 0, 9)
    client.force_login(study["coder_a"])
    url = reverse("span-update", args=[span.pk])
    client.post(url, {"version": 1, "note": "from tab one"}, **HX)
    response = client.post(url, {"version": 1, "note": "from tab two"}, **HX)
    assert response.status_code == 409
    body = html(response)
    assert "changed in another tab" in body
    assert "from tab one</textarea>" in body and 'name="version" value="2"' in body
    span.refresh_from_db()
    assert (span.note, span.version) == ("from tab one", 2)


def test_an_invalid_boundary_change_answers_422_and_changes_nothing(client, study):
    span = tag(study, 0, 9)
    client.force_login(study["coder_a"])
    response = client.post(
        reverse("span-update", args=[span.pk]), {"version": 1, "start": 9, "end": 10}, **HX
    )
    assert response.status_code == 422 and "Only whitespace" in html(response)
    span.refresh_from_db()
    assert (span.start, span.end, span.version) == (0, 9, 1)


def test_delete_is_soft_offers_undo_and_undo_restores(client, study):
    span = tag(study, 0, 9)
    client.force_login(study["coder_a"])
    response = client.post(reverse("span-delete", args=[span.pk]), {"version": 1}, **HX)
    assert response.status_code == 200
    body = html(response)
    assert "Deleted “Sourcing”." in body and 'id="undo"' in body
    assert reverse("span-restore", args=[span.pk]) in body and '"version": "2"' in body
    assert 'class="hl ' not in body
    span.refresh_from_db()
    assert span.deleted_at is not None
    response = client.post(reverse("span-restore", args=[span.pk]), {"version": 2}, **HX)
    assert response.status_code == 200 and "Restored “Sourcing”." in html(response)
    span.refresh_from_db()
    assert span.deleted_at is None and span.version == 3


def test_a_stale_delete_answers_409_and_keeps_the_span(client, study):
    span = tag(study, 0, 9)
    client.force_login(study["coder_a"])
    client.post(reverse("span-update", args=[span.pk]), {"version": 1, "note": "n"}, **HX)
    response = client.post(reverse("span-delete", args=[span.pk]), {"version": 1}, **HX)
    assert response.status_code == 409
    assert Span.objects.live().count() == 1


# --- Blind coding -----------------------------------------------------------------------


def test_another_coder_cannot_reach_a_document_page_without_an_assignment(
    client, study, add_document
):
    only_a = add_document(study["project"], "A text only coder A codes.", name="a.txt")
    assignments.assignment_create(document=only_a, coder=study["coder_a"])
    client.force_login(study["coder_b"])
    for name in ("annotate", "inspect"):
        assert client.get(reverse(name, args=[only_a.pk])).status_code == 404
    data = {"start": 0, "end": 1, "quote": "A", "code": study["codes"]["Sourcing"].pk}
    assert client.post(reverse("span-create", args=[only_a.pk]), data).status_code == 404
    status_url = reverse("assignment-status", args=[only_a.pk])
    assert client.post(status_url, {"status": "done"}).status_code == 404
    assert client.get(reverse("annotate", args=[999_999])).status_code == 404
    assert not Span.objects.exists()


def test_another_coder_gets_404_for_a_coders_span_ids_and_nothing_changes(client, study):
    span = tag(study, 0, 9, note="A's note")
    client.force_login(study["coder_b"])
    for name, data in (
        ("span-update", {"version": 1, "note": "B was here"}),
        ("span-delete", {"version": 1}),
        ("span-restore", {"version": 1}),
    ):
        assert client.post(reverse(name, args=[span.pk]), data, **HX).status_code == 404
    span.refresh_from_db()
    assert (span.note, span.version, span.deleted_at) == ("A's note", 1, None)


def test_a_coder_never_sees_another_coders_spans_quotes_or_counts(client, study):
    tag(study, 19, 31, note="secret note of A")  # "“confession”"
    tag(study, 47, 54, code="Loaded language")  # "Critics"
    mine = tag(study, 0, 9, coder="b")
    client.force_login(study["coder_b"])
    responses = [
        client.get(page_url(study)),
        client.get(page_url(study), **HX),
        client.get(reverse("inspect", args=[study["document"].pk]), {"at": 20}, **HX),
        client.post(reverse("span-update", args=[mine.pk]), {"version": 1, "note": "n"}, **HX),
        client.get(reverse("home")),
        client.get(reverse("project", args=[study["project"].pk])),
    ]
    for response in responses:
        body = html(response)
        assert response.status_code == 200
        assert "secret note of A" not in body
        assert ">“confession”<" not in body and ">Critics<" not in body
        assert "2 spans" not in body and "3 spans" not in body
    page = html(responses[0])
    assert page.count('class="hl ') == 1 and "1 span<" in page
    assert 'id="inspector"' not in html(responses[2])
    assert '<td class="num">1</td>' in html(responses[4])


# --- Finishing --------------------------------------------------------------------------


def test_mark_done_redirects_to_the_next_unfinished_document(client, study, add_document):
    second = add_document(study["project"], "A second article.", name="b.txt")
    assignments.assignment_create(document=second, coder=study["coder_a"])
    client.force_login(study["coder_a"])
    status_url = reverse("assignment-status", args=[study["document"].pk])
    response = client.post(status_url, {"status": "done"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("annotate", args=[second.pk])
    study["assignment_a"].refresh_from_db()
    assert study["assignment_a"].status == AssignmentStatus.DONE
    assert study["assignment_a"].done_at is not None


def test_mark_done_from_htmx_answers_with_an_hx_redirect(client, study):
    client.force_login(study["coder_a"])
    status_url = reverse("assignment-status", args=[study["document"].pk])
    response = client.post(status_url, {"status": "done"}, **HX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("next-document") + f"?after={study['document'].pk}"
    response = client.get(response["HX-Redirect"], follow=True)
    assert "Everything assigned to you is done." in html(response)


def test_a_done_document_can_be_reopened_until_a_review_starts(client, study):
    client.force_login(study["coder_a"])
    status_url = reverse("assignment-status", args=[study["document"].pk])
    client.post(status_url, {"status": "done"}, **HX)
    response = client.post(status_url, {"status": "in_progress"}, **HX)
    assert response.status_code == 200 and "Reopened." in html(response)
    study["assignment_a"].refresh_from_db()
    assert study["assignment_a"].status == AssignmentStatus.IN_PROGRESS
    client.post(status_url, {"status": "done"}, **HX)
    DocumentReview.objects.create(document=study["document"], started_by=study["reviewer"])
    response = client.post(status_url, {"status": "in_progress"}, **HX)
    assert response.status_code == 422 and "review" in html(response)
    study["assignment_a"].refresh_from_db()
    assert study["assignment_a"].status == AssignmentStatus.DONE


def test_an_unknown_status_answers_422(client, study):
    client.force_login(study["coder_a"])
    status_url = reverse("assignment-status", args=[study["document"].pk])
    response = client.post(status_url, {"status": "todo"}, **HX)
    assert response.status_code == 422
    study["assignment_a"].refresh_from_db()
    assert study["assignment_a"].status == AssignmentStatus.TODO


# --- Code colours, home -----------------------------------------------------------------


def test_code_styles_emit_only_hex_colours_and_known_patterns(client, study):
    client.force_login(study["coder_a"])
    response = client.get(reverse("code-styles", args=[study["project"].pk]))
    assert response["Content-Type"].startswith("text/css")
    lines = html(response).strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        assert re.fullmatch(
            r"\.code-\d+\{--code:#[0-9A-Fa-f]{6};--pattern:(solid|dashed|dotted|double)\}", line
        ), line


def test_code_styles_are_not_found_for_non_members(client, study, make_user):
    client.force_login(make_user("outsider"))
    assert client.get(reverse("code-styles", args=[study["project"].pk])).status_code == 404


def test_home_shows_each_project_with_progress_and_own_span_counts(client, study, add_document):
    second = add_document(study["project"], "A second article.", name="b.txt")
    assignments.assignment_create(document=second, coder=study["coder_a"])
    tag(study, 0, 9)
    deleted = tag(study, 10, 14)
    spans.span_delete(span=deleted, expected_version=1)
    assignments.assignment_set_status(assignment=study["assignment_a"], status="done")
    client.force_login(study["coder_a"])
    body = html(client.get(reverse("home")))
    assert "Study" in body and "1 of 2 done" in body
    assert '<progress max="100" value="50">' in body
    assert re.findall(r'<td class="num">(\d+)</td>', body) == ["1", "0"]
    assert body.count("status-done") == 1
    response = client.get(reverse("next-document"))
    assert response.url == reverse("annotate", args=[second.pk])


def test_home_for_a_user_without_projects_says_so(client, make_user):
    client.force_login(make_user())
    assert "not a member of any project" in html(client.get(reverse("home")))


def test_the_project_page_links_each_role_to_what_it_may_open(client, study):
    from django.urls import reverse

    project = study["project"]
    url = reverse("project", args=[project.pk])
    client.force_login(study["coder_a"])
    coder_page = client.get(url).content.decode()
    assert reverse("export", args=[project.pk]) in coder_page
    assert reverse("review-queue", args=[project.pk]) not in coder_page
    assert reverse("agreement", args=[project.pk]) not in coder_page
    client.force_login(study["manager"])
    manager_page = client.get(url).content.decode()
    for name in ("manage-dashboard", "review-queue", "agreement", "export"):
        assert reverse(name, args=[project.pk]) in manager_page


def test_the_coding_page_links_to_feedback_only_once_review_is_finished_and_allowed(client, study):
    from django.urls import reverse

    from annotations.models import DocumentReview, ReviewStatus

    document, project = study["document"], study["project"]
    feedback = reverse("review-feedback", args=[document.pk])
    page = reverse("annotate", args=[document.pk])
    client.force_login(study["coder_a"])
    project.feedback_to_coders = True
    project.save()
    assert feedback not in client.get(page).content.decode()
    DocumentReview.objects.create(document=document, status=ReviewStatus.SETTLED)
    assert feedback in client.get(page).content.decode()
    project.feedback_to_coders = False
    project.save()
    assert feedback not in client.get(page).content.decode()


# --- Only what changed: out-of-band answers to span writes ----------------------------------

STATE = re.compile(r'id="coding-state" data-state="([0-9a-f]+)"')
SENTENCE = "The ministry said the “confession” was voluntary; critics called it a sham. "
LONG = (SENTENCE * 120).strip()


def state_of(body: str) -> str:
    found = STATE.search(body)
    assert found, "no state token in the answer"
    return found.group(1)


class Page:
    """A coder's coding page in a test: its DOM after every answer, patched as htmx does
    (out-of-band pieces applied in place; a whole workspace swapped in)."""

    def __init__(self, client, document):
        self.client = client
        self.url = reverse("annotate", args=[document.pk])
        self.dom = oob.parse(html(client.get(self.url)))
        self.answers: list = []

    @property
    def token(self) -> str:
        return oob.by_id(self.dom, "coding-state").get("data-state")

    def post(self, url: str, data: dict, *, token: str | None = None):
        data = {**data, "state": self.token if token is None else token}
        response = self.client.post(url, data, **HX)
        self.answers.append(response)
        body = html(response)
        if response.get("HX-Reswap") == "none":
            oob.apply(self.dom, body)
        else:
            fresh = oob.by_id(oob.parse(body), "workspace")
            old = oob.by_id(self.dom, "workspace")
            old.parent.children[old.parent.children.index(old)] = fresh
            fresh.parent = old.parent
        return response

    def inspect(self, document, at: int) -> None:
        """A click on the text at ``at``: the inspector opens the spans there."""
        url = reverse("inspect", args=[document.pk])
        response = self.client.get(url, {"at": at, "state": self.token}, **HX)
        assert response["HX-Reswap"] == "none"
        oob.apply(self.dom, html(response))

    def part(self, element_id: str) -> str:
        return oob.serialise(oob.by_id(self.dom, element_id))

    def matches_a_fresh_load(self) -> None:
        """The text, the span list, the count and the token are as a page load draws them
        (the tint of the spans open in the inspector aside: the page's script sets it)."""
        fresh = oob.parse(html(self.client.get(self.url)))
        for element_id in ("doc-text", "span-groups", "span-count", "coding-state"):
            drawn = oob.serialise(oob.by_id(fresh, element_id))
            assert self.part(element_id).replace(" selected", "") == drawn, element_id


def opened(page: Page) -> list[str]:
    slot = oob.by_id(page.dom, "inspector-slot")
    return re.findall(r'id="insp-(\d+)"', oob.serialise(slot))


def test_writes_from_a_current_page_get_only_what_changed_and_leave_it_as_a_page_load_draws_it(
    client, study, add_document
):
    document = add_document(study["project"], LONG + "\n", name="long.txt")
    assignments.assignment_create(document=document, coder=study["coder_a"])
    text = document.text
    client.force_login(study["coder_a"])
    page = Page(client, document)
    create_url = reverse("span-create", args=[document.pk])
    codes = study["codes"]

    def tag(phrase, code="Sourcing", occurrence=0):
        start = -1
        for _ in range(occurrence + 1):
            start = text.index(phrase, start + 1)
        data = {"start": start, "end": start + len(phrase), "quote": phrase, "code": codes[code].pk}
        response = page.post(create_url, data)
        assert response.status_code == 200 and response["HX-Reswap"] == "none"
        span = Span.objects.latest("pk")
        assert opened(page) == [str(span.pk)]
        page.matches_a_fresh_load()
        return span

    outer = tag("ministry said the “confession” was voluntary")
    inner = tag("“confession”", "Loaded language")
    far = tag("critics called it a sham", occurrence=90)
    across = tag("voluntary; critics", "Loaded language")
    assert page.part("span-count") == '<span class="muted" id="span-count">4 spans</span>'

    # Every answer is a few pieces, never the workspace or the whole text.
    full = len(client.get(page.url, **HX).content)
    for answer in page.answers:
        body = html(answer)
        assert 'id="workspace"' not in body and 'id="doc-text"' not in body
        assert len(body) < full / 2

    def update(span, data, keep=()):
        span.refresh_from_db()
        url = reverse("span-update", args=[span.pk])
        response = page.post(url, {"version": span.version, "keep": list(keep), **data})
        assert response.status_code == 200 and response["HX-Reswap"] == "none"
        page.matches_a_fresh_load()

    update(inner, {"note": "scare quotes <b>"})
    update(inner, {"code": codes["Sourcing"].pk})  # moves to another group
    page.inspect(document, inner.start)  # both open, as the page's script then sends
    assert opened(page) == [str(outer.pk), str(inner.pk)]
    update(outer, {"adjust": "end-later"}, keep=[outer.pk, inner.pk])  # grows over a stack
    assert opened(page) == [str(outer.pk), str(inner.pk)]
    update(outer, {"adjust": "start-earlier"}, keep=[outer.pk, inner.pk])  # moves in its group
    assert opened(page) == [str(outer.pk), str(inner.pk)]
    update(across, {"start": text.index("critics")})  # leaves the cluster it joined
    far.refresh_from_db()

    # Delete with the inspector holding two spans: only the deleted one's block goes.
    page.inspect(document, inner.start)
    response = page.post(
        reverse("span-delete", args=[inner.pk]), {"version": 3, "keep": [outer.pk, inner.pk]}
    )
    assert response["HX-Reswap"] == "none" and 'id="undo"' in html(response)
    assert opened(page) == [str(outer.pk)]
    assert "Selected span<" in page.part("inspector-title")
    page.matches_a_fresh_load()
    page.post(reverse("span-restore", args=[inner.pk]), {"version": 4})  # Undo
    assert opened(page) == [str(inner.pk)]
    page.matches_a_fresh_load()
    for span in (far, across, outer, inner):  # down to none: groups show "None yet."
        span.refresh_from_db()
        page.post(reverse("span-delete", args=[span.pk]), {"version": span.version})
        page.matches_a_fresh_load()
    assert "None yet." in page.part("span-groups")
    assert page.part("doc-text").count('<span id="t') == (len(text) - 1) // CHUNK + 1


def test_a_page_that_is_behind_gets_the_whole_workspace_and_the_write_is_kept(client, study):
    client.force_login(study["coder_a"])
    document = study["document"]
    page = Page(client, document)
    tag(study, 0, 9)  # another tab: this page does not show it
    data = {"start": 10, "end": 14, "quote": "said", "code": study["codes"]["Sourcing"].pk}
    response = page.post(reverse("span-create", args=[document.pk]), data)
    assert response.status_code == 200 and "HX-Reswap" not in response
    assert html(response).lstrip().startswith('<div id="workspace"')
    assert Span.objects.count() == 2
    page.matches_a_fresh_load()
    assert page.part("span-count").endswith(">2 spans</span>")
    # A request without htmx (no script) gets the whole page; one without a token too.
    span = Span.objects.latest("pk")
    url = reverse("span-update", args=[span.pk])
    response = client.post(url, {"version": 1, "note": "n", "state": page.token})
    assert "<html" in html(response)
    response = client.post(url, {"version": 2, "note": "m"}, **HX)
    assert html(response).lstrip().startswith('<div id="workspace"')


def test_a_click_on_a_highlight_opens_it_in_the_inspector_alone(client, study):
    outer = tag(study, 0, 30)
    inner = tag(study, 10, 14, code="Loaded language")
    client.force_login(study["coder_a"])
    page = Page(client, study["document"])
    response = client.get(
        reverse("inspect", args=[study["document"].pk]), {"at": 11, "state": page.token}, **HX
    )
    body = html(response)
    assert response["HX-Reswap"] == "none" and 'id="workspace"' not in body
    oob.apply(page.dom, body)
    assert opened(page) == [str(outer.pk), str(inner.pk)]
    assert "feedback" not in body  # a look changes no message (Undo stays)
    response = client.get(
        reverse("inspect", args=[study["document"].pk]), {"at": 11, "state": "0" * 24}, **HX
    )
    assert html(response).lstrip().startswith('<div id="workspace"')


def request_queries(captured) -> tuple[int, int]:
    """(all statements, those the write makes): without the session and user lookups
    every request makes and without transaction control."""
    every = [q["sql"] for q in captured.captured_queries]
    own = [
        sql
        for sql in every
        if 'FROM "django_session"' not in sql
        and 'FROM "auth_user"' not in sql
        and not sql.startswith(("SAVEPOINT", "RELEASE", "BEGIN"))
    ]
    return len(every), len(own)


def test_each_span_write_takes_at_most_six_queries_whatever_the_number_of_spans(client, study):
    client.force_login(study["coder_a"])
    document = imports.documents_import(
        project=study["project"], files=[("long.txt", ("word " * 1000).encode())]
    ).created[0]
    assignment = assignments.assignment_create(document=document, coder=study["coder_a"])
    codes = list(study["codes"].values())
    Span.objects.bulk_create(
        Span(assignment=assignment, code=codes[i % 2], start=5 * i, end=5 * i + 4, quote="word")
        for i in range(300)
    )
    assignments.mark_started(assignment)
    page = Page(client, document)
    counts = {}

    def counted(name, url, data):
        with CaptureQueriesContext(connection) as captured:
            response = page.post(url, data)
        assert response["HX-Reswap"] == "none", name
        counts[name] = request_queries(captured)

    start = 5 * 400
    data = {"start": start, "end": start + 4, "quote": "word", "code": codes[0].pk}
    counted("create", reverse("span-create", args=[document.pk]), data)
    span = Span.objects.latest("pk")
    counted("update", reverse("span-update", args=[span.pk]), {"version": 1, "note": "n"})
    counted("delete", reverse("span-delete", args=[span.pk]), {"version": 2})
    counted("restore", reverse("span-restore", args=[span.pk]), {"version": 3})
    # Access (with the membership), the frozen check, the codebook with the coder's spans,
    # the row, the audit.
    assert {name: own for name, (_, own) in counts.items()} == dict.fromkeys(counts, 5)
    # With the session and the user: 7 (plus BEGIN on SQLite, SAVEPOINT/RELEASE in tests).
    assert all(every <= 9 for every, _ in counts.values())


def test_the_drawn_text_is_cached_per_state_and_a_write_never_shows_an_old_drawing(
    client, study, monkeypatch
):
    from annotations.selectors import coding as selectors

    span = tag(study, 0, 9, note="first note")
    client.force_login(study["coder_a"])
    url = page_url(study)
    drawings = []
    original = selectors.text_html
    monkeypatch.setattr(
        selectors, "text_html", lambda *a, **k: drawings.append(1) or original(*a, **k)
    )
    first = client.get(url)
    again = client.get(url)
    assert len(drawings) == 1  # drawn once, then from the cache
    for part in ("doc-text", "span-groups"):
        assert oob.serialise(oob.by_id(oob.parse(html(first)), part)) == oob.serialise(
            oob.by_id(oob.parse(html(again)), part)
        )
    spans.span_update(span=span, expected_version=1, note="second note")
    second = html(client.get(url))
    assert "second note" in second and "first note" not in second and len(drawings) == 2
    tag(study, 10, 14, code="Loaded language")
    assert html(client.get(url)).count('class="hl ') == 2 and len(drawings) == 3
    # Another code's name or key is drawn too: a codebook change draws again.
    code = study["codes"]["Sourcing"]
    code.name = "Attribution"
    code.save()
    assert "Attribution" in html(client.get(url)) and len(drawings) == 4


def test_work_left_behind_by_a_coder_no_longer_in_the_project_is_closed_to_them(client, study):
    """Rows stay (they are data), but without the membership there is no way in."""
    from annotations.models import Membership

    span = tag(study, 0, 9)
    client.force_login(study["coder_a"])
    document = study["document"]
    assert client.get(reverse("annotate", args=[document.pk])).status_code == 200
    # Set up directly: the people service refuses to remove a member who has work.
    Membership.objects.filter(user=study["coder_a"], project=study["project"]).delete()
    assert client.get(reverse("annotate", args=[document.pk])).status_code == 404
    answers = [
        client.post(reverse("span-update", args=[span.pk]), {"version": 1, "note": "x"}),
        client.post(reverse("span-delete", args=[span.pk]), {"version": 1}),
        client.post(
            reverse("span-create", args=[document.pk]),
            {"start": 10, "end": 13, "quote": document.text[10:13], "code": span.code_id},
        ),
    ]
    assert [a.status_code for a in answers] == [404, 404, 404]
    span.refresh_from_db()
    assert (span.version, span.note, span.deleted_at) == (1, "", None)
    assert Span.objects.filter(assignment=span.assignment).count() == 1
