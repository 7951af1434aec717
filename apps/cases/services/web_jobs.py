"""The one error ladder of the web jobs that work on an upload (a single image, an import).

Whatever goes wrong becomes a ``{"status": "rejected", "message": ...}`` the educator can read: the
job's own refusal (an image or an archive rejected), a domain error, an upload that vanished, or
an internal error (logged, never shown). The upload is discarded in every case.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apps.cases.services.scanning import upload_scan
from apps.cases.services.storage import upload_discard, upload_path
from apps.core.exceptions import ApplicationError

logger = logging.getLogger(__name__)

UPLOAD_GONE = "The uploaded file is no longer available; upload it again."


def rejected(message: str) -> dict[str, Any]:
    return {"status": "rejected", "message": message}


def upload_job_run(
    *,
    job_id: Any,
    upload: str,
    work: Callable[[], dict[str, Any]],
    refusals: tuple[type[Exception], ...],
    internal_error: str,
) -> dict[str, Any]:
    """Scan the upload for malware, then run ``work`` (the job's result), turning every failure
    into a rejection in words."""
    try:
        upload_scan(Path(upload_path(upload)))
        result = work()
    except refusals as exc:
        result = rejected(str(exc))
    except ApplicationError as exc:
        result = rejected(exc.message)
    except FileNotFoundError:
        result = rejected(UPLOAD_GONE)
    except Exception:
        logger.exception("web job %s failed", job_id)
        result = rejected(internal_error)
    try:
        upload_discard(upload)
    except (OSError, ValueError):
        logger.warning("could not remove upload %s", upload)
    return result
