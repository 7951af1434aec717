"""The home page (the resident's game, and what each other role owns) and the Continue button."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.accounts.models import Role, User
from apps.accounts.permissions import is_admin, is_educator, player_required
from apps.cohorts import selectors as cohort_selectors
from apps.cohorts.models import Invitation

from .home import resident_home
from .next_step import next_step


@login_required
@require_GET
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context: dict[str, object] = {
        "joined": cohort_selectors.cohorts_joined_by(user=user),
        "game": resident_home(user=user),
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
    return render(request, "game/home.html", context)


@player_required
@require_GET
def continue_(request: HttpRequest) -> HttpResponse:
    """The Continue button: decided when pressed, so it follows what was played since."""
    return redirect(next_step(user=request.user).url)
