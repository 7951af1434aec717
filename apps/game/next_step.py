"""The one "Continue" button: the most useful next case for the player. A due review comes first
(spaced re-testing of what was missed; served when a different case with the finding exists),
then the unfinished assignment due soonest, then new
practice in a set the player has not finished."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse

from apps.cases.models import CaseSet, CaseSetMode, CaseStatus
from apps.cases.selectors.play import case_sets_playable_by, localize_truth
from apps.exercises.models import ExerciseKind
from apps.exercises.registry import exercise

from .home import assignments_for, next_assignment
from .review import review_serve


@dataclass(frozen=True)
class NextStep:
    kind: str  # "review" | "assignment" | "practice" | "browse"
    url: str
    label: str


def new_practice_set(*, user: Any) -> CaseSet | None:
    """The first practice set (by name) with a Localize case the player has not answered."""
    sets = list(
        case_sets_playable_by(user=user, localize_only=True)
        .filter(mode=CaseSetMode.PRACTICE)
        .annotate(
            n=Count(
                "items",
                distinct=True,
                filter=Q(items__case__status=CaseStatus.PUBLISHED)
                & localize_truth("items__case__"),
            )
        )
        .order_by("name", "pk")
    )
    attempts = exercise(ExerciseKind.LOCALIZE).attempt_model.objects
    played = dict(
        attempts.filter(user=user, case_set_id__in=[s.pk for s in sets])
        .values("case_set_id")
        .annotate(p=Count("case", distinct=True))
        .order_by()
        .values_list("case_set_id", "p")
    )
    return next((s for s in sets if played.get(s.pk, 0) < s.n), None)


def next_step(*, user: Any) -> NextStep:
    if review_serve(user=user) is not None:  # served now: the redirect lands on its case
        return NextStep("review", reverse("game:review"), "a review")
    row = next_assignment(assignments_for(user=user))
    if row is not None:
        return NextStep("assignment", row.play_url, row.case_set.name)
    practice = new_practice_set(user=user)
    if practice is not None:
        url = reverse("localization:play", args=[practice.pk])
        return NextStep("practice", url, practice.name)
    return NextStep("browse", reverse("localization:index"), "Localize")
