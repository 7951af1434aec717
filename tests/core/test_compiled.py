from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from apps.core import compiled
from apps.core.compiled import CompiledQueryError, compiled_values, compiled_values_after


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


def _rename(user_id: int, name: str, joined: Any) -> tuple[Any, dict[str, Any]]:
    users = get_user_model().objects.filter(pk=user_id).exclude(is_superuser=True)
    return users, {"first_name": name, "date_joined": joined}


@pytest.mark.django_db
def test_update_reruns_the_compiled_sql_with_fresh_arguments(
    personas: dict[str, Any], django_assert_num_queries: Any
) -> None:
    from datetime import UTC, datetime

    from apps.core.compiled import compiled_update

    resident, educator = personas["resident"], personas["educator"]
    first = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert compiled_update(
        "rename", _rename, {"user_id": resident.pk, "name": "A", "joined": first}
    )
    later = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
    with django_assert_num_queries(1):  # compiled already: only the statement itself
        updated = compiled_update(
            "rename", _rename, {"user_id": educator.pk, "name": "B", "joined": later}
        )
    assert updated == 1
    resident.refresh_from_db()
    educator.refresh_from_db()
    assert (resident.first_name, resident.date_joined) == ("A", first)
    assert (educator.first_name, educator.date_joined) == ("B", later)
    assert compiled_update("rename", _rename, {"user_id": -5, "name": "C", "joined": later}) == 0


@pytest.mark.django_db
def test_update_refuses_a_time_taken_while_building(personas: dict[str, Any]) -> None:
    from django.utils import timezone

    from apps.core.compiled import compiled_update

    def stamped(user_id: int) -> tuple[Any, dict[str, Any]]:
        return get_user_model().objects.filter(pk=user_id), {"date_joined": timezone.now()}

    with pytest.raises(CompiledQueryError):
        compiled_update("stamped", stamped, {"user_id": personas["resident"].pk})


def _lock(user_id: int) -> Any:
    return get_user_model().objects.filter(pk=user_id).select_for_update().values("pk")


def _groups(name: str) -> Any:
    return Group.objects.filter(name=name).values("name")


@pytest.mark.django_db(transaction=True)
def test_after_a_lock_in_one_round_trip_reads_what_committed_during_the_wait(
    personas: dict[str, Any],
) -> None:
    """The submit's lock and state read: one round trip, two statements, and the read's snapshot
    is taken once the lock is granted (one statement would read from before the wait)."""
    user = personas["resident"]
    locked, go = threading.Event(), threading.Event()

    def holder() -> None:
        try:
            with transaction.atomic():
                compiled_values("lock", _lock, {"user_id": user.pk})
                Group.objects.create(name="committed while the lock was held")
                locked.set()
                go.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert locked.wait(10)
    threading.Timer(0.3, go.set).start()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        rows = compiled_values_after(
            ("lock", _lock, {"user_id": user.pk}),
            "groups",
            _groups,
            {"name": "committed while the lock was held"},
        )
    thread.join(10)
    assert rows == [{"name": "committed while the lock was held"}]
    assert len([q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]) == 1
