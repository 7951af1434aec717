"""Request bodies past DATA_UPLOAD_MAX_MEMORY_SIZE are answered 413 with a message, not an HTML 400.

Django only notices an oversized form body when something first reads ``request.POST`` (the CSRF
check does, for every POST) and turns its RequestDataTooBig into a generic 400 page: an API client
gets HTML and an htmx autosave gets nothing it can show. This answers before anything reads the
body: JSON under /api/, a short text for htmx (the report autosave shows it), a plain page
otherwise. Multipart uploads are left alone: their files have their own cap in the upload views.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

TOO_LARGE = 413


def too_large_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return f"The request is larger than the {limit // 1024} KB this server accepts."


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._too_large(request):
            message = too_large_message()
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=TOO_LARGE)
            return HttpResponse(message, status=TOO_LARGE, content_type="text/plain")
        return self.get_response(request)

    @staticmethod
    def _too_large(request: HttpRequest) -> bool:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None or request.content_type == "multipart/form-data":
            return False
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return False
        return length > limit
