"""R17: a deploy stops a worker with SIGTERM in the middle of a job, and a new worker starts.

Two ways a worker can take SIGTERM, both as real processes (the rig of test_real_services):

- Celery's default, a warm shutdown: the worker takes no new message, lets the running job
  finish, sends its outcome and exits. The job is delivered and finished once.
- As deployed (docs/deploy.md: ``REMAP_SIGTERM=SIGQUIT``): a soft shutdown of
  ``CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT`` for the running job, then the job is cancelled and its
  message goes back to the queue at once (not after the visibility timeout), and the new worker
  runs it again. The web side finishes it once.

The visibility timeout is set far beyond the test, so a redelivery by timeout cannot pass it.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from apps.inference.models import Job, JobStatus
from apps.inference.services import inference_job_dispatch
from ml.contracts import RESULT_TASK

from . import services_harness as harness

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT_S = 600


@pytest.fixture
def broker(settings: Any) -> Any:
    import redis

    url = harness.require_services()
    client = redis.Redis.from_url(url)
    client.flushdb()  # no stale messages from an earlier run
    settings.RADGAME_JOBS = "celery"
    return client


def worker_env(**extra: str) -> dict[str, str]:
    return harness.process_env(
        connection.settings_dict["NAME"],
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT_S),
        **extra,
    )


def dispatch_ping(**payload: Any) -> Job:
    with transaction.atomic():
        return inference_job_dispatch(kind="ml.diagnostics.ping", payload=payload)


def deliveries(broker: Any) -> int:
    keys = broker.keys("radgame:deliveries:*")
    return sum(int(broker.get(key) or 0) for key in keys)


def outcomes_received(log: Path) -> int:
    """How many job outcomes the web-queue worker was handed (one line per message)."""
    return sum(
        1 for line in log.read_text().splitlines() if RESULT_TASK in line and "received" in line
    )


def sigterm_mid_job(
    broker: Any, tmp_path: Path, env: dict[str, str], hold: float
) -> tuple[Job, list[int], float, int | None]:
    """Start a worker, SIGTERM it once its job runs, start its replacement; wait for the job.

    Returns the job, the old worker's pool children, the seconds from SIGTERM to the job's final
    state, and the old worker's exit code."""
    with (
        harness.running(harness.celery("radgame", "web"), env, tmp_path / "webq.log", "ready."),
        harness.running(
            harness.celery("ml.worker", "scoring"), env, tmp_path / "old.log", "ready."
        ) as old,
    ):
        job = dispatch_ping(hold_seconds=hold, echo="deploy")
        assert harness.wait_for(lambda: deliveries(broker), timeout=20), "the job never started"
        children = harness.children_of(old.pid)
        sent = time.monotonic()
        os.kill(old.pid, signal.SIGTERM)  # what `docker stop` sends to the worker (PID 1)
        with harness.running(
            harness.celery("ml.worker", "scoring"), env, tmp_path / "new.log", "ready.", timeout=60
        ):
            final = harness.wait_for(
                lambda: Job.objects.get(pk=job.pk).is_final, timeout=hold + 40, interval=0.2
            )
            elapsed = time.monotonic() - sent
            assert final, (tmp_path / "old.log").read_text()[-3000:]
            exit_code = old.wait(timeout=30)
            time.sleep(1)  # a second outcome, had there been one, reaches the web queue
    job.refresh_from_db()
    return job, children, elapsed, exit_code


def test_sigterm_lets_the_running_job_finish_once(broker: Any, tmp_path: Path) -> None:
    hold = 3.0
    job, children, elapsed, exit_code = sigterm_mid_job(broker, tmp_path, worker_env(), hold)
    old_log = (tmp_path / "old.log").read_text()
    assert "Warm shutdown" in old_log, old_log[-2000:]
    assert exit_code == 0
    assert job.status == JobStatus.DONE, job.error
    assert job.result["pid"] in children  # the old worker finished it during its shutdown
    assert elapsed < hold + 10
    assert deliveries(broker) == 1  # never requeued: the new worker ran nothing
    assert outcomes_received(tmp_path / "webq.log") == 1
    assert job.attempts == 1


def test_deploy_sigterm_requeues_a_long_job_for_the_new_worker(broker: Any, tmp_path: Path) -> None:
    """docs/deploy.md's worker settings: SIGTERM is a cold shutdown after a soft one."""
    hold, soft = 4.0, 1.0
    env = worker_env(REMAP_SIGTERM="SIGQUIT", CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT=str(soft))
    job, children, elapsed, exit_code = sigterm_mid_job(broker, tmp_path, env, hold)
    old_log = (tmp_path / "old.log").read_text()
    assert "Initiating Soft Shutdown" in old_log, old_log[-2000:]
    assert exit_code is not None
    assert job.status == JobStatus.DONE, job.error
    assert job.result["pid"] not in children  # the new worker ran it again, in full
    assert job.result["held_seconds"] >= hold
    # Back in the queue at shutdown, not after the visibility timeout.
    assert elapsed < VISIBILITY_TIMEOUT_S / 10
    assert deliveries(broker) == 2
    assert outcomes_received(tmp_path / "webq.log") == 1  # the cancelled run sent nothing
    assert job.attempts == 1  # the web side sent it once
