"""Coders' spans: create, change, delete (soft) and restore, one at a time or by import.

Offsets are checked against the stored text (and the quote the browser saw) before
anything is stored; a stale tab's change is refused by the span's version; a deleted span
stays in the database and can be restored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..domain.offsets import SpanError, check_span, trim_whitespace
from ..models import Assignment, Code, Document, Span
from ..permissions import coding_frozen
from .assignments import mark_started
from .base import ConflictError, ServiceError, audit_record

NOTE_LIMIT = 10_000


def _check_editable(assignment: Assignment) -> None:
    reason = coding_frozen(assignment)
    if reason:
        raise ConflictError(reason)


def span_state(span: Span) -> dict:
    return {
        "code": span.code_id,
        "start": span.start,
        "end": span.end,
        "quote": span.quote,
        "note": span.note,
        "version": span.version,
        "deleted": span.deleted_at is not None,
    }


def _project_code(project_id: int, code_id: int) -> Code:
    if not isinstance(code_id, int) or isinstance(code_id, bool):
        raise ServiceError("Unknown code.")
    code = Code.objects.filter(pk=code_id, codebook__project_id=project_id).first()
    if code is None:
        raise ServiceError("Unknown code.")
    if not code.active:
        raise ServiceError(f"The code “{code.name}” is retired; choose another.")
    return code


def _checked_offsets(text: str, start: int, end: int, quote: str | None) -> tuple[int, int]:
    try:
        start_i, end_i = check_span(text, start, end, quote)
        return trim_whitespace(text, start_i, end_i)
    except SpanError as error:
        raise ServiceError(str(error)) from None


def _checked_note(note: str) -> str:
    note = note.strip()
    if len(note) > NOTE_LIMIT:
        raise ServiceError(
            f"A note has at most {NOTE_LIMIT:,} characters; this one has {len(note):,}."
        )
    return note


def _record(*, actor, action: str, span: Span, document: Document, before) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=span,
        document=document,
        before=before,
        after=span_state(span),
    )


def span_create(
    *,
    assignment: Assignment,
    code_id: int,
    start: int,
    end: int,
    quote: str | None,
    note: str = "",
    actor=None,
) -> Span:
    """Store a coder's span, after checking offsets and quote against the stored text."""
    document = assignment.document
    start_i, end_i = _checked_offsets(document.text, start, end, quote)
    note = _checked_note(note)
    with transaction.atomic():
        _check_editable(assignment)
        code = _project_code(document.project_id, code_id)
        span = Span(
            assignment=assignment,
            code=code,
            start=start_i,
            end=end_i,
            quote=document.text[start_i:end_i],
            note=note,
            codebook_version=document.project.codebook.version,
        )
        try:
            with transaction.atomic():
                span.save()
        except IntegrityError:
            raise ServiceError(f"This text is already tagged “{code.name}”.") from None
        mark_started(assignment)
        _record(actor=actor, action="create", document=document, span=span, before=None)
    return span


def _locked(span: Span, expected_version: int) -> Span:
    locked = Span.objects.select_for_update().select_related("code").get(pk=span.pk)
    if locked.version != expected_version:
        raise ConflictError(
            "This span was changed in another tab or window since you loaded it. "
            "Its current state is shown; make your change again if you still want it."
        )
    return locked


