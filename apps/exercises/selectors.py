"""Reads of the lifecycle: is a set an assessment, is it released for a player, what was revealed."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import router
from django.db.models import Exists, FilteredRelation, Q
from django.http import Http404

from apps.accounts.permissions import can_edit_case_set
from apps.cases.models import CaseSet, CaseSetMode
from apps.cases.selectors import case_set_for_manager

from .models import AssessmentRelease, CaseReveal, Delivery


def is_assessment(case_set: CaseSet | None) -> bool:
    return case_set is not None and case_set.mode == CaseSetMode.ASSESSMENT


def assessment_closed(*, case_set: CaseSet) -> bool:
    """The educator closed this assessment (a practice set is never closed)."""
    if not is_assessment(case_set):
        return False
    return AssessmentRelease.objects.filter(case_set=case_set, user__isnull=True).exists()


def assessment_released(*, user: Any, case_set: CaseSet | None) -> bool:
    """Whether scores in this set may be shown to this player: always in practice; in an
    assessment once the player finished it or the educator closed it. One query at most."""
    if not is_assessment(case_set):
        return True
    return AssessmentRelease.objects.filter(
        Q(user__isnull=True) | Q(user=user), case_set=case_set
    ).exists()


def revealed_case_ids(*, user: Any, case_ids: list[int]) -> set[int]:
    """Which of these cases already had their answer shown to the player (in either exercise)."""
    return set(
        CaseReveal.objects.filter(user=user, case_id__in=case_ids).values_list("case_id", flat=True)
    )


def case_revealed(*, user: Any, case_id: int) -> bool:
    return CaseReveal.objects.filter(user=user, case_id=case_id).exists()


def open_delivery_of(*, user: Any, exercise: str, case: Any) -> Delivery | None:
    """The player's open delivery of the case in this exercise, without opening one."""
    return Delivery.objects.filter(
        user=user, exercise=exercise, case=case, closed_at__isnull=True
    ).first()


def open_delivery_and_revealed(
    *, user: Any, exercise: str, case: Any
) -> tuple[Delivery | None, bool]:
    """``open_delivery_of`` and ``case_revealed`` in one statement (the next case's hot path):
    the player's row, joined to the open delivery if there is one, with the reveal as EXISTS."""
    fields = [f.attname for f in Delivery._meta.concrete_fields]
    open_ = FilteredRelation(
        "deliveries",
        condition=Q(
            deliveries__exercise=exercise, deliveries__case=case, deliveries__closed_at__isnull=True
        ),
    )
    revealed, *values = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            open_delivery=open_,
            revealed=Exists(CaseReveal.objects.filter(user=user, case=case)),
        )
        .values_list("revealed", *(f"open_delivery__{name}" for name in fields))
        .get()
    )
    if values[0] is None:  # the join found no open delivery
        return None, revealed
    return Delivery.from_db(router.db_for_read(Delivery), fields, values), revealed


def assessment_for_manager(*, actor: Any, case_set_id: int) -> CaseSet:
    """An assessment the actor may run (owner, shared with educators, admin); 404 otherwise."""
    case_set = case_set_for_manager(actor=actor, case_set_id=case_set_id)
    if not can_edit_case_set(actor, case_set) or not is_assessment(case_set):
        raise Http404("No such assessment")
    return case_set


def assessment_release_of(*, case_set: CaseSet) -> AssessmentRelease | None:
    """The educator's close of the assessment, if it was closed."""
    return (
        AssessmentRelease.objects.filter(case_set=case_set, user__isnull=True)
        .select_related("closed_by")
        .first()
    )
