"""The Report exercise: drafts being written, submitted attempts and their scores."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TimeStampedModel
from apps.exercises.hooks import FindingOutcomes, outcome_labels
from apps.exercises.models import Attempt, ExerciseKind

# Hard caps, shared by the services, the forms and the API serializers.
MAX_REPORT_CHARS = 5000
# A draft may run past the submit cap while the resident trims it; beyond this it is refused.
MAX_DRAFT_CHARS = 10000


class ReportDraft(TimeStampedModel):
    """The text being written for one case: the autosave target, so a reload or a lost connection
    loses nothing. Deleted when the attempt is submitted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_drafts"
    )
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="report_drafts")
    text = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "case"], name="reportdraft_unique_user_case"),
        ]


class AttemptStatus(models.TextChoices):
    PENDING = "pending", "Scoring"
    SCORED = "scored", "Scored"
    FAILED = "failed", "Scoring failed"


class ReportAttempt(Attempt):
    """One submitted report. The lifecycle fields come from ``apps.exercises``; ``score`` is the
    rule-based clinical percent / 100, set when the scoring job's result is stored."""

    EXERCISE: ClassVar[str] = ExerciseKind.REPORT

    text = models.TextField()
    # The reference findings as they were when this attempt was scored: error spans point into this
    # text, and an educator editing the reference later must not shift them.
    reference_text = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=16, choices=AttemptStatus.choices, default=AttemptStatus.PENDING
    )
    error = models.TextField(blank=True, default="")
    job = models.ForeignKey(
        "inference.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    judge_job = models.ForeignKey(
        "inference.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scoring_runs = models.PositiveSmallIntegerField(default=1)  # 1 + "retry scoring" presses
    # An educator edited the reference after this attempt was scored (apps/reporting/rescore.py):
    # the job scoring it again against the new one, and once its score differs from the one the
    # resident saw, that first score and when it changed. Every score stays a ReportScore row.
    rescore_job = models.ForeignKey(
        "inference.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    previous_score = models.FloatField(null=True, blank=True)
    rescored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "case"]),
            # The educators' dashboard: see LocalizationAttempt's index of the same shape.
            models.Index(
                fields=["user", "submitted_at"],
                include=["case_set", "case", "score", "post_reveal", "time_taken_s"],
                name="report_attempt_user_time",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"], name="reportattempt_unique_key"
            ),
            models.UniqueConstraint(
                fields=["user", "case", "attempt_no"], name="reportattempt_unique_number"
            ),
            models.CheckConstraint(condition=Q(attempt_no__gte=1), name="reportattempt_number_pos"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in AttemptStatus]),
                name="reportattempt_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"report attempt {self.pk} ({self.status})"

    def finding_outcomes(self) -> FindingOutcomes:
        """From the rule-based score (one query): missed findings and findings reported in the
        wrong place or with the wrong severity missed, false findings false, the reference's
        other positive findings found; full coverage when the style check found no region left
        out."""
        score = self.scores.filter(kind=ScoreKind.RULES).order_by("-pk").first()
        result = score.result if score is not None else {}
        errors = result.get("errors", [])
        missed = outcome_labels(
            e.get("label")
            for e in errors
            if e.get("category") in ("missed_finding", "location", "severity")
        )
        present = outcome_labels(
            f.get("label")
            for f in result.get("reference_findings", [])
            if f.get("presence") == "present"
        )
        coverage = (result.get("style") or {}).get("coverage") or {}
        return FindingOutcomes(
            found=tuple(label for label in present if label not in missed),
            missed=missed,
            false=outcome_labels(
                e.get("label") for e in errors if e.get("category") == "false_finding"
            ),
            full_coverage=coverage.get("score") == 1.0,
        )


class ScoreKind(models.TextChoices):
    RULES = "rules", "Rule-based score"
    JUDGE = "judge", "LLM judge"


class ReportScore(TimeStampedModel):
    """One scorer's verdict on one attempt, one row per scoring job. Append-only: a redelivered
    job finds its row and stops; a re-score (a new reference, a new scorer) is a new job, so a
    new row, and the earlier rows are the attempt's history. Rows from before the job was kept
    have none."""

    attempt = models.ForeignKey(ReportAttempt, on_delete=models.CASCADE, related_name="scores")
    job = models.ForeignKey(
        "inference.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scorer_version = models.CharField(max_length=120)
    kind = models.CharField(max_length=8, choices=ScoreKind.choices)
    result = models.JSONField()
    clinical_score = models.FloatField(null=True, blank=True)
    clinical_percent = models.FloatField(null=True, blank=True)
    style_score = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["attempt", "kind", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["job"], name="reportscore_unique_job"),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in ScoreKind]), name="reportscore_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(clinical_score__isnull=True)
                | (Q(clinical_score__gte=-1) & Q(clinical_score__lte=1)),
                name="reportscore_clinical_range",
            ),
            models.CheckConstraint(
                condition=Q(clinical_percent__isnull=True)
                | (Q(clinical_percent__gte=0) & Q(clinical_percent__lte=100)),
                name="reportscore_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(style_score__isnull=True)
                | (Q(style_score__gte=0) & Q(style_score__lte=1)),
                name="reportscore_style_range",
            ),
        ]
