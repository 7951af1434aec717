"""R07: a job that overruns its time limits, on a real prefork worker (the scoring queue's kind).

Soft limit: the handler is interrupted, the worker reports the job failed with a message, within
the soft limit plus a few seconds. (The hard limit, a job that ignores the soft one, is not
tested: no job kind ignores it. A job whose worker dies is covered by test_real_services and the
sweeper's attempt cap by test_services.)

(The gpu worker runs jobs in threads, where Celery has no time limits: its model calls carry
their own timeouts, ``RADGAME_*_TIMEOUT_S``.)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from apps.inference.models import Job, JobStatus
from apps.inference.services import inference_job_dispatch

from . import services_harness as harness

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SOFT_S, HARD_S = 1, 3


@pytest.fixture
def broker(settings: Any) -> Any:
    import redis

    url = harness.require_services()
    client = redis.Redis.from_url(url)
    client.flushdb()
    settings.RADGAME_JOBS = "celery"
    settings.RADGAME_JOB_MAX_ATTEMPTS = 3
    return client


def dispatch_ping(hold: float) -> Job:
    with transaction.atomic():
        return inference_job_dispatch(kind="ml.diagnostics.ping", payload={"hold_seconds": hold})


def workers(tmp_path: Path, soft: int, hard: int) -> tuple[Any, Any]:
    env = harness.process_env(
        connection.settings_dict["NAME"],
        CELERY_TASK_SOFT_TIME_LIMIT=str(soft),
        CELERY_TASK_TIME_LIMIT=str(hard),
    )
    webq = harness.running(harness.celery("radgame", "web"), env, tmp_path / "webq.log", "ready.")
    scoring = harness.running(
        harness.celery("ml.worker", "scoring"), env, tmp_path / "ml.log", "ready."
    )
    return webq, scoring


def test_a_job_past_its_soft_limit_fails_with_a_message(broker: Any, tmp_path: Path) -> None:
    webq, scoring = workers(tmp_path, SOFT_S, HARD_S + 10)
    with webq, scoring:
        job = dispatch_ping(hold=30)
        assert harness.wait_for(lambda: broker.keys("radgame:deliveries:*"), timeout=20)
        started = time.monotonic()
        assert harness.wait_for(lambda: Job.objects.get(pk=job.pk).is_final, timeout=20)
        seconds = time.monotonic() - started
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "the job took longer than its time limit"
    assert seconds <= SOFT_S + 5, seconds
    assert job.attempts == 1
