from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from apps.accounts.permissions import player_required
from apps.core.htmx import polling_status, render_page

from .public import job_public
from .selectors import job_get


@player_required
@require_GET
def job_status(request: HttpRequest, job_id: UUID) -> HttpResponse:
    job = job_public(job_get(actor=request.user, job_id=job_id))
    status = polling_status(request, final=job.is_final)
    return render_page(
        request,
        "inference/job_status.html",
        {"job": job},
        partial="status",
        status=status,
        no_store=True,
    )
