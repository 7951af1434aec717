"""Render a whole page, or one named partial of it for htmx requests."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import add_never_cache_headers

# htmx stops polling a region when its response has this status.
HTMX_STOP_POLLING = 286


def polling_status(request: HttpRequest, *, final: bool) -> int:
    """The status of a polled region's answer: once what it watches is final, tell htmx to stop
    polling (a plain browser request, without htmx, gets an ordinary 200)."""
    return HTMX_STOP_POLLING if final and getattr(request, "htmx", False) else 200


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    partial: str | None = None,
    status: int = 200,
    no_store: bool = False,
) -> HttpResponse:
    """Render ``template``; for an htmx request targeting a region, render ``template#partial``.

    ``no_store`` marks responses that hold answers, scores or explanations, so no browser or proxy
    cache keeps them.
    """
    is_htmx = bool(getattr(request, "htmx", False))
    name = f"{template}#{partial}" if (is_htmx and partial) else template
    response = render(request, name, context or {}, status=status)
    if no_store:
        add_never_cache_headers(response)
    return response
