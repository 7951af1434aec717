"""The only shape of a job that leaves the server: built field by field from an allow-list.

A job's ``request`` is what the worker needs to do its work: for scoring and explanation jobs that
is the reference report text and the ground-truth boxes. It must never reach a browser, so nothing
public is built from a ``Job`` directly: every serializer, page and websocket frame takes a
``PublicJob``, which has no field for the request and is made only by ``job_public``. A field added
to the model stays private until someone adds it here on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal, TypedDict

from .models import FINAL_STATUSES, Job, JobStatus


@dataclass(frozen=True, slots=True)
class PublicJob:
    id: str
    kind: str
    status: str
    status_display: str
    is_final: bool
    attempts: int
    error: str
    progress: dict[str, Any]
    # None when the job is not done or when the owning app withholds it (``include_result=False``).
    result: dict[str, Any] | None
    created_at: datetime
    finished_at: datetime | None


PUBLIC_JOB_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PublicJob))
# The model columns a public view reads: load only these where a job is loaded only to be shown.
PUBLIC_MODEL_FIELDS: tuple[str, ...] = (
    "id",
    "kind",
    "status",
    "attempts",
    "error",
    "progress",
    "result",
    "created_at",
    "finished_at",
)


def job_public(job: Job, *, include_result: bool = True) -> PublicJob:
    status = str(job.status)
    return PublicJob(
        id=str(job.pk),
        kind=job.kind,
        status=status,
        status_display=str(JobStatus(status).label) if status in JobStatus.values else status,
        is_final=status in FINAL_STATUSES,
        attempts=job.attempts,
        error=job.error,
        progress=dict(job.progress or {}),
        result=job.result if include_result and status == JobStatus.DONE else None,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


class JobFrame(TypedDict):
    """What the job websocket sends: which job changed and its status; the page re-fetches."""

    type: Literal["job"]
    job: str
    status: str


def job_frame(job: PublicJob) -> JobFrame:
    return {"type": "job", "job": job.id, "status": job.status}
