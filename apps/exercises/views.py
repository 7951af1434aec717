"""Educator pages of the lifecycle: an assessment's state, and closing it."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.permissions import educator_required
from apps.core.exceptions import ApplicationError
from apps.core.htmx import render_page

from .selectors import assessment_for_manager, assessment_release_of
from .services import assessment_close


@educator_required
@require_GET
def assessment_page(request: HttpRequest, set_id: int) -> HttpResponse:
    case_set = assessment_for_manager(actor=request.user, case_set_id=set_id)
    context = {"case_set": case_set, "closed": assessment_release_of(case_set=case_set)}
    return render_page(request, "exercises/assessment.html", context, no_store=True)


@educator_required
@require_POST
def assessment_close_view(request: HttpRequest, set_id: int) -> HttpResponse:
    case_set = assessment_for_manager(actor=request.user, case_set_id=set_id)
    try:
        assessment_close(actor=request.user, case_set=case_set)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Assessment closed: residents now see their results.")
    return redirect("exercises:assessment", set_id=case_set.pk)
