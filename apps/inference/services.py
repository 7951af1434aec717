"""Send jobs to workers (or run them in-process), finish them exactly once, re-send lost ones."""

from __future__ import annotations

import importlib
import logging
import uuid
from datetime import timedelta
from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from apps.core.compiled import compiled_update
from apps.core.exceptions import ApplicationError
from ml.contracts import WEB_JOB_TASK, WEB_QUEUE, PermanentJobError, UnknownTaskError, spec_for

from .models import FINAL_STATUSES, Job, JobStatus
from .public import PUBLIC_MODEL_FIELDS, job_frame, job_public
from .registry import WEB_KIND_PREFIX, hooks_for, web_handler_for

logger = logging.getLogger(__name__)

# A job still pending this long after it was created lost its publish (broker down, process died
# between commit and publish): the sweeper sends it.
PENDING_GRACE = timedelta(seconds=30)


def user_group(user_id: int) -> str:
    return f"user-{user_id}"


def inference_job_dispatch(
    *,
    kind: str,
    payload: dict[str, Any],
    owner: Any = None,
    subject: str = "",
    subject_is_new: bool = False,
    sealed: bool = False,
    job_id: uuid.UUID | None = None,
) -> Job:
    """Record a job in the caller's transaction and send it once that transaction commits.

    The row is the outbox: if the publish fails after commit, the job stays pending and the sweeper
    sends it later. A second dispatch for the same (kind, subject) returns the first job.
    ``subject_is_new=True`` says the subject names a row the caller created in this transaction,
    so no job can have it yet and the look-up is skipped (the unique constraint still stands).
    ``sealed=True`` holds the job back from its owner until ``inference_jobs_unseal``.
    ``job_id`` (from ``job_id_new``) lets a caller write the row that links to the job first, in
    the same transaction (foreign keys are checked at commit).
    """
    if kind.startswith(WEB_KIND_PREFIX):
        if web_handler_for(kind) is None:
            raise ApplicationError(f"Unknown web job {kind!r}")
    else:
        try:
            spec_for(kind)
        except UnknownTaskError as exc:
            raise ApplicationError(str(exc)) from exc
    if subject and not subject_is_new:
        existing = Job.objects.filter(kind=kind, subject=subject).first()
        if existing is not None:
            return existing
    job = Job.objects.create(
        id=job_id or uuid.uuid4(),
        owner=owner,
        kind=kind,
        subject=subject,
        request=payload,
        sealed=sealed,
    )

    # The publish gets the row as written: nothing else can have finished a job that was not
    # committed yet, so reading it back after the commit would only cost the request a query.
    # A named function, not a functools.partial: when a robust callback raises, Django logs it
    # by its __qualname__, and a partial has none, so the error escaped as a 500 after the commit
    # (found by tests/inference/test_chaos.py: pg_terminate_backend between commit and publish).
    def send_after_commit() -> None:
        job_send(job.pk, job)

    transaction.on_commit(send_after_commit, robust=True)
    return job


def job_id_new() -> uuid.UUID:
    """A job's id before its row is written (see ``inference_job_dispatch``'s ``job_id``)."""
    return uuid.uuid4()


def job_send(job_id: Any, job: Job | None = None) -> None:
    if settings.RADGAME_JOBS == "inprocess":
        job_run_inprocess(job_id)
    else:
        job_publish(job_id, job)


def _sent(job_id: Any, now: Any) -> tuple[Any, dict[str, Any]]:
    jobs = Job.objects.filter(pk=job_id).exclude(status__in=FINAL_STATUSES)
    return jobs, {"status": JobStatus.SENT, "sent_at": now, "attempts": F("attempts") + 1}


def _mark_sent(job_id: Any) -> int:
    # After every submit's publish: its SQL is compiled once per process (apps.core.compiled).
    key = job_id if isinstance(job_id, uuid.UUID) else uuid.UUID(str(job_id))
    return compiled_update("inference._mark_sent", _sent, {"job_id": key, "now": timezone.now()})


