"""Projects, their members and invitations, and the pseudonyms coders get in blind exports."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


class Role(models.TextChoices):
    CODER = "coder", "Coder"
    REVIEWER = "reviewer", "Reviewer"
    MANAGER = "manager", "Manager"


class UnitKind(models.TextChoices):
    TOKEN = "token", "Token"
    SENTENCE = "sentence", "Sentence"
    CHARACTER = "char", "Character"


class Project(models.Model):
    # Unique per creator, not across the installation: a name someone else chose elsewhere
    # must not be discoverable by trying it.
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    blind = models.BooleanField(
        default=True, help_text="Coders see only their own spans, never another coder's."
    )
    feedback_to_coders = models.BooleanField(
        default=False,
        help_text="Once a document is settled, coders may compare their spans with the gold layer.",
    )
    agreement_unit = models.CharField(
        max_length=10, choices=UnitKind.choices, default=UnitKind.TOKEN
    )
    coders_may_export = models.BooleanField(
        default=True, help_text="Coders may download their own spans (never anyone else's)."
    )
    snap_to_words = models.BooleanField(
        default=True,
        help_text="Selections snap to whole words before they are tagged (off: exact characters).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["created_by", "name"], name="project_unique_name")
        ]
        permissions = [("create_project", "May start new projects")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("project", args=[self.pk])


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.CODER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} in {self.project}"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Invitation(models.Model):
    """An offer to join a project, which only the invited person can accept.

    A manager names a user name; nothing about an account of that name is shown to them.
    If no account has that name, accepting creates it with the password the invitee
    chooses through the invitation's link; an existing account accepts on its own page.
    Only a hash of the link's token is stored; a new link replaces the old one.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    username = models.CharField(max_length=150)
    # The invited account: an existing one, or the one accepting created.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    # True when no account had this name when invited: the link may create it.
    creates_account = models.BooleanField(default=False)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.CODER)
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    token_hash = models.CharField(max_length=64, blank=True)
    token_issued_at = models.DateTimeField(null=True, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "username"],
                condition=Q(status="pending"),
                name="invitation_unique_pending",
            )
        ]
        indexes = [models.Index(fields=["token_hash"], name="invitation_token")]

    def __str__(self) -> str:
        return f"{self.username} invited to {self.project} as {self.role} ({self.status})"


class Pseudonym(models.Model):
    """A person's fixed letter in one project ("Coder A"), given when they first join.

    Rows are never deleted, so removing a member never renumbers the others, and every
    page, export and agreement run names the same person with the same letter.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="pseudonyms")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pseudonyms"
    )
    number = models.PositiveIntegerField()

    class Meta:
        ordering = ["project_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="pseudonym_unique_user"),
            models.UniqueConstraint(fields=["project", "number"], name="pseudonym_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.user} is number {self.number} in {self.project}"
