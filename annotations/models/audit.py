"""The audit trail, and the personal API tokens its events may name."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .coding import Document
from .projects import Project


class AuditEvent(models.Model):
    """One recorded change: who did what to which object, with the state before and after."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    project = models.ForeignKey(Project, null=True, on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=40)
    object_id = models.BigIntegerField(null=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # How the change was asked for: "" on the pages, commands and tasks, "api" through the
    # JSON API (with the personal token used, if one was; a session has none).
    via = models.CharField(max_length=10, blank=True, default="")
    api_token = models.ForeignKey(
        "ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type}"


class ApiToken(models.Model):
    """A personal token for the JSON API, sent as ``Authorization: Bearer <token>``.

    Only a SHA-256 of the token is stored (the token is 256 random bits, so a slow hash
    would add nothing); its owner sees it once, when it is made. A revoked token stays, so
    the audit events made with it still say which token it was. The two window fields
    count the token's writes in the current minute for the rate limit, in the database so
    that every web worker shares them.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)  # the token's first characters, to tell them apart
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    window = models.PositiveBigIntegerField(default=0)  # minutes since the epoch
    window_writes = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