def job_publish(job_id: Any, job: Job | None = None) -> bool:
    """Publish to the job's queue. Publish first, mark sent second: a crash in between leaves the
    job pending, and a duplicate send is harmless because finishing is idempotent. ``job`` is the
    row just committed by ``inference_job_dispatch`` (the sweeper passes none: it is read)."""
    from celery import current_app as app

    if job is None:
        job = Job.objects.filter(pk=job_id).exclude(status__in=FINAL_STATUSES).first()
    if job is None:
        return False
    try:
        if job.kind.startswith(WEB_KIND_PREFIX):
            app.send_task(WEB_JOB_TASK, args=[str(job.pk)], queue=WEB_QUEUE)
        else:
            app.send_task(job.kind, args=[str(job.pk), job.request], queue=spec_for(job.kind).queue)
    except Exception:
        logger.warning(
            "publishing job %s failed; the sweeper will resend it", job_id, exc_info=True
        )
        return False
    _mark_sent(job_id)
    return True


def job_run_inprocess(job_id: Any) -> None:
    """The embedded default: run the handler here, through the same finish path as a worker."""
    job = Job.objects.filter(pk=job_id).exclude(status__in=FINAL_STATUSES).first()
    if job is None:
        return
    _mark_sent(job_id)
    try:
        result = _run_handler(job)
    except PermanentJobError as exc:
        inference_job_finish(job_id=job_id, status=JobStatus.FAILED, result=None, error=str(exc))
        return
    except Exception as exc:
        logger.exception("in-process job %s failed", job_id)
        if job.attempts + 1 >= settings.RADGAME_JOB_MAX_ATTEMPTS:
            error = f"{type(exc).__name__}: {exc}"
            inference_job_finish(job_id=job_id, status=JobStatus.FAILED, result=None, error=error)
        return  # left as sent: the sweeper retries it after the lease
    if result is None:
        return  # a web job that waits for jobs it sent: the last of them finishes it
    inference_job_finish(job_id=job_id, status=JobStatus.DONE, result=result, error="")


def _run_handler(job: Job) -> dict[str, Any] | None:
    if job.kind.startswith(WEB_KIND_PREFIX):
        web_handler = web_handler_for(job.kind)
        if web_handler is None:
            raise PermanentJobError(f"no handler for {job.kind}")
        return web_handler(job)
    module_name, function_name = spec_for(job.kind).handler.split(":")
    handler = getattr(importlib.import_module(module_name), function_name)
    return handler(job.request)


def inference_job_progress(
    *, job: Job, done: int, total: int, message: str = "", counts: dict[str, int] | None = None
) -> None:
    """Record progress of a running web job and tell its owner's pages once it is committed
    (at once outside a transaction; at the commit of the caller's, so a page that refetches on the
    push never reads the row before it).

    Progress is a heartbeat: a sent job that reports it is alive, so its lease starts again and
    the sweeper does not send it a second time while it works (or while the jobs it waits for
    do). ``counts`` are the job's own tallies, kept beside the bar."""
    job.progress = {"done": done, "total": total, "message": message[:200], **(counts or {})}
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        progress=job.progress,
        updated_at=now,
        sent_at=Case(When(status=JobStatus.SENT, then=Value(now)), default=F("sent_at")),
    )
    transaction.on_commit(partial(push_job_update, job))


def inference_job_finish(
    *, job_id: Any, status: str, result: dict[str, Any] | None, error: str
) -> Job | None:
    """Finish a job exactly once. Returns None when it was already final (a redelivery)."""
    if status not in (JobStatus.DONE, JobStatus.FAILED):
        raise ApplicationError(f"Unknown job status {status!r}")
    now = timezone.now()
    with transaction.atomic():
        updated = (
            Job.objects.filter(pk=job_id)
            .exclude(status__in=FINAL_STATUSES)
            .update(status=status, result=result, error=error[:2000], finished_at=now)
        )
        if not updated:
            return None
        job = Job.objects.get(pk=job_id)
        try:
            with transaction.atomic():
                for hook in hooks_for(job.kind):
                    hook(job)
        except Exception as exc:
            # A result its owner cannot store is a failed job, not a message to redeliver for ever.
            logger.exception("storing the result of job %s failed", job_id)
            job.status = JobStatus.FAILED
            job.error = f"the result could not be stored: {type(exc).__name__}: {exc}"[:2000]
            job.save(update_fields=["status", "error", "updated_at"])
        transaction.on_commit(partial(push_job_update, job))
    return job


