"""R05: no double execution, whatever the broker and the workers do.

A hypothesis state machine drives the real services against Postgres (only the broker is a list):
submit a job (its publish delivered or lost), deliver a message to a worker, crash the worker
(the message is lost), redeliver a message that is still running (the visibility timeout ran
out), complete a running delivery, and run the sweeper after its lease. The job's completion hook
stands for its score. Invariant after every step: at most one score per job, and a job is scored
iff it is final. At the end, the broker and workers drain and the sweeper runs until nothing is
left: every job is final and scored exactly once.

Then the same finish from two threads at once, through a barrier, on real connections.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from apps.inference import registry, services
from apps.inference.models import FINAL_STATUSES, Job, JobStatus

KIND = "ml.diagnostics.ping"
EXAMPLES = int(os.environ.get("JOB_STATE_EXAMPLES", "60"))
SCORES: Counter[str] = Counter()


def score(job: Job) -> None:
    SCORES[str(job.pk)] += 1


@pytest.fixture
def scoring_hook(settings: Any) -> Iterator[None]:
    settings.RADGAME_JOBS = "celery"
    settings.RADGAME_JOB_MAX_ATTEMPTS = 3
    SCORES.clear()
    registry.on_job_finished(KIND, score)
    try:
        yield
    finally:
        registry._hooks.pop(KIND, None)


class Broker:
    """What the sweeper and the dispatch publish to: the messages waiting, in order."""

    def __init__(self) -> None:
        self.queue: list[str] = []
        self.down = False

    def send_task(self, name: str, args: list[Any], queue: str) -> None:
        if self.down:
            raise ConnectionError("broker unreachable")
        self.queue.append(args[0])


class JobLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        from celery import current_app

        self.broker = Broker()
        current_app.send_task = self.broker.send_task  # restored by the test
        self.jobs: list[str] = []
        self.running: list[str] = []  # deliveries in workers, one entry per delivery
        self.now = timezone.now()

    @rule(lost=st.booleans())
    def submit(self, lost: bool) -> None:
        job = Job.objects.create(kind=KIND, request={})
        self.broker.down = lost
        services.job_publish(job.pk, job)  # what the commit callback does
        self.broker.down = False
        self.jobs.append(str(job.pk))

    @precondition(lambda self: self.broker.queue)
    @rule(data=st.data())
    def deliver(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.broker.queue) - 1))
        self.running.append(self.broker.queue.pop(index))

    @precondition(lambda self: self.running)
    @rule(data=st.data())
    def crash(self, data: st.DataObject) -> None:
        """The worker dies and its message is gone (the broker lost it too)."""
        self.running.pop(data.draw(st.integers(0, len(self.running) - 1)))

    @precondition(lambda self: self.running)
    @rule(data=st.data())
    def redeliver(self, data: st.DataObject) -> None:
        """The visibility timeout ran out while the job still runs: a second copy is queued."""
        self.broker.queue.append(self.running[data.draw(st.integers(0, len(self.running) - 1))])

    @precondition(lambda self: self.running)
    @rule(data=st.data(), failed=st.booleans())
    def complete(self, data: st.DataObject, failed: bool) -> None:
        job_id = self.running.pop(data.draw(st.integers(0, len(self.running) - 1)))
        status = JobStatus.FAILED if failed else JobStatus.DONE
        services.inference_job_finish(job_id=job_id, status=status, result={}, error="")

    @rule()
    def sweep(self) -> None:
        """The sweeper, run after every lease and grace period has passed."""
        self.now += timedelta(seconds=3600)
        services.inference_jobs_sweep(now=self.now)

    @invariant()
    def scored_at_most_once_and_only_when_final(self) -> None:
        assert all(SCORES[job_id] <= 1 for job_id in self.jobs), SCORES
        final = set(
            Job.objects.filter(pk__in=self.jobs, status__in=FINAL_STATUSES).values_list(
                "pk", flat=True
            )
        )
        assert {job_id for job_id in self.jobs if SCORES[job_id]} == {str(pk) for pk in final}

    def teardown(self) -> None:
        """Everything settles: workers finish, the broker drains, the sweeper runs."""
        for _ in range(10):
            for job_id in self.running + self.broker.queue:
                services.inference_job_finish(
                    job_id=job_id, status=JobStatus.DONE, result={}, error=""
                )
            self.running, self.broker.queue = [], []
            self.sweep()
            if not self.broker.queue:
                break
        unfinished = Job.objects.filter(pk__in=self.jobs).exclude(status__in=FINAL_STATUSES)
        assert not unfinished.exists()
        assert all(SCORES[job_id] == 1 for job_id in self.jobs), SCORES


@pytest.mark.django_db
def test_every_job_is_scored_exactly_once_whatever_the_broker_does(
    scoring_hook: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from celery import current_app

    monkeypatch.setattr(current_app, "send_task", current_app.send_task)  # restore afterwards
    JobLifecycle.TestCase.settings = hypothesis_settings(
        max_examples=EXAMPLES, stateful_step_count=25, deadline=None
    )
    JobLifecycle.TestCase().runTest()


def finish_at_the_barrier(job_id: Any, barrier: threading.Barrier, finished: list[object]) -> None:
    try:
        barrier.wait(timeout=10)
        finished.append(
            services.inference_job_finish(job_id=job_id, status=JobStatus.DONE, result={}, error="")
        )
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_workers_finishing_the_same_job_at_once_score_it_once(scoring_hook: None) -> None:
    rounds, threads = 10, 2
    for _ in range(rounds):
        job = Job.objects.create(kind=KIND, request={}, status=JobStatus.SENT)
        barrier = threading.Barrier(threads)
        finished: list[object] = []
        workers = [
            threading.Thread(target=finish_at_the_barrier, args=(job.pk, barrier, finished))
            for _ in range(threads)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
        assert sum(1 for f in finished if f is not None) == 1
        assert SCORES[str(job.pk)] == 1
    assert len(SCORES) == rounds
