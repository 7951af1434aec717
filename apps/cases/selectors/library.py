"""What an educator may manage: their own cases, their own and shared case sets; admins all."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from apps.accounts.permissions import is_admin, is_educator
from apps.cases.models import (
    Assignment,
    Case,
    CaseImage,
    CaseSet,
    CaseSetItem,
    Finding,
    FindingBox,
)
from apps.cohorts.models import Cohort
from apps.cohorts.selectors import cohorts_managed_by


def access_role(user: Any) -> str:
    """ "admin", "educator" or "resident" (anyone else): what the role-dependent rules branch on,
    so that a rule's SQL can be compiled once per role (``apps.core.compiled``)."""
    return "admin" if is_admin(user) else "educator" if is_educator(user) else "resident"


def managed_cases(role: str, user_id: int, prefix: str = "") -> Q | None:
    """``cases_managed_by``'s rule on Case (or through ``prefix``, e.g. "case__") for a user of
    ``role`` given by id (a compiled query takes it as a parameter); None: manages none."""
    if role == "admin":
        return Q()
    if role == "educator":
        return Q(**{f"{prefix}owner_id": user_id})
    return None


def cases_managed_by(*, actor: Any) -> QuerySet[Case]:
    queryset = Case.objects.select_related("owner")
    managed = managed_cases(access_role(actor), actor.pk)
    return queryset.none() if managed is None else queryset.filter(managed)


def cases_for_library(
    *,
    actor: Any,
    q: str = "",
    status: str = "",
    difficulty: int | None = None,
    tag: str = "",
    source: str = "",
) -> QuerySet[Case]:
    """The educator's cases for the library list, filtered on facts only (never on answers)."""
    queryset = cases_managed_by(actor=actor).annotate(
        finding_count=Count("findings", distinct=True),
        image_count=Count("images", distinct=True),
    )
    if q:
        queryset = queryset.filter(title__icontains=q)
    if status:
        queryset = queryset.filter(status=status)
    if difficulty:
        queryset = queryset.filter(difficulty=difficulty)
    if tag:
        # Tags are stored lower-case; matching the quoted JSON string matches a whole tag.
        queryset = queryset.filter(tags__icontains=f'"{tag.strip().lower()}"')
    if source:
        queryset = queryset.filter(source__icontains=source)
    return queryset.order_by("-updated_at", "-pk")


def case_for_manager(*, actor: Any, case_id: int) -> Case:
    """A case with everything the editor shows (images, findings with boxes, report); 404 for
    anyone who may not edit it."""
    case = (
        cases_managed_by(actor=actor)
        .prefetch_related(
            Prefetch(
                "images",
                queryset=CaseImage.objects.order_by("position").select_related("phi_checked_by"),
            ),
            Prefetch(
                "findings",
                queryset=Finding.objects.prefetch_related(
                    Prefetch("boxes", queryset=FindingBox.objects.order_by("region", "pk"))
                ),
            ),
            "set_items__case_set",
        )
        .select_related("report")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404("No such case")
    return case


def case_image_for_manager(*, actor: Any, image_id: int) -> CaseImage:
    image = (
        CaseImage.objects.select_related("case")
        .filter(pk=image_id, case__in=cases_managed_by(actor=actor).values("pk"))
        .first()
    )
    if image is None:
        raise Http404("No such image")
    return image


def case_sets_managed_by(*, actor: Any) -> QuerySet[CaseSet]:
    queryset = CaseSet.objects.select_related("owner").annotate(case_count=Count("items"))
    if is_admin(actor):
        return queryset
    if not is_educator(actor):
        return queryset.none()
    return queryset.filter(Q(owner=actor) | Q(shared=True))


def case_set_for_manager(*, actor: Any, case_set_id: int) -> CaseSet:
    case_set = (
        case_sets_managed_by(actor=actor)
        .prefetch_related(
            Prefetch(
                "items",
                queryset=CaseSetItem.objects.select_related("case").order_by("position"),
            ),
            Prefetch(
                "assignments",
                queryset=Assignment.objects.select_related("cohort").order_by("cohort__name"),
            ),
        )
        .filter(pk=case_set_id)
        .first()
    )
    if case_set is None:
        raise Http404("No such case set")
    return case_set


def cohorts_assignable_by(*, actor: Any) -> QuerySet[Cohort]:
    return cohorts_managed_by(actor=actor).order_by("name")
