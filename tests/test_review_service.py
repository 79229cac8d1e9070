"""Settling disagreements into the gold layer: provenance, offsets, concurrency, audit."""

from __future__ import annotations

import pytest

from annotations.domain.alignment import Kind
from annotations.domain.settling import item_key
from annotations.models import (
    AssignmentStatus,
    AuditEvent,
    GoldSpan,
    Provenance,
    ReviewDecision,
    ReviewStatus,
    Span,
)
from annotations.selectors.labels import coder_labels
from annotations.selectors.review import coder_feedback, document_alignment
from annotations.services import assignments, base, review, spans

TEXT = "Officials said the “confession” was voluntary. Critics called it a sham.\n"


def tag(assignment, code, phrase, *, occurrence: str | None = None):
    """Create a coder's span over ``phrase`` at its real offsets in the document."""
    text = assignment.document.text
    start = text.index(occurrence or phrase) + (occurrence or phrase).index(phrase)
    return spans.span_create(
        assignment=assignment,
        code_id=code.pk,
        start=start,
        end=start + len(phrase),
        quote=phrase,
        actor=assignment.coder,
    )


def finish_coding(*work):
    for a in work:
        assignments.assignment_set_status(assignment=a, status=AssignmentStatus.DONE, actor=a.coder)


@pytest.fixture
def disputed(study):
    """Two coders who agree once and disagree in every way on the study document."""
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


def items_by_kind(document):
    return {item.kind: item for item in document_alignment(document).items}


def coder_spans(document):
    return list(
        Span.objects.filter(assignment__document=document)
        .order_by("pk")
        .values("pk", "code_id", "start", "end", "quote", "version", "deleted_at")
    )


def settle(study, kind, action, **kwargs):
    document = study["document"]
    item = items_by_kind(document)[kind]
    return review.gold_settle(
        document=document,
        item_key=item_key(item),
        action=action,
        actor=study["reviewer"],
        **kwargs,
    )


def test_alignment_finds_every_kind_of_disagreement_in_the_fixture(disputed):
    kinds = sorted(i.kind for i in document_alignment(disputed["document"]).items)
    assert kinds == sorted([Kind.AGREED, Kind.BOUNDARY, Kind.MISSED, Kind.CODE])


def test_accepting_a_minority_version_copies_it_into_gold_as_a_decision(disputed):
    document = disputed["document"]
    decision = settle(
        disputed, Kind.BOUNDARY, "accept", coder=disputed["coder_b"].pk, rationale=" article "
    )
    gold = GoldSpan.objects.get()
    assert gold.quote == "the “confession”" == document.text[gold.start : gold.end]
    assert gold.provenance == Provenance.DECISION
    assert gold.source_coders == [disputed["coder_b"].pk]
    assert gold.source_spans == [Span.objects.get(quote="the “confession”").pk]
    assert gold.rationale == "article"
    assert gold.settled_by == disputed["reviewer"]
    assert decision.gold_span == gold
    assert (decision.action, decision.kind, decision.rationale) == ("accept", "boundary", "article")


def test_accepting_the_version_a_strict_majority_drew_is_majority(disputed, make_user, member):
    coder_c = member(disputed["project"], make_user("coder_c"))
    c = assignments.assignment_create(document=disputed["document"], coder=coder_c)
    tag(c, disputed["codes"]["Loaded language"], "“confession”")
    finish_coding(c)
    settle(disputed, Kind.BOUNDARY, "accept", coder=coder_c.pk)
    gold = GoldSpan.objects.get()
    assert gold.provenance == Provenance.MAJORITY
    assert gold.quote == "“confession”"
    assert gold.source_coders == sorted([disputed["coder_a"].pk, coder_c.pk])


def test_accept_all_agreed_settles_only_agreed_items_as_unanimous(disputed):
    document = disputed["document"]
    assert review.gold_accept_agreed(document=document, actor=disputed["reviewer"]) == 1
    gold = GoldSpan.objects.get()
    assert (gold.quote, gold.provenance) == ("Officials said", Provenance.UNANIMOUS)
    assert gold.source_coders == sorted([disputed["coder_a"].pk, disputed["coder_b"].pk])
    assert len(gold.source_spans) == 2
    assert ReviewDecision.objects.get().action == "accept-agreed"
    # A second press finds nothing left to accept and changes nothing.
    assert review.gold_accept_agreed(document=document, actor=disputed["reviewer"]) == 0
    assert GoldSpan.objects.count() == 1


