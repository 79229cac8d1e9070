"""Span services: what a coder's span must satisfy to be stored, and how it changes."""

from __future__ import annotations

import pytest

from annotations.models import AssignmentStatus, AuditEvent, Span
from annotations.services import assignments, base, spans

TEXT = "Officials said the “confession” was voluntary. Critics called it a sham.\n"


def create(study, start, end, quote, code="Sourcing", **extra):
    return spans.span_create(
        assignment=study["assignment_a"],
        code_id=study["codes"][code].pk if code in study["codes"] else code,
        start=start,
        end=end,
        quote=quote,
        actor=study["coder_a"],
        **extra,
    )


def test_a_span_is_stored_with_its_quote_and_the_assignment_moves_to_in_progress(study):
    span = create(study, 0, 14, "Officials said", note="  attribution ")
    span.refresh_from_db()
    assert (span.start, span.end, span.quote, span.note) == (0, 14, "Officials said", "attribution")
    assert TEXT[span.start : span.end] == span.quote
    study["assignment_a"].refresh_from_db()
    assert study["assignment_a"].status == AssignmentStatus.IN_PROGRESS


@pytest.mark.parametrize(
    ("start", "end", "quote", "message"),
    [
        (0, 14, "Officials sad", "does not match"),
        (60, 999, None, "after the end of the text"),
        (-3, 4, None, "must not be negative"),
        ("zero", 4, None, "whole number"),
        ("", 4, None, "whole number"),
        (14, 0, None, "empty or reversed"),
        (9, 10, " ", "Only whitespace"),
    ],
)
def test_a_bad_span_is_refused_with_a_message_and_nothing_is_stored(
    study, start, end, quote, message
):
    with pytest.raises(base.ServiceError, match=message):
        create(study, start, end, quote)
    assert not Span.objects.exists()
    assert not AuditEvent.objects.filter(object_type="span").exists()


def test_leading_and_trailing_whitespace_is_trimmed_from_the_stored_span(study):
    span = create(study, 9, 19, " said the ")
    assert (span.start, span.end, span.quote) == (10, 18, "said the")


def test_a_span_with_an_unknown_code_or_another_projects_code_is_refused(study, make_project):
    other = make_project("Other study")
    foreign = other.codebook.codes.first()
    for code_id in (foreign.pk, 999_999, "abc", None):
        with pytest.raises(base.ServiceError, match="Unknown code"):
            create(study, 0, 9, "Officials", code=code_id)
    assert not Span.objects.exists()


def test_a_retired_code_cannot_be_used_for_a_new_span(study):
    code = study["codes"]["Sourcing"]
    code.active = False
    code.save()
    with pytest.raises(base.ServiceError, match="retired"):
        create(study, 0, 9, "Officials")
    assert not Span.objects.exists()


def test_the_same_code_on_the_same_offsets_is_refused_but_overlaps_are_allowed(study):
    create(study, 0, 14, "Officials said")
    with pytest.raises(base.ServiceError, match="already tagged “Sourcing”"):
        create(study, 0, 14, "Officials said")
    create(study, 10, 18, "said the")  # same code, overlapping
    create(study, 0, 14, "Officials said", code="Loaded language")  # other code, same text
    assert Span.objects.live().count() == 3


def test_two_coders_may_tag_the_same_text_with_the_same_code(study):
    create(study, 0, 9, "Officials")
    spans.span_create(
        assignment=study["assignment_b"],
        code_id=study["codes"]["Sourcing"].pk,
        start=0,
        end=9,
        quote="Officials",
        actor=study["coder_b"],
    )
    assert Span.objects.count() == 2


def test_an_update_changes_code_note_and_boundaries_and_bumps_the_version(study):
    span = create(study, 0, 9, "Officials")
    updated = spans.span_update(
        span=span,
        expected_version=1,
        code_id=study["codes"]["Loaded language"].pk,
        start="0",
        end="14",
        note="reported speech",
        actor=study["coder_a"],
    )
    updated.refresh_from_db()
    assert updated.code == study["codes"]["Loaded language"]
    assert (updated.quote, updated.note, updated.version) == (
        "Officials said",
        "reported speech",
        2,
    )
    event = AuditEvent.objects.get(object_type="span", action="change")
    assert event.before["version"] == 1 and event.after["quote"] == "Officials said"
    assert event.actor == study["coder_a"]


