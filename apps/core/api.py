"""DRF glue shared by every app: errors as JSON with a clear message, and the one JSON parser."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle as DRFAnonRateThrottle
from rest_framework.throttling import UserRateThrottle as DRFUserRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler

from .bounded_json import JSONRejectedError, JSONTooLargeError, json_loads_bounded
from .exceptions import ApplicationError
from .middleware import too_large_message
from .net import client_ip


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request is too large."
    default_code = "request_too_large"


class BoundedJSONParser(JSONParser):
    """JSON bodies through ``json_loads_bounded``: 413 past the size cap, 400 when nested too
    deep or not JSON, never a RecursionError (DEFAULT_PARSER_CLASSES)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        try:
            return json_loads_bounded(raw, max_bytes=limit)
        except JSONTooLargeError:
            raise RequestTooLarge(too_large_message()) from None
        except JSONRejectedError as exc:
            raise ParseError(str(exc)) from None


class AnonRateThrottle(DRFAnonRateThrottle):
    """Keyed by ``client_ip``: X-Forwarded-For counts only from a trusted proxy."""

    def get_ident(self, request: Any) -> str:
        return client_ip(request) or ""


class UserRateThrottle(DRFUserRateThrottle):
    def get_ident(self, request: Any) -> str:
        return client_ip(request) or ""


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        body: dict[str, Any] = {"detail": exc.message}
        if exc.field:
            body["field"] = exc.field
        if exc.extra:
            body["extra"] = exc.extra
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    # Django raises these while DRF reads a form body; left alone they become an HTML 400.
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": too_large_message()}, status=413)
    if isinstance(exc, TooManyFieldsSent):
        return Response({"detail": "The request has too many fields."}, status=400)
    return drf_exception_handler(exc, context)
