"""S06 / R01: concurrent double submits. Needs a database with real concurrent writers (Postgres):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/radgame .venv/bin/python -m pytest \\
        tests/reporting/test_concurrency.py

SQLite serialises writers, so there the race cannot happen and the test skips.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.db import connection, connections

from apps.inference.models import Job
from apps.reporting.models import ReportAttempt
from apps.reporting.services import report_attempt_submit

from .conftest import CANDIDATE

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _race(count: int, work: Any) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(count)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(work(index))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs Postgres (set DATABASE_URL) for concurrent writers")


def test_twenty_concurrent_submits_with_one_key_make_one_attempt(
    resident: Any, report_set: Any, report_case: Any
) -> None:
    key = uuid.uuid4().hex

    def submit(_: int) -> tuple[int, bool]:
        attempt, created = report_attempt_submit(
            user=resident,
            case=report_case,
            case_set=report_set,
            text=CANDIDATE,
            idempotency_key=key,
        )
        return attempt.pk, created

    results, errors = _race(20, submit)
    assert not errors, errors
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert ReportAttempt.objects.count() == 1
    assert Job.objects.filter(kind="ml.report.score").count() == 1


def test_concurrent_submits_with_distinct_keys_number_contiguously(
    resident: Any, report_set: Any, report_case: Any
) -> None:
    def submit(_: int) -> int:
        attempt, _ = report_attempt_submit(
            user=resident,
            case=report_case,
            case_set=report_set,
            text=CANDIDATE,
            idempotency_key=uuid.uuid4().hex,
        )
        return attempt.attempt_no

    results, errors = _race(4, submit)
    assert not errors, errors
    assert sorted(results) == [1, 2, 3, 4]
    assert Job.objects.filter(kind="ml.report.score").count() == 4
