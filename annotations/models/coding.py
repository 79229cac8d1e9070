"""Documents, who codes them (assignments), and the coders' spans."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length

from .codebook import Code
from .projects import Project


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
