"""The home page (what each role owns, with real data) and cohort progress for educators."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.accounts.models import Role, User
from apps.accounts.permissions import educator_required, is_admin, is_educator
from apps.cohorts import selectors as cohort_selectors
from apps.cohorts.models import Invitation

from .exports import csv_text
from .selectors import cohort_progress, player_stats


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context: dict[str, object] = {
        "joined": cohort_selectors.cohorts_joined_by(user=user),
        "stats": player_stats(user=user),
    }
    if is_educator(user):
        managed = cohort_selectors.cohorts_managed_by(actor=user).order_by("name")
        context["managed"] = managed
        context["open_invitations"] = (
            Invitation.objects.filter(
                cohort__in=managed.values("pk"), used_at__isnull=True, revoked_at__isnull=True
            )
            .select_related("cohort")
            .order_by("expires_at")[:20]
        )
    if is_admin(user):
        context["user_counts"] = {
            role.label: User.objects.filter(role=role, is_active=True).count() for role in Role
        }
    return render(request, "progress/home.html", context)


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
