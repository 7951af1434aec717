"""The web-queue tasks: a worker's outcome survives a dropped database connection."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError

from apps.inference import services, tasks
from apps.inference.models import Job, JobStatus
from ml.contracts import PING_TASK

pytestmark = pytest.mark.django_db


def test_a_result_is_retried_not_dropped_when_the_database_connection_drops(
    monkeypatch: Any,
) -> None:
    job = Job.objects.create(kind=PING_TASK, request={}, status=JobStatus.SENT)
    finish = services.inference_job_finish
    calls: list[str] = []

    def flaky_finish(**kwargs: Any) -> Any:
        calls.append(kwargs["status"])
        if len(calls) == 1:
            raise OperationalError("terminating connection due to administrator command")
        return finish(**kwargs)

    monkeypatch.setattr(services, "inference_job_finish", flaky_finish)
    tasks.job_result.apply(args=[str(job.pk), JobStatus.DONE, {"score": 1}, ""])

    job.refresh_from_db()
    assert calls == [JobStatus.DONE, JobStatus.DONE]
    assert job.status == JobStatus.DONE and job.result == {"score": 1}


def test_a_result_for_a_finished_job_is_ignored() -> None:
    job = Job.objects.create(kind=PING_TASK, request={}, status=JobStatus.DONE)
    tasks.job_result.apply(args=[str(job.pk), JobStatus.FAILED, None, "late"])
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.error == ""
