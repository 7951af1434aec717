"""Writes of the Report exercise: drafts, submissions, and storing the scores that come back.

A submission is one transaction: the attempt row and the scoring job (the outbox) commit together,
so a submission is never left without its job, and the job is sent only once the attempt exists.
Everything the scorer needs (the reference, age, indication) is read here, on the server.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.db import IntegrityError, transaction

from apps.cases.models import Case, CaseSet, ReferenceReport
from apps.cases.selectors import case_answers
from apps.core.exceptions import ApplicationError
from apps.inference.models import Job, JobStatus
from apps.inference.services import inference_job_dispatch
from apps.progress.services import score_event_record
from ml.config import ConfigError, MLConfig
from ml.taxonomy import derived_vocabulary

from .models import AttemptStatus, ReportAttempt, ReportDraft, ReportScore, ScoreKind
from .text import clean_draft_text, clean_report_text

logger = logging.getLogger(__name__)

SCORE_TASK = "ml.report.score"
JUDGE_TASK = "ml.report.judge"
# Client-chosen keys: a UUID in practice; anything printable and short is accepted.
_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_SUBJECT = re.compile(r"^reporting\.attempt:(\d+)(?::.*)?$")
_NUMBER_RACE_RETRIES = 5


# ------------------------------------------------------------------------------------- drafts


def report_draft_save(*, user: Any, case: Case, text: str) -> ReportDraft:
    """Autosave: one draft per (user, case), overwritten on every save."""
    cleaned = clean_draft_text(text)
    draft, _ = ReportDraft.objects.update_or_create(
        user=user, case=case, defaults={"text": cleaned}
    )
    return draft


# ---------------------------------------------------------------------------------- submitting


def _check_key(idempotency_key: object) -> str:
    if not isinstance(idempotency_key, str) or not _KEY.match(idempotency_key):
        raise ApplicationError(
            "A submission needs an idempotency key: 8 to 64 letters, digits or . _ : -",
            field="idempotency_key",
        )
    return idempotency_key


def _existing(user: Any, key: str, case: Case) -> ReportAttempt | None:
    attempt = ReportAttempt.objects.filter(user=user, idempotency_key=key).first()
    if attempt is not None and attempt.case_id != case.pk:
        raise ApplicationError(
            "This idempotency key was already used for another case.", field="idempotency_key"
        )
    return attempt


def _score_payload(case: Case, reference: str, text: str, *, derived: bool) -> dict[str, Any]:
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


def report_attempt_submit(
    *, user: Any, case: Case, case_set: CaseSet | None, text: str, idempotency_key: str
) -> tuple[ReportAttempt, bool]:
    """Create the attempt and its scoring job; returns ``(attempt, created)``.

    Replaying a key returns the attempt it created (double clicks, two tabs, client retries,
    concurrent requests), whatever text the replay carries. The caller has checked that the user
    may play the case (``case_for_player``).
    """
    key = _check_key(idempotency_key)
    existing = _existing(user, key, case)
    if existing is not None:
        return existing, False
    cleaned = clean_report_text(text)
    answers = case_answers(case=case)
    if answers.report is None or not answers.report.findings.strip():
        raise ApplicationError("This case has no reference report, so it cannot be scored.")
    reference = answers.report.findings
    for _ in range(_NUMBER_RACE_RETRIES):
        try:
            with transaction.atomic():
                number = _next_attempt_no(user, case)
                attempt = ReportAttempt.objects.create(
                    user=user,
                    case=case,
                    case_set=case_set,
                    attempt_no=number,
                    idempotency_key=key,
                    text=cleaned,
                    reference_text=reference,
                )
                attempt.job = inference_job_dispatch(
                    kind=SCORE_TASK,
                    payload=_score_payload(
                        case, reference, cleaned, derived=answers.report.is_derived
                    ),
                    owner=user,
                    subject=attempt.ref,
                )
                attempt.save(update_fields=["job", "updated_at"])
                ReportDraft.objects.filter(user=user, case=case).delete()
                return attempt, True
        except IntegrityError:
            # Either the same key committed first (return that attempt) or another key took
            # this attempt number (count again).
            existing = _existing(user, key, case)
            if existing is not None:
                return existing, False
    raise ApplicationError("Too many submissions at once for this case; try again.")


def _next_attempt_no(user: Any, case: Case) -> int:
    last = (
        ReportAttempt.objects.filter(user=user, case=case)
        .order_by("-attempt_no")
        .values_list("attempt_no", flat=True)
        .first()
    )
    return (last or 0) + 1


def report_attempt_retry_scoring(*, attempt: ReportAttempt) -> ReportAttempt:
    """Send a failed attempt to the scorer again (a new job: the failed one stays on record)."""
    with transaction.atomic():
        attempt = ReportAttempt.objects.select_for_update().get(pk=attempt.pk)
        if effective_status(attempt) != AttemptStatus.FAILED:
            raise ApplicationError("Only an attempt whose scoring failed can be scored again.")
        attempt.scoring_runs += 1
        attempt.status = AttemptStatus.PENDING
        attempt.error = ""
        attempt.job = inference_job_dispatch(
            kind=SCORE_TASK,
            payload=_score_payload(
                attempt.case,
                attempt.reference_text,
                attempt.text,
                derived=ReferenceReport.objects.filter(
                    case_id=attempt.case_id, is_derived=True
                ).exists(),
            ),
            owner=attempt.user,
            subject=f"{attempt.ref}:run{attempt.scoring_runs}",
        )
        attempt.save(update_fields=["scoring_runs", "status", "error", "job", "updated_at"])
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


def _attempt_for(job: Job) -> ReportAttempt | None:
    match = _SUBJECT.match(job.subject or "")
    if match is None:
        logger.warning("report job %s has an unexpected subject %r", job.pk, job.subject)
        return None
    return (
        ReportAttempt.objects.select_for_update(of=("self",))
        .select_related("case", "case_set", "user")
        .filter(pk=int(match.group(1)))
        .first()
    )


def _bounded(value: Any, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(low, min(high, float(value)))


def report_score_store(*, job: Job) -> None:
    """Completion hook of ``ml.report.score`` (runs inside the job's finishing transaction).

    Idempotent: the score row is unique per (attempt, scorer version, kind) and the progress
    event per attempt, so a second call for the same result stores nothing new.
    """
    attempt = _attempt_for(job)
    if attempt is None or attempt.job_id != job.pk:
        return  # a job of an earlier scoring run: the current one decides
    if job.status != JobStatus.DONE:
        attempt.status = AttemptStatus.FAILED
        attempt.error = job.error or "The scorer failed without saying why."
        attempt.save(update_fields=["status", "error", "updated_at"])
        return
    result = job.result or {}
    if not isinstance(result.get("errors"), list) or "clinical_score" not in result:
        raise ValueError("the scorer's result has no clinical score or error list")
    clinical = _bounded(result.get("clinical_score"), -1.0, 1.0)
    percent = _bounded(result.get("clinical_percent"), 0.0, 100.0)
    if percent is None and clinical is not None:
        percent = 100.0 * max(0.0, clinical)
    ReportScore.objects.get_or_create(
        attempt=attempt,
        scorer_version=str(result.get("scorer_version") or "unknown")[:120],
        kind=ScoreKind.RULES,
        defaults={
            "result": result,
            "clinical_score": clinical,
            "clinical_percent": percent,
            "style_score": _bounded(result.get("style_score"), 0.0, 1.0),
        },
    )
    event = score_event_record(
        user=attempt.user,
        kind="report",
        case=attempt.case,
        attempt_ref=attempt.ref,
        score=(percent or 0.0) / 100.0,
        case_set=attempt.case_set,
        details={
            "attempt_no": attempt.attempt_no,
            "errors": len(result["errors"]),
            "style_score": result.get("style_score"),
        },
    )
    attempt.status = AttemptStatus.SCORED
    attempt.error = ""
    attempt.xp = event.xp
    if attempt.judge_job_id is None and judge_enabled():
        attempt.judge_job = inference_job_dispatch(
            kind=JUDGE_TASK,
            payload={
                "reference": attempt.reference_text,
                "candidate": attempt.text,
                "age": attempt.case.patient_age,
                "indication": attempt.case.indication or None,
            },
            owner=attempt.user,
            subject=f"{attempt.ref}:judge",
        )
    attempt.save(update_fields=["status", "error", "xp", "judge_job", "updated_at"])


def report_judge_store(*, job: Job) -> None:
    """Completion hook of ``ml.report.judge``: the second opinion is stored beside the rule-based
    score and never changes XP. A failed judge leaves the attempt scored; the page says so."""
    attempt = _attempt_for(job)
    if attempt is None or job.status != JobStatus.DONE:
        return
    result = job.result or {}
    version = f"{result.get('model_id') or 'unknown'}@{result.get('prompt_version') or '?'}"
    ReportScore.objects.get_or_create(
        attempt=attempt,
        scorer_version=version[:120],
        kind=ScoreKind.JUDGE,
        defaults={"result": result},
    )


def judge_enabled() -> bool:
    try:
        return MLConfig.from_env().judge != "none"
    except ConfigError:
        # A broken judge configuration must not stop rule-based scoring; say so in the log.
        logger.exception("the LLM judge configuration is invalid; the judge is skipped")
        return False


def on_score_finished(job: Job) -> None:
    report_score_store(job=job)


def on_judge_finished(job: Job) -> None:
    report_judge_store(job=job)
