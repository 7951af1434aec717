"""Read-only API tokens for research scripts, and pre/post assessment pairs."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import TimeStampedModel


class ApiToken(TimeStampedModel):
    """A read-only token an educator issues for scripts. It acts as the educator, on the
    analytics export API only and for reads only, so it sees exactly what the educator sees
    (today, not at issue). Only the SHA-256 of the token is stored; the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12)  # the token's first characters, to recognise it
    digest = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user_id}"


class PrePost(TimeStampedModel):
    """Two assessments of a cohort linked as a pre-test and a post-test over the same findings
    (different cases): the results page compares each resident's scores before and after."""

    cohort = models.ForeignKey("cohorts.Cohort", on_delete=models.CASCADE, related_name="+")
    pre = models.ForeignKey("cases.CaseSet", on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey("cases.CaseSet", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "pre", "post"], name="prepost_unique"),
            models.CheckConstraint(
                condition=~models.Q(pre=models.F("post")), name="prepost_two_sets"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pre_id} → {self.post_id} in cohort {self.cohort_id}"


class AttemptWeek(models.Model):
    """One resident's attempts in one exercise in one week (Monday, site time zone), summed: what
    the dashboard's all-time figures and learning curves read instead of every attempt row.
    Kept by ``summary.attempt_week_refresh`` on every submit, score and re-score (the lifecycle's
    ``attempt_recorded`` hook), which recounts the week from the attempt rows; ``manage.py
    analytics_reconcile`` checks the table against a recount of everything (RELIABILITY R16)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    exercise = models.CharField(max_length=16)  # localize | report
    week = models.DateField()  # its Monday
    attempts = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0)  # with a score
    first_scored = models.PositiveIntegerField(default=0)  # first readings with a score
    first_score_sum = models.FloatField(default=0.0)
    timed = models.PositiveIntegerField(default=0)  # with a measured time
    time_sum = models.FloatField(default=0.0)
    last_at = models.DateTimeField(null=True, blank=True)
    # How many times this row was recounted: the cached analytics pages key on the sum over a
    # cohort, which every submit, score and re-score raises, whatever order they commit in.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "exercise", "week"], name="attemptweek_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.exercise} {self.week}: {self.attempts}"
