"""The Report re-score on the deployment path: a web-queue worker runs the re-score job, a
``scoring``-queue worker runs the real scorer on every attempt, the results come back through the
web queue, and the last one finishes the re-score. Postgres, Redis and Celery processes are real."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from apps.cases.services import case_report_write
from apps.inference.models import Job, JobStatus
from apps.reporting.models import AttemptStatus, ReportAttempt, ReportScore
from apps.reporting.rescore import RESCORE_JOB
from tests.inference import services_harness as harness

from .conftest import REFERENCE

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# The reference now also names a right pneumothorax: every attempt misses one more finding.
EDITED = REFERENCE + " Small right apical pneumothorax."


@pytest.fixture
def services_env(settings: Any) -> dict[str, str]:
    url = harness.require_services()
    import redis

    redis.Redis.from_url(url).flushdb()  # no stale messages from an earlier run
    settings.RADGAME_JOBS = "celery"
    return harness.process_env(connection.settings_dict["NAME"])


def test_editing_the_reference_rescores_every_attempt_on_real_workers(
    services_env: dict[str, str], tmp_path: Path, resident: Any, educator: Any,
    report_set: Any, report_case: Any, submit: Any,
) -> None:  # fmt: skip
    with (
        harness.running(
            harness.celery("radgame", "web"), services_env, tmp_path / "webq.log", "ready."
        ),
        harness.running(
            harness.celery("ml.worker", "scoring"), services_env, tmp_path / "ml.log", "ready."
        ),
    ):
        attempts = [submit(resident, report_case, report_set) for _ in range(3)]

        def all_scored() -> bool:
            states = ReportAttempt.objects.filter(pk__in=[a.pk for a in attempts])
            return all(a.status == AttemptStatus.SCORED for a in states)

        assert harness.wait_for(all_scored, timeout=90, interval=0.3), (
            tmp_path / "ml.log"
        ).read_text()[-3000:]
        before = {a.pk: a.score for a in ReportAttempt.objects.filter(case=report_case)}

        with transaction.atomic():
            case_report_write(actor=educator, case=report_case, findings=EDITED)

        def finished() -> Job | None:
            return Job.objects.filter(kind=RESCORE_JOB, status__in=["done", "failed"]).first()

        job = harness.wait_for(finished, timeout=90, interval=0.3)
        logs = (tmp_path / "webq.log").read_text()[-3000:] + (tmp_path / "ml.log").read_text()[
            -3000:
        ]
    assert job is not None, logs
    assert job.status == JobStatus.DONE, job.error
    assert job.owner == educator
    assert job.progress["done"] == job.progress["total"] == 3
    assert job.result["attempts"] == 3 and job.result["failed"] == 0
    for attempt in ReportAttempt.objects.filter(case=report_case):
        assert attempt.reference_text == EDITED
        assert ReportScore.objects.filter(attempt=attempt, kind="rules").count() == 2
        latest = attempt.scores.order_by("-pk").first()
        assert latest.job_id == attempt.rescore_job_id
        assert attempt.score == pytest.approx((latest.clinical_percent or 0) / 100)
        # The candidate says nothing of the pneumothorax: a missed finding costs it.
        assert attempt.score < before[attempt.pk]
        assert attempt.previous_score == pytest.approx(before[attempt.pk])
        assert attempt.rescored_at is not None
    assert job.result["changed"] == 3
