"""The opt-in, pseudonymous cohort leaderboard of the week's XP (PEERS §3: opt-in, never graded,
never public by default, a near-me window). A resident who took part sees, per cohort, their own
row and their neighbours' (pseudonyms only); residents who did not opt in never appear to anyone
on a board; the cohort's educators see the real names of those who opted in, for their own
cohorts only."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.accounts.models import Role
from apps.cohorts.models import Cohort, MemberRole, Membership

from .models import GameProfile

NEIGHBOURS = 2  # rows shown above and below the player's own
_ADJECTIVES = (
    "Amber", "Azure", "Brisk", "Calm", "Cobalt", "Coral", "Crimson", "Deft", "Ember", "Fern",
    "Golden", "Indigo", "Ivory", "Jade", "Keen", "Lunar", "Maple", "Misty", "Nimble", "Olive",
    "Quiet", "Rapid", "Sable", "Silver", "Solar", "Steady", "Swift", "Teal", "Velvet", "Willow",
)  # fmt: skip
_ANIMALS = (
    "Badger", "Crane", "Falcon", "Fox", "Gecko", "Heron", "Ibis", "Kestrel", "Lynx", "Marten",
    "Newt", "Otter", "Owl", "Panda", "Puffin", "Raven", "Robin", "Seal", "Stoat", "Swift",
    "Tern", "Wren", "Yak", "Zebra",
)  # fmt: skip


def _pseudonym() -> str:
    return f"{secrets.choice(_ADJECTIVES)} {secrets.choice(_ANIMALS)} {secrets.randbelow(90) + 10}"


def game_profile_get(*, user: Any) -> GameProfile:
    """The player's game profile, made on first use with a fresh random pseudonym."""
    profile = GameProfile.objects.filter(user=user).first()
    if profile is not None:
        return profile
    for _ in range(20):
        try:
            with transaction.atomic():
                return GameProfile.objects.create(user=user, pseudonym=_pseudonym())
        except IntegrityError:  # a pseudonym taken (or a second tab made the profile)
            existing = GameProfile.objects.filter(user=user).first()
            if existing is not None:
                return existing
    raise RuntimeError("could not draw a free pseudonym")


def leaderboard_opt_set(*, user: Any, opt_in: bool) -> GameProfile:
    profile = game_profile_get(user=user)
    if profile.leaderboard_opt_in != opt_in:
        profile.leaderboard_opt_in = opt_in
        profile.save(update_fields=["leaderboard_opt_in"])
    return profile


def week_start(now: datetime | None = None) -> datetime:
    """Monday 00:00 of this week in the site's time zone: one week for the whole cohort."""
    local = timezone.localtime(now or timezone.now())
    monday = local - timedelta(days=local.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class BoardRow:
    rank: int
    pseudonym: str
    week_xp: int
    user_id: int
    name: str | None = None  # only on an educator's board
    me: bool = False


def _board(cohort: Cohort, since: datetime) -> list[tuple[Any, GameProfile, int]]:
    """The cohort's residents who opted in, with their XP since ``since``, best first: one
    query."""
    members = (
        Membership.objects.filter(
            cohort=cohort,
            role=MemberRole.RESIDENT,
            user__role=Role.RESIDENT,
            user__game_profile__leaderboard_opt_in=True,
        )
        .select_related("user__game_profile")
        .annotate(
            week_xp=Coalesce(
                Sum("user__score_events__xp", filter=Q(user__score_events__created_at__gte=since)),
                0,
            )
        )
    )
    rows = [(m.user, m.user.game_profile, int(m.week_xp)) for m in members]
    rows.sort(key=lambda row: (-row[2], row[1].pseudonym))
    return rows


def board_near_me(*, user: Any, cohort: Cohort) -> list[BoardRow]:
    """The player's row and ``NEIGHBOURS`` above and below, pseudonyms only (empty unless the
    player opted in)."""
    rows = _board(cohort, week_start())
    mine = next((i for i, (u, _, _) in enumerate(rows) if u.pk == user.pk), None)
    if mine is None:
        return []
    low, high = max(0, mine - NEIGHBOURS), mine + NEIGHBOURS + 1
    return [
        BoardRow(rank=i + 1, pseudonym=p.pseudonym, week_xp=xp, user_id=u.pk, me=u.pk == user.pk)
        for i, (u, p, xp) in enumerate(rows)
        if low <= i < high
    ]


def boards_for_player(*, user: Any) -> list[tuple[Cohort, list[BoardRow]]]:
    cohorts = Cohort.objects.filter(
        memberships__user=user, memberships__role=MemberRole.RESIDENT
    ).order_by("name", "pk")
    return [(cohort, board_near_me(user=user, cohort=cohort)) for cohort in cohorts]


def board_for_educator(*, cohort: Cohort) -> list[BoardRow]:
    """The whole board with real names, for the cohort's own educators (the caller checked)."""
    return [
        BoardRow(rank=i + 1, pseudonym=p.pseudonym, week_xp=xp, user_id=u.pk, name=u.shown_name)
        for i, (u, p, xp) in enumerate(_board(cohort, week_start()))
    ]
