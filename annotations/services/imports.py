"""Imports: documents from files, and a file's labels as a coder's spans.

An import is all or nothing: every problem in every file is reported and nothing is
stored, or everything is. It never stores a text twice and never stores a span twice, so
running it again changes nothing. Documents, assignments and spans are written only
through their own services, which keep every invariant (validation, pseudonyms, audit,
status changes with their agreement scheduling and review guard).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from ..domain import jsonsafe, textio
from ..models import AssignmentStatus, Code, Document, Membership, Project
from . import assignments, codebook, documents, spans
from .base import ServiceError


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
    parsed: list[textio.ParsedDocument] = []
    problems: list[textio.Problem] = []
    for name, data in files:
        result = textio.parse_file(name, data, max_bytes=max_bytes)
        parsed.extend(result.documents)
        problems.extend(result.problems)
    return parsed, problems


def documents_import(
    *,
    project: Project,
    files: list[tuple[str, bytes]],
    actor=None,
    max_bytes: int | None = None,
    dry_run: bool = False,
) -> ImportOutcome:
    """Import documents from files: all or nothing, and never the same text twice.

    With ``dry_run`` nothing is stored and the outcome says what would happen, after the
    very validation a real import runs, which is what the upload preview shows.
    """
    parsed, problems = documents_parse(files, max_bytes=max_bytes)
    outcome = ImportOutcome(problems=list(problems), parsed=len(parsed))
    if problems:
        return outcome
    if not parsed:
        outcome.problems.append(textio.Problem("upload", None, "No documents found."))
        return outcome
    prepared = documents.documents_prepare(project=project, parsed=parsed)
    outcome.problems.extend(prepared.problems)
    outcome.created = prepared.new
    outcome.already_present = len(prepared.present)
    if outcome.problems or dry_run:
        return outcome
    source = ", ".join(name for name, _ in files)
    documents.documents_store(documents=prepared.new, actor=actor, source=source)
    return outcome


@dataclass
class JsonlImportOutcome:
    documents_created: int = 0
    documents_present: int = 0
    spans_created: int = 0
    spans_present: int = 0
    problems: list[str] = field(default_factory=list)


def _select_lines(data: bytes, only_coder: str) -> bytes:
    """Keep the lines of one annotator (our export writes one line per document and coder)."""
    kept = []
    for raw in data.split(b"\n"):
        try:
            record = jsonsafe.loads(raw) if raw.strip() else None
        except ValueError:
            kept.append(raw)  # the parser reports it with its line number
            continue
        if record is None or not isinstance(record, dict) or record.get("coder") == only_coder:
            kept.append(raw)
    return b"\n".join(kept)


def _codes(project: Project, wanted: set[str], *, create: bool, actor) -> dict[str, Code]:
    codes = {c.name: c for c in Code.objects.filter(codebook__project=project)}
    missing = sorted(wanted - codes.keys())
    if missing and not create:
        raise ServiceError(
            "The codebook has no code named "
            + ", ".join(f"“{n}”" for n in missing)
            + ". Add the codes first, or import with --create-codes to add them."
        )
    for name in missing:
        codes[name] = codebook.code_create(codebook=project.codebook, name=name, actor=actor)
    retired = sorted(n for n in wanted if not codes[n].active)
    if retired:
        raise ServiceError("Retired codes cannot be imported: " + ", ".join(retired) + ".")
    return codes


def jsonl_import(
    *,
    project: Project,
    name: str,
    data: bytes,
    coder,
    actor=None,
    only_coder: str | None = None,
    create_codes: bool = False,
    mark_done: bool = False,
) -> JsonlImportOutcome:
    """Import doccano JSONL: its documents into the project, its labels as ``coder``'s spans.

    All or nothing. Offsets are stored exactly as in the file (no whitespace trimming, unlike
    the coding screen). Labels name codes; unknown codes are refused unless ``create_codes``.
    A label the coder already has on that text is counted as present, not duplicated.
    """
    if only_coder is not None:
        data = _select_lines(data, only_coder)
    parsed = textio.parse_file(name, data)
    if not parsed.ok:
        raise ServiceError("\n".join(str(problem) for problem in parsed.problems))
    if not Membership.objects.filter(project=project, user=coder).exists():
        raise ServiceError(f"{coder.get_username()} is not a member of this project.")
    outcome = JsonlImportOutcome()
    wanted = {code for document in parsed.documents for _, _, code in document.labels}
    with transaction.atomic():
        codes = _codes(project, wanted, create=create_codes, actor=actor)
        prepared = documents.documents_prepare(project=project, parsed=parsed.documents)
        if prepared.problems:
            raise ServiceError("\n".join(str(problem) for problem in prepared.problems))
        documents.documents_store(documents=prepared.new, actor=actor, source=name)
        outcome.documents_created = len(prepared.new)
        outcome.documents_present = len(prepared.present)
        for parsed_document, document in zip(parsed.documents, prepared.matched, strict=True):
            assignment = assignments.assignment_ensure(document=document, coder=coder, actor=actor)
            created, present = spans.spans_import(
                assignment=assignment,
                spans=[
                    spans.ImportedSpan(start, end, codes[code])
                    for start, end, code in parsed_document.labels
                ],
                actor=actor,
                source=parsed_document.source or name,
            )
            outcome.spans_created += created
            outcome.spans_present += present
            if mark_done:
                assignments.assignment_set_status(
                    assignment=assignment, status=AssignmentStatus.DONE, actor=actor
                )
    return outcome
