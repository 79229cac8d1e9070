"""What every service shares: the errors they raise and the audit record they write.

Each service runs in one transaction and records an :class:`AuditEvent` in that same
transaction, so a change and its record are stored together or not at all. Services raise
:class:`ServiceError` with a message meant for the person who asked; nothing is changed
when they do.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from ..models import AuditEvent, Project


class ServiceError(ValueError):
    """A refused request; the message says why, for the person who made it (HTTP 422)."""


class ConflictError(ServiceError):
    """The object changed since the client last saw it, or is frozen (HTTP 409)."""


@dataclass(frozen=True)
class AuditSource:
    """Where the changes of the current request come from, for their audit events."""

    via: str  # "api"
    token_id: int | None = None  # the personal API token used, if any


# Set by the API's authentication for the duration of one request (annotations.api.auth),
# so every event a service records then says so, without a parameter in every service.
audit_source: ContextVar[AuditSource | None] = ContextVar("audit_source", default=None)


def actor_or_none(actor):
    """The user to record, or None for the system (commands, tasks, anonymous)."""
    return actor if actor is not None and actor.is_authenticated else None


def audit_record(
    *, actor, action: str, obj, project=None, document=None, before=None, after=None
) -> AuditEvent:
    """Record one change. ``project`` may be left out when ``document`` is given."""
    if project is None and document is not None:
        project = document.project_id  # an id: no query
    source = audit_source.get()
    return AuditEvent.objects.create(
        actor=actor_or_none(actor),
        project_id=project.pk if isinstance(project, Project) else project,
        document=document,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=obj.pk,
        before=before,
        after=after,
        via=source.via if source else "",
        api_token_id=source.token_id if source else None,
    )
