"""Rows of audit.csv: the project's audit events, with people named as in the export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ...models import AuditEvent, Project
from .reads import CHUNK
from .spec import ExportSpec, coder_labels, neutraliser

AUDIT_FILE = "audit.csv"
AUDIT_COLUMNS = (
    "event_id",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "document_id",
    "before",
    "after",
)


_PERSON_KEYS = ("user", "coder", "username", "actor")


def _pseudonymise(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            key: names.get(item, item)
            if key in _PERSON_KEYS and isinstance(item, str)
            else _pseudonymise(item, names)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_pseudonymise(item, names) for item in value]
    return value


def audit_rows(project: Project, spec: ExportSpec) -> Iterator[dict[str, Any]]:
    labels = coder_labels(project, names=spec.names)
    usernames = {} if spec.names else _username_map(project, labels)
    guard = neutraliser(spec)
    events = AuditEvent.objects.filter(project=project)
    if spec.audit_actor_id is not None:
        events = events.filter(actor_id=spec.audit_actor_id)
    rows = events.order_by("pk").values_list(
        "pk",
        "at",
        "actor_id",
        "action",
        "object_type",
        "object_id",
        "document_id",
        "before",
        "after",
    )
    for pk, at, actor, action, object_type, object_id, document, before, after in rows.iterator(
        chunk_size=CHUNK
    ):
        yield {
            "event_id": pk,
            "at": at,
            "actor": guard(labels.get(actor, "") if actor is not None else ""),
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "document_id": document,
            "before": guard(_json_cell(_pseudonymise(before, usernames))),
            "after": guard(_json_cell(_pseudonymise(after, usernames))),
        }


def _username_map(project: Project, labels: dict[int, str]) -> dict[str, str]:
    real = coder_labels(project, names=True)
    return {real[uid]: label for uid, label in labels.items()}


def _json_cell(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
