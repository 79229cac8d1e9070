"""Every write to the database goes through a function in this package.

``core`` holds projects, documents, assignments and spans; other modules add one area
each (review, export, study management, agreement). Each service runs in one transaction
and records an audit event in it.
"""

from .core import (
    ConflictError,
    ImportOutcome,
    ServiceError,
    assignment_create,
    assignment_set_status,
    audit_record,
    code_create,
    documents_import,
    documents_parse,
    membership_set,
    project_create,
    pseudonym_ensure,
    sha256_text,
    span_create,
    span_delete,
    span_restore,
    span_state,
    span_update,
)

__all__ = [
    "ConflictError",
    "ImportOutcome",
    "ServiceError",
    "assignment_create",
    "assignment_set_status",
    "audit_record",
    "code_create",
    "documents_import",
    "documents_parse",
    "membership_set",
    "project_create",
    "pseudonym_ensure",
    "sha256_text",
    "span_create",
    "span_delete",
    "span_restore",
    "span_state",
    "span_update",
]
