"""The shared re-score machinery (apps/exercises/rescore.py) where an exercise leaves attempts to
worker jobs: their finishes are counted under the re-score's lock, so jobs finishing at the same
moment on several workers never lose a count, and the last one finishes the re-score once. The
exercises' own tests (tests/localization, tests/reporting) cover the rest through their rescorers.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection

from apps.exercises.rescore import rescore_child_subject, rescored_note
from apps.inference.models import Job, JobStatus
from apps.inference.services import inference_job_finish
from apps.reporting.rescore import RESCORE_JOB, RESCORE_SUBJECT
from ml.contracts import REPORT_SCORE_TASK


def finish_at_the_barrier(job_id: Any, barrier: threading.Barrier) -> None:
    try:
        barrier.wait(timeout=10)
        # No attempt waits for these results (the hook stores nothing): only the count runs.
        inference_job_finish(job_id=job_id, status=JobStatus.DONE, result={}, error="")
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_worker_jobs_finishing_at_once_are_all_counted_and_finish_the_rescore_once() -> None:
    rounds, jobs = 5, 4
    for round_no in range(rounds):
        parent = Job.objects.create(
            kind=RESCORE_JOB,
            subject=f"{RESCORE_SUBJECT}0:{round_no}",
            status=JobStatus.SENT,
            request={"case_id": 0},
            # Every attempt sent (``here`` is set once the re-score has sent them all).
            progress={"done": 0, "total": jobs, "message": "", "here": 0, "changed_here": 0},
        )
        children = [
            Job.objects.create(
                kind=REPORT_SCORE_TASK,
                subject=rescore_child_subject(job=parent, attempt=type("A", (), {"pk": n})),
                status=JobStatus.SENT,
            )
            for n in range(jobs)
        ]
        barrier = threading.Barrier(jobs)
        workers = [
            threading.Thread(target=finish_at_the_barrier, args=(child.pk, barrier))
            for child in children
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
        parent.refresh_from_db()
        assert parent.progress["done"] == jobs, parent.progress
        assert parent.status == JobStatus.DONE
        assert parent.result == {"case_id": 0, "attempts": jobs, "changed": 0, "failed": 0}


def test_the_rescored_note_rounds_to_percent_and_reads_a_stored_date() -> None:
    assert rescored_note(previous=None, score=0.8, at=None, what="x") is None
    note = rescored_note(previous=0.5, score=0.826, at="2026-12-07T10:00:00+00:00", what="x")
    assert note is not None and (note.was, note.now) == (50, 83)
    assert note.at == datetime(2026, 12, 7, 10, tzinfo=UTC)
