"""Import doccano JSONL: its documents into a project, its labels as one coder's spans."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from ...domain import textio
from ...models import (
    Assignment,
    AssignmentStatus,
    Code,
    Document,
    Membership,
    Project,
    Span,
)
from ..core import ServiceError, audit_record, code_create, documents_import, sha256_text
from .reads import CHUNK


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
            record = json.loads(raw) if raw.strip() else None
        except ValueError:
            kept.append(raw)  # the parser reports it with its line number
            continue
        if record is None or not isinstance(record, dict) or record.get("coder") == only_coder:
            kept.append(raw)
    return b"\n".join(kept)


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
    the coding screen), so a corpus moves between tools without an offset changing. Labels
    name codes; unknown codes are refused unless ``create_codes``. A label the coder already
    has on that text is counted as present, not duplicated.
    """
    if only_coder is not None:
        data = _select_lines(data, only_coder)
    parsed = textio.parse_file(name, data)
    if not parsed.ok:
        raise ServiceError("\n".join(str(problem) for problem in parsed.problems))
    if not Membership.objects.filter(project=project, user=coder).exists():
        raise ServiceError(f"{coder.username} is not a member of this project.")
    outcome = JsonlImportOutcome()
    wanted = {code for document in parsed.documents for _, _, code in document.labels}
    with transaction.atomic():
        codes = {c.name: c for c in Code.objects.filter(codebook__project=project)}
        missing = sorted(wanted - codes.keys())
        if missing and not create_codes:
            raise ServiceError(
                "The codebook has no code named " + ", ".join(f"“{n}”" for n in missing) + "."
            )
        for code_name in missing:
            codes[code_name] = code_create(codebook=project.codebook, name=code_name, actor=actor)
        retired = sorted(n for n in wanted if not codes[n].active)
        if retired:
            raise ServiceError("Retired codes cannot be imported: " + ", ".join(retired) + ".")
        imported = documents_import(project=project, files=[(name, data)], actor=actor)
        if not imported.ok:
            raise ServiceError("\n".join(str(problem) for problem in imported.problems))
        outcome.documents_created = len(imported.created)
        outcome.documents_present = imported.already_present
        by_hash = {
            d.sha256: d
            for d in Document.objects.filter(
                project=project, sha256__in=[sha256_text(p.text) for p in parsed.documents]
            )
        }
        version = project.codebook.version
        for parsed_document in parsed.documents:
            document = by_hash[sha256_text(parsed_document.text)]
            assignment, _ = Assignment.objects.get_or_create(document=document, coder=coder)
            existing = set(assignment.spans.live().values_list("code__name", "start", "end"))
            new = [
                Span(
                    assignment=assignment,
                    code=codes[code],
                    start=start,
                    end=end,
                    quote=document.text[start:end],
                    codebook_version=version,
                )
                for start, end, code in parsed_document.labels
                if (code, start, end) not in existing
            ]
            outcome.spans_present += len(parsed_document.labels) - len(new)
            Span.objects.bulk_create(new, batch_size=CHUNK)
            outcome.spans_created += len(new)
            status = assignment.status
            if mark_done:
                status = AssignmentStatus.DONE
            elif new and status == AssignmentStatus.TODO:
                status = AssignmentStatus.IN_PROGRESS
            if status != assignment.status:
                assignment.status = status
                assignment.done_at = timezone.now() if status == AssignmentStatus.DONE else None
                assignment.save(update_fields=["status", "done_at", "updated_at"])
            # One event per document: a bulk import of spans, recorded as such.
            audit_record(
                actor=actor,
                action="import",
                obj=assignment,
                project=project,
                document=document,
                after={
                    "coder": coder.username,
                    "source": name,
                    "spans": [[s.start, s.end, s.code.name] for s in new],
                },
            )
    return outcome
