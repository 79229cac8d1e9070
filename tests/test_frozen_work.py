"""Work under review is frozen; work marked done changes only once reopened.

Found by probing: a coder added, moved and deleted spans on a document in review and even
settled, and gold spans then pointed at deleted or moved spans with provenance "unanimous".
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import AssignmentStatus, DocumentReview, GoldSpan, ReviewStatus, Span
from annotations.services import assignments, review, spans
from annotations.services.base import ConflictError

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def tag(study, coder, phrase, code="Sourcing"):
    start = study["document"].text.index(phrase)
    return spans.span_create(
        assignment=study[f"assignment_{coder}"],
        code_id=study["codes"][code].pk,
        start=start,
        end=start + len(phrase),
        quote=phrase,
    )


@pytest.fixture
def settled(study):
    mine = tag(study, "a", "Officials")
    tag(study, "b", "Officials")
    for coder in ("a", "b"):
        assignments.assignment_set_status(
            assignment=study[f"assignment_{coder}"], status=AssignmentStatus.DONE
        )
    review.gold_accept_agreed(document=study["document"], actor=study["reviewer"])
    review.review_finish(document=study["document"], actor=study["reviewer"])
    return {**study, "mine": mine}


def test_no_span_write_reaches_a_document_under_review(client, settled):
    span, text = settled["mine"], settled["document"].text
    before = list(Span.objects.values_list("pk", "start", "end", "version", "deleted_at"))
    gold = list(GoldSpan.objects.values_list("pk", "start", "end", "source_spans"))
    client.force_login(settled["coder_a"])
    start = text.index("Critics")
    attempts = [
        (
            reverse("span-create", args=[settled["document"].pk]),
            {
                "start": start,
                "end": start + 7,
                "quote": "Critics",
                "code": settled["codes"]["Sourcing"].pk,
            },
        ),
        (reverse("span-update", args=[span.pk]), {"version": span.version, "note": "moved"}),
        (reverse("span-update", args=[span.pk]), {"version": span.version, "adjust": "end-later"}),
        (reverse("span-delete", args=[span.pk]), {"version": span.version}),
        (reverse("span-restore", args=[span.pk]), {"version": span.version}),
    ]
    for url, data in attempts:
        response = client.post(url, data, **HX)
        assert response.status_code == 409, url
        assert "A reviewer has started on this document" in response.content.decode()
        assert "manager can reopen it" in response.content.decode()
    assert list(Span.objects.values_list("pk", "start", "end", "version", "deleted_at")) == before
    assert list(GoldSpan.objects.values_list("pk", "start", "end", "source_spans")) == gold
    page = client.get(reverse("annotate", args=[settled["document"].pk])).content.decode()
    assert 'id="frozen"' in page and "A reviewer has started" in page


def test_a_manager_reopens_for_coding_and_changed_items_come_back_for_review(client, settled):
    document = settled["document"]
    client.force_login(settled["reviewer"])
    refused = client.post(reverse("review-reopen-coding", args=[document.pk]), **HX)
    assert refused.status_code == 404  # managers only
    client.force_login(settled["manager"])
    response = client.post(reverse("review-reopen-coding", args=[document.pk]), **HX)
    assert response.status_code == 200
    assert DocumentReview.objects.get(document=document).status == ReviewStatus.REOPENED
    settled["assignment_a"].refresh_from_db()
    assert settled["assignment_a"].status == AssignmentStatus.IN_PROGRESS
    span = Span.objects.get(pk=settled["mine"].pk)
    changed = spans.span_update(
        span=span, expected_version=span.version, end=span.end + 5, actor=settled["coder_a"]
    )
    assert changed.quote == "Officials said"
    with pytest.raises(ConflictError, match="reopened for coding"):
        review.gold_accept_agreed(document=document, actor=settled["reviewer"])
    assignments.assignment_set_status(
        assignment=settled["assignment_a"], status=AssignmentStatus.DONE
    )
    assignments.assignment_set_status(
        assignment=settled["assignment_b"], status=AssignmentStatus.DONE
    )
    from annotations.selectors.review_page import review_page

    page = review_page(document)
    assert page.review.status == ReviewStatus.IN_REVIEW
    assert page.open_count == 1  # the item coder A changed is open again


def test_a_coder_changes_work_marked_done_only_after_reopening_it(client, study):
    span = tag(study, "a", "Officials")
    assignments.assignment_set_status(
        assignment=study["assignment_a"], status=AssignmentStatus.DONE
    )
    client.force_login(study["coder_a"])
    response = client.post(
        reverse("span-update", args=[span.pk]), {"version": span.version, "note": "x"}, **HX
    )
    assert response.status_code == 409 and "Reopen it" in response.content.decode()
    client.post(
        reverse("assignment-status", args=[study["document"].pk]), {"status": "in_progress"}
    )
    response = client.post(
        reverse("span-update", args=[span.pk]), {"version": span.version, "note": "x"}, **HX
    )
    assert response.status_code == 200
    assert Span.objects.get(pk=span.pk).note == "x"


def test_a_note_longer_than_ten_thousand_characters_is_refused(client, study):
    client.force_login(study["coder_a"])
    text = study["document"].text
    response = client.post(
        reverse("span-create", args=[study["document"].pk]),
        {
            "start": 0,
            "end": 9,
            "quote": text[:9],
            "code": study["codes"]["Sourcing"].pk,
            "note": "n" * 200_000,
        },
        **HX,
    )
    assert response.status_code == 422
    assert "at most 10,000 characters" in response.content.decode()
    assert not Span.objects.exists()
