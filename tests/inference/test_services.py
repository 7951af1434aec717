from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from apps.core.exceptions import ApplicationError
from apps.inference import registry
from apps.inference.models import Job, JobStatus
from apps.inference.services import (
    PENDING_GRACE,
    inference_job_dispatch,
    inference_job_finish,
    inference_jobs_sweep,
    job_id_new,
)

pytestmark = pytest.mark.django_db


def dispatch(**kwargs: Any) -> Job:
    with transaction.atomic():
        return inference_job_dispatch(**kwargs)


def test_inprocess_job_runs_after_commit_and_is_done(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = inference_job_dispatch(kind="ml.diagnostics.ping", payload={"echo": "hi"})
        assert Job.objects.get(pk=job.pk).status == JobStatus.PENDING  # nothing runs before commit
    assert callbacks[0].__name__ == "send_after_commit"  # a named function: see dispatch
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.result["echo"] == "hi"
    assert job.attempts == 1


def test_bad_payload_fails_permanently_with_its_message(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = inference_job_dispatch(kind="ml.diagnostics.ping", payload={"hold_seconds": 999})
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "hold_seconds" in job.error


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ApplicationError, match="Unknown task"):
        inference_job_dispatch(kind="ml.nope", payload={})


def test_same_subject_returns_the_first_job(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = inference_job_dispatch(kind="ml.diagnostics.ping", payload={}, subject="x:1")
        second = inference_job_dispatch(kind="ml.diagnostics.ping", payload={}, subject="x:1")
    assert first.pk == second.pk
    assert Job.objects.count() == 1


def test_finish_runs_hooks_exactly_once(settings: Any) -> None:
    settings.RADGAME_JOBS = "celery"  # keep it pending: we finish it by hand, twice
    seen: list[str] = []
    registry.on_job_finished("ml.diagnostics.ping", lambda job: seen.append(str(job.pk)))
    try:
        job = Job.objects.create(kind="ml.diagnostics.ping", request={})
        assert (
            inference_job_finish(job_id=job.pk, status="done", result={"a": 1}, error="")
            is not None
        )
        assert inference_job_finish(job_id=job.pk, status="done", result={"a": 2}, error="") is None
    finally:
        registry._hooks.pop("ml.diagnostics.ping", None)
    job.refresh_from_db()
    assert seen == [str(job.pk)]
    assert job.result == {"a": 1}


def test_a_hook_that_cannot_store_the_result_fails_the_job() -> None:
    def broken(job: Job) -> None:
        raise ValueError("bad shape")

    registry.on_job_finished("ml.diagnostics.ping", broken)
    try:
        job = Job.objects.create(kind="ml.diagnostics.ping", request={})
        inference_job_finish(job_id=job.pk, status="done", result={}, error="")
    finally:
        registry._hooks.pop("ml.diagnostics.ping", None)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "bad shape" in job.error


def test_sweeper_resends_stale_jobs_and_fails_exhausted_ones(settings: Any) -> None:
    settings.RADGAME_JOB_MAX_ATTEMPTS = 3
    old = Job.objects.create(kind="ml.diagnostics.ping", request={"echo": "late"})
    fresh = Job.objects.create(kind="ml.diagnostics.ping", request={})
    exhausted = Job.objects.create(
        kind="ml.diagnostics.ping", request={}, status=JobStatus.SENT, attempts=3
    )
    from django.utils import timezone

    long_ago = timezone.now() - PENDING_GRACE * 2
    Job.objects.filter(pk=old.pk).update(created_at=long_ago)
    Job.objects.filter(pk=exhausted.pk).update(sent_at=timezone.now() - timedelta(hours=1))
    counts = inference_jobs_sweep()
    assert counts == {"resent": 1, "failed": 1}
    assert Job.objects.get(pk=old.pk).status == JobStatus.DONE  # in-process mode runs it
    assert (
        Job.objects.get(pk=fresh.pk).status == JobStatus.PENDING
    )  # its commit-time send is not overdue
    failed = Job.objects.get(pk=exhausted.pk)
    assert failed.status == JobStatus.FAILED
    assert "3 attempts" in failed.error


def test_publish_after_commit_sends_the_row_it_wrote_without_reading_it_back(
    settings: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from celery import current_app
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.RADGAME_JOBS = "celery"
    sent: list[tuple[str, list[Any], str]] = []
    monkeypatch.setattr(
        current_app, "send_task", lambda name, args, queue: sent.append((name, args, queue))
    )
    job_id = job_id_new()
    with django_capture_on_commit_callbacks() as callbacks:
        job = inference_job_dispatch(
            kind="ml.diagnostics.ping", payload={"echo": "hi"}, job_id=job_id
        )
    assert job.pk == job_id
    with CaptureQueriesContext(connection) as queries:
        callbacks[0]()
    assert sent == [("ml.diagnostics.ping", [str(job_id), {"echo": "hi"}], sent[0][2])]
    # One statement: marking it sent (the sweeper's read of a pending row is not needed here).
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["UPDATE"]
    job.refresh_from_db()
    assert job.status == JobStatus.SENT and job.attempts == 1


def test_a_web_job_that_waits_for_its_own_jobs_stays_sent_and_progress_keeps_its_lease(
    settings: Any,
) -> None:
    from django.utils import timezone

    from apps.inference.services import inference_job_progress, job_run_inprocess

    def waits(job: Job) -> None:
        inference_job_progress(job=job, done=0, total=2, message="Sent 2 jobs")
        return None  # the jobs it sent finish it

    registry.register_web_job("web.test.waits", waits)
    job = Job.objects.create(kind="web.test.waits", request={})
    job_run_inprocess(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SENT and job.result is None
    assert job.progress == {"done": 0, "total": 2, "message": "Sent 2 jobs"}

    # Silent past its lease: the sweeper would send it again; reporting progress renews it.
    long_ago = timezone.now() - timedelta(seconds=settings.RADGAME_JOB_LEASE_SECONDS + 1)
    Job.objects.filter(pk=job.pk).update(sent_at=long_ago)
    inference_job_progress(job=job, done=1, total=2, counts={"failed": 0})
    job.refresh_from_db()
    assert job.sent_at > long_ago and job.progress["failed"] == 0
    assert inference_jobs_sweep() == {"resent": 0, "failed": 0}
    # A job not sent yet is not made to look sent.
    pending = Job.objects.create(kind="web.test.waits", request={})
    inference_job_progress(job=pending, done=0, total=1)
    assert Job.objects.get(pk=pending.pk).sent_at is None
