"""Review: the gold spans a reviewer settles, each document's review and every decision."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .codebook import Code
from .coding import Document


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
