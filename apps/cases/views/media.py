"""Serving case images: only through this view, which checks who may see them.

Images hold no answers, so they may be cached privately for an hour. The Content-Type is fixed by
the stored file's kind (we chose its name), never guessed from its bytes; nothing about the
original file name, the patient or the source reaches the headers.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from csp.constants import NONE
from csp.decorators import csp
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from apps.accounts.permissions import player_required
from apps.cases import selectors
from apps.cases.models import CaseImage

# Stored names get these suffixes from the services; anything else is not served.
CONTENT_TYPES = {
    ".webp": "image/webp",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".dcm": "application/dicom",
}
PLAYER_VARIANTS = ("display", "pixels16")
MANAGER_VARIANTS = ("original",)


def _file_for(image: CaseImage, variant: str):  # type: ignore[no-untyped-def]
    stored = getattr(image, variant)
    if not stored or not stored.name:
        raise Http404("No such image")
    suffix = PurePosixPath(stored.name).suffix.lower()
    content_type = CONTENT_TYPES.get(suffix)
    if content_type is None:
        raise Http404("No such image")
    return stored, suffix, content_type


@player_required
@require_GET
@csp({"default-src": [NONE], "sandbox": True})
def case_image(request: HttpRequest, image_id: int, variant: str) -> FileResponse:
    if variant in PLAYER_VARIANTS:
        image = selectors.image_for_viewer(user=request.user, image_id=image_id)
    elif variant in MANAGER_VARIANTS:
        image = selectors.case_image_for_manager(actor=request.user, image_id=image_id)
    else:
        raise Http404("No such image variant")
    stored, suffix, content_type = _file_for(image, variant)
    try:
        handle = stored.open("rb")
    except FileNotFoundError:
        raise Http404("No such image") from None
    download = variant == "original"
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=download,
        filename=f"case-image-{image.pk}{suffix}" if download else None,
    )
    if not download and "Content-Disposition" in response:
        # FileResponse names inline files after the stored file; the name tells nobody anything
        # useful, but nothing about storage belongs in a header.
        del response["Content-Disposition"]
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
