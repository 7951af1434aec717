"""Reads of the Localize exercise. Everything about answers takes an attempt the caller owns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Q
from django.http import Http404

from apps.cases.models import Case, CaseSet, CaseSetMode
from apps.cases.selectors import case_in_set_for_player, case_set_cases

from .models import LocalizationAttempt


@dataclass(frozen=True)
class SetProgress:
    played: int
    total: int
    accuracy: float | None  # mean score of first attempts (replays after the answer do not count)

    @property
    def finished(self) -> bool:
        return self.total > 0 and self.played >= self.total


def set_progress_for(*, user: Any, case_sets: list[CaseSet]) -> dict[int, SetProgress]:
    """Played n of m and accuracy per set, in two queries whatever the number of sets."""
    if not case_sets:
        return {}
    ids = [case_set.pk for case_set in case_sets]
    totals = dict(
        CaseSet.objects.filter(pk__in=ids)
        .annotate(n=Count("items", filter=Q(items__case__status="published")))
        .values_list("pk", "n")
    )
    rows = (
        LocalizationAttempt.objects.filter(user=user, case_set_id__in=ids)
        .values("case_set_id")
        .annotate(
            played=Count("case", distinct=True),
            accuracy=Avg("score", filter=Q(post_reveal=False)),
        )
        .order_by()
    )
    played = {row["case_set_id"]: row for row in rows}
    out = {}
    for pk in ids:
        row = played.get(pk, {})
        out[pk] = SetProgress(
            played=min(row.get("played", 0), totals.get(pk, 0)),
            total=totals.get(pk, 0),
            accuracy=row.get("accuracy"),
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
    return next((case for case in case_set_cases(case_set=case_set) if case.pk not in played), None)


def attempt_for_owner(*, user: Any, attempt_id: int) -> LocalizationAttempt:
    """One of the player's own attempts; anybody else's is a 404, never a 403."""
    attempt = (
        LocalizationAttempt.objects.filter(pk=attempt_id, user=user)
        .select_related("case", "case_set", "explain_job")
        .prefetch_related("marks", "case__images")
        .first()
    )
    if attempt is None:
        raise Http404("No such attempt")
    return attempt


def attempt_in_set(*, user: Any, case: Case, case_set: CaseSet) -> LocalizationAttempt | None:
    return (
        LocalizationAttempt.objects.filter(user=user, case=case, case_set=case_set)
        .order_by("-attempt_no")
        .first()
    )


def feedback_visible(*, attempt: LocalizationAttempt) -> bool:
    """Practice shows the answer at once. An assessment defers every case's feedback (score,
    ground truth, explanations) until the player has answered every case of the set, so the
    answer to one case cannot help with the next and the assessment measures the reading."""
    case_set = attempt.case_set
    if case_set is None or case_set.mode != CaseSetMode.ASSESSMENT:
        return True
    total = case_set.items.filter(case__status="published").count()
    return len(played_case_ids(user=attempt.user_id, case_set=case_set)) >= total


def set_attempts_for(
    *, user: Any, case_set: CaseSet
) -> list[tuple[Case, LocalizationAttempt | None]]:
    """Each case of the set with the player's latest attempt at it in this set."""
    latest: dict[int, LocalizationAttempt] = {}
    for attempt in LocalizationAttempt.objects.filter(user=user, case_set=case_set).order_by(
        "attempt_no"
    ):
        latest[attempt.case_id] = attempt
    return [(case, latest.get(case.pk)) for case in case_set_cases(case_set=case_set)]
