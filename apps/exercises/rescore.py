"""Re-scoring every attempt of a case after an educator edits what it is scored against.

One machinery for every exercise: an exercise registers a ``Rescorer`` at start-up (its web job
kind, its attempt model and the function that scores one attempt again) and this module does the
rest: on a truth edit it dispatches one web job per case (coalescing the saves that reach it
before it is sent), the job walks the case's attempts in order, each in its own transaction under
a row lock, and reports its progress to the educator who follows it. What "score again" means,
and how the earlier score is kept for the resident, is the exercise's own business.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from apps.cases.models import Case
from apps.cases.registry import on_truth_changed
from apps.inference.models import Job, JobStatus
from apps.inference.registry import register_web_job
from apps.inference.services import inference_job_dispatch, inference_job_progress

PROGRESS_EVERY = 25  # attempts between progress updates


@dataclass(frozen=True)
class Rescorer:
    job_kind: str  # the web job kind, e.g. "web.localization.rescore"
    subject: str  # the job subject's prefix; the case id and a nonce follow it
    attempt_model: Any  # a concrete subclass of apps.exercises.models.Attempt
    # (attempt, case) -> True when the attempt's score changed; runs inside the attempt's lock.
    rescore: Callable[[Any, Any], bool]
    prefetch: tuple[str, ...] = ()  # related rows the rescore reads

    def case_subject(self, case: Any) -> str:
        return f"{self.subject}{case.pk}:"


def case_rescore_dispatch(*, rescorer: Rescorer, case: Any, actor: Any = None) -> Job | None:
    """Queue a re-score of ``case``'s attempts (in the caller's transaction); None when nobody
    has answered the case yet, which is every case an importer or a new draft writes.

    One editor save may change the truth several times in turn: a re-score that has not been
    sent yet reads the truth when it runs, so it covers them all and is returned again.
    """
    if not rescorer.attempt_model.objects.filter(case=case).exists():
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


def rescore_job_run(*, rescorer: Rescorer, job: Job) -> dict[str, Any]:
    """Web job body: re-score every attempt of the job's case, reporting progress."""
    case = Case.objects.get(pk=job.request["case_id"])
    model = rescorer.attempt_model
    attempt_ids = list(model.objects.filter(case=case).order_by("pk").values_list("pk", flat=True))
    total, changed = len(attempt_ids), 0
    inference_job_progress(job=job, done=0, total=total, message="Re-scoring attempts")
    for done, attempt_id in enumerate(attempt_ids, start=1):
        with transaction.atomic():
            attempt = (
                model.objects.select_for_update()
                .prefetch_related(*rescorer.prefetch)
                .filter(pk=attempt_id)
                .first()
            )
            if attempt is not None and rescorer.rescore(attempt, case):
                changed += 1
        if done % PROGRESS_EVERY == 0 or done == total:
            inference_job_progress(
                job=job, done=done, total=total, message=f"Re-scored {done} of {total} attempts"
            )
    return {"case_id": case.pk, "attempts": total, "changed": changed}


def rescorer_register(rescorer: Rescorer) -> None:
    """Hook ``rescorer`` up: its web job, and a dispatch on every truth edit of a case. A job the
    editor should follow is added to ``case.followups`` (see apps.cases.registry)."""

    def on_edit(case: Any, actor: Any) -> None:
        job = case_rescore_dispatch(rescorer=rescorer, case=case, actor=actor)
        followups = case.__dict__.setdefault("followups", [])
        if job is not None and job not in followups:
            followups.append(job)

    def run(job: Job) -> dict[str, Any]:
        return rescore_job_run(rescorer=rescorer, job=job)

    register_web_job(rescorer.job_kind, run)
    if rescorer.job_kind not in _REGISTERED:
        _REGISTERED.add(rescorer.job_kind)
        on_truth_changed(on_edit)


_REGISTERED: set[str] = set()