def span_update(
    *,
    span: Span,
    expected_version: int,
    code_id: int | None = None,
    start: int | None = None,
    end: int | None = None,
    note: str | None = None,
    actor=None,
) -> Span:
    """Change a span's code, boundaries or note, refusing a save from a stale tab."""
    document = span.assignment.document
    with transaction.atomic():
        _check_editable(span.assignment)
        locked = _locked(span, expected_version)
        if locked.deleted_at is not None:
            raise ConflictError("This span was deleted; undo the deletion to change it.")
        before = span_state(locked)
        if code_id is not None and code_id != locked.code_id:
            # Only a change of code is checked: a span coded before its code was
            # retired keeps it and can still get a note or new boundaries.
            locked.code = _project_code(document.project_id, code_id)
        if start is not None or end is not None:
            new_start = locked.start if start is None else start
            new_end = locked.end if end is None else end
            locked.start, locked.end = _checked_offsets(document.text, new_start, new_end, None)
            locked.quote = document.text[locked.start : locked.end]
        if note is not None:
            locked.note = _checked_note(note)
        if span_state(locked) == before:
            return locked
        clash = (
            Span.objects.live()
            .filter(assignment=locked.assignment_id, code=locked.code, start=locked.start)
            .filter(end=locked.end)
            .exclude(pk=locked.pk)
            .exists()
        )
        if clash:
            raise ServiceError(f"This text is already tagged “{locked.code.name}”.")
        locked.version += 1
        locked.save()
        _record(actor=actor, action="change", document=document, span=locked, before=before)
    return locked


def span_delete(*, span: Span, expected_version: int, actor=None) -> Span:
    """Soft-delete: the span leaves every view but stays in the database, and can be restored."""
    document = span.assignment.document
    with transaction.atomic():
        _check_editable(span.assignment)
        locked = _locked(span, expected_version)
        if locked.deleted_at is not None:
            return locked
        before = span_state(locked)
        locked.deleted_at = timezone.now()
        locked.version += 1
        locked.save(update_fields=["deleted_at", "version", "updated_at"])
        _record(actor=actor, action="delete", document=document, span=locked, before=before)
    return locked


def span_restore(*, span: Span, expected_version: int, actor=None) -> Span:
    document = span.assignment.document
    with transaction.atomic():
        _check_editable(span.assignment)
        locked = _locked(span, expected_version)
        if locked.deleted_at is None:
            return locked
        if (
            Span.objects.live()
            .filter(
                assignment=locked.assignment_id,
                code=locked.code_id,
                start=locked.start,
                end=locked.end,
            )
            .exists()
        ):
            raise ServiceError("The same span was tagged again since; nothing to restore.")
        before = span_state(locked)
        locked.deleted_at = None
        locked.version += 1
        locked.save(update_fields=["deleted_at", "version", "updated_at"])
        _record(actor=actor, action="restore", document=document, span=locked, before=before)
    return locked


@dataclass(frozen=True)
class ImportedSpan:
    """A span read from a file: exact offsets (never trimmed), a code, an optional note."""

    start: int
    end: int
    code: Code
    note: str = ""


def spans_import(
    *, assignment: Assignment, spans: Iterable[ImportedSpan], actor, source: str
) -> tuple[int, int]:
    """Store a file's spans for one coder's assignment; returns (created, already present).

    Offsets are kept exactly as in the file (no whitespace trimming), so a corpus moves
    between tools without an offset changing. A span the coder already has is not stored
    twice. One audit event records the whole batch. The caller holds the transaction.
    """
    document = assignment.document
    text = document.text
    existing = set(assignment.spans.live().values_list("code_id", "start", "end"))
    version = document.project.codebook.version
    new: list[Span] = []
    present = 0
    for item in spans:
        try:
            check_span(text, item.start, item.end)
        except SpanError as error:
            raise ServiceError(f"{source}: {error}") from None
        key = (item.code.pk, item.start, item.end)
        if key in existing:
            present += 1
            continue
        existing.add(key)
        new.append(
            Span(
                assignment=assignment,
                code=item.code,
                start=item.start,
                end=item.end,
                quote=text[item.start : item.end],
                note=_checked_note(item.note),
                codebook_version=version,
            )
        )
    if new:
        _check_editable(assignment)
    Span.objects.bulk_create(new, batch_size=2000)
    if new:
        mark_started(assignment)
    audit_record(
        actor=actor,
        action="import",
        obj=assignment,
        document=document,
        after={
            "coder": assignment.coder.get_username(),
            "source": source,
            "spans": [[s.start, s.end, s.code.name] for s in new],
        },
    )
    return len(new), present
