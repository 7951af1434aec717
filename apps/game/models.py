"""The game's own rows: the finds a badge counts, the badges awarded, and the spaced review of
missed findings. XP and scores stay in the ledger (``apps.progress``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.progress.models import ExerciseKind


class Outcome(models.TextChoices):
    FOUND = "found", "Found"
    MISSED = "missed", "Missed"


class FindingResult(models.Model):
    """A finding found on a first reading, for the findings a badge counts
    (``badges.COUNTED_FINDS``); misses live in the review items. Written once per attempt."""

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


class ReviewItem(models.Model):
    """A finding the player missed, scheduled for re-testing by FSRS (``apps.game.review``). One
    per player and label: each new miss lapses it again."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_items"
    )
    label = models.CharField(max_length=80)
    card = models.JSONField()  # the FSRS card (fsrs.Card.to_dict()), as the pinned fsrs stores it
    due = models.DateTimeField(db_index=True)
    # The case it was first missed on, and the case last served for it: a review never serves
    # either, so the player is tested on the finding, not on a remembered film.
    source_case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    last_case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    misses = models.PositiveIntegerField(default=1)
    reviews = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "label"], name="reviewitem_one_per_label"),
        ]

    def __str__(self) -> str:
        return f"{self.label} for {self.user_id}, due {self.due:%Y-%m-%d %H:%M}"


class ReviewServing(models.Model):
    """A case served as a review: for an item (a case with its finding), or a normal film mixed
    in (``item`` null) so a review's case does not give the finding away. Its answer, when
    credited, grades the item."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(
        ReviewItem, null=True, blank=True, on_delete=models.CASCADE, related_name="servings"
    )
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    case_set = models.ForeignKey("cases.CaseSet", on_delete=models.CASCADE, related_name="+")
    served_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    found = models.BooleanField(null=True, blank=True)  # the item's finding found (None: normal)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(answered_at__isnull=True),
                name="reviewserving_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"review of case {self.case_id} for {self.user_id}"


class GameProfile(models.Model):
    """A player's game settings: taking part in the cohort leaderboard (off unless chosen) and
    the pseudonym shown there, drawn at random (nothing in it comes from the account)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="game_profile"
    )
    leaderboard_opt_in = models.BooleanField(default=False)
    pseudonym = models.CharField(max_length=60, unique=True)

    def __str__(self) -> str:
        return f"game profile of {self.user_id}"
