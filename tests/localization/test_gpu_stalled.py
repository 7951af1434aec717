"""R07 measured: with the gpu queue stalled, a Localize submit still answers with its score.

The web server is a real process (``radgame.serve``) on the test database, publishing to the real
Redis broker, and nothing consumes the ``gpu`` queue: every explanation job the submits send waits
there. The IoU score is computed in the submit itself, so each POST's 201 body carries it; the
figure is the submit→score time the client sees (``docs/reliability.md`` row R07).
"""

from __future__ import annotations

import os
import re
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from ml.contracts import GPU_QUEUE
from tests.inference import services_harness as harness

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SUBMITS = 50
P95_BOUND_S = 5.0  # RELIABILITY R07's pass figure
# A hit on the nodule and a stray box: the stray one needs words from the gpu queue.
MARKS = {
    "boxes": [
        {"label": "Nodule", "box": [0.123457, 0.2, 0.4, 0.5]},
        {"label": "Mass", "box": [0.8, 0.05, 0.9, 0.15]},
    ]
}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@pytest.fixture
def stalled_env(settings: Any, media_root: Path) -> dict[str, str]:
    url = harness.require_services()
    import redis

    redis.Redis.from_url(url).flushdb()  # no stale messages, and no gpu worker anywhere
    settings.RADGAME_JOBS = "celery"
    return harness.process_env(connection.settings_dict["NAME"], MEDIA_ROOT=str(media_root))


def test_submit_scores_at_once_while_the_gpu_queue_is_stalled(
    stalled_env: dict[str, str], world: Any, resident: Any, tmp_path: Path
) -> None:
    import redis
    import requests

    from apps.inference.models import Job, JobStatus
    from apps.localization.models import LocalizationAttempt

    client = Client()
    client.force_login(resident, backend="django.contrib.auth.backends.ModelBackend")
    port = harness.free_port()
    base = f"http://127.0.0.1:{port}"
    submit_url = base + reverse(
        "api-localize-attempt-submit",
        kwargs={"set_id": world.practice.pk, "case_id": world.case.pk},
    )
    timings: list[float] = []
    bodies: list[dict[str, Any]] = []
    with harness.running(
        harness.uvicorn(port), stalled_env, tmp_path / "web.log", "Application startup complete"
    ):
        session = requests.Session()
        session.cookies.set("sessionid", client.cookies["sessionid"].value)
        session.get(f"{base}/localize/", timeout=10).raise_for_status()  # sets the CSRF cookie
        headers = {"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{base}/localize/"}
        for _ in range(SUBMITS):
            body = {"marks": MARKS, "idempotency_key": str(uuid.uuid4())}
            started = time.monotonic()
            response = session.post(submit_url, json=body, headers=headers, timeout=30)
            timings.append(time.monotonic() - started)
            assert response.status_code == 201, response.text[:500]
            bodies.append(response.json())
        first = bodies[0]
        page = session.get(f"{base}{first['url']}", timeout=10)
        page.raise_for_status()
        broker_backlog = redis.Redis.from_url(harness.redis_url()).llen(GPU_QUEUE)

    p95 = _percentile(timings, 0.95)
    print(
        f"\nR07 submit→score with the gpu queue stalled, {len(timings)} submits: "
        f"median {statistics.median(timings) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {max(timings) * 1000:.0f} ms; {broker_backlog} messages waiting on '{GPU_QUEUE}'; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    # Every answer carried its score, and its explanations are waiting, not lost.
    assert all(body["score"] is not None and body["feedback_visible"] for body in bodies)
    job_ids = {body["explanation_job"]["id"] for body in bodies}
    assert len(job_ids) == SUBMITS
    jobs = Job.objects.filter(pk__in=job_ids)
    assert jobs.count() == SUBMITS
    assert all(job.status not in (JobStatus.DONE, JobStatus.FAILED) for job in jobs)
    assert broker_backlog >= SUBMITS  # published, with no consumer
    # The result page shows the score now, and the explanations as pending (the region polls).
    attempt = LocalizationAttempt.objects.get(pk=first["id"])
    shown = re.search(r'data-score="(\d+)"', page.text)
    assert shown is not None and int(shown.group(1)) == round(first["score"] * 100)
    assert f'data-job="{attempt.explain_job_id}"' in page.text  # the pending region, polling
    assert p95 <= P95_BOUND_S
