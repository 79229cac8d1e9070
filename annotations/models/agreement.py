"""Agreement runs (the background job's input settings and typed result) and worker checks."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .projects import Project


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


class WorkerCheck(models.Model):
    """Written by a Celery worker on request: proof that broker, worker and database connect."""

    token = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=200)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.token} by {self.hostname}"
