"""What every service shares: the errors they raise and the audit record they write.

Each service runs in one transaction and records an :class:`AuditEvent` in that same
transaction, so a change and its record are stored together or not at all. Services raise
:class:`ServiceError` with a message meant for the person who asked; nothing is changed
when they do.
"""

from __future__ import annotations

from ..models import AuditEvent, Project


class ServiceError(ValueError):
    """A refused request; the message says why, for the person who made it (HTTP 422)."""


class ConflictError(ServiceError):
    """The object changed since the client last saw it, or is frozen (HTTP 409)."""


def actor_or_none(actor):
    """The user to record, or None for the system (commands, tasks, anonymous)."""
    return actor if actor is not None and actor.is_authenticated else None


def audit_record(
    *, actor, action: str, obj, project=None, document=None, before=None, after=None
) -> AuditEvent:
    """Record one change. ``project`` may be left out when ``document`` is given."""
    if project is None and document is not None:
        project = document.project_id  # an id: no query
    return AuditEvent.objects.create(
        actor=actor_or_none(actor),
        project_id=project.pk if isinstance(project, Project) else project,
        document=document,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=obj.pk,
        before=before,
        after=after,
    )
