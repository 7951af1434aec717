"""Creating a case from an uploaded image, or adding a view to a case: save the upload, then
parse it in a job.

The view only stores the bytes (in the private upload area) and dispatches
``web.cases.ingest_upload``; decoding, de-identification and rendering happen in the job, on the
web queue or in-process. The job never raises: every failure becomes a rejection with a message
for the educator, shown on the upload's status page.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.accounts.permissions import require_case_editor, require_educator
from apps.cases.imaging import ImageRejected, ingest_image
from apps.cases.models import Case
from apps.core.exceptions import ApplicationError
from apps.inference.models import Job
from apps.inference.services import inference_job_dispatch, inference_job_progress

from .cases import case_create
from .images import case_image_add, image_read_ocr, projection_name
from .storage import files_removed_on_error, upload_read, upload_save
from .web_jobs import upload_job_run

INGEST_JOB = "web.cases.ingest_upload"
UPLOAD_SOURCE = "upload"
SAFE_SUFFIXES = {".dcm", ".dicom", ".png", ".jpg", ".jpeg", ".zip", ".json", ".csv", ".txt"}


def safe_suffix(filename: str) -> str:
    """The upload's extension if it is one we know; the rest of the name (often a patient's
    name or record number) is never stored."""
    suffix = PurePath(filename or "").suffix.lower()
    return suffix if suffix in SAFE_SUFFIXES else ""


def check_upload_size(size: int | None) -> None:
    limit = settings.RADGAME_MAX_UPLOAD_BYTES
    if size is None or size <= 0:
        raise ApplicationError("The file is empty.", field="file")
    if size > limit:
        raise ApplicationError(
            f"The file is {size / 1048576:.1f} MiB; the limit is {limit / 1048576:.0f} MiB.",
            field="file",
        )


def case_upload_start(
    *,
    actor: Any,
    uploaded: Any,
    title: str = "",
    allow_non_chest: bool = False,
    case: Case | None = None,
    projection: str = "",
) -> Job:
    """Keep the upload and dispatch its parsing; returns the job the educator watches. With
    ``case``, the image becomes that case's next view (named ``projection``), not a new case."""
    require_educator(actor)
    if case is not None:
        require_case_editor(actor, case)
    if projection_name(projection) is None:
        raise ApplicationError("Unknown view name.", field="projection")
    check_upload_size(getattr(uploaded, "size", None))
    title = " ".join((title or "").split())[:200]
    name = upload_save(uploaded)
    with transaction.atomic():
        return inference_job_dispatch(
            kind=INGEST_JOB,
            payload={
                "upload": name,
                "title": title,
                "allow_non_chest": bool(allow_non_chest),
                "suffix": safe_suffix(getattr(uploaded, "name", "")),
                "case_id": case.pk if case is not None else None,
                "projection": projection_name(projection) or "",
            },
            owner=actor,
            subject=f"cases.upload:{name}",
        )


def _view_added(job: Job, ingested: Any, data: bytes) -> dict[str, Any]:
    """Add the ingested image to the job's case as its next view; a redelivered job (or the same
    file uploaded twice) finds the view already there."""
    payload = job.request
    case = Case.objects.filter(pk=payload["case_id"]).first()
    if case is None:
        raise ApplicationError("The case was deleted before the view could be added.")
    if not case.images.filter(sha256=ingested.sha256).exists():
        with files_removed_on_error(), transaction.atomic():
            case_image_add(
                actor=job.owner,
                case=case,
                ingested=ingested,
                source=data,
                projection=payload.get("projection", ""),
            )
    return {
        "status": "created",
        "case_id": case.pk,
        "view_added": True,
        "warnings": ingested.warnings[:20],
    }


def ingest_upload_job(job: Job) -> dict[str, Any]:
    payload = job.request
    name = payload.get("upload", "")

    def work() -> dict[str, Any]:
        # A redelivered job finds the case it already made (idempotent on the job id).
        existing = Case.objects.filter(source=UPLOAD_SOURCE, external_id=str(job.pk)).first()
        if existing is not None:
            return {"status": "created", "case_id": existing.pk, "warnings": []}
        inference_job_progress(job=job, done=0, total=2, message="Reading the image")
        data = upload_read(name)
        ingested = ingest_image(
            data,
            filename=f"upload{payload.get('suffix', '')}",
            allow_non_chest=bool(payload.get("allow_non_chest")),
            max_bytes=settings.RADGAME_MAX_UPLOAD_BYTES,
        )
        ingested = image_read_ocr(ingested)  # before the transaction: no lock waits on tesseract
        inference_job_progress(job=job, done=1, total=2, message="Storing the case")
        if payload.get("case_id") is not None:
            return _view_added(job, ingested, data)
        with files_removed_on_error(), transaction.atomic():
            case = case_create(
                actor=job.owner,
                title=payload.get("title") or f"Uploaded case {job.created_at:%Y-%m-%d %H:%M}",
                source=UPLOAD_SOURCE,
                external_id=str(job.pk),
            )
            case_image_add(actor=job.owner, case=case, ingested=ingested, source=data)
        return {"status": "created", "case_id": case.pk, "warnings": ingested.warnings[:20]}

    return upload_job_run(
        job_id=job.pk,
        upload=name,
        work=work,
        refusals=(ImageRejected,),
        internal_error=(
            "The upload could not be processed because of an internal error (it has been logged). "
            "Try again, or ask an administrator."
        ),
    )