def inference_jobs_unseal(*, job_ids: list[Any]) -> None:
    """Show held-back jobs to their owners, and tell their open pages about the finished ones."""
    if not job_ids:
        return
    jobs = list(Job.objects.filter(pk__in=job_ids, sealed=True).only(*PUBLIC_MODEL_FIELDS, "owner"))
    Job.objects.filter(pk__in=[job.pk for job in jobs]).update(sealed=False)
    for job in jobs:
        job.sealed = False
        if job.status in FINAL_STATUSES:
            transaction.on_commit(partial(push_job_update, job))


def push_job_update(job: Job) -> None:
    """Tell the owner's open pages; a hint only (the pages also poll), so failures are logged.
    The one websocket push of the code, called only from ``transaction.on_commit`` (R11, checked
    by tests/inference/test_push_after_commit.py).

    The frame is built from the job's public view, so nothing of its request can ride along. A
    sealed job (an answer of an open assessment) is not announced at all.
    """
    if job.owner_id is None or job.sealed:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "job.update", "frame": job_frame(job_public(job, include_result=False))}
    try:
        async_to_sync(layer.group_send)(user_group(job.owner_id), message)
    except Exception:
        logger.warning("push for job %s failed", job.pk, exc_info=True)


def push_session_end(user_id: int) -> None:
    """Close the user's open sockets (their consumers close on this event); a second of the code's
    pushes, called only from ``transaction.on_commit`` like ``push_job_update``."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user_id), {"type": "session.end"})
    except Exception:
        logger.warning("closing the sockets of user %s failed", user_id, exc_info=True)


def close_sockets_of_ended_sessions(sender: Any, instance: Any, **kwargs: Any) -> None:
    """post_save of a user: a deactivated one, or one whose password changed, keeps no open socket
    (RELIABILITY S14). Neither can reconnect: the consumer refuses inactive users, and Django no
    longer finds a user in a session signed with the old password (the changing session was
    re-signed by ``update_session_auth_hash``; its own sockets close too and reconnect with the
    next page, as the tab that changed the password has moved on to another page anyway).

    Every way of changing a password (the page, a reset, the admin, ``set_password`` then save)
    saves the user after ``set_password``, which keeps the new raw password in ``_password`` until
    that save has run: the post_save of a password change is the one that sees it set.
    """
    if kwargs.get("created"):
        return  # a new user has no socket yet
    if not instance.is_active or getattr(instance, "_password", None) is not None:
        transaction.on_commit(partial(push_session_end, instance.pk))


def inference_jobs_sweep(*, now: Any = None, limit: int = 500) -> dict[str, int]:
    """Re-send jobs whose message was lost; fail those that used up their attempts."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.RADGAME_JOB_LEASE_SECONDS)
    stale = Q(status=JobStatus.PENDING, created_at__lt=now - PENDING_GRACE) | Q(
        status=JobStatus.SENT, sent_at__lt=now - lease
    )
    with transaction.atomic():
        rows = list(
            Job.objects.select_for_update(skip_locked=True)
            .filter(stale)
            .order_by("created_at")
            .values_list("pk", "attempts")[:limit]
        )
    counts = {"resent": 0, "failed": 0}
    for job_id, attempts in rows:
        if attempts >= settings.RADGAME_JOB_MAX_ATTEMPTS:
            error = f"no worker finished this job after {attempts} attempts"
            if inference_job_finish(
                job_id=job_id, status=JobStatus.FAILED, result=None, error=error
            ):
                counts["failed"] += 1
        else:
            job_send(job_id)
            counts["resent"] += 1
    return counts