def test_union_and_intersection_take_the_widest_and_the_shared_extent(disputed, add_document):
    settle(disputed, Kind.BOUNDARY, "union")
    union = GoldSpan.objects.get()
    assert union.quote == "the “confession”"
    assert union.provenance == Provenance.DECISION
    assert union.source_coders == sorted([disputed["coder_a"].pk, disputed["coder_b"].pk])
    ReviewDecision.objects.all().delete()
    GoldSpan.objects.all().delete()
    settle(disputed, Kind.BOUNDARY, "intersection")
    assert GoldSpan.objects.get().quote == "“confession”"


def test_union_of_a_code_disagreement_needs_a_chosen_code(disputed):
    with pytest.raises(base.ServiceError, match="choose the code"):
        settle(disputed, Kind.CODE, "union")
    assert not GoldSpan.objects.exists() and not ReviewDecision.objects.exists()
    loaded = disputed["codes"]["Loaded language"]
    settle(disputed, Kind.CODE, "union", code=loaded.pk)
    gold = GoldSpan.objects.get()
    assert (gold.code, gold.quote) == (loaded, "Critics called")
    assert gold.source_coders == [disputed["coder_b"].pk]


def test_an_edit_stores_the_reviewers_boundaries_trimmed_with_edit_provenance(disputed):
    text = disputed["document"].text
    start = text.index(" a sham")  # a leading space, trimmed like a coder's span
    settle(
        disputed,
        Kind.MISSED,
        "edit",
        code=disputed["codes"]["Loaded language"].pk,
        start=start,
        end=start + len(" a sham"),
        rationale="Only the noun phrase.",
    )
    gold = GoldSpan.objects.get()
    assert gold.quote == "a sham" == text[gold.start : gold.end]
    assert gold.provenance == Provenance.EDIT
    assert gold.source_coders == [disputed["coder_a"].pk]


def test_an_edit_with_impossible_offsets_is_refused_and_stores_nothing(disputed):
    events = AuditEvent.objects.count()
    with pytest.raises(base.ServiceError, match="after the end of the text"):
        settle(
            disputed,
            Kind.MISSED,
            "edit",
            code=disputed["codes"]["Sourcing"].pk,
            start="3",
            end="9999",
        )
    assert not GoldSpan.objects.exists() and not ReviewDecision.objects.exists()
    assert AuditEvent.objects.count() == events


def test_rejecting_stores_a_decision_and_no_gold_span(disputed):
    decision = settle(disputed, Kind.MISSED, "reject", rationale="Not loaded here.")
    assert decision.gold_span is None and decision.action == "reject"
    assert decision.rationale == "Not loaded here."
    assert not GoldSpan.objects.exists()


def test_accepting_a_coder_who_marked_nothing_is_refused(disputed):
    with pytest.raises(base.ServiceError, match="marked nothing here"):
        settle(disputed, Kind.MISSED, "accept", coder=disputed["coder_b"].pk)
    assert not ReviewDecision.objects.exists()


def test_a_second_settlement_of_the_same_item_is_refused_and_changes_nothing(disputed, make_user):
    other = make_user("second_reviewer")
    settle(disputed, Kind.BOUNDARY, "accept", coder=disputed["coder_a"].pk)
    before = (
        list(GoldSpan.objects.values()),
        list(ReviewDecision.objects.values()),
        AuditEvent.objects.count(),
    )
    item = items_by_kind(disputed["document"])[Kind.BOUNDARY]
    with pytest.raises(base.ConflictError, match=r"already settled by reviewer at .*accept"):
        review.gold_settle(
            document=disputed["document"],
            item_key=item_key(item),
            action="union",
            actor=other,
        )
    after = (
        list(GoldSpan.objects.values()),
        list(ReviewDecision.objects.values()),
        AuditEvent.objects.count(),
    )
    assert after == before


def test_an_item_that_changed_since_the_page_loaded_is_refused(disputed):
    with pytest.raises(base.ConflictError, match="changed since the page was loaded"):
        review.gold_settle(
            document=disputed["document"],
            item_key="boundary|1|0|5|1,2",
            action="reject",
            actor=disputed["reviewer"],
        )


def test_settling_never_changes_the_coders_spans(disputed):
    document = disputed["document"]
    before = coder_spans(document)
    settle(disputed, Kind.BOUNDARY, "union")
    settle(disputed, Kind.CODE, "accept", coder=disputed["coder_a"].pk)
    settle(disputed, Kind.MISSED, "reject")
    review.gold_accept_agreed(document=document, actor=disputed["reviewer"])
    assert coder_spans(document) == before


