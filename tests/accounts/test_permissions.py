from __future__ import annotations

from typing import Any

import pytest

from apps.accounts.permissions import is_admin, is_educator, is_player, is_resident

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("resident", (False, False, True, True)),
        ("educator", (False, True, False, True)),
        ("admin", (True, True, False, True)),
    ],
)
def test_role_predicates(
    personas: dict[str, Any], persona: str, expected: tuple[bool, ...]
) -> None:
    user = personas[persona]
    assert (is_admin(user), is_educator(user), is_resident(user), is_player(user)) == expected


def test_inactive_users_have_no_role(resident: Any, educator: Any) -> None:
    for user in (resident, educator):
        user.is_active = False
        assert not is_player(user)
        assert not is_educator(user)


def test_anonymous_has_no_role() -> None:
    from django.contrib.auth.models import AnonymousUser

    user = AnonymousUser()
    assert not any(check(user) for check in (is_admin, is_educator, is_resident, is_player))
