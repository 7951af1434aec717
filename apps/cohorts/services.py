"""Cohort writes: create, invite, join, leave.

Who manages a cohort is decided here and only here: its owner, the co-educators the owner added
explicitly (``cohort_educator_add``), and administrators. Joining by code or invitation link only
ever makes a resident member: a code or link is shared with a whole lecture hall, so it must never
grant a view of other residents' work.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.accounts.permissions import is_admin, is_educator
from apps.accounts.services import user_create
from apps.core.exceptions import ApplicationError

from .models import Cohort, Invitation, MemberRole, Membership, new_join_code

MAX_INVITATION_DAYS = 60


def can_manage(actor: Any, cohort: Cohort) -> bool:
    if is_admin(actor):
        return True
    if not is_educator(actor):
        return False
    return (
        cohort.owner_id == actor.pk
        or cohort.memberships.filter(user=actor, role=MemberRole.EDUCATOR).exists()
    )


def _require_manager(actor: Any, cohort: Cohort) -> None:
    if not can_manage(actor, cohort):
        raise ApplicationError("You do not run this cohort.")


def can_manage_educators(actor: Any, cohort: Cohort) -> bool:
    """Only the owner (or an administrator) decides who co-runs a cohort."""
    return is_admin(actor) or (is_educator(actor) and cohort.owner_id == actor.pk)


@transaction.atomic
def cohort_create(*, actor: Any, name: str, description: str = "") -> Cohort:
    if not is_educator(actor):
        raise ApplicationError("Only educators and administrators create cohorts.")
    name = name.strip()
    if not name:
        raise ApplicationError("Give the cohort a name.", field="name")
    cohort = Cohort.objects.create(name=name[:120], description=description.strip(), owner=actor)
    Membership.objects.create(cohort=cohort, user=actor, role=MemberRole.EDUCATOR)
    return cohort


@transaction.atomic
def cohort_invitation_create(
    *, actor: Any, cohort: Cohort, email: str = "", note: str = "", days_valid: int = 14
) -> Invitation:
    _require_manager(actor, cohort)
    if not 1 <= days_valid <= MAX_INVITATION_DAYS:
        raise ApplicationError(
            f"An invitation lasts 1 to {MAX_INVITATION_DAYS} days.", field="days_valid"
        )
    return Invitation.objects.create(
        cohort=cohort,
        email=email.strip(),
        note=note.strip()[:120],
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=days_valid),
    )


def cohort_invitation_revoke(*, actor: Any, invitation: Invitation) -> Invitation:
    _require_manager(actor, invitation.cohort)
    if invitation.state == "open":
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
    return invitation


def cohort_join_code_rotate(*, actor: Any, cohort: Cohort, enabled: bool = True) -> Cohort:
    _require_manager(actor, cohort)
    cohort.join_code = new_join_code()
    cohort.join_code_enabled = enabled
    cohort.save(update_fields=["join_code", "join_code_enabled", "updated_at"])
    return cohort


EDUCATOR_JOIN_REFUSED = (
    "Join codes and invitation links are for residents. To help run this cohort, ask its owner"
    " to add you as a co-educator."
)


def _add_resident(cohort: Cohort, user: User) -> Membership:
    """The only way a code or link adds someone: as a resident, never as a manager.

    Educators and administrators are refused rather than made residents: a resident membership
    would put them in the cohort's progress tables, and the role is the owner's to grant.
    """
    if is_educator(user):
        raise ApplicationError(EDUCATOR_JOIN_REFUSED)
    try:
        with transaction.atomic():
            membership, _ = Membership.objects.get_or_create(
                cohort=cohort, user=user, defaults={"role": MemberRole.RESIDENT}
            )
    except IntegrityError:  # two tabs joining at once
        membership = Membership.objects.get(cohort=cohort, user=user)
    return membership


def _claim_invitation(*, cohort_id: int, token: str) -> Invitation:
    """Lock the invitation row and check it is still open, with a message for each misuse."""
    invitation = (
        Invitation.objects.select_for_update().select_related("cohort").filter(token=token).first()
    )
    if invitation is None:
        raise ApplicationError("This invitation link is not valid.")
    if invitation.cohort_id != cohort_id:
        raise ApplicationError("This invitation belongs to another cohort.")
    state = invitation.state
    if state == "used":
        raise ApplicationError(
            "This invitation has already been used. Ask your educator for a new one."
        )
    if state == "revoked":
        raise ApplicationError("This invitation was withdrawn by your educator.")
    if state == "expired":
        raise ApplicationError("This invitation has expired. Ask your educator for a new one.")
    return invitation


@transaction.atomic
def cohort_invitation_accept(*, user: User, cohort_id: int, token: str) -> Membership:
    invitation = _claim_invitation(cohort_id=cohort_id, token=token)
    membership = _add_resident(invitation.cohort, user)
    invitation.used_by = user
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_by", "used_at", "updated_at"])
    return membership


@transaction.atomic
def cohort_invitation_signup(
    *, cohort_id: int, token: str, username: str, password: str, email: str = ""
) -> User:
    """A newcomer opens the link, creates a resident account and joins, in one step."""
    _claim_invitation(cohort_id=cohort_id, token=token)
    user = user_create(username=username, password=password, email=email, role=Role.RESIDENT)
    cohort_invitation_accept(user=user, cohort_id=cohort_id, token=token)
    return user


@transaction.atomic
def cohort_join_by_code(*, user: User, code: str) -> Membership:
    code = code.strip().upper().replace(" ", "").replace("-", "")
    cohort = Cohort.objects.filter(join_code=code).first()
    if cohort is None or not cohort.join_code_enabled:
        raise ApplicationError(
            "No cohort has this join code. Check it with your educator.", field="code"
        )
    return _add_resident(cohort, user)


@transaction.atomic
def cohort_educator_add(*, actor: Any, cohort: Cohort, username: str) -> Membership:
    """The owner makes another educator a co-educator of the cohort, by username."""
    if not can_manage_educators(actor, cohort):
        raise ApplicationError("Only the cohort's owner adds co-educators.")
    user = User.objects.filter(username=username.strip()).first()
    if user is None or not is_educator(user):
        raise ApplicationError("No educator has this username.", field="username")
    membership, created = Membership.objects.get_or_create(
        cohort=cohort, user=user, defaults={"role": MemberRole.EDUCATOR}
    )
    if not created and membership.role != MemberRole.EDUCATOR:
        membership.role = MemberRole.EDUCATOR
        membership.save(update_fields=["role", "updated_at"])
    return membership


@transaction.atomic
def cohort_member_remove(*, actor: Any, cohort: Cohort, user_id: int) -> None:
    """Remove a member, and withdraw every open invitation it minted so it cannot come back."""
    _require_manager(actor, cohort)
    if user_id == cohort.owner_id:
        raise ApplicationError("The cohort's owner cannot be removed.")
    membership = Membership.objects.filter(cohort=cohort, user_id=user_id).first()
    if membership is None:
        return
    if membership.role == MemberRole.EDUCATOR and not can_manage_educators(actor, cohort):
        raise ApplicationError("Only the cohort's owner removes co-educators.")
    membership.delete()
    Invitation.objects.filter(
        cohort=cohort, created_by_id=user_id, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now(), updated_at=timezone.now())
