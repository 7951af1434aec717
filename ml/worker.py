"""Celery app for the ``scoring`` and ``gpu`` queues. Imports no Django.

Run: ``celery -A ml.worker worker -Q scoring`` (CPU, prefork) or, one worker per GPU,
``celery -A ml.worker worker -Q gpu --pool threads --concurrency 16``: the gpu worker runs its
tasks in threads of one process, so each model is loaded once (``ml.serving.registry``, on the
first job) and concurrent jobs meet in its batch collector to share one ``generate()`` call.
``--concurrency`` is how many jobs the worker holds at once; make it at least the batch size.

Every task takes ``(job_id, payload)``, runs the handler named in ``ml.contracts.TASKS`` and sends
the outcome back by name to the ``web`` queue. Delivery is at-least-once: messages are acknowledged
only after the outcome is sent (acks late; a prefork child that dies rejects its message back to
the queue), a worker process killed outright leaves its messages unacknowledged and the broker
hands them to another worker after the visibility timeout; the web side finishes a job only once,
so a redelivery never scores twice. The prefetch multiplier is 1: a worker reserves no more
messages than it has threads, so the jobs queued behind a busy GPU stay available to the others.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from typing import Any

from celery import Celery, Task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded

from .contracts import (
    RESULT_TASK,
    SCORING_QUEUE,
    TASKS,
    WEB_QUEUE,
    PermanentJobError,
    TaskSpec,
)

logger = logging.getLogger(__name__)

BROKER_URL = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or "memory://"
# How often one message may kill or lose its worker before the job is declared failed (a poison
# job would otherwise be redelivered for ever: Redis keeps no delivery count).
MAX_DELIVERIES = int(os.environ.get("RADGAME_MAX_DELIVERIES", "3"))
MAX_RETRIES = int(os.environ.get("RADGAME_TASK_MAX_RETRIES", "3"))
VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "900"))

app = Celery("radgame_ml", broker=BROKER_URL)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    worker_cancel_long_running_tasks_on_connection_loss=True,
    task_ignore_result=True,
    task_default_queue=SCORING_QUEUE,
    task_soft_time_limit=int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "240")),
    task_time_limit=int(os.environ.get("CELERY_TASK_TIME_LIMIT", "300")),
    # A deploy's SIGTERM (with REMAP_SIGTERM=SIGQUIT, docs/deploy.md): running jobs get this long
    # to finish, then the rest are cancelled and their messages go back to the queue at once.
    worker_soft_shutdown_timeout=float(os.environ.get("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", "30")),
    broker_connection_timeout=float(os.environ.get("CELERY_BROKER_CONNECTION_TIMEOUT", "2")),
    broker_connection_retry_on_startup=True,
    broker_transport_options={
        "visibility_timeout": VISIBILITY_TIMEOUT,
        "max_retries": 2,
        "unacked_restore_interval": int(os.environ.get("CELERY_UNACKED_RESTORE_INTERVAL", "10")),
        "unacked_restore_throttle": int(os.environ.get("CELERY_UNACKED_RESTORE_THROTTLE", "10")),
    },
    task_routes={name: {"queue": spec.queue} for name, spec in TASKS.items()},
)


def load_handler(spec: TaskSpec) -> Callable[[dict[str, Any]], dict[str, Any]]:
    module_name, function_name = spec.handler.split(":")
    return getattr(importlib.import_module(module_name), function_name)


def count_delivery(task_id: str) -> int:
    """Count deliveries of one message in the broker's Redis; 1 when the broker is not Redis."""
    if not BROKER_URL.startswith(("redis://", "rediss://")):
        return 1
    import redis

    client = redis.Redis.from_url(BROKER_URL, socket_timeout=2)
    key = f"radgame:deliveries:{task_id}"
    count = int(client.incr(key))
    client.expire(key, VISIBILITY_TIMEOUT * (MAX_DELIVERIES + 2))
    return count


def send_outcome(job_id: str, status: str, result: dict[str, Any] | None, error: str) -> None:
    app.send_task(RESULT_TASK, args=[job_id, status, result, error[:2000]], queue=WEB_QUEUE)


class JobTask(Task):
    """A job's task. Past the hard time limit (a handler that ignored the soft one), the pool kills
    the child and Celery, in the worker's main process, acknowledges the message and calls
    ``on_failure``: the job is failed here with its reason, at once. Without this the job stayed
    sent, and the sweeper re-sent it after its lease, to overrun and kill a child again, up to its
    attempt cap (about half an hour at the default limits), and failed it without saying why. If
    this report cannot be sent, that is still what happens."""

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        if not (isinstance(exc, TimeLimitExceeded) and args):
            return
        limit = f" ({exc.args[0]:g} s)" if exc.args else ""
        error = f"the job overran its hard time limit{limit} and its worker process was killed"
        try:
            send_outcome(str(args[0]), "failed", None, error)
        except Exception:
            # Raised here, it would stop the pool's timeout handling; the sweeper re-sends instead.
            logger.warning(
                "could not report job %s past its hard time limit", args[0], exc_info=True
            )


def _make_task(spec: TaskSpec) -> Task:
    @app.task(name=spec.name, bind=True, base=JobTask, max_retries=MAX_RETRIES, queue=spec.queue)
    def run(self: Task, job_id: str, payload: dict[str, Any]) -> None:
        deliveries = count_delivery(self.request.id)
        if deliveries > MAX_DELIVERIES:
            send_outcome(
                job_id, "failed", None, f"the worker died {deliveries - 1} times on this job"
            )
            return
        try:
            result = load_handler(spec)(payload)
        except PermanentJobError as exc:
            send_outcome(job_id, "failed", None, str(exc))
            return
        except SoftTimeLimitExceeded:
            send_outcome(job_id, "failed", None, "the job took longer than its time limit")
            return
        except Exception as exc:
            if self.request.retries >= MAX_RETRIES:
                logger.exception("job %s failed after %s retries", job_id, MAX_RETRIES)
                send_outcome(job_id, "failed", None, f"{type(exc).__name__}: {exc}")
                return
            # Exponential backoff with full jitter, well under the visibility timeout.
            countdown = min(60, 2**self.request.retries)
            raise self.retry(exc=exc, countdown=countdown) from exc
        send_outcome(job_id, "done", result, "")

    return run


# Defining the tasks registers them with the app.
registered_tasks = {name: _make_task(spec) for name, spec in TASKS.items()}
