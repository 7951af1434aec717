from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Q

from apps.core import compiled
from apps.core.compiled import CompiledQueryError, compiled_values


@pytest.fixture(autouse=True)
def _fresh() -> Any:
    compiled.clear()
    yield
    compiled.clear()


def _users(user_id: int, name: str) -> Any:
    return (
        get_user_model().objects.filter(Q(pk=user_id) | Q(username=name)).values("pk", "username")
    )


@pytest.mark.django_db
def test_reruns_the_compiled_sql_with_fresh_arguments(
    personas: dict[str, Any], django_assert_num_queries: Any
) -> None:
    resident, educator = personas["resident"], personas["educator"]
    args = {"user_id": resident.pk, "name": educator.username}
    assert sorted(r["pk"] for r in compiled_values("users", _users, args)) == sorted(
        [resident.pk, educator.pk]
    )
    with django_assert_num_queries(1):  # compiled already: only the statement itself
        rows = compiled_values("users", _users, {"user_id": educator.pk, "name": "nobody"})
    assert rows == [{"pk": educator.pk, "username": educator.username}]


@pytest.mark.django_db
def test_refuses_a_parameter_that_is_not_an_argument() -> None:
    def derived(user_id: int) -> Any:  # the argument changed before it reaches the SQL
        return get_user_model().objects.filter(pk=user_id + 1).values("pk")

    with pytest.raises(CompiledQueryError):
        compiled_values("derived", derived, {"user_id": 5})
    with pytest.raises(CompiledQueryError):
        compiled_values("flag", derived, {"user_id": True})


@pytest.mark.django_db
def test_refuses_a_time_taken_while_building() -> None:
    from django.utils import timezone

    def recent(user_id: int) -> Any:
        return (
            get_user_model()
            .objects.filter(pk=user_id, date_joined__gte=timezone.now())
            .values("pk")
        )

    with pytest.raises(CompiledQueryError):
        compiled_values("recent", recent, {"user_id": 5})
