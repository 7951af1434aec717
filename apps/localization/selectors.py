"""Reads of the Localize exercise. Everything about answers takes an attempt the caller owns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.http import Http404

from apps.cases.models import Case, CaseSet
from apps.cases.selectors import case_in_set_for_player, case_set_cases, localize_truth
from apps.cohorts.selectors import manages_resident
from apps.exercises.selectors import assessment_released
from apps.progress.selectors import accuracy_by_set

from .models import LocalizationAttempt


@dataclass(frozen=True)
class SetProgress:
    played: int
    total: int
    accuracy: float | None  # the one accuracy rule (apps.progress.selectors.accuracy)

    @property
    def finished(self) -> bool:
        return self.total > 0 and self.played >= self.total


def set_progress_for(*, user: Any, case_sets: list[CaseSet]) -> dict[int, SetProgress]:
    """Distinct cases played n of m and accuracy per set, in three queries whatever the number of
    sets. Accuracy comes from the ledger, which holds only scores the player may see."""
    if not case_sets:
        return {}
    ids = [case_set.pk for case_set in case_sets]
    totals = dict(
        CaseSet.objects.filter(pk__in=ids)
        .annotate(
            n=Count(
                "items",
                distinct=True,
                filter=Q(items__case__status="published") & localize_truth("items__case__"),
            )
        )
        .values_list("pk", "n")
    )
    rows = (
        LocalizationAttempt.objects.filter(user=user, case_set_id__in=ids)
        .values("case_set_id")
        .annotate(played=Count("case", distinct=True))
        .order_by()
    )
    played = {row["case_set_id"]: row for row in rows}
    accuracy = accuracy_by_set(user=user, kind=LocalizationAttempt.EXERCISE, case_set_ids=ids)
    out = {}
    for pk in ids:
        row = played.get(pk, {})
        out[pk] = SetProgress(
            played=min(row.get("played", 0), totals.get(pk, 0)),
            total=totals.get(pk, 0),
            accuracy=accuracy.get(pk),
        )
    return out


def playable_case_in_set(
    *, user: Any, case_set_id: int, case_id: int, with_images: bool = True
) -> tuple[CaseSet, Case]:
    """The set and the case, when the player may play that case in that set; 404 otherwise.

    One visibility check in one query (this is the submit's hot path): the set item is read with
    its set and case, and the set must be one the user may play. Images are prefetched unless
    ``with_images=False``.
    """
    return case_in_set_for_player(
        user=user, case_set_id=case_set_id, case_id=case_id, with_images=with_images
    )


def played_case_ids(*, user: Any, case_set: CaseSet) -> set[int]:
    return set(
        LocalizationAttempt.objects.filter(user=user, case_set=case_set).values_list(
            "case_id", flat=True
        )
    )


def next_case_for(*, user: Any, case_set: CaseSet) -> Case | None:
    """The first case of the set, in set order, this player has not answered in this set."""
    played = played_case_ids(user=user, case_set=case_set)
    cases = case_set_cases(case_set=case_set, localize_only=True)
    return next((case for case in cases if case.pk not in played), None)


def attempt_for_owner(*, user: Any, attempt_id: int) -> LocalizationAttempt:
    """One of the player's own attempts; anybody else's is a 404, never a 403."""
    attempt = _attempt(attempt_id).filter(user=user).first()
    if attempt is None:
        raise Http404("No such attempt")
    return attempt


def attempt_for_viewer(*, user: Any, attempt_id: int) -> LocalizationAttempt:
    """The player's own attempt, or one of a resident in a cohort the user runs (an educator's
    drill-down: read only); anybody else's is a 404."""
    attempt = _attempt(attempt_id).first()
    if attempt is None or not (
        attempt.user_id == user.pk or manages_resident(actor=user, user_id=attempt.user_id)
    ):
        raise Http404("No such attempt")
    return attempt


def _attempt(attempt_id: int) -> Any:
    return (
        LocalizationAttempt.objects.filter(pk=attempt_id)
        .select_related("case", "case_set", "explain_job", "user")
        .prefetch_related("marks", "case__images")
    )


def attempt_in_set(*, user: Any, case: Case, case_set: CaseSet) -> LocalizationAttempt | None:
    return (
        LocalizationAttempt.objects.filter(user=user, case=case, case_set=case_set)
        .order_by("-attempt_no")
        .first()
    )


def feedback_visible(*, attempt: LocalizationAttempt) -> bool:
    """Practice shows the answer at once; an assessment holds every score-dependent thing back
    until it is released to the player (``apps.exercises``: finished in every exercise, or
    closed by the educator)."""
    return assessment_released(user=attempt.user_id, case_set=attempt.case_set)


def published_case_ids(case_set: CaseSet) -> list[int]:
    """The cases of the set Localize plays (the lifecycle's registry asks): published, with
    ground truth Localize can score."""
    items = case_set.items.filter(case__status="published").filter(localize_truth("case__"))
    return list(items.values_list("case_id", flat=True))


def set_attempts_for(
    *, user: Any, case_set: CaseSet
) -> list[tuple[Case, LocalizationAttempt | None]]:
    """Each case of the set with the player's latest attempt at it in this set."""
    latest: dict[int, LocalizationAttempt] = {}
    for attempt in LocalizationAttempt.objects.filter(user=user, case_set=case_set).order_by(
        "attempt_no"
    ):
        latest[attempt.case_id] = attempt
    cases = case_set_cases(case_set=case_set, localize_only=True)
    return [(case, latest.get(case.pk)) for case in cases]
