"""Documents: the one place a document is created or its metadata changes.

A document's text never changes once stored (the model and a database trigger refuse it),
so every offset recorded against it stays valid. Imports and the seed create documents
only through :func:`documents_prepare` and :func:`documents_store`, which run the same
validation whether a caller previews (dry run) or stores.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from ..domain.textio import ParsedDocument, Problem, sha256_text
from ..models import Document, Project
from .base import ServiceError, audit_record

METADATA_FIELDS = ("title", "external_id", "outlet", "url", "published")


@dataclass
class Prepared:
    """Documents checked and ready to store, with what the project already holds."""

    new: list[Document] = field(default_factory=list)
    present: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # For each parsed document, in order: the stored or to-be-stored document.
    matched: list[Document] = field(default_factory=list)


def _validation_messages(error: ValidationError) -> list[str]:
    if hasattr(error, "message_dict"):
        return [
            f"{name}: {message}" if name != "__all__" else message
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    return list(error.messages)


def documents_prepare(*, project: Project, parsed: Iterable[ParsedDocument]) -> Prepared:
    """Build and fully validate the documents a parse produced, storing nothing.

    A text the project already holds matches the stored document (never stored twice);
    each new one passes the model's own validation here, so a preview that accepts a
    file guarantees that storing it succeeds.
    """
    prepared = Prepared()
    parsed = list(parsed)
    digests = [sha256_text(doc.text) for doc in parsed]
    existing = {d.sha256: d for d in Document.objects.filter(project=project, sha256__in=digests)}
    fresh: dict[str, Document] = {}
    for doc, digest in zip(parsed, digests, strict=True):
        if digest in existing:
            prepared.present.append(existing[digest])
            prepared.matched.append(existing[digest])
            continue
        if digest in fresh:
            prepared.matched.append(fresh[digest])
            continue
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
        try:
            document.full_clean(exclude=["sha256"], validate_unique=False)
        except ValidationError as error:
            for message in _validation_messages(error):
                prepared.problems.append(Problem(doc.source or "upload", None, message))
            continue
        fresh[digest] = document
        prepared.new.append(document)
        prepared.matched.append(document)
    return prepared


def documents_store(*, documents: list[Document], actor, source: str = "") -> None:
    """Store documents built by :func:`documents_prepare`, each with its audit event."""
    with transaction.atomic():
        for document in documents:
            document.save()
            audit_record(
                actor=actor,
                action="import",
                obj=document,
                document=document,
                after={"title": document.title, "sha256": document.sha256, "source": source},
            )


@transaction.atomic
def document_update(*, document: Document, actor=None, **changes) -> Document:
    """Change a document's metadata (title, external id, outlet, url, publication date)."""
    unknown = set(changes) - set(METADATA_FIELDS)
    if unknown:
        raise ServiceError(f"A document's {', '.join(sorted(unknown))} cannot be changed.")
    document = Document.objects.select_for_update().get(pk=document.pk)
    before = {name: getattr(document, name) for name in changes}
    for name, value in changes.items():
        setattr(document, name, value)
    after = {name: getattr(document, name) for name in changes}
    if after == before:
        return document
    try:
        document.full_clean(exclude=["sha256"], validate_unique=False)
    except ValidationError as error:
        raise ServiceError(" ".join(_validation_messages(error))) from None
    document.save(update_fields=list(changes))
    audit_record(
        actor=actor,
        action="change",
        obj=document,
        document=document,
        before={k: str(v) if v is not None else None for k, v in before.items()},
        after={k: str(v) if v is not None else None for k, v in after.items()},
    )
    return document
