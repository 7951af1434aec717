"""Re-scoring every Report attempt of a case after an educator edits its reference report.

Saving a changed reference (its findings section, the part that is scored) dispatches one web job
per case through apps.exercises.rescore, the machinery Localize uses: it walks the case's scored
attempts and sends each to the scorer again, an ``ml.report.score`` job on the ``scoring`` queue
with the attempt's own text and the new reference. As each score is stored the educator's progress
bar moves; the last one finishes the re-score.

Storing a re-score: every score stays a ``ReportScore`` row (one per job, so a result stored twice
is stored once); the attempt takes the new score and the reference it was scored against, and when
the new score differs from the one the resident saw, keeps that one (``previous_score``) and when
it changed (``rescored_at``) for the result page. An attempt in an assessment whose results are not
released is re-scored too, its job sealed like its first one: the resident sees only the new
score, at release. XP is not changed, as in Localize: it rewarded the answer as scored then
(DESIGN.md: XP is awarded when the score is stored); the ledger's score follows, so accuracy reads
the new one. A held-back attempt has no XP yet: the release credits it from the new score.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from apps.cases.models import Case, ReferenceReport
from apps.cases.registry import on_report_changed
from apps.exercises.credit import attempt_visible
from apps.exercises.hooks import attempt_recorded
from apps.exercises.rescore import Rescorer, rescore_child_finished, rescore_child_subject
from apps.inference.models import Job, JobStatus
from apps.inference.services import inference_job_dispatch
from apps.progress.services import score_event_rescore
from ml.contracts import REPORT_SCORE_TASK

from .models import AttemptStatus, ReportAttempt
from .services import (
    judge_enabled,
    report_judge_dispatch,
    report_rules_score_write,
    report_score_payload,
    report_score_store,
)

RESCORE_JOB = "web.reporting.rescore"
RESCORE_SUBJECT = "reporting.rescore:"
_SAME = 1e-9


def _reference(case: Case) -> ReferenceReport | None:
    # The case is the re-score job's own row, read once: every attempt meets the same reference.
    try:
        return case.report  # type: ignore[attr-defined]
    except ReferenceReport.DoesNotExist:
        return None


def report_attempt_rescore_send(*, attempt: ReportAttempt, case: Case, job: Job) -> bool | Job:
    """Send ``attempt`` to the scorer against ``case``'s current reference (under the attempt's
    lock); False when the case has no reference left to score against."""
    report = _reference(case)
    if report is None or not report.findings.strip():
        return False
    return _send(attempt, case, report, rescore_child_subject(job=job, attempt=attempt))


def _send(attempt: ReportAttempt, case: Case, report: ReferenceReport, subject: str) -> Job:
    child = inference_job_dispatch(
        kind=REPORT_SCORE_TASK,
        payload=report_score_payload(
            case, report.findings, attempt.text, derived=report.is_derived
        ),
        owner=attempt.user,
        subject=subject,
        sealed=not attempt_visible(attempt=attempt),
    )
    if not child.is_final:  # a second run of the re-score meets its first run's jobs
        attempt.rescore_job = child
        attempt.save(update_fields=["rescore_job", "updated_at"])
    return child


def _catch_up(attempt: ReportAttempt, job: Job) -> None:
    """``attempt``'s first score was just stored by ``job``, against a reference an educator may
    have edited since the submit (the re-score of that edit passed the attempt by, still
    pending): then score it once more, against the current reference. Not part of the edit's
    progress: that job did not count it."""
    report = ReferenceReport.objects.filter(case_id=attempt.case_id).first()
    if report is None or not report.findings.strip() or report.findings == attempt.reference_text:
        return
    _send(
        attempt,
        attempt.case,
        report,
        f"{RESCORE_SUBJECT}{attempt.case_id}:late:{job.pk}/{attempt.pk}",
    )


def report_rescore_store(*, job: Job) -> None:
    """Completion hook of a re-score's ``ml.report.score`` job, in its finishing transaction."""
    rescore_child_finished(job=job, changed=_apply(job))


def _apply(job: Job) -> bool:
    """Store the re-score; True when the attempt's score changed."""
    attempt = (
        ReportAttempt.objects.select_for_update(of=("self",))
        .select_related("case", "case_set", "user")
        .filter(rescore_job=job)
        .first()
    )
    if attempt is None or job.status != JobStatus.DONE:
        return False  # a later re-score replaced this one, or the scorer failed: the score stands
    score = report_rules_score_write(attempt=attempt, job=job)
    if score is None:
        return False  # stored before: a result is applied once
    before, new = attempt.score, (score.clinical_percent or 0.0) / 100.0
    changed = before is None or abs(new - before) > _SAME
    visible = attempt_visible(attempt=attempt)
    if visible and changed:
        # The first score the resident saw stays the "before" across several edits.
        seen = attempt.previous_score if attempt.previous_score is not None else before
        if seen is not None and abs(new - seen) > _SAME:
            attempt.previous_score, attempt.rescored_at = seen, timezone.now()
        else:
            attempt.previous_score, attempt.rescored_at = None, None  # back to what they saw
    attempt.score = new
    attempt.reference_text = str(job.request.get("reference", attempt.reference_text))
    if changed and attempt.xp is not None:
        score_event_rescore(attempt_ref=attempt.ref, score=new)
    if judge_enabled():  # the second opinion read the old reference: ask again
        attempt.judge_job = report_judge_dispatch(
            attempt=attempt, subject=f"{attempt.ref}:judge:{job.pk}", visible=visible
        )
    attempt.save(
        update_fields=[
            "score",
            "reference_text",
            "previous_score",
            "rescored_at",
            "judge_job",
            "updated_at",
        ]
    )
    attempt_recorded(attempt=attempt)  # summaries of the attempt rows (apps.analytics) follow
    return changed


def on_score_finished(job: Job) -> None:
    """Completion hook of every ``ml.report.score`` job: a re-score's, or a submit's."""
    if job.subject.startswith(RESCORE_SUBJECT):
        report_rescore_store(job=job)
    else:
        attempt = report_score_store(job=job)
        if attempt is not None:
            _catch_up(attempt, job)


RESCORER = Rescorer(
    job_kind=RESCORE_JOB,
    subject=RESCORE_SUBJECT,
    attempt_model=ReportAttempt,
    rescore=lambda attempt, case, job: report_attempt_rescore_send(
        attempt=attempt, case=case, job=job
    ),
    # A pending attempt is scored again when its first score arrives, if the reference changed
    # meanwhile (_catch_up); a failed one is scored against the current reference when retried.
    attempts=Q(status=AttemptStatus.SCORED),
    listen=on_report_changed,
)
