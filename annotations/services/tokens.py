"""Personal API tokens: made and revoked by their owner, checked on every API request, and
counted against the write rate limit.

A token is ``frm_`` and 43 URL-safe characters (256 random bits). Only its SHA-256 is
stored, so a copy of the database lets nobody use the API; the owner sees the token once,
when it is made. Making and revoking a token are recorded in the audit trail.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..models import ApiToken
from .base import ServiceError, audit_record

PREFIX = "frm_"
NAME_LIMIT = 100
# Last-used times are written at most this often per token: every request writing its
# token's row would serialise all requests of a token on one database row.
LAST_USED_EVERY = timedelta(minutes=1)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _state(token: ApiToken) -> dict:
    return {"name": token.name, "prefix": token.prefix, "revoked": token.revoked_at is not None}


@transaction.atomic
def api_token_create(*, user, name: str, actor=None) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns it and the secret, which is never shown again."""
    name = (name or "").strip()
    if not name:
        raise ServiceError("Give the token a name, to tell it apart from your others.")
    if len(name) > NAME_LIMIT:
        raise ServiceError(f"A token's name has at most {NAME_LIMIT} characters.")
    if "\x00" in name:
        raise ServiceError("A token's name cannot contain a NUL character.")
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[: len(PREFIX) + 6], token_hash=token_hash(raw)
    )
    audit_record(actor=actor, action="create", obj=token, after=_state(token))
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor) -> ApiToken:
    """Revoke a token at once; it stays listed (and named in the audit trail) as revoked."""
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        return locked
    before = _state(locked)
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="revoke", obj=locked, before=before, after=_state(locked))
    return locked


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The active token with this secret and an active owner, or None; notes its use."""
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=token_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_write_allowed(*, token: ApiToken, per_minute: int) -> bool:
    """Count one write against the token's limit for the current minute; False when the
    limit is reached (``per_minute`` 0 or less: no limit). Conditional UPDATEs only, so
    web workers on several machines share one count."""
    if per_minute <= 0:
        return True
    minute = int(time.time() // 60)
    rows = ApiToken.objects.filter(pk=token.pk)
    for _ in range(2):
        if rows.filter(window=minute, window_writes__lt=per_minute).update(
            window_writes=F("window_writes") + 1
        ):
            return True
        if rows.filter(window=minute).exists():
            return False  # this minute's writes are used up
        # A new minute: the first worker to get here starts its count.
        if rows.exclude(window=minute).update(window=minute, window_writes=1):
            return True
    return False
