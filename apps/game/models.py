"""The game's own rows: what each first reading found and missed (the input of badges and spaced
review), and the badges awarded. XP and scores stay in the ledger (``apps.progress``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.progress.models import ExerciseKind


class Outcome(models.TextChoices):
    FOUND = "found", "Found"
    MISSED = "missed", "Missed"


class FindingResult(models.Model):
    """One finding of one first reading: found, or missed (missed, mislabelled, or reported in
    the wrong place or with the wrong severity). Written once per credited attempt."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=80)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    exercise = models.CharField(max_length=16, choices=ExerciseKind.choices)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    attempt_ref = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "label", "outcome"])]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt_ref", "label", "outcome"], name="findingresult_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.outcome} by {self.user_id} ({self.attempt_ref})"


class BadgeAward(models.Model):
    """A badge earned (``apps.game.badges`` holds the rules); once per player and badge."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="badge_awards"
    )
    badge = models.CharField(max_length=40)
    awarded_at = models.DateTimeField(auto_now_add=True)
    attempt_ref = models.CharField(max_length=80, blank=True, default="")  # what earned it

    class Meta:
        ordering = ["-awarded_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "badge"], name="badgeaward_once"),
        ]

    def __str__(self) -> str:
        return f"{self.badge} for {self.user_id}"
