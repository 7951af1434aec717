"""Request bodies past their cap are answered 413 with a message, not an HTML 400.

One rule, ``body_limit``: a multipart body may carry one upload (``RADGAME_MAX_UPLOAD_BYTES``)
plus room for its form fields; any other body at most ``DATA_UPLOAD_MAX_MEMORY_SIZE``. The ASGI
handler (radgame.asgi_http) applies it while the body arrives, before Django reads anything, so a
2 GB stream, with or without a Content-Length, is refused after about the cap and the connection
closed. This middleware applies the same rule where no such handler runs (the test client, WSGI):
Django only notices an oversized form body when something first reads ``request.POST`` (the CSRF
check does, for every POST) and turns its RequestDataTooBig into a generic 400 page: an API client
gets HTML and an htmx autosave gets nothing it can show. The answer is JSON under /api/ and a
short text elsewhere (the report autosave shows it). The upload views still check the file's own
size, with a message in the form, for files between the upload cap and this one.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

TOO_LARGE = 413
MULTIPART = "multipart/form-data"


def body_limit(content_type: str) -> int | None:
    """The most bytes a request body of this media type may carry (None: no cap)."""
    data_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if content_type == MULTIPART:
        return settings.RADGAME_MAX_UPLOAD_BYTES + (data_limit or 0)
    return data_limit


def too_large_message(content_type: str = "") -> str:
    if content_type == MULTIPART:
        limit = settings.RADGAME_MAX_UPLOAD_BYTES
        size = f"{limit // 1048576} MiB" if limit >= 1048576 else f"{limit // 1024} KB"
        return f"The upload is larger than the {size} this server accepts."
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return f"The request is larger than the {limit // 1024} KB this server accepts."


def too_large_response(path: str, content_type: str) -> HttpResponse:
    message = too_large_message(content_type)
    if path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=TOO_LARGE)
    return HttpResponse(message, status=TOO_LARGE, content_type="text/plain")


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._too_large(request):
            return too_large_response(request.path, request.content_type or "")
        return self.get_response(request)

    @staticmethod
    def _too_large(request: HttpRequest) -> bool:
        limit = body_limit(request.content_type or "")
        if limit is None:
            return False
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return False
        return length > limit
