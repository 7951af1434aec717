"""R07: a job that overruns its time limits, on a real prefork worker (the scoring queue's kind).

Soft limit: the handler is interrupted, the worker reports the job failed with a message, within
the soft limit plus a few seconds. Hard limit: a test-only job kind (``overrun_jobs``) ignores the
soft limit; the pool kills its child at the hard limit and starts another, the worker's main
process fails the job with its reason (one attempt, never re-sent by the sweeper), and the next
job runs on the new child. (A job whose worker dies is covered by test_real_services and the
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
from apps.inference.services import inference_job_dispatch, inference_jobs_sweep
from ml.contracts import TASKS

from . import overrun_jobs
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


def workers(tmp_path: Path, soft: int, hard: int, app: str = "ml.worker") -> tuple[Any, Any]:
    env = harness.process_env(
        connection.settings_dict["NAME"],
        CELERY_TASK_SOFT_TIME_LIMIT=str(soft),
        CELERY_TASK_TIME_LIMIT=str(hard),
    )
    webq = harness.running(harness.celery("radgame", "web"), env, tmp_path / "webq.log", "ready.")
    scoring = harness.running(harness.celery(app, "scoring"), env, tmp_path / "ml.log", "ready.")
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


def finished(job: Job, timeout: float) -> Job:
    assert harness.wait_for(lambda: Job.objects.get(pk=job.pk).is_final, timeout=timeout)
    job.refresh_from_db()
    return job


def test_a_job_ignoring_its_soft_limit_is_killed_at_the_hard_one_and_failed_with_a_reason(
    broker: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.setitem(TASKS, overrun_jobs.SPIN_TASK, overrun_jobs.SPEC)
    settings.RADGAME_JOB_LEASE_SECONDS = 5
    soft, hard = 1, 2
    webq, scoring = workers(tmp_path, soft, hard, app="tests.inference.overrun_worker")
    with webq, scoring:
        before = finished(dispatch_ping(hold=0), timeout=20)
        assert before.status == JobStatus.DONE, before.error
        with transaction.atomic():
            job = inference_job_dispatch(kind=overrun_jobs.SPIN_TASK, payload={"spin_seconds": 60})
        assert harness.wait_for(lambda: broker.keys("radgame:deliveries:*"), timeout=20)
        started = time.monotonic()
        job = finished(job, timeout=20)
        seconds = time.monotonic() - started
        after = finished(dispatch_ping(hold=0), timeout=30)
        # Past the lease, the sweeper finds nothing to re-send: the job was failed, not left sent.
        time.sleep(settings.RADGAME_JOB_LEASE_SECONDS + 1)
        assert inference_jobs_sweep() == {"resent": 0, "failed": 0}
    log = (tmp_path / "ml.log").read_text()
    assert "Hard time limit (2s) exceeded" in log, log[-3000:]
    assert job.status == JobStatus.FAILED
    assert job.error == (
        "the job overran its hard time limit (2 s) and its worker process was killed"
    )
    assert job.attempts == 1
    assert seconds <= hard + 5, seconds
    assert after.status == JobStatus.DONE, after.error
    assert after.result["pid"] != before.result["pid"]  # the killed child was replaced
    print(f"hard limit: FAILED {seconds:.2f} s after the job started, {job.attempts} attempt")


def test_when_the_hard_limit_report_is_lost_the_sweeper_stops_at_three_attempts(
    broker: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.setitem(TASKS, overrun_jobs.UNREPORTED_TASK, overrun_jobs.UNREPORTED_SPEC)
    settings.RADGAME_JOB_LEASE_SECONDS = 4  # longer than the hard limit: one attempt at a time
    webq, scoring = workers(tmp_path, 1, 2, app="tests.inference.overrun_worker")
    with webq, scoring:
        with transaction.atomic():
            job = inference_job_dispatch(
                kind=overrun_jobs.UNREPORTED_TASK, payload={"spin_seconds": 60}
            )
        started = time.monotonic()

        def swept_to_the_end() -> bool:
            inference_jobs_sweep()  # the beat runs it every minute; here every half second
            return Job.objects.get(pk=job.pk).is_final

        assert harness.wait_for(swept_to_the_end, timeout=40, interval=0.5)
        seconds = time.monotonic() - started
        after = finished(dispatch_ping(hold=0), timeout=30)
    log = (tmp_path / "ml.log").read_text()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.attempts == 3
    assert job.error == "no worker finished this job after 3 attempts"
    assert log.count("Hard time limit (2s) exceeded") == 3, log[-3000:]
    assert after.status == JobStatus.DONE, after.error
    print(f"unreported hard limit: FAILED after {job.attempts} attempts, {seconds:.1f} s")
