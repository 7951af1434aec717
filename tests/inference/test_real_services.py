"""The deployment path on real services: Postgres, Redis, Celery worker processes, an ASGI server
and a real websocket client. Slower than unit tests (process start-up), so kept to a few tests."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client

from apps.inference.models import Job, JobStatus
from apps.inference.services import inference_job_dispatch

from . import services_harness as harness

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def services_env(settings: Any, tmp_path: Path) -> dict[str, str]:
    url = harness.require_services()
    import redis

    redis.Redis.from_url(url).flushdb()  # no stale messages from an earlier run
    settings.RADGAME_JOBS = "celery"
    return harness.process_env(connection.settings_dict["NAME"])


def dispatch_ping(owner: Any = None, **payload: Any) -> Job:
    with transaction.atomic():
        return inference_job_dispatch(kind="ml.diagnostics.ping", payload=payload, owner=owner)


def test_job_round_trip_is_pushed_to_the_owners_websocket(
    services_env: dict[str, str], tmp_path: Path, make_user: Any
) -> None:
    import websockets

    owner = make_user("ws-owner")
    client = Client()
    client.force_login(owner, backend="django.contrib.auth.backends.ModelBackend")
    session_cookie = client.cookies["sessionid"].value
    port = harness.free_port()
    with (
        harness.running(
            harness.uvicorn(port),
            services_env,
            tmp_path / "web.log",
            "Application startup complete",
        ),
        harness.running(
            harness.celery("radgame", "web"), services_env, tmp_path / "webq.log", "ready."
        ),
        harness.running(
            harness.celery("ml.worker", "scoring"), services_env, tmp_path / "ml.log", "ready."
        ),
    ):

        async def listen() -> dict[str, Any]:
            async with websockets.connect(
                f"ws://127.0.0.1:{port}/ws/jobs/",
                origin=f"http://127.0.0.1:{port}",
                additional_headers={"Cookie": f"sessionid={session_cookie}"},
            ) as socket:
                job = await asyncio.to_thread(dispatch_ping, owner, echo="hello")
                while True:
                    message = json.loads(await asyncio.wait_for(socket.recv(), timeout=30))
                    if message["job"] == str(job.pk):
                        return message

        message = asyncio.run(listen())
    assert message == {"type": "job", "job": message["job"], "status": "done"}
    job = Job.objects.get(pk=message["job"])
    assert job.status == JobStatus.DONE
    assert job.result["echo"] == "hello"
    assert job.attempts == 1


def test_foreign_origin_websocket_is_refused(services_env: dict[str, str], tmp_path: Path) -> None:
    import websockets
    import websockets.exceptions  # a submodule: the package's lazy names do not include it

    port = harness.free_port()
    with harness.running(
        harness.uvicorn(port), services_env, tmp_path / "web.log", "Application startup complete"
    ):

        async def connect() -> None:
            async with websockets.connect(
                f"ws://127.0.0.1:{port}/ws/jobs/", origin="https://evil.example"
            ):
                pass

        with pytest.raises(websockets.exceptions.InvalidStatus):
            asyncio.run(connect())


def test_job_survives_sigkill_of_its_worker_and_completes_once(
    services_env: dict[str, str], tmp_path: Path
) -> None:
    import redis

    with (
        harness.running(
            harness.celery("radgame", "web"), services_env, tmp_path / "webq.log", "ready."
        ),
        harness.running(
            harness.celery("ml.worker", "scoring"), services_env, tmp_path / "ml.log", "ready."
        ) as ml,
    ):
        job = dispatch_ping(hold_seconds=3, echo="survivor")
        broker = redis.Redis.from_url(harness.redis_url())
        # The task has started once the worker counted its first delivery.
        assert harness.wait_for(lambda: broker.keys("radgame:deliveries:*"), timeout=20)
        children = harness.children_of(ml.pid)
        assert children, "the prefork pool child should be running the task"
        for child in children:
            os.kill(child, signal.SIGKILL)
        finished = harness.wait_for(
            lambda: Job.objects.get(pk=job.pk).is_final, timeout=40, interval=0.3
        )
        log = (tmp_path / "ml.log").read_text()
    job.refresh_from_db()
    assert finished, log[-3000:]
    assert job.status == JobStatus.DONE, job.error
    assert job.result["echo"] == "survivor"
    assert job.result["pid"] not in children  # a new pool child ran the redelivered message
    (key,) = broker.keys("radgame:deliveries:*")
    assert int(broker.get(key)) == 2  # delivered twice, finished once
    assert job.attempts == 1  # the web side sent it once; the broker redelivered it
    assert "WorkerLostError" in log or "exited prematurely" in log


def test_lost_publish_is_resent_by_the_sweeper(
    services_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Broker unreachable at publish: the job stays pending (the outbox), and the sweeper sends it."""
    from celery import current_app

    from apps.inference.services import PENDING_GRACE, inference_jobs_sweep

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("broker unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(current_app, "send_task", broker_down)
        job = dispatch_ping(echo="outbox")  # commits; the publish after commit fails
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING
    Job.objects.filter(pk=job.pk).update(created_at=job.created_at - PENDING_GRACE * 2)
    with (
        harness.running(
            harness.celery("radgame", "web"), services_env, tmp_path / "webq.log", "ready."
        ),
        harness.running(
            harness.celery("ml.worker", "scoring"), services_env, tmp_path / "ml.log", "ready."
        ),
    ):
        assert inference_jobs_sweep() == {"resent": 1, "failed": 0}
        assert harness.wait_for(lambda: Job.objects.get(pk=job.pk).is_final, timeout=30)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.result["echo"] == "outbox"
    assert job.attempts == 1