def test_a_save_from_a_stale_tab_is_refused_and_nothing_changes(study):
    span = create(study, 0, 9, "Officials")
    spans.span_update(span=span, expected_version=1, note="first tab", actor=study["coder_a"])
    with pytest.raises(base.ConflictError, match="changed in another tab"):
        spans.span_update(span=span, expected_version=1, note="second tab", actor=study["coder_a"])
    span.refresh_from_db()
    assert (span.note, span.version) == ("first tab", 2)
    assert AuditEvent.objects.filter(object_type="span", action="change").count() == 1


def test_an_update_onto_whitespace_only_is_refused(study):
    span = create(study, 0, 9, "Officials")
    with pytest.raises(base.ServiceError, match="Only whitespace"):
        spans.span_update(span=span, expected_version=1, start=9, end=10)
    span.refresh_from_db()
    assert (span.start, span.end, span.version) == (0, 9, 1)


def test_delete_is_soft_and_restore_brings_the_span_back_with_audit_events(study):
    span = create(study, 0, 9, "Officials")
    deleted = spans.span_delete(span=span, expected_version=1, actor=study["coder_a"])
    assert Span.objects.filter(pk=span.pk).exists()
    assert deleted.deleted_at is not None and deleted.version == 2
    assert not Span.objects.live().exists()
    with pytest.raises(base.ConflictError):
        spans.span_update(span=deleted, expected_version=2, note="x")
    restored = spans.span_restore(span=deleted, expected_version=2, actor=study["coder_a"])
    assert restored.deleted_at is None and restored.version == 3
    assert Span.objects.live().count() == 1
    actions = list(
        AuditEvent.objects.filter(object_type="span", object_id=span.pk)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "delete", "restore"]


def test_a_stale_delete_is_refused(study):
    span = create(study, 0, 9, "Officials")
    spans.span_update(span=span, expected_version=1, note="changed")
    with pytest.raises(base.ConflictError):
        spans.span_delete(span=span, expected_version=1)
    assert Span.objects.live().count() == 1


def test_restore_is_refused_when_the_same_span_was_tagged_again(study):
    span = create(study, 0, 9, "Officials")
    deleted = spans.span_delete(span=span, expected_version=1)
    create(study, 0, 9, "Officials")
    with pytest.raises(base.ServiceError, match="tagged again"):
        spans.span_restore(span=deleted, expected_version=2)
    assert Span.objects.live().count() == 1


def test_a_document_under_review_cannot_be_reopened_by_its_coder(study):
    from annotations.models import AssignmentStatus, DocumentReview

    assignments.assignment_set_status(
        assignment=study["assignment_a"], status=AssignmentStatus.DONE
    )
    DocumentReview.objects.create(document=study["document"], started_by=study["reviewer"])
    with pytest.raises(base.ServiceError, match="can no longer be reopened"):
        assignments.assignment_set_status(
            assignment=study["assignment_a"], status=AssignmentStatus.IN_PROGRESS
        )
    study["assignment_a"].refresh_from_db()
    assert study["assignment_a"].status == AssignmentStatus.DONE


def test_a_span_keeps_its_retired_code_when_only_its_note_changes(study):
    code = study["codes"]["Sourcing"]
    text = study["document"].text
    span = spans.span_create(
        assignment=study["assignment_a"], code_id=code.pk, start=0, end=9, quote=text[:9]
    )
    code.active = False
    code.save()
    span = spans.span_update(
        span=span, expected_version=span.version, code_id=code.pk, note="still sourcing"
    )
    assert span.note == "still sourcing" and span.code_id == code.pk
    other = study["codes"]["Loaded language"]
    other.active = False
    other.save()
    with pytest.raises(base.ServiceError, match="retired"):
        spans.span_update(span=span, expected_version=span.version, code_id=other.pk)


# --- What a write reads, and how few statements it takes ----------------------------------


