"""The import page: upload a dataset, watch the job's progress live, read the summary."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.permissions import educator_required
from apps.cases.forms import ImportForm
from apps.cases.services.imports import IMPORT_JOB, case_import_start
from apps.core.exceptions import ApplicationError
from apps.core.htmx import polling_status, render_page
from apps.inference.models import Job
from apps.inference.selectors import job_get

from .jobs import job_of_kind


@educator_required
@require_http_methods(["GET", "POST"])
def import_start(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = case_import_start(
                actor=request.user,
                uploaded=data["file"],
                format_name=data["format"],
                case_set_name=data["case_set"],
                publish=data["publish"],
                allow_non_chest=data["allow_non_chest"],
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("cases:import_status", job_id=job.pk)
    recent = Job.objects.filter(owner=request.user, kind=IMPORT_JOB).order_by("-created_at")[:10]
    return render_page(request, "cases/import.html", {"form": form, "recent": recent})


@educator_required
@require_GET
def import_status(request: HttpRequest, job_id: UUID) -> HttpResponse:
    job = job_of_kind(job_get(actor=request.user, job_id=job_id), IMPORT_JOB)
    status = polling_status(request, final=job.is_final)
    context = {"job": job, "result": job.result or {}, "progress": job.progress or {}}
    return render_page(
        request, "cases/import_status.html", context, partial="status", status=status, no_store=True
    )
