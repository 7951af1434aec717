"""Cohort reads for screens: each takes the actor and returns only what that actor may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from apps.accounts.models import Role
from apps.accounts.permissions import is_admin, is_educator

from .models import Cohort, Invitation, MemberRole, Membership


def cohorts_managed_by(*, actor: Any) -> QuerySet[Cohort]:
    queryset = Cohort.objects.annotate(
        # Residents by account as well as by membership: an educator or admin who joined a cohort
        # is not counted as one of its residents.
        resident_count=Count(
            "memberships",
            filter=Q(memberships__role=MemberRole.RESIDENT, memberships__user__role=Role.RESIDENT),
            distinct=True,
        )
    ).select_related("owner")
    if is_admin(actor):
        return queryset
    if not is_educator(actor):
        return queryset.none()
    return queryset.filter(_managed_by(actor)).distinct()


def _managed_by(actor: Any) -> Q:
    return Q(owner=actor) | Q(memberships__user=actor, memberships__role=MemberRole.EDUCATOR)


def manages_resident(*, actor: Any, user_id: int) -> bool:
    """Whether the actor runs a cohort this user belongs to as a resident (admins run every
    cohort): who may open a resident's attempts besides the resident. One query at most."""
    if is_admin(actor):
        return True
    if not is_educator(actor):
        return False
    managed = Cohort.objects.filter(_managed_by(actor)).values("pk")
    return Membership.objects.filter(
        user_id=user_id, role=MemberRole.RESIDENT, cohort__in=managed
    ).exists()


def cohorts_joined_by(*, user: Any) -> QuerySet[Cohort]:
    """The cohorts the user belongs to as a resident; the ones it runs (its own, or as a
    co-educator) are ``cohorts_managed_by``'s."""
    return (
        Cohort.objects.filter(memberships__user=user, memberships__role=MemberRole.RESIDENT)
        .select_related("owner")
        .order_by("name")
    )


def cohort_for_manager(*, actor: Any, cohort_id: int) -> Cohort:
    """The cohort with its members and invitations; 404 for anyone who does not run it."""
    cohort = (
        cohorts_managed_by(actor=actor)
        .prefetch_related(
            Prefetch("memberships", queryset=Membership.objects.select_related("user")),
            Prefetch("invitations", queryset=Invitation.objects.select_related("used_by")),
        )
        .filter(pk=cohort_id)
        .first()
    )
    if cohort is None:
        raise Http404("No such cohort")
    return cohort


def cohort_residents(cohort: Cohort) -> list[Any]:
    """The cohort's residents, by username, from its prefetched memberships (no query with
    ``cohort_for_manager``): residents by account as well as by membership, so an educator or
    admin who joined the cohort is not one of them."""
    users = [
        m.user
        for m in cohort.memberships.all()
        if m.role == MemberRole.RESIDENT and m.user.role == Role.RESIDENT
    ]
    return sorted(users, key=lambda user: user.username)


def invitation_for_manager(*, actor: Any, invitation_id: int) -> Invitation:
    invitation = Invitation.objects.select_related("cohort").filter(pk=invitation_id).first()
    if (
        invitation is None
        or not cohorts_managed_by(actor=actor).filter(pk=invitation.cohort_id).exists()
    ):
        raise Http404("No such invitation")
    return invitation
