"""The data model: projects, codebooks, documents, assignments, spans and their audit trail.

Offsets everywhere are 0-based, end-exclusive, in Unicode code points: exactly Python's
``text[start:end]``. A coder's work is never hard-deleted: spans are soft-deleted (which
also gives "undo"), codes are retired rather than deleted once used, and every change is
recorded in :class:`AuditEvent` in the same transaction as the change itself.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
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


class Codebook(models.Model):
    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="codebook")
    # Bumped whenever a definition or guidance changes, so every span records which
    # wording its coder was reading.
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Codebook of {self.project} (v{self.version})"


class Code(models.Model):
    codebook = models.ForeignKey(Codebook, on_delete=models.CASCADE, related_name="codes")
    name = models.CharField(max_length=100)
    definition = models.TextField(blank=True)
    guidance = models.TextField(blank=True)
    colour = models.CharField(max_length=7, default="#0072B2")
    shortcut = models.CharField(max_length=1, blank=True)
    order = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["codebook", "name"], name="code_unique_name"),
            models.UniqueConstraint(
                fields=["codebook", "shortcut"],
                condition=~Q(shortcut=""),
                name="code_unique_shortcut",
            ),
            models.CheckConstraint(
                condition=Q(colour__regex=r"^#[0-9A-Fa-f]{6}$"), name="code_colour_hex"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Document(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="documents")
    title = models.CharField(max_length=300)
    external_id = models.CharField(max_length=200, blank=True)
    outlet = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    published = models.DateField(null=True, blank=True)
    text = models.TextField()
    sha256 = models.CharField(max_length=64, editable=False)
    # Code points on both SQLite and PostgreSQL, the same as Python's len().
    length = models.GeneratedField(
        expression=Length("text"), output_field=models.PositiveIntegerField(), db_persist=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "sha256"], name="document_unique_text"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        # Every offset ever recorded points into this text: it may never change.
        # A database trigger enforces the same below the ORM (see migration 0002).
        stored = getattr(self, "_stored_text", None)
        if self.pk is not None and stored is not None and self.text != stored:
            raise ValueError("A document's text is immutable once stored.")
        super().save(*args, **kwargs)
        self._stored_text = self.text

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored_text = instance.__dict__.get("text")
        return instance


class AssignmentStatus(models.TextChoices):
    TODO = "todo", "To do"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"


class Assignment(models.Model):
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="assignments")
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    status = models.CharField(
        max_length=12, choices=AssignmentStatus.choices, default=AssignmentStatus.TODO
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["document_id", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["document", "coder"], name="assignment_unique_coder")
        ]

    def __str__(self) -> str:
        return f"{self.document} for {self.coder}"


class SpanQuerySet(models.QuerySet):
    def live(self) -> SpanQuerySet:
        return self.filter(deleted_at__isnull=True)


class Span(models.Model):
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="spans")
    code = models.ForeignKey(Code, on_delete=models.PROTECT, related_name="spans")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    quote = models.TextField()
    note = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    codebook_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = SpanQuerySet.as_manager()

    class Meta:
        ordering = ["start", "end", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__gte=0) & Q(start__lt=F("end")), name="span_offsets_ordered"
            ),
            models.UniqueConstraint(
                fields=["assignment", "code", "start", "end"],
                condition=Q(deleted_at__isnull=True),
                name="span_unique_live",
            ),
        ]
        indexes = [models.Index(fields=["assignment", "start"], name="span_assignment_start")]

    def __str__(self) -> str:
        return f"{self.code} [{self.start}:{self.end}]"


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


class WorkerCheck(models.Model):
    """Written by a Celery worker on request: proof that broker, worker and database connect."""

    token = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=200)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.token} by {self.hostname}"


class CodebookVersion(models.Model):
    """A snapshot of the codebook's wording; spans record the version they were coded under."""

    codebook = models.ForeignKey(Codebook, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField(default=list)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["codebook_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["codebook", "number"], name="codebook_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.codebook} v{self.number}"


class Provenance(models.TextChoices):
    UNANIMOUS = "unanimous", "Unanimous"
    MAJORITY = "majority", "Majority"
    DECISION = "decision", "Reviewer decision"
    EDIT = "edit", "Reviewer edit"


class GoldSpanQuerySet(models.QuerySet):
    def live(self) -> GoldSpanQuerySet:
        return self.filter(deleted_at__isnull=True)


class GoldSpan(models.Model):
    """A span of the settled gold layer, kept apart from the coders' spans (never modified)."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="gold_spans")
    code = models.ForeignKey(Code, on_delete=models.PROTECT, related_name="gold_spans")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    quote = models.TextField()
    provenance = models.CharField(max_length=10, choices=Provenance.choices)
    # Which coders' versions the span came from (user ids) and which of their spans.
    source_coders = models.JSONField(default=list, blank=True)
    source_spans = models.JSONField(default=list, blank=True)
    rationale = models.TextField(blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = GoldSpanQuerySet.as_manager()

    class Meta:
        ordering = ["start", "end", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__gte=0) & Q(start__lt=F("end")), name="gold_offsets_ordered"
            ),
            models.UniqueConstraint(
                fields=["document", "code", "start", "end"],
                condition=Q(deleted_at__isnull=True),
                name="gold_unique_live",
            ),
        ]

    def __str__(self) -> str:
        return f"gold {self.code} [{self.start}:{self.end}]"


class ReviewStatus(models.TextChoices):
    IN_REVIEW = "in_review", "In review"
    SETTLED = "settled", "Settled"
    # A manager gave the document back to its coders: their spans may change again, and
    # the reviewer settles whatever changed when coding is done.
    REOPENED = "reopened", "Reopened for coding"


class DocumentReview(models.Model):
    document = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="review")
    status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.IN_REVIEW
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"review of {self.document} ({self.status})"


class ReviewDecision(models.Model):
    """How a reviewer settled one aligned item; one decision per item (a second reviewer
    settling the same item at once is refused by the unique constraint)."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="decisions")
    item_key = models.CharField(max_length=300)
    kind = models.CharField(max_length=10)
    action = models.CharField(max_length=20)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    gold_span = models.ForeignKey(
        GoldSpan, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    rationale = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start", "end", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["document", "item_key"], name="decision_unique_item")
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.kind} [{self.start}:{self.end}]"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class AgreementRun(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="agreement_runs")
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A hash of the spans, assignments and settings the run reads: the same input
    # always gives the same fingerprint, so an identical run is never computed twice.
    fingerprint = models.CharField(max_length=64, db_index=True)
    settings = models.JSONField(default=dict)
    results = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    timings = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["project", "status"], name="run_project_status")]

    def __str__(self) -> str:
        return f"agreement run {self.pk} of {self.project} ({self.status})"


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
