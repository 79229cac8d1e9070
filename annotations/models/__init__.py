"""The data model: projects, codebooks, documents, assignments, spans and their audit trail.

Offsets everywhere are 0-based, end-exclusive, in Unicode code points: exactly Python's
``text[start:end]``. A coder's work is never hard-deleted: spans are soft-deleted (which
also gives "undo"), codes are retired rather than deleted once used, and every change is
recorded in :class:`AuditEvent` in the same transaction as the change itself.

One module per area; every model is importable from ``annotations.models`` as before.
"""

from .agreement import (
    AgreementRun,
    RunStatus,
    WorkerCheck,
)
from .audit import (
    ApiToken,
    AuditEvent,
)
from .codebook import (
    Code,
    Codebook,
    CodebookVersion,
)
from .coding import (
    Assignment,
    AssignmentStatus,
    Document,
    Span,
    SpanQuerySet,
)
from .projects import (
    Invitation,
    InvitationStatus,
    Membership,
    Project,
    Pseudonym,
    Role,
    UnitKind,
)
from .review import (
    DocumentReview,
    GoldSpan,
    GoldSpanQuerySet,
    Provenance,
    ReviewDecision,
    ReviewStatus,
)

__all__ = [
    "AgreementRun",
    "ApiToken",
    "Assignment",
    "AssignmentStatus",
    "AuditEvent",
    "Code",
    "Codebook",
    "CodebookVersion",
    "Document",
    "DocumentReview",
    "GoldSpan",
    "GoldSpanQuerySet",
    "Invitation",
    "InvitationStatus",
    "Membership",
    "Project",
    "Provenance",
    "Pseudonym",
    "ReviewDecision",
    "ReviewStatus",
    "Role",
    "RunStatus",
    "Span",
    "SpanQuerySet",
    "UnitKind",
    "WorkerCheck",
]
