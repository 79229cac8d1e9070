"""Every write to the database goes through a function here.

Each service runs in one transaction and records an :class:`AuditEvent` in that same
transaction, so a change and its record are stored together or not at all. Services
raise :class:`ServiceError` with a message meant for the person who asked; nothing is
changed when they do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..domain import textio
from ..domain.offsets import SpanError, check_span, trim_whitespace
from ..models import (
    Assignment,
    AssignmentStatus,
    AuditEvent,
    Code,
    Codebook,
    Document,
    DocumentReview,
    Membership,
    Project,
    Pseudonym,
    Role,
    Span,
)


class ServiceError(ValueError):
    """A refused request; the message says why, for the person who made it."""


class ConflictError(ServiceError):
    """The object changed since the client last saw it (optimistic concurrency)."""


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- Audit --------------------------------------------------------------------


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


def audit_record(
    *, actor, action: str, obj, project=None, document=None, before=None, after=None
) -> AuditEvent:
    """Record one change. ``project`` may be left out when ``document`` is given."""
    if project is None and document is not None:
        project = document.project_id  # an id: no query
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        project_id=project.pk if isinstance(project, Project) else project,
        document=document,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=obj.pk,
        before=before,
        after=after,
    )


# --- Projects, codebooks, members ----------------------------------------------


def pseudonym_ensure(*, project_id: int, user_id: int) -> Pseudonym:
    """Give a coder their fixed number in a project when they join as coder or are assigned."""
    existing = Pseudonym.objects.filter(project_id=project_id, user_id=user_id).first()
    if existing is not None:
        return existing
    # Lock the project row so two people joining at once cannot take the same number.
    Project.objects.select_for_update().filter(pk=project_id).first()
    taken = Pseudonym.objects.filter(project_id=project_id).count()
    return Pseudonym.objects.create(project_id=project_id, user_id=user_id, number=taken)


@transaction.atomic
def project_create(*, name: str, description: str = "", blind: bool = True, actor=None) -> Project:
    name = name.strip()
    if not name:
        raise ServiceError("A project needs a name.")
    if Project.objects.filter(name=name).exists():
        raise ServiceError(f"A project named “{name}” already exists.")
    project = Project.objects.create(name=name, description=description, blind=blind)
    Codebook.objects.create(project=project)
    if actor is not None and actor.is_authenticated:
        Membership.objects.create(project=project, user=actor, role=Role.MANAGER)
    audit_record(actor=actor, action="create", obj=project, project=project, after={"name": name})
    return project


@transaction.atomic
def membership_set(*, project: Project, user, role: str, actor=None) -> Membership:
    if role not in Role.values:
        raise ServiceError(f"Unknown role “{role}”.")
    member, created = Membership.objects.get_or_create(
        project=project, user=user, defaults={"role": role}
    )
    if role == Role.CODER:
        pseudonym_ensure(project_id=project.pk, user_id=user.pk)
    before = None if created else {"role": member.role}
    if not created and member.role != role:
        member.role = role
        member.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action="create" if created else "change",
        obj=member,
        project=project,
        before=before,
        after={"user": user.username, "role": role},
    )
    return member


@transaction.atomic
def code_create(
    *,
    codebook: Codebook,
    name: str,
    definition: str = "",
    guidance: str = "",
    colour: str = "#0072B2",
    shortcut: str = "",
    order: int | None = None,
    actor=None,
) -> Code:
    name = name.strip()
    if not name:
        raise ServiceError("A code needs a name.")
    if codebook.codes.filter(name=name).exists():
        raise ServiceError(f"The codebook already has a code named “{name}”.")
    if shortcut and codebook.codes.filter(shortcut=shortcut).exists():
        raise ServiceError(f"The shortcut “{shortcut}” is already used by another code.")
    if order is None:
        order = codebook.codes.count()
    code = Code(
        codebook=codebook,
        name=name,
        definition=definition,
        guidance=guidance,
        colour=colour,
        shortcut=shortcut,
        order=order,
    )
    code.full_clean()
    code.save()
    audit_record(
        actor=actor,
        action="create",
        obj=code,
        project=codebook.project,
        after={"name": name, "shortcut": shortcut, "colour": colour},
    )
    return code


# --- Documents -----------------------------------------------------------------


@dataclass
class ImportOutcome:
    created: list[Document] = field(default_factory=list)
    already_present: int = 0
    problems: list[textio.Problem] = field(default_factory=list)
    parsed: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def documents_parse(files: list[tuple[str, bytes]], *, max_bytes: int | None = None):
    """Parse every file; return the documents and every problem found, storing nothing."""
    documents: list[textio.ParsedDocument] = []
    problems: list[textio.Problem] = []
    for name, data in files:
        result = textio.parse_file(name, data, max_bytes=max_bytes)
        documents.extend(result.documents)
        problems.extend(result.problems)
    return documents, problems


def documents_import(
    *,
    project: Project,
    files: list[tuple[str, bytes]],
    actor=None,
    max_bytes: int | None = None,
    dry_run: bool = False,
) -> ImportOutcome:
    """Import documents from files: all or nothing, and never the same text twice.

    With ``dry_run`` nothing is stored and the outcome says what would happen, which is
    what the upload preview shows.
    """
    parsed, problems = documents_parse(files, max_bytes=max_bytes)
    outcome = ImportOutcome(problems=list(problems), parsed=len(parsed))
    if problems:
        return outcome
    if not parsed:
        outcome.problems.append(
            textio.Problem(source="upload", line=None, message="No documents found.")
        )
        return outcome
    with transaction.atomic():
        existing = set(Document.objects.filter(project=project).values_list("sha256", flat=True))
        for doc in parsed:
            digest = sha256_text(doc.text)
            if digest in existing:
                outcome.already_present += 1
                continue
            existing.add(digest)
            document = Document(
                project=project,
                title=doc.title[:300],
                external_id=doc.external_id,
                outlet=doc.outlet,
                url=doc.url,
                published=doc.published,
                text=doc.text,
                sha256=digest,
            )
            outcome.created.append(document)
        if dry_run:
            return outcome
        for document in outcome.created:
            document.full_clean(exclude=["sha256"])
            document.save()
            audit_record(
                actor=actor,
                action="import",
                obj=document,
                project=project,
                document=document,
                after={"title": document.title, "sha256": document.sha256},
            )
    return outcome


# --- Assignments -----------------------------------------------------------------


@transaction.atomic
def assignment_create(*, document: Document, coder, actor=None) -> Assignment:
    if not Membership.objects.filter(project=document.project_id, user=coder).exists():
        raise ServiceError(f"{coder.username} is not a member of this project.")
    assignment, created = Assignment.objects.get_or_create(document=document, coder=coder)
    pseudonym_ensure(project_id=document.project_id, user_id=coder.pk)
    if created:
        audit_record(
            actor=actor,
            action="create",
            obj=assignment,
            document=document,
            after={"coder": coder.username},
        )
    return assignment


@transaction.atomic
def assignment_set_status(*, assignment: Assignment, status: str, actor=None) -> Assignment:
    if status not in AssignmentStatus.values:
        raise ServiceError(f"Unknown status “{status}”.")
    locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
    before = locked.status
    if before == status:
        return locked
    if (
        before == AssignmentStatus.DONE
        and DocumentReview.objects.filter(document_id=locked.document_id).exists()
    ):
        # The reviewer is settling this work; reopening it would change what they review.
        raise ServiceError(
            "A reviewer has started on this document, so it can no longer be reopened."
        )
    locked.status = status
    locked.done_at = timezone.now() if status == AssignmentStatus.DONE else None
    locked.save(update_fields=["status", "done_at", "updated_at"])
    if status == AssignmentStatus.DONE:
        from .agreement import schedule_after_done

        schedule_after_done(assignment.document.project_id)
    audit_record(
        actor=actor,
        action="status",
        obj=locked,
        project=assignment.document.project,
        document=assignment.document,
        before={"status": before},
        after={"status": status},
    )
    return locked


# --- Spans -----------------------------------------------------------------------


def _project_code(project_id: int, code_id: object) -> Code:
    try:
        code_pk = int(code_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ServiceError("Unknown code.") from None
    code = Code.objects.filter(pk=code_pk, codebook__project_id=project_id).first()
    if code is None:
        raise ServiceError("Unknown code.")
    if not code.active:
        raise ServiceError(f"The code “{code.name}” is retired; choose another.")
    return code


def _checked_offsets(text: str, start, end, quote: str | None) -> tuple[int, int]:
    try:
        start_i, end_i = check_span(text, start, end, quote)
        return trim_whitespace(text, start_i, end_i)
    except SpanError as error:
        raise ServiceError(str(error)) from None


def span_create(
    *, assignment: Assignment, code_id, start, end, quote: str | None, note: str = "", actor=None
) -> Span:
    """Store a coder's span, after checking offsets and quote against the stored text."""
    document = assignment.document
    start_i, end_i = _checked_offsets(document.text, start, end, quote)
    with transaction.atomic():
        code = _project_code(document.project_id, code_id)
        if assignment.spans.live().filter(code=code, start=start_i, end=end_i).exists():
            raise ServiceError(f"This text is already tagged “{code.name}”.")
        span = Span(
            assignment=assignment,
            code=code,
            start=start_i,
            end=end_i,
            quote=document.text[start_i:end_i],
            note=note.strip(),
            codebook_version=document.project.codebook.version,
        )
        try:
            with transaction.atomic():
                span.save()
        except IntegrityError:
            raise ServiceError(f"This text is already tagged “{code.name}”.") from None
        if assignment.status == AssignmentStatus.TODO:
            assignment.status = AssignmentStatus.IN_PROGRESS
            assignment.save(update_fields=["status", "updated_at"])
        _record_span(actor=actor, action="create", document=document, span=span, before=None)
    return span