def statements(captured) -> list[str]:
    """The statements a service ran, without transaction control (savepoints in tests)."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN", "ROLLBACK"))
    ]


def test_each_write_runs_at_most_four_statements_and_returns_what_it_checked(study):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    create(study, 0, 9, "Officials")  # the assignment is in progress from here on
    with CaptureQueriesContext(connection) as captured:
        write = spans.span_create_write(
            assignment=study["assignment_a"],
            code_id=study["codes"]["Sourcing"].pk,
            start=10,
            end=14,
            quote="said",
            actor=study["coder_a"],
        )
    # The frozen check, the codebook with the coder's spans, the row, the audit event.
    assert len(statements(captured)) == 4
    assert [s.quote or study["document"].text[s.start : s.end] for s in write.before.spans] == [
        "Officials"
    ]
    assert [c.name for c in write.before.codes] == ["Sourcing", "Loaded language"]
    as_the_view_reads_it = Span.objects.select_related(
        "assignment__document__project__codebook", "code"
    )
    for name, call in (
        ("update", lambda span: spans.span_update_write(span=span, expected_version=1, note="n")),
        ("delete", lambda span: spans.span_delete_write(span=span, expected_version=2)),
        ("restore", lambda span: spans.span_restore_write(span=span, expected_version=3)),
    ):
        span = as_the_view_reads_it.get(pk=write.span.pk)
        with CaptureQueriesContext(connection) as captured:
            result = call(span)
        assert len(statements(captured)) == 4, name
        assert (span.pk in {s.pk for s in result.before.spans}) == (name != "restore")
    span.refresh_from_db()
    assert span.version == 4 and span.deleted_at is None
    actions = AuditEvent.objects.filter(object_type="span", object_id=span.pk)
    assert list(actions.order_by("pk").values_list("action", flat=True)) == [
        "create",
        "change",
        "delete",
        "restore",
    ]


def test_a_retired_code_and_another_projects_code_are_still_refused_from_the_read(
    study, make_project
):
    foreign = make_project("Other").codebook.codes.first()
    with pytest.raises(base.ServiceError, match="Unknown code"):
        create(study, 0, 9, "Officials", code=foreign.pk)
    code = study["codes"]["Sourcing"]
    code.active = False
    code.save()
    with pytest.raises(base.ServiceError, match="retired"):
        create(study, 0, 9, "Officials")
    assert not Span.objects.exists()


def test_the_same_span_stored_at_the_same_moment_elsewhere_is_refused_and_nothing_is_kept(
    study, monkeypatch
):
    """The database's constraint catches what the read could not see (another request's
    span stored in between): the whole write is rolled back, audit event included."""
    from annotations.selectors.coding import CoderSpans

    create(study, 0, 9, "Officials")
    monkeypatch.setattr(CoderSpans, "tagged", lambda self, *args, **kwargs: False)
    with pytest.raises(base.ServiceError, match="already tagged “Sourcing”"):
        create(study, 0, 9, "Officials")
    span = create(study, 10, 14, "said")
    with pytest.raises(base.ServiceError, match="already tagged “Sourcing”"):
        spans.span_update(span=span, expected_version=1, start=0, end=9)
    assert Span.objects.count() == 2
    assert AuditEvent.objects.filter(object_type="span").count() == 2
    span.refresh_from_db()
    assert (span.start, span.version) == (10, 1)


def test_a_change_made_between_the_access_check_and_the_write_is_refused(study):
    """The span the view read is at the version the page saw; the row changed since."""
    span = create(study, 0, 9, "Officials")
    seen = Span.objects.select_related("assignment__document__project", "code").get(pk=span.pk)
    spans.span_update(span=span, expected_version=1, note="elsewhere")
    for call in (
        lambda: spans.span_update(span=seen, expected_version=1, note="here"),
        lambda: spans.span_delete(span=seen, expected_version=1),
        lambda: spans.span_update(span=seen, expected_version=2, note="here"),
    ):
        with pytest.raises(base.ConflictError, match="changed in another tab"):
            call()
    span.refresh_from_db()
    assert (span.note, span.version, span.deleted_at) == ("elsewhere", 2, None)


def test_deleting_a_deleted_span_or_restoring_a_live_one_changes_nothing(study):
    span = create(study, 0, 9, "Officials")
    restored = spans.span_restore(span=span, expected_version=1)
    assert restored.version == 1
    deleted = spans.span_delete(span=span, expected_version=1)
    again = spans.span_delete(span=deleted, expected_version=2)
    assert again.version == 2
    assert AuditEvent.objects.filter(object_type="span", action="delete").count() == 1
