"""The home page: what each role owns, with real data."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.accounts.models import Role, User
from apps.accounts.permissions import is_admin, is_educator
from apps.cohorts import selectors as cohort_selectors
from apps.cohorts.models import Invitation

from .selectors import player_stats


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
