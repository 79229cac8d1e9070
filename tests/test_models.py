"""Integrity rules the database itself enforces, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from annotations.models import Code, Document, Span

pytestmark = pytest.mark.django_db


def _span(assignment, code, start, end, **extra):
    text = assignment.document.text
    return Span(
        assignment=assignment, code=code, start=start, end=end, quote=text[start:end], **extra
    )


@pytest.mark.parametrize(("start", "end"), [(5, 5), (6, 5)])
def test_database_refuses_an_empty_or_reversed_span(study, start, end):
    span = _span(study["assignment_a"], study["codes"]["Sourcing"], start, end)
    with pytest.raises(IntegrityError), transaction.atomic():
        span.save()


def test_database_refuses_a_negative_offset(study):
    span = _span(study["assignment_a"], study["codes"]["Sourcing"], 0, 4)
    span.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        Span.objects.filter(pk=span.pk).update(start=-1)


def test_database_refuses_the_same_live_span_twice_but_keeps_deleted_history(study):
    code = study["codes"]["Sourcing"]
    first = _span(study["assignment_a"], code, 0, 9)
    first.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        _span(study["assignment_a"], code, 0, 9).save()
    Span.objects.filter(pk=first.pk).update(deleted_at="2026-01-01T00:00:00Z")
    _span(study["assignment_a"], code, 0, 9).save()
    assert Span.objects.filter(start=0, end=9).count() == 2


def test_the_same_offsets_may_carry_different_codes_and_coders(study):
    _span(study["assignment_a"], study["codes"]["Sourcing"], 0, 9).save()
    _span(study["assignment_a"], study["codes"]["Loaded language"], 0, 9).save()
    _span(study["assignment_b"], study["codes"]["Sourcing"], 0, 9).save()
    assert Span.objects.count() == 3


def test_database_refuses_duplicate_shortcuts_within_a_codebook(study):
    codebook = study["project"].codebook
    with pytest.raises(IntegrityError), transaction.atomic():
        Code.objects.create(codebook=codebook, name="Other", shortcut="1")
    Code.objects.create(codebook=codebook, name="No key A", shortcut="")
    Code.objects.create(codebook=codebook, name="No key B", shortcut="")


def test_database_refuses_a_colour_that_is_not_hex(study):
    with pytest.raises(IntegrityError), transaction.atomic():
        Code.objects.create(codebook=study["project"].codebook, name="X", colour="red;}")


def test_document_length_counts_code_points_like_python(make_project, add_document):
    text = "👩‍🔬 e\u0301 ក្មែរ\u00a0“x”"
    document = add_document(make_project(), text)
    document.refresh_from_db()
    assert document.length == len(text) == 16


def test_document_text_cannot_change_through_the_model(study):
    document = Document.objects.get(pk=study["document"].pk)
    document.text = "something else"
    with pytest.raises(ValueError, match="immutable"):
        document.save()
    document.refresh_from_db()
    assert document.text.startswith("Officials said")


def test_document_text_cannot_change_through_an_update_query(study):
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        Document.objects.filter(pk=study["document"].pk).update(text="rewritten")
    assert Document.objects.get(pk=study["document"].pk).text.startswith("Officials said")


def test_document_text_cannot_change_through_raw_sql(study):
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE annotations_document SET text = %s WHERE id = %s",
            ["rewritten", study["document"].pk],
        )


def test_document_metadata_may_still_be_corrected(study):
    document = Document.objects.get(pk=study["document"].pk)
    document.title = "Corrected title"
    document.save()
    assert Document.objects.get(pk=document.pk).title == "Corrected title"
