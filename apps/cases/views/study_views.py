"""The case editor's views of a study: add one (an upload parsed in a job), name, move, remove,
and record the educator's check for burned-in patient details."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from apps.accounts.permissions import educator_required
from apps.cases import selectors
from apps.cases.forms import ProjectionForm, ViewUploadForm
from apps.cases.models import Case, CaseImage
from apps.cases.services import (
    case_image_move,
    case_image_projection_set,
    case_image_remove,
    case_upload_start,
    image_attest_phi_checked,
)
from apps.cases.services.images import PHI_CHECK_STATEMENT
from apps.core.exceptions import ApplicationError


def _view_of(request: HttpRequest, case_id: int, image_id: int) -> tuple[Case, CaseImage]:
    case = selectors.case_for_manager(actor=request.user, case_id=case_id)
    return case, get_object_or_404(CaseImage.objects.select_related("case"), pk=image_id, case=case)


@educator_required
@require_POST
def view_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_for_manager(actor=request.user, case_id=case_id)
    form = ViewUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose an image file to add as a view.")
        return redirect("cases:case_edit", case_id=case.pk)
    try:
        job = case_upload_start(
            actor=request.user,
            uploaded=form.cleaned_data["file"],
            allow_non_chest=form.cleaned_data["allow_non_chest"],
            case=case,
            projection=form.cleaned_data["projection"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("cases:case_edit", case_id=case.pk)
    return redirect("cases:upload_status", job_id=job.pk)


@educator_required
@require_POST
def view_projection(request: HttpRequest, case_id: int, image_id: int) -> HttpResponse:
    case, image = _view_of(request, case_id, image_id)
    form = ProjectionForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError("Unknown view name.")
        case_image_projection_set(
            actor=request.user, image=image, projection=form.cleaned_data["projection"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("cases:case_edit", case_id=case.pk)


@educator_required
@require_POST
def view_move(request: HttpRequest, case_id: int, image_id: int, direction: str) -> HttpResponse:
    case, image = _view_of(request, case_id, image_id)
    try:
        case_image_move(actor=request.user, image=image, direction=direction)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("cases:case_edit", case_id=case.pk)


@educator_required
@require_POST
def view_remove(request: HttpRequest, case_id: int, image_id: int) -> HttpResponse:
    case, image = _view_of(request, case_id, image_id)
    try:
        case_image_remove(actor=request.user, image=image)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "View removed.")
    return redirect("cases:case_edit", case_id=case.pk)


@educator_required
@require_POST
def view_phi_checked(request: HttpRequest, case_id: int, image_id: int) -> HttpResponse:
    """The educator's check that the whole view shows no patient details (the editor's notice)."""
    case, image = _view_of(request, case_id, image_id)
    if request.POST.get("confirm") != "yes":
        messages.error(request, f"Tick '{PHI_CHECK_STATEMENT}' to record your check.")
        return redirect("cases:case_edit", case_id=case.pk)
    try:
        image_attest_phi_checked(actor=request.user, image=image)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Your check is recorded.")
    return redirect("cases:case_edit", case_id=case.pk)
