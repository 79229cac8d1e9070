"""Where each role lands, what the header offers it, the messages actions leave, the one
feedback region, coders' notes for reviewers, and the smaller fixes of issue 15."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotations.domain.offsets import char_step, snap_to_words
from annotations.domain.rendering import quoted
from annotations.models import Assignment, AssignmentStatus, GoldSpan, Membership, Role, Span
from annotations.services import assignments, review, spans
from annotations.services.seed import load_demo, load_seed

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def page(response) -> str:
    return response.content.decode()


def nav(body: str) -> str:
    return body.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]


def tag(study, phrase, *, coder="a", code="Sourcing", note=""):
    assignment = study[f"assignment_{coder}"]
    start = assignment.document.text.index(phrase)
    return spans.span_create(
        assignment=assignment,
        code_id=study["codes"][code].pk,
        start=start,
        end=start + len(phrase),
        quote=phrase,
        note=note,
    )


# --- Landing and the header ------------------------------------------------------------------


def test_a_coder_lands_on_my_work_with_the_outlet_of_each_document(client, study):
    document = study["document"]
    document.outlet = "Coda Story"
    document.save(update_fields=["outlet"])
    client.force_login(study["coder_a"])
    response = client.get(reverse("home"))
    body = page(response)
    assert response.status_code == 200
    assert '<th scope="col">Outlet</th>' in body and "<td>Coda Story</td>" in body
    links = nav(body)
    assert "My work" in links and "Next document" in links
    assert "Review and agreement" not in links and "Manage" not in links


def test_a_reviewer_lands_on_review_and_agreement_and_the_header_leads_there(client, study):
    client.force_login(study["reviewer"])
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("review-home")
    body = page(client.get(reverse("review-home")))
    project = study["project"]
    for name in ("review-queue", "review-next", "agreement"):
        assert reverse(name, args=[project.pk]) in body
    links = nav(body)
    assert "Review and agreement" in links
    assert "Next document" not in links and "My work" not in links  # nothing to code


def test_a_manager_who_codes_nothing_lands_on_the_dashboard(client, study):
    client.force_login(study["manager"])
    response = client.get(reverse("home"))
    assert response["Location"] == reverse("manage-dashboard", args=[study["project"].pk])
    body = page(client.get(response["Location"]))
    links = nav(body)
    assert "Manage" in links and "Review and agreement" in links and "Next document" not in links
    for name in ("review-queue", "agreement", "export"):
        assert reverse(name, args=[study["project"].pk]) in body


def test_someone_with_an_invitation_sees_it_before_being_sent_anywhere(client, study):
    from annotations.services import people

    people.member_invite(
        project=load_seed().project, username="reviewer", role=Role.CODER, actor=None
    )
    client.force_login(study["reviewer"])
    response = client.get(reverse("home"))
    assert response.status_code == 200 and 'id="invitations"' in page(response)


def test_the_review_home_lists_only_projects_the_user_reviews(client, study, make_user):
    client.force_login(study["coder_a"])
    body = page(client.get(reverse("review-home")))
    assert "You review no project" in body and study["project"].name not in body


# --- Messages ------------------------------------------------------------------------------


def test_mark_done_says_so_on_the_next_page(client, study, add_document):
    second = add_document(study["project"], "A second article, not done yet.", name="b.txt")
    assignments.assignment_create(document=second, coder=study["coder_a"])
    client.force_login(study["coder_a"])
    response = client.post(
        reverse("assignment-status", args=[study["document"].pk]), {"status": "done"}, **HX
    )
    body = page(client.get(response["HX-Redirect"], follow=True))
    status = body.split('id="feedback-status"', 1)[1].split("</div>", 1)[0]
    assert "Marked" in status and "done." in status


def test_review_next_with_nothing_left_says_so(client, study):
    for key in ("assignment_a", "assignment_b"):
        assignments.assignment_set_status(assignment=study[key], status=AssignmentStatus.DONE)
    client.force_login(study["reviewer"])
    response = client.get(reverse("review-next", args=[study["project"].pk]), follow=True)
    assert "Nothing left to review" in page(response)


def test_run_now_with_nothing_new_says_so_in_the_feedback_region(client, study):
    client.force_login(study["reviewer"])
    url = reverse("agreement-run", args=[study["project"].pk])
    client.post(url, **HX)
    body = page(client.post(url, **HX))
    region = body.split('<div id="feedback-status" hx-swap-oob="innerHTML">', 1)[1]
    assert "no new run was started" in region.split("</div>", 1)[0]


# --- The feedback region ---------------------------------------------------------------------


def test_every_page_has_one_feedback_region_and_actions_fill_it_out_of_band(client, study):
    client.force_login(study["coder_a"])
    full = page(client.get(reverse("annotate", args=[study["document"].pk])))
    assert full.count('id="feedback"') == 1 and 'role="status"' in full
    assert "hx-swap-oob" not in full
    span = tag(study, "Officials")
    fragment = page(client.post(reverse("span-delete", args=[span.pk]), {"version": 1}, **HX))
    assert fragment.count('hx-swap-oob="innerHTML"') == 2  # the status and alert regions
    assert 'id="undo"' in fragment and 'id="feedback"' not in fragment
    assert 'hx-vals=\'{"version": "2"}\'' in fragment
    # A GET with nothing to say (opening a span, a poll) leaves the region as it is.
    opened = page(client.get(reverse("inspect", args=[study["document"].pk]), {"at": 0}, **HX))
    assert "hx-swap-oob" not in opened


def test_a_manage_page_shows_its_error_in_the_region_only(client, study):
    client.force_login(study["manager"])
    response = client.post(
        reverse("manage-code-add", args=[study["project"].pk]), {"name": ""}, follow=True
    )
    body = page(response)
    alert = body.split('id="feedback-alert"', 1)[1].split("</div>", 1)[0]
    assert 'class="error"' in alert
    assert body.count('class="error"') == 1


# --- Review: coders' notes, gold boundaries from a selection, by character ------------------


def test_reviewers_see_each_coders_note_under_the_coders_pseudonym(client, study):
    tag(study, "Officials said", note="Unsure: attribution or claim?")
    tag(study, "Officials", coder="b", note="Only the source.")
    tag(study, "Critics", note="Loaded?", code="Loaded language")
    tag(study, "Critics", coder="b", note="Plain word.", code="Loaded language")
    for key in ("assignment_a", "assignment_b"):
        assignments.assignment_set_status(assignment=study[key], status=AssignmentStatus.DONE)
    client.force_login(study["reviewer"])
    body = page(client.get(reverse("review", args=[study["document"].pk])))
    assert "Note by Coder A:</span> Unsure: attribution or claim?" in body
    assert "Note by Coder B:</span> Only the source." in body
    # Agreed items carry their notes too.
    assert "Note by Coder A:</span> Loaded?" in body and "Plain word." in body
    assert "coder_a" not in body and "coder_b" not in body


def settled_gold(study) -> GoldSpan:
    tag(study, "Officials said")
    tag(study, "Officials", coder="b")
    for key in ("assignment_a", "assignment_b"):
        assignments.assignment_set_status(assignment=study[key], status=AssignmentStatus.DONE)
    from annotations.domain.settling import item_key
    from annotations.selectors.review import document_alignment

    item = next(i for i in document_alignment(study["document"]).items if i.kind != "agreed")
    decision = review.gold_settle(
        document=study["document"],
        item_key=item_key(item),
        action="accept",
        coder=study["coder_a"].pk,
        actor=study["reviewer"],
    )
    return decision.gold_span


def test_gold_boundaries_move_by_one_character_and_are_set_from_a_selection(client, study):
    gold = settled_gold(study)
    client.force_login(study["reviewer"])
    url = reverse("gold-edit", args=[gold.pk])
    one_char = {"version": gold.version, "adjust": "end-earlier", "by": "char"}
    response = client.post(url, one_char, **HX)
    assert response.status_code == 200
    gold.refresh_from_db()
    assert gold.quote == "Officials sai"
    text = study["document"].text
    start = text.index("the “confession”")
    data = {"version": gold.version, "start": start, "end": start + 16, "quote": "the “confession”"}
    assert client.post(url, data, **HX).status_code == 200
    gold.refresh_from_db()
    assert gold.quote == "the “confession”"
    stale = {**data, "version": gold.version, "quote": "something else!"}
    response = client.post(url, stale, **HX)
    assert response.status_code == 422 and "does not match" in page(response)
    unknown = {"version": gold.version, "adjust": "end-later", "by": "line"}
    response = client.post(url, unknown, **HX)
    assert response.status_code == 422


# --- Smaller fixes --------------------------------------------------------------------------


def test_quotes_with_quote_marks_of_their_own_get_no_second_pair():
    assert quoted("Hun Sen said") == "“Hun Sen said”"
    assert quoted("Asia’s largest") == "“Asia’s largest”"  # an apostrophe is no quote mark
    assert quoted("“They are all fake,”") == "“They are all fake,”"
    assert quoted("seemingly forced “confession” videos") == "seemingly forced “confession” videos"
    assert quoted("the 'rules'") == "the 'rules'"


def test_snapping_widens_a_selection_to_whole_words_and_char_steps_stay_in_the_text():
    text = "to ensure adherence to international standards"
    start = text.index("nsure")
    assert snap_to_words(text, start, start + len("nsure adheren")) == (
        text.index("ensure"),
        text.index("adherence") + len("adherence"),
    )
    assert snap_to_words(text, 3, 9) == (3, 9)  # whole words stay as they are
    assert char_step(text, 0, -1) == 0 and char_step(text, len(text), 1) == len(text)


def test_the_admin_manages_the_seed_project_and_codes_nothing_and_demo_coders_code_both(
    client, monkeypatch
):
    monkeypatch.setenv("FRAMING_ADMIN_PASSWORD", "a long test password")
    call_command("load_seed", stdout=io.StringIO())
    call_command("ensure_admin", stdout=io.StringIO())
    project = load_seed().project
    admin = Membership.objects.get(project=project, role=Role.MANAGER).user
    assert not Assignment.objects.filter(coder=admin).exists()
    outcome = load_demo()
    assert outcome.coders == ["demo_coder_a", "demo_coder_b"] and outcome.spans_created == 47
    assert load_demo().spans_created == 0  # nothing twice
    demo = Assignment.objects.filter(coder__username__startswith="demo_coder_")
    assert demo.count() == 4 and set(demo.values_list("status", flat=True)) == {"done"}
    assert Span.objects.exclude(note="").filter(assignment__in=demo).exists()
    assert all(s.quote == s.assignment.document.text[s.start : s.end] for s in Span.objects.all())
    client.force_login(admin)
    queue = page(client.get(reverse("review-queue", args=[project.pk])))
    assert queue.count("coding not finished") == 0 and "Coder A" in queue
    assert re.search(r"2 of 2", queue)
