"""Imports started from the educator's import page: the upload (a zip, or a single JSON/CSV/DICOM
file) is unpacked safely into a private work folder and imported by ``web.cases.import``, whose
progress the page shows live."""

from __future__ import annotations

import shutil
import time
import zipfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.accounts.permissions import require_educator
from apps.cases.importers import FORMATS, ImportFailed, import_path
from apps.cases.services.storage import UPLOAD_DIR, upload_path, upload_save
from apps.cases.services.uploads import check_upload_size, safe_suffix
from apps.cases.services.web_jobs import upload_job_run
from apps.core.exceptions import ApplicationError
from apps.inference.models import Job
from apps.inference.services import inference_job_dispatch, inference_job_progress

IMPORT_JOB = "web.cases.import"
PROGRESS_EVERY_SECONDS = 0.5


def case_import_start(
    *,
    actor: Any,
    uploaded: Any,
    format_name: str,
    case_set_name: str = "",
    publish: bool = False,
    allow_non_chest: bool = False,
) -> Job:
    require_educator(actor)
    if format_name not in FORMATS:
        raise ApplicationError(f"Unknown format {format_name!r}.", field="format")
    check_upload_size(getattr(uploaded, "size", None))
    name = upload_save(uploaded)
    with transaction.atomic():
        return inference_job_dispatch(
            kind=IMPORT_JOB,
            payload={
                "upload": name,
                "format": format_name,
                "case_set": " ".join((case_set_name or "").split())[:200],
                "publish": bool(publish),
                "allow_non_chest": bool(allow_non_chest),
                "suffix": safe_suffix(getattr(uploaded, "name", "")),
            },
            owner=actor,
            subject=f"cases.import:{name}",
        )


def _import_root(upload: Path, suffix: str, workdir: Path) -> Path:
    """A zip is imported as is (``import_path`` unpacks it safely); a single file is copied under
    its own extension, since the upload area names every file ``.upload``."""
    if zipfile.is_zipfile(upload):
        return upload
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / f"upload{suffix or '.bin'}"
    shutil.copyfile(upload, target)
    return workdir


def import_job(job: Job) -> dict[str, Any]:
    payload = job.request
    name = payload.get("upload", "")
    workdir = Path(settings.MEDIA_ROOT) / UPLOAD_DIR / f"work-{job.pk}"
    last = [0.0]

    def progress(done: int, total: int, message: str) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= PROGRESS_EVERY_SECONDS:
            last[0] = now
            inference_job_progress(job=job, done=done, total=total, message=f"Imported {message}")

    def work() -> dict[str, Any]:
        inference_job_progress(job=job, done=0, total=0, message="Unpacking the upload")
        root = _import_root(Path(upload_path(name)), payload.get("suffix", ""), workdir)
        summary = import_path(
            payload["format"],
            root,
            owner=job.owner,
            case_set_name=payload.get("case_set") or None,
            publish=bool(payload.get("publish")),
            allow_non_chest=bool(payload.get("allow_non_chest")),
            progress=progress,
        )
        return {"status": "done", "summary": summary.as_dict()}

    try:
        return upload_job_run(
            job_id=job.pk,
            upload=name,
            work=work,
            refusals=(ImportFailed,),
            internal_error="The import stopped because of an internal error (it has been logged).",
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
