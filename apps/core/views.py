"""Pages that belong to no domain: about (with attributions), the health check, and the answer
to an error nothing else handled."""

from __future__ import annotations

import sys
from html import escape

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


@require_GET
def about(request: HttpRequest) -> HttpResponse:
    return render(request, "core/about.html")


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


DATABASE_AWAY = (
    "RadGame could not reach its database or its cache for a moment (a restart or a dropped "
    "connection). Please try again in a few seconds."
)
# A dependency every request needs, away for a moment: Postgres (Django's wrapped errors), or the
# Redis that holds the sessions (redis-py's connection and timeout errors).
UNAVAILABLE = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)
SERVER_ERROR = "Something went wrong on our side. Please try again; if it keeps happening, tell us."
RETRY_AFTER_S = 1


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's ``handler500``: the answer to an exception no view or middleware handled (DEBUG
    off), called while that exception is being handled. A database that cannot be reached is
    (or the sessions' Redis) is not the request's fault and passes: 503 with Retry-After, so a client, or a person, tries
    again in a moment (every answer carries an idempotency key: a retry of one that was stored
    returns it). Anything else is a 500. JSON under /api/; a page without templates elsewhere,
    since a template's context processors could need the database that is away."""
    unavailable = isinstance(sys.exc_info()[1], UNAVAILABLE)
    status, message = (503, DATABASE_AWAY) if unavailable else (500, SERVER_ERROR)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=status)
    else:
        title = "Try again in a moment" if unavailable else "Server error"
        response = HttpResponse(
            f"<!doctype html><html lang=en><title>{title} · RadGame</title>"
            f"<h1>{title}</h1><p>{escape(message)}</p></html>",
            status=status,
        )
    if unavailable:
        response["Retry-After"] = str(RETRY_AFTER_S)
    return response
