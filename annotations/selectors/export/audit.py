"""Rows of audit.csv: the project's audit events, with people named as in the export.

When people are pseudonymised, every person is, wherever they appear: the actor column,
and in the recorded states every nested value: a username under any key or inside a
list (a bulk assignment's ``[document, username]`` pairs), a username inside a longer
text (an import's source ``alice.jsonl``), an e-mail, a coder key ``u12`` and a user id
under a key that holds people (``source_coders``). Removed members and anyone else the
trail names (an administrator, a reviewer who left) are named too, never left as they
were. Texts people wrote (quotes, notes, rationales, definitions) are left as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from ...models import (
    AgreementRun,
    Assignment,
    AuditEvent,
    DocumentReview,
    GoldSpan,
    Membership,
    Project,
    Pseudonym,
    ReviewDecision,
)
from .reads import CHUNK
from .spec import ExportSpec, people_labels

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
    "via",
)

# Keys whose values are people: user ids, or names (of an account or not).
_PERSON_KEYS = frozenset(
    {
        "user",
        "user_id",
        "username",
        "coder",
        "coder_id",
        "coders",
        "source_coders",
        "actor",
        "settled_by",
        "invited_by",
    }
)
# Keys whose strings people wrote; names inside them are content, not identities.
_WRITTEN_KEYS = frozenset(
    {"quote", "note", "rationale", "text", "title", "definition", "guidance", "description", "name"}
)
SOMEONE_ELSE = "someone else"
OTHER = "Other person"


class People:
    """Every person the project's trail can name, and what this export calls them."""

    def __init__(self, project: Project, spec: ExportSpec) -> None:
        self.hidden = not spec.names or not spec.others
        labels = people_labels(project, spec)
        ids = _related_people(project) | set(labels)
        users = get_user_model().objects.filter(pk__in=ids).order_by("pk")
        self.by_id: dict[int, str] = {}
        self._others = 0
        self._blind_coder = not spec.others
        texts: dict[str, str] = {}
        for user in users:
            label = labels.get(user.pk) or self._another()
            self.by_id[user.pk] = label if self.hidden else user.get_username()
            for text in (user.get_username(), user.email, f"u{user.pk}"):
                if text:
                    texts[text.lower()] = self.by_id[user.pk]
        self._exact = texts
        # Longest first, so "alice.smith" is replaced whole before "alice" could be.
        names = sorted((t for t in texts if len(t) >= 3 and not t.isdigit()), key=len)[::-1]
        self._inside = (
            re.compile(
                r"(?<![\w@+.-])(" + "|".join(map(re.escape, names)) + r")(?![\w@+-])",
                re.IGNORECASE,
            )
            if names
            else None
        )

    def _another(self) -> str:
        """A label for someone this export has no name for: numbered, never a name."""
        if self._blind_coder:
            return SOMEONE_ELSE
        self._others += 1
        return f"{OTHER} {self._others}"

    def label(self, user_id: int | None) -> str:
        if user_id is None:
            return ""
        return self.by_id.get(user_id, SOMEONE_ELSE if self.hidden else str(user_id))

    def scrub(self, value: Any, key: str = "") -> Any:
        """`value` with every person in it named as this export names them."""
        if not self.hidden:
            return value
        if isinstance(value, dict):
            return {self._text(str(k)): self.scrub(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(item, key) for item in value]
        if isinstance(value, int) and not isinstance(value, bool) and key in _PERSON_KEYS:
            return self.label(value)
        if isinstance(value, str) and key in _PERSON_KEYS:
            return self._person(value)
        if isinstance(value, str) and key not in _WRITTEN_KEYS:
            return self._text(value)
        return value

    def _person(self, name: str) -> str:
        """A name where a person belongs: theirs here, or a new number for one unknown."""
        found = self._exact.get(name.lower())
        if found is None:
            found = self._exact[name.lower()] = self._another()
        return found

    def _text(self, text: str) -> str:
        exact = self._exact.get(text.lower())
        if exact is not None:
            return exact
        if self._inside is None:
            return text
        return self._inside.sub(lambda m: self._exact[m.group(1).lower()], text)


def _related_people(project: Project) -> set[int]:
    """Ids of everyone the project's records can name, present or past."""
    ids: set[int] = set()
    sources = [
        Membership.objects.filter(project=project).values_list("user_id", flat=True),
        Pseudonym.objects.filter(project=project).values_list("user_id", flat=True),
        Assignment.objects.filter(document__project=project).values_list("coder_id", flat=True),
        AuditEvent.objects.filter(project=project, actor__isnull=False).values_list(
            "actor_id", flat=True
        ),
        AuditEvent.objects.filter(project=project, object_type="user").values_list(
            "object_id", flat=True
        ),
        GoldSpan.objects.filter(document__project=project, settled_by__isnull=False).values_list(
            "settled_by_id", flat=True
        ),
        ReviewDecision.objects.filter(
            document__project=project, decided_by__isnull=False
        ).values_list("decided_by_id", flat=True),
        DocumentReview.objects.filter(
            Q(document__project=project) & Q(started_by__isnull=False)
        ).values_list("started_by_id", flat=True),
        AgreementRun.objects.filter(project=project, requested_by__isnull=False).values_list(
            "requested_by_id", flat=True
        ),
    ]
    for query in sources:
        ids.update(query.distinct())
    ids.discard(None)
    return ids


def audit_rows(project: Project, spec: ExportSpec) -> Iterator[dict[str, Any]]:
    people = People(project, spec)
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
        "via",
    )
    for row in rows.iterator(chunk_size=CHUNK):
        pk, at, actor, action, object_type, object_id, document, before, after, via = row
        if people.hidden and object_type == "user":
            object_id = None  # a user id next to a pseudonym would undo it
        yield {
            "event_id": pk,
            "at": at,
            "actor": people.label(actor),
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "document_id": document,
            "before": _json_cell(people.scrub(before)),
            "after": _json_cell(people.scrub(after)),
            "via": via,
        }


def _json_cell(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
