"""Web-queue tasks: thin wrappers that call one service each."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from ml.contracts import RESULT_TASK, SWEEP_TASK, WEB_JOB_TASK

from . import services


# A worker's outcome is the only copy of its work: when the database connection drops under it
# (terminated, reset, restarted), the task is retried on a fresh connection instead of being
# acked as failed, which dropped the result and left the sweeper to run the job again.
@shared_task(
    name=RESULT_TASK,
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=1,
    retry_backoff_max=30,
    max_retries=8,
)
def job_result(job_id: str, status: str, result: dict[str, Any] | None, error: str) -> None:
    services.inference_job_finish(job_id=job_id, status=status, result=result, error=error)


@shared_task(name=SWEEP_TASK, ignore_result=True)
def sweep() -> dict[str, int]:
    return services.inference_jobs_sweep()


@shared_task(name=WEB_JOB_TASK, ignore_result=True)
def run_web_job(job_id: str) -> None:
    # Same path as the embedded in-process runner, in a web-queue worker.
    services.job_run_inprocess(job_id)
