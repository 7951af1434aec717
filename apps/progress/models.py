"""The score ledger: one row per scored attempt. XP, levels, streaks and dashboards are read from it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TimeStampedModel


class ExerciseKind(models.TextChoices):
    LOCALIZE = "localize", "Localize"
    REPORT = "report", "Report"


class ScoreEvent(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="score_events"
    )
    kind = models.CharField(max_length=16, choices=ExerciseKind.choices)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="score_events")
    case_set = models.ForeignKey(
        "cases.CaseSet",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="score_events",
    )
    # The attempt this event scores, e.g. "localization.attempt:12": recording twice is a no-op.
    attempt_ref = models.CharField(max_length=80)
    score = models.FloatField()  # 0..1 for localize; the clinical percent / 100 for report
    xp = models.PositiveIntegerField()
    # Made after the case's answer was shown to this player: never counts towards accuracy.
    post_reveal = models.BooleanField(default=False)
    details = models.JSONField(default=dict, blank=True)  # e.g. per-label hits and misses

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "kind", "created_at"])]
        constraints = [
            models.UniqueConstraint(fields=["attempt_ref"], name="scoreevent_unique_attempt"),
            models.CheckConstraint(
                condition=Q(score__gte=-1) & Q(score__lte=1), name="scoreevent_score_range"
            ),
        ]
