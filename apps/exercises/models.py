"""The attempt lifecycle both exercises share: deliveries (the server's clock and the submission
key), the attempt base, reveals (a case's answer was shown to a player) and assessment releases.

Localize and Report keep only what is theirs (marks and matches, report text and scores); who may
answer, with which number, whether the answer was already seen, and when a score may be shown or
credited are decided here once.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TimeStampedModel
from apps.progress.models import ExerciseKind

from .hooks import FindingOutcomes

__all__ = ["AssessmentRelease", "Attempt", "CaseReveal", "Delivery", "ExerciseKind"]


class Delivery(models.Model):
    """A case handed to a player in one exercise: the server-side start of the clock and the
    idempotency key the page submits with. One open delivery per player, case and exercise, so a
    reload keeps both; submitting closes it and the next play opens a new one."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries"
    )
    exercise = models.CharField(max_length=16, choices=ExerciseKind.choices)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    case_set = models.ForeignKey(
        "cases.CaseSet", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    delivered_at = models.DateTimeField()
    idempotency_key = models.UUIDField(default=uuid.uuid4, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Hints taken on this delivery (``apps.exercises.hints``); the submit copies the count onto
    # the attempt, whose XP each one lowers (``xp.xp_for``).
    hints_used = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "exercise", "case"],
                condition=Q(closed_at__isnull=True),
                name="delivery_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exercise} delivery of case {self.case_id} to {self.user_id}"


class Attempt(TimeStampedModel):
    """What every exercise's attempt is made of. Everything here is set by the lifecycle
    (``apps.exercises.services``); the player only sends an answer."""

    EXERCISE: ClassVar[str]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="%(app_label)s_attempts"
    )
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    case_set = models.ForeignKey(
        "cases.CaseSet", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempt_no = models.PositiveIntegerField()  # per player, case and exercise, from 1
    idempotency_key = models.UUIDField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField()
    # Seconds from delivery to submit, measured by the server (None without a delivery).
    time_taken_s = models.FloatField(null=True, blank=True)
    # Made after this player could have seen the case's answer, in this exercise or the other:
    # no accuracy credit, replay XP only.
    post_reveal = models.BooleanField(default=False)
    # The answer says nothing (no mark, no tick, no words): no XP.
    blank = models.BooleanField(default=False)
    # 0..1 once scored (None while a job scores it).
    score = models.FloatField(null=True, blank=True)
    # Credited by the ledger when the score may be shown (None before: pending or assessment).
    xp = models.PositiveIntegerField(null=True, blank=True)
    # The set's practice mode when answered (cases.PracticeMode): guided, active or rapid.
    mode = models.CharField(max_length=8, default="active")
    # Hints taken before this answer was submitted (from its delivery): each costs XP.
    hints_used = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True

    def finding_outcomes(self) -> FindingOutcomes:
        """The answer finding by finding (each exercise reads its own result)."""
        return FindingOutcomes()

    @property
    def ref(self) -> str:
        """How the score ledger names this attempt (recording twice is a no-op)."""
        return f"{self._meta.app_label}.attempt:{self.pk}"


class CaseReveal(models.Model):
    """The first time a case's answer was shown to a player, in either exercise. Any later
    attempt at the case, in either exercise, is after the reveal."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    exercise = models.CharField(max_length=16, choices=ExerciseKind.choices)
    revealed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "case"], name="casereveal_unique"),
        ]

    def __str__(self) -> str:
        return f"case {self.case_id} revealed to {self.user_id} in {self.exercise}"


class AssessmentRelease(models.Model):
    """An assessment's results released: to one player who answered every case in every exercise
    (``user`` set), or to everybody by the educator's close (``user`` null). Until then nothing
    that depends on a score reaches the player, and no XP is credited."""

    case_set = models.ForeignKey("cases.CaseSet", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    released_at = models.DateTimeField()
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case_set", "user"],
                condition=Q(user__isnull=False),
                name="assessmentrelease_one_per_player",
            ),
            models.UniqueConstraint(
                fields=["case_set"],
                condition=Q(user__isnull=True),
                name="assessmentrelease_one_close",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=True) | Q(closed_by__isnull=True),
                name="assessmentrelease_close_has_no_player",
            ),
        ]

    def __str__(self) -> str:
        whom = f"player {self.user_id}" if self.user_id else "everybody (closed)"
        return f"set {self.case_set_id} released to {whom}"
