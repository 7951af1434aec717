"""Re-scoring every attempt of a case after an educator edits what it is scored against.

One machinery for every exercise: an exercise registers a ``Rescorer`` at start-up (its web job
kind, its attempt model, the edit it follows and the function that scores one attempt again) and
this module does the rest: on an edit it dispatches one web job per case (coalescing the saves that
reach it before it is sent), the job walks the case's attempts in order, each in its own
transaction under a row lock, and reports its progress to the educator who follows it. What "score
again" means, and how the earlier score is kept for the resident, is the exercise's own business.

An attempt is re-scored here (Localize: box matching is cheap and pure) or by a job of its own on
a worker (Report: the scorer is ``ml``'s, on the ``scoring`` queue). Such a job is sent with
``rescore_child_subject`` and, once its score is stored, the exercise calls
``rescore_child_finished``: the progress counts it then, and the last one finishes the re-score.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.dateparse import parse_datetime

from apps.cases.models import Case
from apps.cases.registry import TruthHook, on_truth_changed
from apps.inference.models import FINAL_STATUSES, Job, JobStatus
from apps.inference.registry import register_web_job
from apps.inference.services import (
    inference_job_dispatch,
    inference_job_finish,
    inference_job_progress,
)

PROGRESS_EVERY = 25  # attempts between progress updates


@dataclass(frozen=True)
class Rescorer:
    job_kind: str  # the web job kind, e.g. "web.localization.rescore"
    subject: str  # the job subject's prefix; the case id and a nonce follow it
    attempt_model: Any  # a concrete subclass of apps.exercises.models.Attempt
    # (attempt, case, job) -> True when the attempt's score changed, False when it did not, or the
    # job now scoring it on a worker (see the module's docstring). Runs inside the attempt's lock.
    rescore: Callable[[Any, Any, Job], bool | Job]
    prefetch: tuple[str, ...] = ()  # related rows the rescore reads
    attempts: Q = field(default_factory=Q)  # which of the case's attempts have a score to redo
    listen: Callable[[TruthHook], None] = on_truth_changed  # the edit that starts a re-score

    def case_subject(self, case: Any) -> str:
        return f"{self.subject}{case.pk}:"

    def case_attempts(self, case: Any) -> Any:
        return self.attempt_model.objects.filter(self.attempts, case=case)


@dataclass(frozen=True)
class RescoredNote:
    """What the resident's result says of an answer scored again (components/_rescored.html)."""

    at: datetime | None
    was: int  # percent, the score the resident saw
    now: int  # percent
    what: str  # what the educator corrected: "ground truth", "reference report"


def rescored_note(*, previous: Any, score: Any, at: Any, what: str) -> RescoredNote | None:
    """The note for an answer whose score changed from ``previous`` (None: it never did)."""
    if previous is None or score is None:
        return None
    when = parse_datetime(at) if isinstance(at, str) else at
    return RescoredNote(
        at=when, was=round(float(previous) * 100), now=round(score * 100), what=what
    )


def rescore_child_subject(*, job: Job, attempt: Any) -> str:
    """The subject of the worker job that re-scores ``attempt`` for the re-score ``job``: sending
    it again (the re-score job run a second time) returns the same job."""
    return f"{job.subject}/{attempt.pk}"


def _children(job: Job) -> Any:
    return Job.objects.filter(subject__startswith=f"{job.subject}/")


def case_rescore_dispatch(*, rescorer: Rescorer, case: Any, actor: Any = None) -> Job | None:
    """Queue a re-score of ``case``'s attempts (in the caller's transaction); None when nobody
    has answered the case yet, which is every case an importer or a new draft writes.

    One editor save may change the truth several times in turn: a re-score that has not been
    sent yet reads the truth when it runs, so it covers them all and is returned again.
    """
    if not rescorer.case_attempts(case).exists():
        return None
    waiting = Job.objects.filter(
        kind=rescorer.job_kind,
        subject__startswith=rescorer.case_subject(case),
        status=JobStatus.PENDING,
    ).first()
    if waiting is not None:
        return waiting
    return inference_job_dispatch(
        kind=rescorer.job_kind,
        payload={"case_id": case.pk},
        # The educator follows its progress; the result holds counts only, no resident's data.
        owner=actor,
        subject=f"{rescorer.case_subject(case)}{uuid.uuid4().hex[:12]}",
        subject_is_new=True,
    )


