"""The gpu worker as deployed: a Celery worker process on the gpu queue running its tasks in
threads, so that concurrent jobs meet in the batch collector. Killed in the middle of a batch, it
loses no job, and every job is finished exactly once by the web side."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from apps.inference.models import Job, JobStatus
from apps.inference.services import inference_job_dispatch

from . import services_harness as harness

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

BATCH = 4
HOLD_SECONDS = 6


@pytest.fixture
def gpu_env(settings: Any) -> dict[str, str]:
    url = harness.require_services()
    import redis

    redis.Redis.from_url(url).flushdb()
    settings.RADGAME_JOBS = "celery"
    # A long enough wait that the jobs published together, and redelivered together, meet.
    return harness.process_env(
        connection.settings_dict["NAME"],
        RADGAME_EXPLAIN_BATCH_SIZE=str(BATCH),
        RADGAME_BATCH_WAIT_MS="3000",
    )


def gpu_worker() -> list[str]:
    return harness.celery("ml.worker", "gpu", concurrency=BATCH, pool="threads")


def test_a_gpu_worker_killed_mid_batch_loses_no_job_and_answers_each_once(
    gpu_env: dict[str, str], tmp_path: Path
) -> None:
    import redis

    broker = redis.Redis.from_url(harness.redis_url())
    with harness.running(
        harness.celery("radgame", "web"), gpu_env, tmp_path / "webq.log", "ready."
    ):
        with transaction.atomic():
            jobs = [
                inference_job_dispatch(
                    kind="ml.diagnostics.ping_gpu",
                    payload={"echo": f"job-{n}", "hold_seconds": HOLD_SECONDS},
                )
                for n in range(BATCH)
            ]
        with harness.running(gpu_worker(), gpu_env, tmp_path / "gpu1.log", "ready.") as first:
            # Every job has started (counted its delivery) and waits in the one held batch.
            assert harness.wait_for(
                lambda: len(broker.keys("radgame:deliveries:*")) == BATCH, timeout=30
            ), (tmp_path / "gpu1.log").read_text()[-3000:]
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        first_log = (tmp_path / "gpu1.log").read_text()
        assert "ran a batch" not in first_log, first_log[-3000:]  # killed mid-batch
        assert not any(Job.objects.get(pk=job.pk).is_final for job in jobs)
        # The next worker gets the unacknowledged messages back once the visibility timeout passes.
        with harness.running(gpu_worker(), gpu_env, tmp_path / "gpu2.log", "ready."):
            finished = harness.wait_for(
                lambda: all(Job.objects.get(pk=job.pk).is_final for job in jobs),
                timeout=120,
                interval=0.5,
            )
            log = (tmp_path / "gpu2.log").read_text()
    assert finished, log[-3000:]
    results = []
    for job in jobs:
        job.refresh_from_db()
        assert job.status == JobStatus.DONE, (job.error, log[-3000:])
        assert job.attempts == 1  # sent once by the web side; the broker redelivered it
        results.append(job.result)
    assert sorted(r["echo"] for r in results) == sorted(f"job-{n}" for n in range(BATCH))
    assert first.pid not in {r["pid"] for r in results}  # the killed worker answered nothing
    assert max(r["batch_size"] for r in results) > 1, (results, log[-3000:])
    deliveries = [int(broker.get(key)) for key in broker.keys("radgame:deliveries:*")]
    assert deliveries == [2] * BATCH, (deliveries, log[-3000:])  # delivered twice, finished once


def test_a_gpu_worker_batches_concurrent_explanation_jobs_on_a_real_model(
    gpu_env: dict[str, str], tmp_path: Path
) -> None:
    """The tiny MedGemma-architecture model behind a real gpu worker: jobs published together
    meet in one generate() call, and each job gets its own answer back."""
    from PIL import Image

    from tests.ml.conftest import build_tiny_vlm

    media = tmp_path / "media"
    (media / "cases").mkdir(parents=True)
    Image.new("L", (200, 160), 40).save(media / "cases" / "cxr.png")
    env = {
        **gpu_env,
        "RADGAME_EXPLAINER": "transformers",
        "RADGAME_VLM_PATH": str(build_tiny_vlm(tmp_path / "tiny-medgemma")),
        "RADGAME_MEDIA_ROOT": str(media),
        "RADGAME_DEVICE": "cpu",
        "RADGAME_EXPLAIN_MAX_NEW_TOKENS": "8",
        "HF_HUB_OFFLINE": "1",
    }
    with (
        harness.running(harness.celery("radgame", "web"), env, tmp_path / "webq.log", "ready."),
        harness.running(gpu_worker(), env, tmp_path / "gpu.log", "ready."),
    ):
        with transaction.atomic():
            jobs = [
                inference_job_dispatch(
                    kind="ml.vlm.explain",
                    payload={
                        "requests": [
                            {
                                "label": "Nodule",
                                "error": "missed",
                                "box": [0.1 + 0.1 * n, 0.2, 0.2 + 0.1 * n, 0.3],
                                "image_path": "cases/cxr.png",
                                "marks": [],
                            }
                        ]
                    },
                )
                for n in range(BATCH)
            ]
        finished = harness.wait_for(
            lambda: all(Job.objects.get(pk=job.pk).is_final for job in jobs),
            timeout=120,
            interval=0.5,
        )
        log = (tmp_path / "gpu.log").read_text()
    assert finished, log[-3000:]
    for job in jobs:
        job.refresh_from_db()
        assert job.status == JobStatus.DONE, (job.error, log[-3000:])
        (explanation,) = job.result["explanations"]
        # Random weights write noise: the worker either kept the model's words or fell back to
        # the knowledge base and said which model it had asked.
        assert explanation["backend"] == "transformers" or (
            "transformers:tiny-medgemma" in explanation["fallback_reason"]
        )
    sizes = [int(size) for size in re.findall(r"ran a batch of (\d+)", log)]
    assert sum(sizes) == BATCH and max(sizes) > 1, log[-3000:]
