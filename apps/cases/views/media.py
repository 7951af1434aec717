"""Serving case images: only through this view, which checks who may see them.

Images hold no answers, so they may be cached privately for an hour. The Content-Type is fixed by
the stored file's kind (we chose its name), never guessed from its bytes; nothing about the
original file name, the patient or the source reaches the headers.

Stored files are never rewritten: every upload gets a fresh random name. So each response carries
a strong ETag made from the stored name and size (hashed: storage names stay out of headers), and
a client that sends it back in If-None-Match gets a 304, but only after the same permission check
as a 200.

The player's variants (display, pixels16) are bounded-size derivatives, sent as one bytes body:
the ASGI server sends a complete response from the event loop, where a FileResponse was a
streaming one, each block a send from the request's thread (and, under Django's own ASGI handler,
a "synchronous iterators" warning and a whole-file read anyway). The manager's original (an
upload, up to RADGAME_MAX_UPLOAD_BYTES) stays a FileResponse: it streams from the request's
thread in the handler's chunk size (radgame/asgi_http.py), so a large one is never held whole.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

from csp.constants import NONE
from csp.decorators import csp
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import quote_etag
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


def _file_for(image: CaseImage, variant: str) -> tuple[FieldFile, str, str]:
    stored = getattr(image, variant)
    if not stored or not stored.name:
        raise Http404("No such image")
    suffix = PurePosixPath(stored.name).suffix.lower()
    content_type = CONTENT_TYPES.get(suffix)
    if content_type is None:
        raise Http404("No such image")
    return stored, suffix, content_type


def image_etag(stored_name: str, size: int) -> str:
    """A strong ETag for an immutable stored file: nothing but its storage name and size."""
    return quote_etag(hashlib.sha256(f"{stored_name}\0{size}".encode()).hexdigest()[:32])


def _cache_headers(response: HttpResponseBase, etag: str) -> HttpResponseBase:
    response["ETag"] = etag
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@player_required
@require_GET
@csp({"default-src": [NONE], "sandbox": True})
def case_image(request: HttpRequest, image_id: int, variant: str) -> HttpResponseBase:
    if variant in PLAYER_VARIANTS:
        image = selectors.image_for_viewer(user=request.user, image_id=image_id)
    elif variant in MANAGER_VARIANTS:
        image = selectors.case_image_for_manager(actor=request.user, image_id=image_id)
    else:
        raise Http404("No such image variant")
    stored, suffix, content_type = _file_for(image, variant)
    try:
        size = stored.storage.size(stored.name)
    except FileNotFoundError:
        raise Http404("No such image") from None
    etag = image_etag(stored.name, size)
    conditional = get_conditional_response(request, etag=etag)
    if conditional is not None:  # 304 Not Modified (or 412 for a failed If-Match)
        return _cache_headers(conditional, etag) if conditional.status_code == 304 else conditional
    try:
        handle = stored.storage.open(stored.name, "rb")
    except FileNotFoundError:
        raise Http404("No such image") from None
    if variant in PLAYER_VARIANTS:
        with handle:
            return _cache_headers(HttpResponse(handle.read(), content_type=content_type), etag)
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=True,
        filename=f"case-image-{image.pk}{suffix}",
    )
    return _cache_headers(response, etag)
