"""The educator's case library, creating a case from an upload, and the upload's live status."""

from __future__ import annotations

from uuid import UUID

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.permissions import educator_required
from apps.cases import selectors
from apps.cases.forms import LibraryFilterForm, UploadForm
from apps.cases.services import case_upload_start
from apps.core.exceptions import ApplicationError
from apps.core.htmx import polling_status, render_page
from apps.inference.selectors import job_get

from .jobs import job_of_kind

PAGE_SIZE = 50


@educator_required
@require_GET
def library(request: HttpRequest) -> HttpResponse:
    form = LibraryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    cases = selectors.cases_for_library(
        actor=request.user, **{k: v for k, v in filters.items() if v}
    )
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "case_sets": selectors.case_sets_managed_by(actor=request.user).order_by("name")[:50],
        "query": request.GET.copy(),
    }
    return render_page(request, "cases/library.html", context, partial="results", no_store=True)


@educator_required
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = case_upload_start(
                actor=request.user,
                uploaded=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
                allow_non_chest=form.cleaned_data["allow_non_chest"],
            )
        except ApplicationError as exc:
            form.add_error("file" if exc.field == "file" else None, exc.message)
        else:
            return redirect("cases:upload_status", job_id=job.pk)
    return render_page(request, "cases/case_new.html", {"form": form})


@educator_required
@require_GET
def upload_status(request: HttpRequest, job_id: UUID) -> HttpResponse:
    from apps.cases.services.uploads import INGEST_JOB

    job = job_of_kind(job_get(actor=request.user, job_id=job_id), INGEST_JOB)
    result = job.result or {}
    case = None
    if result.get("status") == "created":
        case = (
            selectors.cases_managed_by(actor=request.user).filter(pk=result.get("case_id")).first()
        )
    final = job.is_final
    status = polling_status(request, final=final)
    context = {"job": job, "result": result, "case": case}
    return render_page(
        request, "cases/upload_status.html", context, partial="status", status=status, no_store=True
    )
