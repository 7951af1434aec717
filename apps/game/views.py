"""The home page (the resident's game, and what each other role owns) and the Continue button."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.models import Role, User
from apps.accounts.permissions import educator_required, is_admin, is_educator, player_required
from apps.cohorts import selectors as cohort_selectors
from apps.cohorts.models import Invitation

from .home import resident_home
from .leaderboard import (
    NEIGHBOURS,
    board_for_educator,
    boards_for_player,
    game_profile_get,
    leaderboard_opt_set,
)
from .next_step import next_step
from .review import mistakes_deck, review_rules, review_serve


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
@never_cache
def review(request: HttpRequest) -> HttpResponse:
    """Serve the next review: a Localize case like any other (nothing on the page says which
    finding, or whether any, is being re-tested)."""
    serving = review_serve(user=request.user)
    if serving is None:
        messages.info(request, "No review is due. Missed findings come back here when due.")
        return redirect("game:mistakes")
    return redirect("localization:case", set_id=serving.case_set_id, case_id=serving.case_id)


@player_required
@require_GET
@never_cache
def mistakes(request: HttpRequest) -> HttpResponse:
    items = mistakes_deck(user=request.user)
    now = timezone.now()
    due = sum(1 for item in items if item.due <= now)
    context = {"items": items, "due": due, "now": now, "rules": review_rules()}
    return render(request, "game/mistakes.html", context)


@player_required
@require_GET
@never_cache
def leaderboard(request: HttpRequest) -> HttpResponse:
    profile = game_profile_get(user=request.user)
    boards = boards_for_player(user=request.user) if profile.leaderboard_opt_in else []
    context = {"profile": profile, "boards": boards, "neighbours": NEIGHBOURS}
    return render(request, "game/leaderboard.html", context)


@player_required
@require_POST
def leaderboard_opt(request: HttpRequest) -> HttpResponse:
    opt_in = request.POST.get("opt_in") == "1"
    leaderboard_opt_set(user=request.user, opt_in=opt_in)
    messages.success(
        request, "You take part in the leaderboard." if opt_in else "You left the leaderboard."
    )
    return redirect("game:leaderboard")


@educator_required
@require_GET
@never_cache
def cohort_leaderboard(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_selectors.cohort_for_manager(actor=request.user, cohort_id=cohort_id)
    rows = board_for_educator(cohort=cohort)
    return render(request, "game/cohort_leaderboard.html", {"cohort": cohort, "rows": rows})


@player_required
@require_GET
def continue_(request: HttpRequest) -> HttpResponse:
    """The Continue button: decided when pressed, so it follows what was played since."""
    return redirect(next_step(user=request.user).url)
