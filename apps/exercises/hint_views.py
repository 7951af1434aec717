"""The hint endpoint's response, shared by both exercises' views (each checks first that the
player may play the case, as its submit does): the hint list for htmx, the case page otherwise."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from apps.cases.models import Case, CaseSet
from apps.core.exceptions import ApplicationError
from apps.core.htmx import render_page

from .hints import hint_take

TEMPLATE = "exercises/hints.html"


def hint_response(
    request: HttpRequest, *, exercise: str, case: Case, case_set: CaseSet, case_url: str
) -> HttpResponse:
    """Take the hint the form asks for (``number``) and answer with every hint taken so far;
    a refusal is a 400 with its reason (shown in the panel's alert region by htmx)."""
    try:
        hints = hint_take(
            user=request.user,
            exercise=exercise,
            case=case,
            case_set=case_set,
            number=request.POST.get("number"),
        )
    except ApplicationError as error:
        context: dict[str, Any] = {"hint_error": error.message, "case_url": case_url}
        response = render_page(
            request, TEMPLATE, context, partial="error", status=400, no_store=True
        )
        if request.htmx:
            response["HX-Retarget"] = "#hint-error"
            response["HX-Reswap"] = "innerHTML"
        return response
    if not request.htmx:  # the case page lists the hints taken on its delivery
        return redirect(case_url)
    context = {"hints": hints, "oob": True}
    return render_page(request, TEMPLATE, context, partial="taken", no_store=True)
