"""Re-scoring every Localize attempt of a case after an educator edits its ground truth.

Editing the truth of a case that residents have answered dispatches one web job (it reads and
writes attempts, so it runs where Django runs: a web worker, or in-process). The job re-scores
each attempt against the case's current truth with the attempt's own marks and IoU threshold,
reports its progress as it goes, and keeps the score it replaces in the result (``rescored``), so
the resident sees the old and the new score. XP is not changed: it rewarded the answer as scored
then (DESIGN.md: XP is awarded when the score is stored).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.cases.marks import NORMAL_CHOICE
from apps.cases.models import Case
from apps.cases.selectors import case_view_ids
from apps.inference.models import Job, JobStatus
from apps.inference.services import inference_job_dispatch, inference_job_progress
from apps.progress.services import score_event_rescore
from ml.boxes import Mark as BoxMark
from ml.boxes import Marks, score_localize

from .models import LocalizationAttempt
from .reference import scoring_reference

RESCORE_JOB = "web.localization.rescore"
RESCORE_SUBJECT = "localization.rescore:"
PROGRESS_EVERY = 25  # attempts between progress updates


def localization_case_rescore_dispatch(*, case: Case, actor: Any = None) -> Job | None:
    """Queue a re-score of ``case``'s attempts (in the caller's transaction); None when nobody
    has answered the case yet, which is every case an importer or a new draft writes.

    One editor save replaces boxes, ticks and the normal flag in turn: a re-score that has not
    been sent yet reads the truth when it runs, so it covers them all and is returned again.
    """
    if not LocalizationAttempt.objects.filter(case=case).exists():
        return None
    waiting = Job.objects.filter(
        kind=RESCORE_JOB,
        subject__startswith=f"{RESCORE_SUBJECT}{case.pk}:",
        status=JobStatus.PENDING,
    ).first()
    if waiting is not None:
        return waiting
    return inference_job_dispatch(
        kind=RESCORE_JOB,
        payload={"case_id": case.pk},
        # The educator follows its progress; the result holds counts only, no resident's data.
        owner=actor,
        subject=f"{RESCORE_SUBJECT}{case.pk}:{uuid.uuid4().hex[:12]}",
        subject_is_new=True,
    )


def on_truth_changed(case: Case, actor: Any) -> None:
    job = localization_case_rescore_dispatch(case=case, actor=actor)
    followups = case.__dict__.setdefault("followups", [])
    if job is not None and job not in followups:
        followups.append(job)


def latest_rescore_job(*, case: Case) -> Job | None:
    return (
        Job.objects.filter(kind=RESCORE_JOB, subject__startswith=f"{RESCORE_SUBJECT}{case.pk}:")
        .order_by("-created_at")
        .first()
    )


def _marks(attempt: LocalizationAttempt, views: Sequence[int]) -> Marks:
    rows = sorted(attempt.marks_list(), key=lambda mark: (mark.selected, mark.index))
    ticks = [mark.label for mark in rows if mark.selected]
    # A box whose view an educator removed since has no view left: it stays with the first view,
    # as a box sent without one would.
    first = next(iter(views), None)
    return Marks(
        boxes=tuple(
            BoxMark(mark.label, tuple(mark.box), mark.confidence, mark.image_id or first)  # type: ignore[arg-type]
            for mark in rows
            if not mark.selected
        ),
        selected=tuple(label for label in ticks if label != NORMAL_CHOICE),
        normal=NORMAL_CHOICE in ticks,
    )


def localization_attempt_rescore(*, attempt: LocalizationAttempt, case: Case) -> bool:
    """Score ``attempt`` again against ``case``'s current truth; True when the score changed."""
    scoring = scoring_reference(case=case, iou_threshold=attempt.iou_threshold)
    marks = _marks(attempt, case_view_ids(case=case))
    result = json.loads(json.dumps(score_localize(scoring.reference, marks)))
    changed = abs(result["score"] - attempt.score) > 1e-9 or result["counts"] != attempt.result.get(
        "counts"
    )
    earlier = attempt.result.get("rescored")
    if changed or earlier:
        result["rescored"] = {
            # The first score the resident saw stays the "before" across several edits.
            "previous_score": earlier["previous_score"] if earlier else attempt.score,
            "at": timezone.now().isoformat() if changed else earlier["at"],
        }
    # Saved even when nothing changed: the new truth's finding ids replace the old ones, so the
    # feedback's sentences and explanations follow the current findings.
    attempt.result = result
    attempt.score = result["score"]
    attempt.reference = scoring.findings
    attempt.save(update_fields=["result", "score", "reference", "updated_at"])
    if changed:
        score_event_rescore(attempt_ref=attempt.ref, score=attempt.score)
    return changed


def localization_rescore_job(job: Job) -> dict[str, Any]:
    """Web job handler: re-score every attempt of the case, reporting progress."""
    case = Case.objects.get(pk=job.request["case_id"])
    attempt_ids = list(
        LocalizationAttempt.objects.filter(case=case).order_by("pk").values_list("pk", flat=True)
    )
    total, changed = len(attempt_ids), 0
    inference_job_progress(job=job, done=0, total=total, message="Re-scoring attempts")
    for done, attempt_id in enumerate(attempt_ids, start=1):
        with transaction.atomic():
            attempt = (
                LocalizationAttempt.objects.select_for_update()
                .prefetch_related("marks")
                .filter(pk=attempt_id)
                .first()
            )
            if attempt is not None and localization_attempt_rescore(attempt=attempt, case=case):
                changed += 1
        if done % PROGRESS_EVERY == 0 or done == total:
            inference_job_progress(
                job=job, done=done, total=total, message=f"Re-scored {done} of {total} attempts"
            )
    return {"case_id": case.pk, "attempts": total, "changed": changed}
