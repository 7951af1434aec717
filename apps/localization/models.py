"""The Localize exercise: attempts (on the shared lifecycle base), marks and explanations."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import F, Q

from apps.core.models import TimeStampedModel
from apps.exercises.hooks import FindingOutcomes, outcome_labels
from apps.exercises.models import Attempt, ExerciseKind


class LocalizationAttempt(Attempt):
    """One scored answer. The lifecycle fields come from ``apps.exercises``; the player only
    sends marks."""

    EXERCISE: ClassVar[str] = ExerciseKind.LOCALIZE

    score = models.FloatField()  # scored synchronously in the submit
    result = models.JSONField()  # the ml.boxes result, as scored
    # The ground truth as it was when scored (labels, finding ids, sentences): feedback stays true
    # to the score even if an educator edits the case later.
    reference = models.JSONField(default=list)
    scorer_version = models.CharField(max_length=40)
    iou_threshold = models.FloatField()
    explain_job = models.ForeignKey(
        "inference.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "case_set", "case"]),
            # The educators' dashboard reads a cohort's attempts by user and date: covering the
            # columns it aggregates lets it scan the index only, not the wide rows (``result``).
            models.Index(
                fields=["user", "submitted_at"],
                include=["case_set", "case", "score", "post_reveal", "time_taken_s"],
                name="localize_attempt_user_time",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"], name="localize_attempt_unique_key"
            ),
            models.UniqueConstraint(
                fields=["user", "case", "attempt_no"], name="localize_attempt_unique_no"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=1), name="localize_attempt_score_range"
            ),
            models.CheckConstraint(
                condition=Q(iou_threshold__gt=0) & Q(iou_threshold__lte=1),
                name="localize_attempt_iou_range",
            ),
            models.CheckConstraint(condition=Q(attempt_no__gte=1), name="localize_attempt_no_pos"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.attempt_no} of case {self.case_id} by {self.user_id}"

    def finding_outcomes(self) -> FindingOutcomes:
        """From the stored result: hits found; misses and mislabelled regions (by their true
        label) missed; other false positives false. No query."""
        result = self.result or {}
        mislabelled = [m.get("true_label") for m in result.get("mislabelled", [])]
        mislabelled_marks = {m.get("mark") for m in result.get("mislabelled", [])}
        return FindingOutcomes(
            found=outcome_labels(h.get("label") for h in result.get("hits", [])),
            missed=outcome_labels([m.get("label") for m in result.get("misses", [])] + mislabelled),
            false=outcome_labels(
                f.get("label")
                for f in result.get("false_positives", [])
                if f.get("mark") not in mislabelled_marks
            ),
        )

    def marks_list(self) -> list[Mark]:
        """The attempt's marks, from memory when the submit just wrote them."""
        rows = getattr(self, "mark_rows", None)
        if rows is None:
            rows = self.mark_rows = list(self.marks.all())
        return rows


class Mark(models.Model):
    """A box the player drew (selected=False) or a finding ticked from the checklist
    (selected=True, no box). One table keeps an attempt's answer in one ordered place."""

    attempt = models.ForeignKey(LocalizationAttempt, on_delete=models.CASCADE, related_name="marks")
    index = models.PositiveSmallIntegerField()  # the box's index in the result, or the tick's order
    label = models.CharField(max_length=80)
    selected = models.BooleanField(default=False)
    # The view a box was drawn on (null for ticks, and once an educator removes that view).
    image = models.ForeignKey(
        "cases.CaseImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    x1 = models.FloatField(null=True, blank=True)
    y1 = models.FloatField(null=True, blank=True)
    x2 = models.FloatField(null=True, blank=True)
    y2 = models.FloatField(null=True, blank=True)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["attempt", "selected", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "selected", "index"], name="localize_mark_unique_index"
            ),
            # The same rule as cases.FindingBox for boxes (NaN fails every comparison on Postgres
            # and SQLite alike); ticks carry no coordinates at all.
            models.CheckConstraint(
                condition=(
                    Q(selected=False)
                    # Spelled out: a NULL comparison is "unknown", which a CHECK lets through
                    # (and SQLite stores NaN as NULL).
                    & Q(x1__isnull=False, y1__isnull=False, x2__isnull=False, y2__isnull=False)
                    & Q(x1__gte=0)
                    & Q(x2__lte=1)
                    & Q(x1__lt=F("x2"))
                    & Q(y1__gte=0)
                    & Q(y2__lte=1)
                    & Q(y1__lt=F("y2"))
                )
                | (
                    Q(selected=True)
                    & Q(x1__isnull=True)
                    & Q(y1__isnull=True)
                    & Q(x2__isnull=True)
                    & Q(y2__isnull=True)
                ),
                name="localize_mark_box_normalised",
            ),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True)
                | (Q(confidence__gte=1) & Q(confidence__lte=5)),
                name="localize_mark_confidence_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} (mark {self.index} of attempt {self.attempt_id})"

    @property
    def box(self) -> list[float] | None:
        if self.selected:
            return None
        return [self.x1, self.y1, self.x2, self.y2]


class ErrorKind(models.TextChoices):
    MISSED = "missed", "Missed"
    FALSE_POSITIVE = "false_positive", "False positive"
    MISLABELLED = "mislabelled", "Mislabelled"
    REFERENCE = "reference", "Reference"


class Explanation(TimeStampedModel):
    """Words about one finding or one mark, and who wrote them.

    Precomputed ones (attempt is null) explain a ground-truth finding of a published case and are
    cached per model and prompt version; they answer every player's misses. Attempt ones explain
    that attempt's false positives, mislabelled marks and misses the cache could not answer.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    finding = models.ForeignKey(
        "cases.Finding", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    attempt = models.ForeignKey(
        LocalizationAttempt,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="explanations",
    )
    # Which item of the attempt: "fp:<mark>", "fp:select:<label>", "mislabelled:<mark>",
    # "missed:<finding id>"; "reference" for precomputed ones.
    item = models.CharField(max_length=120)
    mark_index = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=16, choices=ErrorKind.choices)
    label = models.CharField(max_length=80)
    text = models.TextField()
    backend = models.CharField(max_length=40)
    model_id = models.CharField(max_length=200)
    prompt_version = models.CharField(max_length=40)
    fallback_reason = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "finding", "model_id", "prompt_version"],
                condition=Q(attempt__isnull=True),
                name="localize_explanation_unique_cached",
            ),
            models.UniqueConstraint(
                fields=["attempt", "item"],
                condition=Q(attempt__isnull=False),
                name="localize_explanation_unique_item",
            ),
            models.CheckConstraint(
                condition=Q(attempt__isnull=False)
                | (Q(finding__isnull=False) & Q(error="reference")),
                name="localize_explanation_cached_is_reference",
            ),
        ]

    @property
    def written_by(self) -> str:
        """What the page says wrote it: the knowledge base, or the model by its id."""
        if self.backend == "knowledge":
            return "knowledge base"
        return self.model_id
