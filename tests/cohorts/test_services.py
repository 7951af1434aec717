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


@pytest.mark.parametrize("persona", ["other_educator", "admin_user"])
def test_educators_never_join_by_code_or_link(
    persona: str, request: pytest.FixtureRequest, cohort: Any, educator: Any
) -> None:
    """A code or link read out in a lecture must not hand anyone the residents' progress."""
    intruder = request.getfixturevalue(persona)
    with pytest.raises(ApplicationError, match="ask its owner"):
        services.cohort_join_by_code(user=intruder, code=cohort.join_code)
    invitation = services.cohort_invitation_create(actor=educator, cohort=cohort)
    with pytest.raises(ApplicationError, match="ask its owner"):
        services.cohort_invitation_accept(
            user=intruder, cohort_id=cohort.pk, token=invitation.token
        )
    assert not Membership.objects.filter(cohort=cohort, user=intruder).exists()
    invitation.refresh_from_db()
    assert invitation.state == "open"
    if persona == "other_educator":
        assert not services.can_manage(intruder, cohort)


def test_code_and_link_only_ever_make_residents(cohort: Any, educator: Any, make_user: Any) -> None:
    invitation = services.cohort_invitation_create(actor=educator, cohort=cohort)
    by_link = services.cohort_invitation_accept(
        user=make_user("linked"), cohort_id=cohort.pk, token=invitation.token
    )
    by_code = services.cohort_join_by_code(user=make_user("coded"), code=cohort.join_code)
    assert by_link.role == by_code.role == "resident"


def test_owner_adds_a_co_educator_who_then_runs_the_cohort(
    cohort: Any, educator: Any, other_educator: Any
) -> None:
    membership = services.cohort_educator_add(
        actor=educator, cohort=cohort, username=" other_educator "
    )
    assert membership.role == "educator"
    assert services.can_manage(other_educator, cohort)
    services.cohort_invitation_create(actor=other_educator, cohort=cohort)


def test_only_the_owner_or_an_admin_adds_co_educators(
    cohort: Any, educator: Any, other_educator: Any, admin_user: Any, make_user: Any, resident: Any
) -> None:
    third = make_user("third_educator", "educator")
    with pytest.raises(ApplicationError, match="owner"):
        services.cohort_educator_add(actor=other_educator, cohort=cohort, username="third_educator")
    with pytest.raises(ApplicationError, match="owner"):
        services.cohort_educator_add(actor=resident, cohort=cohort, username="third_educator")
    services.cohort_educator_add(actor=educator, cohort=cohort, username="other_educator")
    # A co-educator runs the cohort but does not decide who else does.
    with pytest.raises(ApplicationError, match="owner"):
        services.cohort_educator_add(actor=other_educator, cohort=cohort, username="third_educator")
    services.cohort_educator_add(actor=admin_user, cohort=cohort, username="third_educator")
    assert services.can_manage(third, cohort)


def test_co_educator_must_be_an_educator_account(cohort: Any, educator: Any, resident: Any) -> None:
    for username in ("resident", "nobody-here"):
        with pytest.raises(ApplicationError, match="No educator"):
            services.cohort_educator_add(actor=educator, cohort=cohort, username=username)
    assert Membership.objects.get(cohort=cohort, user=resident).role == "resident"


def test_removing_a_co_educator_revokes_the_invitations_it_minted(
    cohort: Any, educator: Any, other_educator: Any, make_user: Any
) -> None:
    services.cohort_educator_add(actor=educator, cohort=cohort, username="other_educator")
    minted = services.cohort_invitation_create(actor=other_educator, cohort=cohort)
    owners = services.cohort_invitation_create(actor=educator, cohort=cohort)
    services.cohort_member_remove(actor=educator, cohort=cohort, user_id=other_educator.pk)
    minted.refresh_from_db()
    owners.refresh_from_db()
    assert minted.state == "revoked"
    assert owners.state == "open"
    assert not services.can_manage(other_educator, cohort)
    # Neither its own link nor the code brings it back.
    with pytest.raises(ApplicationError):
        services.cohort_invitation_accept(
            user=other_educator, cohort_id=cohort.pk, token=minted.token
        )
    with pytest.raises(ApplicationError):
        services.cohort_join_by_code(user=other_educator, code=cohort.join_code)
    # Nor can a fresh resident account use the link it minted.
    with pytest.raises(ApplicationError, match="withdrawn"):
        services.cohort_invitation_accept(
            user=make_user("sock"), cohort_id=cohort.pk, token=minted.token
        )
    assert not services.can_manage(other_educator, cohort)


def test_a_co_educator_cannot_remove_another(
    cohort: Any, educator: Any, other_educator: Any, make_user: Any, resident: Any
) -> None:
    make_user("third_educator", "educator")
    services.cohort_educator_add(actor=educator, cohort=cohort, username="other_educator")
    third = services.cohort_educator_add(actor=educator, cohort=cohort, username="third_educator")
    with pytest.raises(ApplicationError, match="owner"):
        services.cohort_member_remove(actor=other_educator, cohort=cohort, user_id=third.user_id)
    # Residents it may remove.
    services.cohort_member_remove(actor=other_educator, cohort=cohort, user_id=resident.pk)
    assert not Membership.objects.filter(cohort=cohort, user=resident).exists()


def test_migration_undoes_takeovers_made_through_a_code(
    cohort: Any, educator: Any, other_educator: Any, resident: Any
) -> None:
    """Before the fix a code made an educator a manager: the data migration removes those."""
    import importlib

    from django.apps import apps as django_apps

    from apps.cohorts.models import Invitation

    Membership.objects.create(cohort=cohort, user=other_educator, role="educator")
    minted = services.cohort_invitation_create(actor=other_educator, cohort=cohort)
    migration = importlib.import_module("apps.cohorts.migrations.0002_drop_self_made_coeducators")
    migration.drop_self_made_coeducators(django_apps, None)
    assert set(Membership.objects.filter(cohort=cohort).values_list("user__username", "role")) == {
        ("educator", "educator"),
        ("resident", "resident"),
    }
    assert Invitation.objects.get(pk=minted.pk).state == "revoked"
