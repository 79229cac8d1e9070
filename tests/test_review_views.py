"""The review queue and page over HTTP: who may reach them, what they show, how they answer htmx."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from annotations.domain.alignment import Kind
from annotations.domain.settling import item_key
from annotations.models import AssignmentStatus, GoldSpan, Provenance, ReviewDecision, Role
from annotations.selectors.review import document_alignment
from annotations.services import assignments, imports, spans
from annotations.services import review as review_services

HX = {"HTTP_HX_REQUEST": "true"}


def tag(assignment, code, phrase):
    start = assignment.document.text.index(phrase)
    return spans.span_create(
        assignment=assignment, code_id=code.pk, start=start, end=start + len(phrase), quote=phrase
    )


def finish_coding(*work):
    for a in work:
        assignments.assignment_set_status(assignment=a, status=AssignmentStatus.DONE)


@pytest.fixture
def disputed(study):
    a, b = study["assignment_a"], study["assignment_b"]
    sourcing, loaded = study["codes"]["Sourcing"], study["codes"]["Loaded language"]
    tag(a, sourcing, "Officials said")
    tag(b, sourcing, "Officials said")
    tag(a, loaded, "“confession”")
    tag(b, loaded, "the “confession”")
    tag(a, loaded, "a sham")
    tag(a, sourcing, "Critics called")
    tag(b, loaded, "Critics called")
    finish_coding(a, b)
    return study


def key_of(document, kind):
    return next(item_key(i) for i in document_alignment(document).items if i.kind == kind)


def urls(w):
    document = w["document"]
    return {
        "queue": ("get", reverse("review-queue", args=[w["project"].pk]), {}),
        "next": ("get", reverse("review-next", args=[w["project"].pk]), {}),
        "page": ("get", reverse("review", args=[document.pk]), {}),
        "settle": (
            "post",
            reverse("review-settle", args=[document.pk]),
            {"item_key": key_of(document, Kind.MISSED), "choice": "reject"},
        ),
        "agreed": ("post", reverse("review-accept-agreed", args=[document.pk]), {}),
        "finish": ("post", reverse("review-finish", args=[document.pk]), {}),
        "reopen": ("post", reverse("review-reopen", args=[document.pk]), {}),
    }


@pytest.mark.parametrize("coder", ["coder_a", "coder_b"])
def test_coders_get_404_on_every_review_url_and_nothing_is_settled(client, disputed, coder):
    client.force_login(disputed[coder])
    for name, (method, url, data) in urls(disputed).items():
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, name
    assert not ReviewDecision.objects.exists() and not GoldSpan.objects.exists()


def test_a_coder_cannot_edit_a_gold_span(client, disputed):
    review_services.gold_accept_agreed(document=disputed["document"], actor=disputed["reviewer"])
    gold = GoldSpan.objects.get()
    client.force_login(disputed["coder_a"])
    url = reverse("gold-edit", args=[gold.pk])
    assert client.post(url, {"version": 1, "adjust": "end-later"}).status_code == 404
    gold.refresh_from_db()
    assert gold.version == 1


@pytest.mark.parametrize("role", ["reviewer", "manager"])
def test_reviewers_and_managers_open_the_queue_and_the_page(client, disputed, role):
    client.force_login(disputed[role])
    for name, (method, url, _) in urls(disputed).items():
        if method == "get":
            assert getattr(client, method)(url).status_code in (200, 302), name


def test_blind_review_page_shows_pseudonyms_and_never_a_coders_username(client, disputed):
    client.force_login(disputed["reviewer"])
    document = disputed["document"]
    # Settled items show where gold came from: that must stay pseudonymous too.
    review_services.gold_settle(
        document=document,
        item_key=key_of(document, Kind.BOUNDARY),
        action="union",
        actor=disputed["reviewer"],
    )
    html = client.get(reverse("review", args=[document.pk])).content.decode()
    assert "Coder A" in html and "Coder B" in html
    assert "from Coder A, Coder B" in html
    for name in ("coder_a", "coder_b"):
        assert name not in html
    queue = client.get(reverse("review-queue", args=[disputed["project"].pk])).content.decode()
    assert "Coder A" in queue and "coder_a" not in queue and "coder_b" not in queue


def test_open_projects_show_usernames(client, make_project, add_document, make_user, member):
    project = make_project("Open study", blind=False)
    document = add_document(project, "Ministers denied everything on Tuesday.\n")
    coder = member(project, make_user("ana"))
    reviewer = member(project, make_user("rev"), Role.REVIEWER)
    assignment = assignments.assignment_create(document=document, coder=coder)
    tag(assignment, project.codebook.codes.first(), "Ministers denied")
    finish_coding(assignment)
    client.force_login(reviewer)
    html = client.get(reverse("review", args=[document.pk])).content.decode()
    assert ">ana<" in html and "Coder A" not in html


def test_the_page_lists_disagreements_in_text_order_with_their_type(client, disputed):
    client.force_login(disputed["reviewer"])
    html = client.get(reverse("review", args=[disputed["document"].pk])).content.decode()
    kinds = re.findall(r'<tr class="item kind-(\w+)', html)
    assert kinds == ["boundary", "code", "missed"]  # "Critics called" precedes "a sham"
    # The article appears once, as escaped text, with every item marked.
    assert html.count('id="review-text"') == 1
    assert "&lt;" not in disputed["document"].text and "“confession”" in html


def test_htmx_requests_get_the_review_fragment_and_others_the_whole_page(client, disputed):
    client.force_login(disputed["reviewer"])
    url = reverse("review", args=[disputed["document"].pk])
    page, fragment = client.get(url), client.get(url, **HX)
    assert "<html" in page.content.decode() and 'id="review-text"' in page.content.decode()
    body = fragment.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<section id="review"')
    assert 'id="review-text"' not in body  # the article is never re-sent
    assert "HX-Request" in page["Vary"] and "HX-Request" in fragment["Vary"]
    history = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in history.content.decode()


def test_settling_through_htmx_answers_with_the_settled_fragment(client, disputed):
    client.force_login(disputed["reviewer"])
    document = disputed["document"]
    response = client.post(
        reverse("review-settle", args=[document.pk]),
        {
            "item_key": key_of(document, Kind.BOUNDARY),
            "choice": "accept:Coder B",
            "rationale": "Wider",
        },
        **HX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Settled (accept)." in body and "from Coder B" in body and "Wider" in body
    gold = GoldSpan.objects.get()
    assert gold.quote == "the “confession”" and gold.provenance == Provenance.DECISION
    assert gold.source_coders == [disputed["coder_b"].pk]


def test_a_second_reviewer_settling_the_same_item_gets_409_and_a_clear_message(
    client, disputed, make_user, member
):
    document = disputed["document"]
    other = member(disputed["project"], make_user("second"), Role.REVIEWER)
    key = key_of(document, Kind.BOUNDARY)
    client.force_login(disputed["reviewer"])
    url = reverse("review-settle", args=[document.pk])
    assert client.post(url, {"item_key": key, "choice": "union"}, **HX).status_code == 200
    client.force_login(other)
    response = client.post(url, {"item_key": key, "choice": "reject"}, **HX)
    assert response.status_code == 409
    assert "already settled by reviewer at" in response.content.decode()
    assert ReviewDecision.objects.get().action == "union"
    assert GoldSpan.objects.count() == 1


def test_invalid_choices_answer_422_and_change_nothing(client, disputed):
    client.force_login(disputed["reviewer"])
    document = disputed["document"]
    url = reverse("review-settle", args=[document.pk])
    missed = key_of(document, Kind.MISSED)
    code = str(disputed["codes"]["Sourcing"].pk)  # a real id: PostgreSQL does not reuse ids
    for data, message in [
        ({"item_key": missed, "choice": "teleport"}, "Choose how to settle"),
        ({"item_key": missed, "choice": "accept:Coder B"}, "marked nothing here"),
        ({"item_key": missed, "choice": "accept:coder_a"}, "Choose whose version"),
        (
            {"item_key": missed, "choice": "edit", "start": "9", "end": "2", "code": code},
            "reversed",
        ),
    ]:
        response = client.post(url, data, **HX)
        assert response.status_code == 422, data
        assert message in response.content.decode()
    assert not ReviewDecision.objects.exists() and not GoldSpan.objects.exists()


def test_gold_boundaries_move_by_a_word_from_the_gold_lane(client, disputed):
    document = disputed["document"]
    review_services.gold_accept_agreed(document=document, actor=disputed["reviewer"])
    gold = GoldSpan.objects.get()
    client.force_login(disputed["reviewer"])
    response = client.post(
        reverse("gold-edit", args=[gold.pk]), {"version": 1, "adjust": "end-later"}, **HX
    )
    assert response.status_code == 200
    gold.refresh_from_db()
    assert gold.quote == "Officials said the" and gold.provenance == Provenance.EDIT


def queue_rows(client, project, query=""):
    html = client.get(reverse("review-queue", args=[project.pk]) + query, **HX).content.decode()
    return re.findall(r'data-document="(\d+)"', html), html


def test_queue_counts_filters_and_marks_unfinished_documents(
    client, disputed, add_document, make_user
):
    project = disputed["project"]
    first = disputed["document"]
    second = add_document(project, "Critics called the verdict a sham. Officials said nothing.\n")
    a2 = assignments.assignment_create(document=second, coder=disputed["coder_a"])
    b2 = assignments.assignment_create(document=second, coder=disputed["coder_b"])
    tag(a2, disputed["codes"]["Sourcing"], "Officials said")
    finish_coding(a2)  # coder B is not done with the second document
    tag(b2, disputed["codes"]["Sourcing"], "Critics called")
    client.force_login(disputed["reviewer"])

    rows, html = queue_rows(client, project)
    assert rows == [str(first.pk), str(second.pk)]  # most open disagreements first
    assert "coding not finished" in html
    assert re.search(r'class="num open-total">3<', html)

    assert queue_rows(client, project, "?finished=1")[0] == [str(first.pk)]
    assert queue_rows(client, project, "?kind=boundary")[0] == [str(first.pk)]
    assert queue_rows(client, project, "?kind=code")[0] == [str(first.pk)]
    loaded = disputed["codes"]["Loaded language"].pk
    assert queue_rows(client, project, f"?code={loaded}")[0] == [str(first.pk)]
    assert queue_rows(client, project, "?sort=document")[0] == [str(first.pk), str(second.pk)]
    # Coders are filtered by the label the page shows, never by a user id.
    assert len(queue_rows(client, project, "?coder=Coder A")[0]) == 2
    for hidden in (f"{disputed['coder_a'].pk}", f"{make_user('nobody').pk}", "Coder Z"):
        response = client.get(reverse("review-queue", args=[project.pk]) + f"?coder={hidden}")
        assert response.status_code == 422


def test_settling_updates_the_queues_open_count(client, disputed):
    client.force_login(disputed["reviewer"])
    document = disputed["document"]
    review_services.gold_settle(
        document=document,
        item_key=key_of(document, Kind.MISSED),
        action="reject",
        actor=disputed["reviewer"],
    )
    _, html = queue_rows(client, disputed["project"])
    assert re.search(r'class="num open-total">2<', html)
    assert "1 of 4" in html


def add_spans(study, count):
    """``count`` agreed-or-not spans per coder on a long document of the study project."""
    words = [f"w{i:04d}" for i in range(count * 3)]
    document = imports.documents_import(
        project=study["project"], files=[(f"long{count}.txt", " ".join(words).encode())]
    ).created[0]
    a = assignments.assignment_create(document=document, coder=study["coder_a"])
    b = assignments.assignment_create(document=document, coder=study["coder_b"])
    codes = list(study["codes"].values())
    for i in range(count):
        for assignment, shift in ((a, 0), (b, i % 3)):
            word = words[3 * i + shift]
            start = document.text.index(word)
            spans.span_create(
                assignment=assignment,
                code_id=codes[i % 2].pk,
                start=start,
                end=start + len(word),
                quote=word,
            )
    finish_coding(a, b)
    return document


def test_page_and_queue_queries_do_not_grow_with_spans_or_documents(
    client, study, django_assert_max_num_queries
):
    small, large = add_spans(study, 3), add_spans(study, 40)
    review_services.gold_accept_agreed(document=large, actor=study["reviewer"])
    client.force_login(study["reviewer"])
    for document in (small, large):
        # 14 for the page (the coders' notes of the spans shown and the decisions of the
        # settled rows shown among them), 1 for the header's site rights; neither grows
        # with the data.
        with django_assert_max_num_queries(15):
            assert client.get(reverse("review", args=[document.pk])).status_code == 200
        with django_assert_max_num_queries(14):
            response = client.get(reverse("review", args=[document.pk]), **HX)
            assert response.status_code == 200
    with django_assert_max_num_queries(13):
        assert client.get(reverse("review-queue", args=[study["project"].pk])).status_code == 200


def settle_everything(w):
    document, reviewer = w["document"], w["reviewer"]
    review_services.gold_accept_agreed(document=document, actor=reviewer)
    for kind, action, extra in [
        (Kind.BOUNDARY, "accept", {"coder": w["coder_b"].pk}),
        (Kind.MISSED, "reject", {"rationale": "Reported speech."}),
        (Kind.CODE, "accept", {"coder": w["coder_a"].pk}),
    ]:
        review_services.gold_settle(
            document=document,
            item_key=key_of(document, kind),
            action=action,
            actor=reviewer,
            **extra,
        )
    review_services.review_finish(document=document, actor=reviewer)


def test_finishing_from_the_page_settles_the_review(client, disputed):
    client.force_login(disputed["reviewer"])
    url = reverse("review-finish", args=[disputed["document"].pk])
    response = client.post(url, **HX)
    assert response.status_code == 422 and "still to settle" in response.content.decode()


def test_feedback_is_hidden_until_settled_and_allowed(client, disputed):
    document, project = disputed["document"], disputed["project"]
    url = reverse("review-feedback", args=[document.pk])
    client.force_login(disputed["coder_a"])
    assert client.get(url).status_code == 404  # not settled, not allowed
    settle_everything(disputed)
    assert client.get(url).status_code == 404  # settled, but the project does not allow it
    project.feedback_to_coders = True
    project.save()
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Reported speech." in html and "Only yours" in html and "Kept" in html
    assert "coder_b" not in html and "Coder B" not in html
    client.force_login(disputed["reviewer"])  # reviewers have no assignment here
    assert client.get(url).status_code == 404


def row_numbers(html):
    return [
        int(n) for n in re.findall(r'<tr class="item[^"]*"[^>]*>\s*<th scope="row">(\d+)<', html)
    ]


def test_a_long_document_shows_one_window_of_disagreements_numbered_in_the_whole_list(
    client, study
):
    document = add_spans(study, 40)  # 14 agreed items and 52 disagreements
    items = document_alignment(document).items
    open_items = [str(i) for i, item in enumerate(items) if item.kind != Kind.AGREED]
    assert len(open_items) == 52
    client.force_login(study["reviewer"])
    url = reverse("review", args=[document.pk])

    html = client.get(url).content.decode()
    assert row_numbers(html) == list(range(1, 31))
    assert "Disagreements 1–30 of 52" in html and "52 open disagreements" in html
    # The panel names every open disagreement, so the article's marks stay right.
    assert f'data-open="{" ".join(open_items)}"' in html

    later = client.get(url + "?row=31", **HX).content.decode()
    assert row_numbers(later) == list(range(31, 53))
    assert row_numbers(client.get(url + "?row=45", **HX).content.decode()) == list(range(31, 53))
    assert row_numbers(client.get(url + "?row=999", **HX).content.decode()) == list(range(31, 53))
    assert client.get(url + "?row=x", **HX).status_code == 422
    # An item clicked in the article opens the window that lists it.
    assert row_numbers(client.get(url + f"?item={open_items[40]}", **HX).content.decode())[0] == 31


def test_the_window_opens_at_the_first_open_disagreement(client, study):
    document = add_spans(study, 40)
    for item in document_alignment(document).items[:50]:
        if item.kind != Kind.AGREED:
            review_services.gold_settle(
                document=document, item_key=item_key(item), action="reject", actor=study["reviewer"]
            )
    client.force_login(study["reviewer"])
    html = client.get(reverse("review", args=[document.pk])).content.decode()
    assert row_numbers(html)[0] == 31


def test_settling_in_a_later_window_answers_with_that_window_and_the_settled_row(client, study):
    document = add_spans(study, 40)
    disagreements = [i for i in document_alignment(document).items if i.kind != Kind.AGREED]
    client.force_login(study["reviewer"])
    response = client.post(
        reverse("review-settle", args=[document.pk]),
        {"item_key": item_key(disagreements[39]), "choice": "reject", "rationale": "Off topic"},
        **HX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert row_numbers(body) == list(range(31, 53))
    settled = re.findall(r'<tr class="item kind-\w+ settled"[^>]*>\s*<th scope="row">(\d+)<', body)
    assert settled == ["40"]
    assert "Off topic" in body and "51 open disagreements" in body
    # Other actions keep the reviewer's window through the row they send along.
    response = client.post(reverse("review-accept-agreed", args=[document.pk]), {"row": "31"}, **HX)
    assert row_numbers(response.content.decode())[0] == 31


def test_the_article_is_sent_once_as_escaped_text_with_every_item_as_data(
    client, study, add_document
):
    project = study["project"]
    text = "Critics said <b>nothing</b> & left. Officials said 😀 more.\n"
    document = add_document(project, text, "escape.txt")
    a = assignments.assignment_create(document=document, coder=study["coder_a"])
    b = assignments.assignment_create(document=document, coder=study["coder_b"])
    sourcing = study["codes"]["Sourcing"]
    tag(a, sourcing, "<b>nothing</b>")
    tag(b, sourcing, "<b>nothing</b>")
    tag(a, sourcing, "more")
    finish_coding(a, b)
    client.force_login(study["reviewer"])
    html = client.get(reverse("review", args=[document.pk])).content.decode()
    assert "&lt;b&gt;nothing&lt;/b&gt; &amp; left" in html and "<b>nothing" not in html
    marks = re.search(r'data-marks="([^"]*)"', html).group(1)
    expected = [f"{i.start}:{i.end}:{i.kind}" for i in document_alignment(document).items]
    assert (
        marks.split(" ")
        == expected
        == ["13:27:agreed", f"{text.index('more')}:{text.index('more') + 4}:missed"]
    )


def test_agreed_items_are_listed_with_the_window_whose_text_they_are_in(client, study):
    document = add_spans(study, 40)
    client.force_login(study["reviewer"])
    url = reverse("review", args=[document.pk])
    first = client.get(url).content.decode()
    later = client.get(url + "?row=31", **HX).content.decode()
    listed = re.findall(
        r'<li class="agreed[^"]*">.*?<span class="quote">“(w\d+)”</span>', first + later
    )
    # Every agreed word (w0000, w0009, ...: every third pair) is listed exactly once.
    assert sorted(listed) == [f"w{9 * i:04d}" for i in range(14)]
    assert "14 agreed (14 to accept)" in first and "14 agreed (14 to accept)" in later


def test_window_pages_keep_queries_bounded(client, study, django_assert_max_num_queries):
    document = add_spans(study, 40)
    review_services.gold_accept_agreed(document=document, actor=study["reviewer"])
    # Settled rows with gold spans in both windows: decisions and gold are shown there.
    disagreements = [i for i in document_alignment(document).items if i.kind != Kind.AGREED]
    for item in disagreements[25:35]:
        review_services.gold_settle(
            document=document, item_key=item_key(item), action="union", actor=study["reviewer"]
        )
    client.force_login(study["reviewer"])
    url = reverse("review", args=[document.pk])
    for query in ("?row=31", "?item=5", ""):
        with django_assert_max_num_queries(14):
            response = client.get(url + query, **HX)
        assert response.status_code == 200 and "from Coder A" in response.content.decode()
