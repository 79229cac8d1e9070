"""Coders' spans: create, change, delete (soft) and restore, one at a time or by import.

Offsets are checked against the stored text (and the quote the browser saw) before
anything is stored; a stale tab's change is refused by the span's version; a deleted span
stays in the database and can be restored.

A write checks that the work is not frozen, reads the codebook and the coder's live spans
once in its transaction (one query that checks the code, a clash and the version),
changes one row guarded by the version it checked, and records its audit event: four
statements after the caller's access check (five for a coder's first span, which also
moves the assignment to in progress). The ``*_write`` forms return that read with the
span, so the coding page redraws only what changed without reading again.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..domain.offsets import SpanError, check_span, trim_whitespace
from ..models import Assignment, Code, Document, Span
from ..permissions import coding_frozen
from ..selectors.coding import CoderSpans, coder_spans
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


@dataclass(frozen=True)
class SpanWrite:
    """A span as written, and the codebook and the coder's live spans just before the
    write, read in its transaction by the query that checked it."""

    span: Span
    before: CoderSpans


def _project_code(before: CoderSpans, code_id: int) -> Code:
    if not isinstance(code_id, int) or isinstance(code_id, bool):
        raise ServiceError("Unknown code.")
    code = before.code(code_id)
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


CONFLICT = (
    "This span was changed in another tab or window since you loaded it. "
    "Its current state is shown; make your change again if you still want it."
)


def span_create(**kwargs) -> Span:
    """Store a coder's span, after checking offsets and quote against the stored text
    (the arguments of :func:`span_create_write`)."""
    return span_create_write(**kwargs).span


def span_create_write(
    *,
    assignment: Assignment,
    code_id: int,
    start: int,
    end: int,
    quote: str | None,
    note: str = "",
    actor=None,
) -> SpanWrite:
    document = assignment.document
    start_i, end_i = _checked_offsets(document.text, start, end, quote)
    note = _checked_note(note)
    code = None
    try:
        with transaction.atomic():
            _check_editable(assignment)
            before = coder_spans(assignment)
            code = _project_code(before, code_id)
            if before.tagged(code.pk, start_i, end_i):
                raise _already_tagged(code)
            span = Span(
                assignment=assignment,
                code=code,
                start=start_i,
                end=end_i,
                quote=document.text[start_i:end_i],
                note=note,
                codebook_version=document.project.codebook.version,
            )
            span.save()
            mark_started(assignment)
            _record(actor=actor, action="create", document=document, span=span, before=None)
    except IntegrityError:
        # The same span stored at the same moment by another request (the check above
        # saw the state before it); the transaction is rolled back whole.
        raise _already_tagged(code) from None
    return SpanWrite(span, before)


def _already_tagged(code: Code | None) -> ServiceError:
    name = code.name if code is not None else "with this code"
    return ServiceError(f"This text is already tagged “{name}”.")


def _checked_version(span: Span, expected_version: int, before: CoderSpans):
    """The span's live row as read in this transaction, or None when it is deleted.

    Refused unless that read and the caller's earlier one (``span``, from before the
    transaction) are both at the version the client saw: versions only go up, so then
    ``span`` is the row as it is (the guarded update catches a change made after the read).
    """
    row = before.find(span.pk)
    current = row.version if row is not None else span.version
    stale = span.version != expected_version or (row is None and span.deleted_at is None)
    if current != expected_version or stale:
        raise ConflictError(CONFLICT)
    return row


def _guarded_update(span: Span, expected_version: int, **values) -> Span:
    """Change the row only if it is still at the version checked; the changed copy."""
    now = timezone.now()
    values = {**values, "version": expected_version + 1, "updated_at": now}
    changed = Span.objects.filter(pk=span.pk, version=expected_version).update(**values)
    if not changed:
        raise ConflictError(CONFLICT)
    written = copy.copy(span)
    for name, value in values.items():
        setattr(written, name, value)
    return written


def span_update(**kwargs) -> Span:
    """Change a span's code, boundaries or note, refusing a save from a stale tab (the
    arguments of :func:`span_update_write`)."""
    return span_update_write(**kwargs).span


def span_update_write(
    *,
    span: Span,
    expected_version: int,
    code_id: int | None = None,
    start: int | None = None,
    end: int | None = None,
    note: str | None = None,
    actor=None,
) -> SpanWrite:
    document = span.assignment.document
    code = span.code
    try:
        with transaction.atomic():
            _check_editable(span.assignment)
            before = coder_spans(span.assignment)
            if _checked_version(span, expected_version, before) is None:
                raise ConflictError("This span was deleted; undo the deletion to change it.")
            state = span_state(span)
            changes: dict = {}
            if code_id is not None and code_id != span.code_id:
                # Only a change of code is checked: a span coded before its code was
                # retired keeps it and can still get a note or new boundaries.
                code = _project_code(before, code_id)
                changes["code"] = code
            if start is not None or end is not None:
                new_start = span.start if start is None else start
                new_end = span.end if end is None else end
                new_start, new_end = _checked_offsets(document.text, new_start, new_end, None)
                changes.update(start=new_start, end=new_end, quote=document.text[new_start:new_end])
            if note is not None:
                changes["note"] = _checked_note(note)
            candidate = copy.copy(span)
            for name, value in changes.items():
                setattr(candidate, name, value)
            if span_state(candidate) == state:
                return SpanWrite(span, before)
            if before.tagged(code.pk, candidate.start, candidate.end, other_than=span.pk):
                raise _already_tagged(code)
            written = _guarded_update(span, expected_version, **changes)
            _record(actor=actor, action="change", document=document, span=written, before=state)
    except IntegrityError:
        raise _already_tagged(code) from None
    return SpanWrite(written, before)


def span_delete(**kwargs) -> Span:
    """Soft-delete: the span leaves every view but stays in the database, and can be restored."""
    return span_delete_write(**kwargs).span


def span_delete_write(*, span: Span, expected_version: int, actor=None) -> SpanWrite:
    document = span.assignment.document
    with transaction.atomic():
        _check_editable(span.assignment)
        before = coder_spans(span.assignment)
        if _checked_version(span, expected_version, before) is None:
            return SpanWrite(span, before)  # deleted already
        state = span_state(span)
        written = _guarded_update(span, expected_version, deleted_at=timezone.now())
        _record(actor=actor, action="delete", document=document, span=written, before=state)
    return SpanWrite(written, before)


def span_restore(**kwargs) -> Span:
    """Bring a deleted span back, unless the same span was tagged again since."""
    return span_restore_write(**kwargs).span


def span_restore_write(*, span: Span, expected_version: int, actor=None) -> SpanWrite:
    document = span.assignment.document
    try:
        with transaction.atomic():
            _check_editable(span.assignment)
            before = coder_spans(span.assignment)
            if _checked_version(span, expected_version, before) is not None:
                return SpanWrite(span, before)  # live already
            if before.tagged(span.code_id, span.start, span.end):
                raise ServiceError(RETAGGED)
            state = span_state(span)
            written = _guarded_update(span, expected_version, deleted_at=None)
            _record(actor=actor, action="restore", document=document, span=written, before=state)
    except IntegrityError:
        raise ServiceError(RETAGGED) from None
    return SpanWrite(written, before)


RETAGGED = "The same span was tagged again since; nothing to restore."


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
