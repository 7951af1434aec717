"""Hints under races (Postgres only, as tests/reporting/test_concurrency.py): ten clicks on one
hint burn one; a hint racing the submit is either counted on the attempt or refused."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection

from apps.core.exceptions import ApplicationError
from apps.exercises.hints import hint_take
from apps.exercises.models import Delivery
from apps.localization.models import LocalizationAttempt
from apps.localization.services import localization_attempt_submit
from tests.reporting.test_concurrency import _race

from .conftest import RIGHT

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs Postgres (set DATABASE_URL) for concurrent writers")


def _take(user: Any, both: Any, number: int) -> int:
    hints = hint_take(
        user=user, exercise="localize", case=both.case, case_set=both.practice, number=number
    )
    return hints.used


def test_ten_concurrent_clicks_on_the_first_hint_burn_one(resident: Any, both: Any) -> None:
    results, errors = _race(10, lambda _: _take(resident, both, 1))
    assert errors == [] and results == [1] * 10
    assert Delivery.objects.get(user=resident, exercise="localize").hints_used == 1


def test_a_hint_racing_the_submit_is_counted_or_refused(resident: Any, both: Any) -> None:
    _take(resident, both, 1)

    def work(index: int) -> Any:
        if index == 0:
            return localization_attempt_submit(
                user=resident,
                case=both.case,
                case_set=both.practice,
                marks_json=RIGHT,
                selected=[],
                idempotency_key=uuid.uuid4(),
            ).attempt.pk
        try:
            return _take(resident, both, 2)
        except ApplicationError as error:
            return error.message

    results, errors = _race(2, work)
    assert errors == []
    attempt = LocalizationAttempt.objects.get(user=resident)
    hint = next(r for r in results if r != attempt.pk)
    # Either the hint came first (counted on the attempt) or the submit did (the hint refused).
    assert (hint == 2 and attempt.hints_used == 2) or (
        isinstance(hint, str) and attempt.hints_used == 1
    ), (hint, attempt.hints_used)
    assert Delivery.objects.get(user=resident).hints_used == attempt.hints_used
