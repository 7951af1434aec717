from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.cohorts import services
from apps.cohorts.models import Membership
from apps.core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db


def test_only_educators_create_cohorts(resident: Any, educator: Any) -> None:
    with pytest.raises(ApplicationError):
        services.cohort_create(actor=resident, name="Mine")
    cohort = services.cohort_create(actor=educator, name="  Thoracic block  ")
    assert cohort.name == "Thoracic block"
    assert Membership.objects.get(cohort=cohort, user=educator).role == "educator"


def test_invitation_accept_is_one_time(cohort: Any, educator: Any, make_user: Any) -> None:
    invitation = services.cohort_invitation_create(actor=educator, cohort=cohort)
    first, second = make_user("first"), make_user("second")
    services.cohort_invitation_accept(user=first, cohort_id=cohort.pk, token=invitation.token)
    assert Membership.objects.filter(cohort=cohort, user=first).exists()
    with pytest.raises(ApplicationError, match="already been used"):
        services.cohort_invitation_accept(user=second, cohort_id=cohort.pk, token=invitation.token)
    assert not Membership.objects.filter(cohort=cohort, user=second).exists()


def test_expired_invitation_is_refused(cohort: Any, educator: Any, make_user: Any) -> None:
    invitation = services.cohort_invitation_create(actor=educator, cohort=cohort, days_valid=1)
    invitation.expires_at = timezone.now() - timedelta(seconds=1)
    invitation.save()
    with pytest.raises(ApplicationError, match="expired"):
        services.cohort_invitation_accept(
            user=make_user("late"), cohort_id=cohort.pk, token=invitation.token
        )


def test_invitation_for_another_cohort_is_refused(
    cohort: Any, other_cohort: Any, educator: Any, make_user: Any
) -> None:
    invitation = services.cohort_invitation_create(actor=educator, cohort=cohort)
    with pytest.raises(ApplicationError, match="another cohort"):
        services.cohort_invitation_accept(
            user=make_user("x"), cohort_id=other_cohort.pk, token=invitation.token
        )
    invitation.refresh_from_db()
    assert invitation.state == "open"


def test_revoked_and_unknown_invitations_are_refused(
    cohort: Any, educator: Any, make_user: Any
) -> None:
    invitation = services.cohort_invitation_create(actor=educator, cohort=cohort)
    services.cohort_invitation_revoke(actor=educator, invitation=invitation)
    with pytest.raises(ApplicationError, match="withdrawn"):
        services.cohort_invitation_accept(
            user=make_user("y"), cohort_id=cohort.pk, token=invitation.token
        )
    with pytest.raises(ApplicationError, match="not valid"):
        services.cohort_invitation_accept(user=make_user("z"), cohort_id=cohort.pk, token="nope")


def test_other_educators_cannot_invite_to_my_cohort(cohort: Any, other_educator: Any) -> None:
    with pytest.raises(ApplicationError):
        services.cohort_invitation_create(actor=other_educator, cohort=cohort)


def test_signup_by_invitation_creates_a_resident_member(cohort: Any, educator: Any) -> None:
    invitation = services.cohort_invitation_create(actor=educator, cohort=cohort)
    user = services.cohort_invitation_signup(
        cohort_id=cohort.pk, token=invitation.token, username="newbie", password="a-long-password-9"
    )
    assert user.role == "resident"
    assert Membership.objects.get(cohort=cohort, user=user).role == "resident"


def test_a_resident_can_join_several_cohorts_by_code(
    cohort: Any, other_cohort: Any, make_user: Any
) -> None:
    user = make_user("both")
    services.cohort_join_by_code(user=user, code=cohort.join_code.lower())
    services.cohort_join_by_code(user=user, code=other_cohort.join_code)
    services.cohort_join_by_code(
        user=user, code=other_cohort.join_code
    )  # joining twice is harmless
    assert Membership.objects.filter(user=user).count() == 2


def test_rotated_or_disabled_codes_stop_working(cohort: Any, educator: Any, make_user: Any) -> None:
    old = cohort.join_code
    services.cohort_join_code_rotate(actor=educator, cohort=cohort)
    with pytest.raises(ApplicationError):
        services.cohort_join_by_code(user=make_user("a"), code=old)
    services.cohort_join_code_rotate(actor=educator, cohort=cohort, enabled=False)
    with pytest.raises(ApplicationError):
        services.cohort_join_by_code(user=make_user("b"), code=cohort.join_code)


def test_owner_cannot_be_removed(cohort: Any, educator: Any, resident: Any) -> None:
    with pytest.raises(ApplicationError):
        services.cohort_member_remove(actor=educator, cohort=cohort, user_id=educator.pk)
    services.cohort_member_remove(actor=educator, cohort=cohort, user_id=resident.pk)
    assert not Membership.objects.filter(cohort=cohort, user=resident).exists()
