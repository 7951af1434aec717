"""Cohort progress for educators (the home page is the game's: ``apps.game.views``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.accounts.permissions import educator_required

from .exports import csv_text
from .selectors import cohort_progress


@educator_required
@require_GET
@never_cache
def cohort_progress_page(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort, rows = cohort_progress(actor=request.user, cohort_id=cohort_id)
    return render(request, "progress/cohort.html", {"cohort": cohort, "rows": rows})


@educator_required
@require_GET
@never_cache
def cohort_progress_csv(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort, rows = cohort_progress(actor=request.user, cohort_id=cohort_id)
    header = [
        "username",
        "name",
        "localize_cases",
        "localize_attempts",
        "localize_accuracy",
        "report_cases",
        "report_attempts",
        "report_accuracy",
        "xp",
        "last_played",
    ]
    body = csv_text(
        header,
        (
            [
                row.username,
                row.name,
                row.localize_cases,
                row.localize_attempts,
                _percent(row.localize_accuracy),
                row.report_cases,
                row.report_attempts,
                _percent(row.report_accuracy),
                row.xp,
                row.last_played.isoformat() if row.last_played else "",
            ]
            for row in rows
        ),
    )
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cohort-{cohort.pk}-progress.csv"'
    return response


def _percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.0f}"