def _record_span(*, actor, action: str, span: Span, document: Document, before) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=span,
        document=document,
        before=before,
        after=span_state(span),
    )


def _locked_span(span: Span, expected_version) -> Span:
    locked = Span.objects.select_for_update().select_related("code").get(pk=span.pk)
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise ServiceError("The span's version is missing; reload the page.") from None
    if locked.version != expected:
        raise ConflictError(
            "This span was changed in another tab or window since you loaded it. "
            "Its current state is shown; make your change again if you still want it."
        )
    return locked


def span_update(
    *,
    span: Span,
    expected_version,
    code_id=None,
    start=None,
    end=None,
    note: str | None = None,
    actor=None,
) -> Span:
    """Change a span's code, boundaries or note, refusing a save from a stale tab."""
    document = span.assignment.document
    with transaction.atomic():
        locked = _locked_span(span, expected_version)
        if locked.deleted_at is not None:
            raise ConflictError("This span was deleted; undo the deletion to change it.")
        before = span_state(locked)
        if code_id is not None and str(code_id) != str(locked.code_id):
            # Only a change of code is checked: a span coded before its code was
            # retired keeps it and can still get a note or new boundaries.
            locked.code = _project_code(document.project_id, code_id)
        if start is not None or end is not None:
            new_start = locked.start if start is None else start
            new_end = locked.end if end is None else end
            locked.start, locked.end = _checked_offsets(document.text, new_start, new_end, None)
            locked.quote = document.text[locked.start : locked.end]
        if note is not None:
            locked.note = note.strip()
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
        _record_span(actor=actor, action="change", document=document, span=locked, before=before)
    return locked


def span_delete(*, span: Span, expected_version, actor=None) -> Span:
    """Soft-delete: the span leaves every view but stays in the database, and can be restored."""
    document = span.assignment.document
    with transaction.atomic():
        locked = _locked_span(span, expected_version)
        if locked.deleted_at is not None:
            return locked
        before = span_state(locked)
        locked.deleted_at = timezone.now()
        locked.version += 1
        locked.save(update_fields=["deleted_at", "version", "updated_at"])
        _record_span(actor=actor, action="delete", document=document, span=locked, before=before)
    return locked


def span_restore(*, span: Span, expected_version, actor=None) -> Span:
    document = span.assignment.document
    with transaction.atomic():
        locked = _locked_span(span, expected_version)
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
        _record_span(actor=actor, action="restore", document=document, span=locked, before=before)
    return locked