def test_every_gold_write_is_audited_in_the_same_transaction(disputed):
    settle(disputed, Kind.BOUNDARY, "accept", coder=disputed["coder_a"].pk)
    gold = GoldSpan.objects.get()
    created = AuditEvent.objects.get(object_type="goldspan", action="create")
    assert created.object_id == gold.pk and created.after["quote"] == "“confession”"
    settled = AuditEvent.objects.get(object_type="reviewdecision", action="settle")
    assert settled.after["gold_spans"] == [gold.pk] and settled.actor == disputed["reviewer"]
    assert AuditEvent.objects.filter(object_type="documentreview", action="start").count() == 1


def test_only_done_coders_are_aligned(study):
    a, b = study["assignment_a"], study["assignment_b"]
    tag(a, study["codes"]["Sourcing"], "Officials said")
    tag(b, study["codes"]["Sourcing"], "Critics called")
    finish_coding(a)
    alignment = document_alignment(study["document"])
    assert alignment.done == [study["coder_a"].pk] and alignment.pending == [study["coder_b"].pk]
    assert [i.kind for i in alignment.items] == [Kind.AGREED]  # a roster of one agrees


def test_item_keys_are_deterministic_and_fit_the_column(disputed):
    first = [item_key(i) for i in document_alignment(disputed["document"]).items]
    assert first == [item_key(i) for i in document_alignment(disputed["document"]).items]
    assert len(set(first)) == len(first) and all(len(k) <= 300 for k in first)


def test_finishing_needs_every_item_settled_and_then_freezes_the_gold_layer(disputed):
    document, reviewer = disputed["document"], disputed["reviewer"]
    with pytest.raises(base.ServiceError, match="4 items still to settle"):
        review.review_finish(document=document, actor=reviewer)
    review.gold_accept_agreed(document=document, actor=reviewer)
    settle(disputed, Kind.BOUNDARY, "union")
    settle(disputed, Kind.CODE, "accept", coder=disputed["coder_b"].pk)
    settle(disputed, Kind.MISSED, "reject")
    finished = review.review_finish(document=document, actor=reviewer)
    assert finished.status == ReviewStatus.SETTLED and finished.settled_at is not None
    with pytest.raises(base.ConflictError, match="review of this document is finished"):
        review.gold_accept_agreed(document=document, actor=reviewer)
    reopened = review.review_reopen(document=document, actor=reviewer)
    assert reopened.status == ReviewStatus.IN_REVIEW


def test_editing_a_gold_span_moves_it_and_marks_it_a_reviewer_edit(disputed):
    settle(disputed, Kind.BOUNDARY, "accept", coder=disputed["coder_a"].pk)
    gold = GoldSpan.objects.get()
    text = disputed["document"].text
    edited = review.gold_edit(
        gold_span=gold,
        expected_version=gold.version,
        actor=disputed["reviewer"],
        end=text.index(" was voluntary") + len(" was voluntary"),
    )
    assert edited.quote == "“confession” was voluntary" == text[edited.start : edited.end]
    assert (edited.provenance, edited.version) == (Provenance.EDIT, 2)
    with pytest.raises(base.ConflictError, match="changed by someone else"):
        review.gold_edit(gold_span=gold, expected_version=1, actor=disputed["reviewer"], start=0)
    event = AuditEvent.objects.get(object_type="goldspan", action="change")
    assert event.before["quote"] == "“confession”" and event.after["provenance"] == "edit"


def test_feedback_compares_the_coders_own_spans_with_gold(disputed):
    document, reviewer = disputed["document"], disputed["reviewer"]
    review.gold_accept_agreed(document=document, actor=reviewer)
    settle(disputed, Kind.BOUNDARY, "accept", coder=disputed["coder_b"].pk)
    settle(disputed, Kind.MISSED, "reject", rationale="Quoted, not adopted.")
    entries = coder_feedback(disputed["assignment_a"])
    outcomes = [(e.outcome, (e.mine or e.gold).quote, e.rationale) for e in entries]
    assert ("kept", "Officials said", "") in outcomes
    assert ("mine", "“confession”", "") in outcomes
    assert ("gold", "the “confession”", "") in outcomes
    assert ("mine", "a sham", "Quoted, not adopted.") in outcomes


def test_blind_projects_label_coders_by_join_order_never_by_name(study):
    labels = coder_labels(study["project"])
    assert labels[study["coder_a"].pk] == "Coder A"
    assert labels[study["coder_b"].pk] == "Coder B"
    assert not any("coder_" in label for label in labels.values())
