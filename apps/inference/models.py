"""Jobs sent to workers. The database is the record of truth; the broker only delivers."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from apps.core.models import TimeStampedModel


class JobStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


FINAL_STATUSES = (JobStatus.DONE, JobStatus.FAILED)


class Job(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="jobs",
    )
    kind = models.CharField(max_length=64)  # a task name from ml.contracts.TASKS
    # What the job is about, e.g. "reporting.attempt:42": lets the owning app find its jobs and
    # makes a second dispatch for the same subject return the first job.
    subject = models.CharField(max_length=120, blank=True, default="")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    request = models.JSONField(default=dict)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    # Web jobs (imports, upload parsing) report progress here: {"done": n, "total": m, "message": "..."}
    progress = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Held back from its owner (an answer of an open assessment): neither the job API nor the
    # websocket shows it until the exercise lifecycle unseals it.
    sealed = models.BooleanField(default=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "sent_at"]),
            models.Index(fields=["owner", "status"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=~models.Q(subject=""),
                name="job_unique_kind_subject",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in JobStatus]), name="job_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject or self.pk} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES
