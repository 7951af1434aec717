"""Writes of the Report exercise: drafts, submissions, and storing the scores that come back.

A submission is one transaction: the attempt row and the scoring job (the outbox) commit together,
so a submission is never left without its job, and the job is sent only once the attempt exists.
Everything the scorer needs (the reference, age, indication) is read here, on the server.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.db import transaction

from apps.cases.models import Case, CaseSet, ReferenceReport
from apps.cases.selectors import AnswerReport, case_answers
from apps.core.exceptions import ApplicationError
from apps.exercises.credit import attempt_credit, attempt_visible
from apps.exercises.hooks import attempt_recorded
from apps.exercises.keys import idempotency_key_parse
from apps.exercises.models import Delivery, ExerciseKind
from apps.exercises.services import AttemptStart, attempt_submit, delivery_open
from apps.inference.models import Job, JobStatus
from apps.inference.services import inference_job_dispatch
from ml.config import ConfigError, MLConfig
from ml.contracts import REPORT_JUDGE_TASK, REPORT_SCORE_TASK
from ml.taxonomy import derived_vocabulary

from .models import AttemptStatus, ReportAttempt, ReportDraft, ReportScore, ScoreKind
from .text import clean_draft_text, clean_report_text

logger = logging.getLogger(__name__)

_WORD = re.compile(r"[^\W\d_]{2,}")


# ------------------------------------------------------------------------------------- drafts


def report_draft_save(*, user: Any, case: Case, text: str) -> ReportDraft:
    """Autosave: one draft per (user, case), overwritten on every save."""
    cleaned = clean_draft_text(text)
    draft, _ = ReportDraft.objects.update_or_create(
        user=user, case=case, defaults={"text": cleaned}
    )
    return draft


# ---------------------------------------------------------------------------------- submitting


def report_score_payload(case: Case, reference: str, text: str, *, derived: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "reference": reference,
        "candidate": text,
        "age": case.patient_age,
        "indication": case.indication or None,
        # No case carries a prior study yet: any comparison with one is unsupported.
        "has_prior": False,
    }
    vocabulary = derived_vocabulary(case.source) if derived else None
    if vocabulary is not None:
        # A reference written from dataset labels cannot name a device or a finding the
        # dataset never labels; the scorer leaves those out rather than calling them false.
        payload["vocabulary"] = list(vocabulary)
    return payload


def report_delivery_open(*, user: Any, case: Case, case_set: CaseSet | None) -> Delivery:
    """The player's open Report delivery of ``case`` (the lifecycle's clock and key)."""
    return delivery_open(user=user, exercise=ExerciseKind.REPORT, case=case, case_set=case_set)


def report_text_blank(text: str) -> bool:
    """A text without a single word of two letters says nothing (and earns no XP)."""
    return _WORD.search(text) is None


def report_attempt_submit(
    *,
    user: Any,
    case: Case,
    case_set: CaseSet | None,
    text: str,
    idempotency_key: Any,
    report: AnswerReport | None = None,
) -> tuple[ReportAttempt, bool]:
    """Create the attempt and its scoring job through the shared lifecycle; returns
    ``(attempt, created)``.

    Replaying a key returns the attempt it created (double clicks, two tabs, client retries,
    concurrent requests), whatever text the replay carries. The caller has checked that the user
    may play the case (``case_for_player``); ``report`` is the case's reference report when the
    caller read it already (``selectors.report_case_and_reference``).
    """

    def prepare() -> tuple[str, str, bool]:
        cleaned = clean_report_text(text)
        found = report or case_answers(case=case, with_findings=False).report
        if found is None or not found.findings.strip():
            raise ApplicationError("This case has no reference report, so it cannot be scored.")
        return cleaned, found.findings, found.is_derived

    def store(start: AttemptStart, prepared: tuple[str, str, bool]) -> ReportAttempt:
        cleaned, reference, derived = prepared
        # The job first, so the attempt is written once with its link: the completion hook
        # finds the attempt by this foreign key, so the job needs no subject naming it.
        job = inference_job_dispatch(
            kind=REPORT_SCORE_TASK,
            payload=report_score_payload(case, reference, cleaned, derived=derived),
            owner=user,
            sealed=not start.visible,
        )
        attempt = ReportAttempt.objects.create(
            user=user,
            case=case,
            case_set=case_set,
            idempotency_key=key,
            **start.fields(),
            blank=report_text_blank(cleaned),
            text=cleaned,
            reference_text=reference,
            job=job,
        )
        ReportDraft.objects.filter(user=user, case=case).delete()
        return attempt

    key = idempotency_key_parse(idempotency_key)
    return attempt_submit(
        model=ReportAttempt,
        user=user,
        case=case,
        case_set=case_set,
        idempotency_key=key,
        prepare=prepare,
        store=store,
    )


def report_attempt_retry_scoring(*, attempt: ReportAttempt) -> ReportAttempt:
    """Send a failed attempt to the scorer again (a new job: the failed one stays on record)."""
    with transaction.atomic():
        attempt = ReportAttempt.objects.select_for_update().get(pk=attempt.pk)
        if effective_status(attempt) != AttemptStatus.FAILED:
            raise ApplicationError("Only an attempt whose scoring failed can be scored again.")
        attempt.scoring_runs += 1
        attempt.status = AttemptStatus.PENDING
        attempt.error = ""
        report = ReferenceReport.objects.filter(case_id=attempt.case_id).first()
        if report is not None and report.findings.strip():
            # An educator may have edited the reference since (a re-score passes a failed attempt
            # by): score against the current one, as the re-score does.
            attempt.reference_text = report.findings
        attempt.job = inference_job_dispatch(
            kind=REPORT_SCORE_TASK,
            payload=report_score_payload(
                attempt.case,
                attempt.reference_text,
                attempt.text,
                derived=report is not None and report.is_derived,
            ),
            owner=attempt.user,
            subject=f"{attempt.ref}:run{attempt.scoring_runs}",
            sealed=not attempt_visible(attempt=attempt),
        )
        attempt.save(
            update_fields=["scoring_runs", "status", "error", "job", "reference_text", "updated_at"]
        )
    return attempt


def effective_status(attempt: ReportAttempt) -> str:
    """The attempt's status, counting a failed job whose result could not be stored as failed
    (its completion hook rolled back, so the attempt row itself still says pending)."""
    if attempt.status == AttemptStatus.PENDING and attempt.job_id is not None:
        job = attempt.job
        if job is not None and job.status == JobStatus.FAILED:
            return AttemptStatus.FAILED
    return attempt.status


# ------------------------------------------------------------------------- completion hooks


def _attempt_for(job: Job, *, judge: bool = False) -> ReportAttempt | None:
    """The attempt this job scores, by its foreign key: only the attempt's current scoring job
    (or its judge job) finds it; a job of an earlier scoring run finds nothing."""
    link = {"judge_job": job} if judge else {"job": job}
    return (
        ReportAttempt.objects.select_for_update(of=("self",))
        .select_related("case", "case_set", "user")
        .filter(**link)
        .first()
    )


def _bounded(value: Any, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(low, min(high, float(value)))


def report_rules_score_write(*, attempt: ReportAttempt, job: Job) -> ReportScore | None:
    """The rule-based score row of a finished scoring job; None when the job already wrote it
    (the row is unique per job: a result stored twice is stored once)."""
    result = job.result or {}
    if not isinstance(result.get("errors"), list) or "clinical_score" not in result:
        raise ValueError("the scorer's result has no clinical score or error list")
    clinical = _bounded(result.get("clinical_score"), -1.0, 1.0)
    percent = _bounded(result.get("clinical_percent"), 0.0, 100.0)
    if percent is None and clinical is not None:
        percent = 100.0 * max(0.0, clinical)
    score, created = ReportScore.objects.get_or_create(
        job=job,
        defaults={
            "attempt": attempt,
            "scorer_version": str(result.get("scorer_version") or "unknown")[:120],
            "kind": ScoreKind.RULES,
            "result": result,
            "clinical_score": clinical,
            "clinical_percent": percent,
            "style_score": _bounded(result.get("style_score"), 0.0, 1.0),
        },
    )
    return score if created else None


def report_judge_dispatch(*, attempt: ReportAttempt, subject: str, visible: bool) -> Job:
    """The LLM judge's second opinion on an attempt against its ``reference_text``."""
    return inference_job_dispatch(
        kind=REPORT_JUDGE_TASK,
        payload={
            "reference": attempt.reference_text,
            "candidate": attempt.text,
            "age": attempt.case.patient_age,
            "indication": attempt.case.indication or None,
        },
        owner=attempt.user,
        subject=subject,
        sealed=not visible,
    )