def rescore_job_run(*, rescorer: Rescorer, job: Job) -> dict[str, Any] | None:
    """Web job body: re-score every attempt of the job's case, reporting progress. Returns the
    result, or None while jobs it sent to workers are still scoring (the last one finishes it)."""
    case = Case.objects.get(pk=job.request["case_id"])
    model = rescorer.attempt_model
    attempt_ids = list(rescorer.case_attempts(case).order_by("pk").values_list("pk", flat=True))
    total, changed, here, sent = len(attempt_ids), 0, 0, 0
    # A second run (the sweeper found it silent) starts the count again; what its earlier run's
    # worker jobs changed is theirs to keep.
    kept = {k: v for k, v in job.progress.items() if k == "changed_there"}
    inference_job_progress(job=job, done=0, total=total, message="Re-scoring attempts", counts=kept)
    for done, attempt_id in enumerate(attempt_ids, start=1):
        with transaction.atomic():
            attempt = (
                model.objects.select_for_update()
                .prefetch_related(*rescorer.prefetch)
                .filter(pk=attempt_id)
                .first()
            )
            outcome = rescorer.rescore(attempt, case, job) if attempt is not None else False
        if isinstance(outcome, Job):
            sent += 1
        else:
            here += 1
            changed += outcome is True
        if not sent and (done % PROGRESS_EVERY == 0 or done == total):
            inference_job_progress(
                job=job, done=done, total=total, message=f"Re-scored {done} of {total} attempts"
            )
    if not sent:
        return {"case_id": case.pk, "attempts": total, "changed": changed}
    # Every attempt is either settled here or has its job: from now on the count can finish.
    return _settle(job_id=job.pk, counts={"here": here, "changed_here": changed})


def rescore_child_finished(*, job: Job, changed: bool) -> None:
    """A worker job sent by a re-score finished (its score stored, or it failed: the earlier score
    stands), in its finishing transaction: count it, and finish the re-score with the last one."""
    parent_subject, _, _ = job.subject.rpartition("/")
    parent = Job.objects.filter(subject=parent_subject).values_list("pk", flat=True).first()
    if parent is None:
        return
    result = _settle(job_id=parent, counts={"changed_there": int(changed)}, add=True)
    if result is not None:
        inference_job_finish(job_id=parent, status=JobStatus.DONE, result=result, error="")


def _settle(*, job_id: Any, counts: dict[str, int], add: bool = False) -> dict[str, Any] | None:
    """Under the re-score job's lock (its jobs finish concurrently): update its tallies with
    ``counts`` (added to them, or set), and count the attempts settled, here or by a finished
    job. Returns the result once every attempt is, and the job is not final yet."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_final:
            return None
        tallies = {k: v for k, v in job.progress.items() if k not in ("done", "total", "message")}
        for key, value in counts.items():
            tallies[key] = tallies.get(key, 0) + value if add else value
        finished = _children(job).filter(status__in=FINAL_STATUSES)
        total = job.progress.get("total", 0)
        done = min(total, tallies.get("here", 0) + finished.count())
        inference_job_progress(
            job=job, done=done, total=total, message=f"Re-scored {done} of {total} attempts",
            counts=tallies,
        )  # fmt: skip
        if "here" not in tallies or done < total:
            return None  # attempts still being sent, or scored
    return {
        "case_id": job.request["case_id"],
        "attempts": total,
        "changed": tallies.get("changed_here", 0) + tallies.get("changed_there", 0),
        "failed": finished.filter(status=JobStatus.FAILED).count(),
    }


def rescorer_register(rescorer: Rescorer) -> None:
    """Hook ``rescorer`` up: its web job, and a dispatch on every edit it listens to. A job the
    editor should follow is added to ``case.followups`` (see apps.cases.registry)."""

    def on_edit(case: Any, actor: Any) -> None:
        job = case_rescore_dispatch(rescorer=rescorer, case=case, actor=actor)
        followups = case.__dict__.setdefault("followups", [])
        if job is not None and job not in followups:
            followups.append(job)

    def run(job: Job) -> dict[str, Any] | None:
        return rescore_job_run(rescorer=rescorer, job=job)

    register_web_job(rescorer.job_kind, run)
    if rescorer.job_kind not in _REGISTERED:
        _REGISTERED.add(rescorer.job_kind)
        rescorer.listen(on_edit)


_REGISTERED: set[str] = set()