def report_score_store(*, job: Job) -> ReportAttempt | None:
    """Completion hook of ``ml.report.score`` (runs inside the job's finishing transaction);
    returns the attempt when this call scored it.

    Idempotent: the score row is unique per job and the progress event per attempt, so a second
    call for the same result stores nothing new.
    """
    attempt = _attempt_for(job)
    if attempt is None:
        return None  # a job of an earlier scoring run (or a re-score's: rescore.py): not this one's
    if job.status != JobStatus.DONE:
        attempt.status = AttemptStatus.FAILED
        attempt.error = job.error or "The scorer failed without saying why."
        attempt.save(update_fields=["status", "error", "updated_at"])
        return None
    score = report_rules_score_write(attempt=attempt, job=job)
    if score is None:
        return None  # stored before
    attempt.score = (score.clinical_percent or 0.0) / 100.0
    attempt.status = AttemptStatus.SCORED
    attempt.error = ""
    visible = attempt_visible(attempt=attempt)
    if attempt.xp is None:  # a redelivered result does not credit twice
        attempt_credit(attempt=attempt, visible=visible)
    if attempt.judge_job_id is None and judge_enabled():
        attempt.judge_job = report_judge_dispatch(
            attempt=attempt, subject=f"{attempt.ref}:judge", visible=visible
        )
    attempt.save(update_fields=["score", "status", "error", "xp", "judge_job", "updated_at"])
    attempt_recorded(attempt=attempt)
    return attempt


def report_judge_store(*, job: Job) -> None:
    """Completion hook of ``ml.report.judge``: the second opinion is stored beside the rule-based
    score and never changes XP. A failed judge leaves the attempt scored; the page says so."""
    attempt = _attempt_for(job, judge=True)
    if attempt is None or job.status != JobStatus.DONE:
        return
    result = job.result or {}
    version = f"{result.get('model_id') or 'unknown'}@{result.get('prompt_version') or '?'}"
    ReportScore.objects.get_or_create(
        job=job,
        defaults={
            "attempt": attempt,
            "scorer_version": version[:120],
            "kind": ScoreKind.JUDGE,
            "result": result,
        },
    )


def judge_enabled() -> bool:
    try:
        return MLConfig.from_env().judge != "none"
    except ConfigError:
        # A broken judge configuration must not stop rule-based scoring; say so in the log.
        logger.exception("the LLM judge configuration is invalid; the judge is skipped")
        return False


def on_judge_finished(job: Job) -> None:
    report_judge_store(job=job)
