"""Reads of the ledger for dashboards: aggregates in SQL, never counters kept by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Avg, Count, Max, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.cohorts.models import MemberRole
from apps.cohorts.selectors import cohort_for_manager

from .models import ScoreEvent

XP_PER_LEVEL = 250


@dataclass(frozen=True)
class PlayerStats:
    xp: int
    level: int
    xp_into_level: int
    attempts: int
    localize_accuracy: float | None
    report_accuracy: float | None
    streak_days: int


def streak_days(days_played: set[date], today: date) -> int:
    """Consecutive days with at least one scored attempt, ending today (or yesterday)."""
    day = today if today in days_played else today - timedelta(days=1)
    streak = 0
    while day in days_played:
        streak += 1
        day -= timedelta(days=1)
    return streak


def player_stats(*, user: Any) -> PlayerStats:
    events = ScoreEvent.objects.filter(user=user)
    totals = events.aggregate(xp=Sum("xp"), attempts=Count("pk"))
    by_kind = {
        row["kind"]: row["avg"]
        for row in events.values("kind").annotate(avg=Avg("score")).order_by()
    }
    since = timezone.now() - timedelta(days=400)
    days = set(
        events.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values_list("day", flat=True)
        .distinct()
    )
    xp = int(totals["xp"] or 0)
    return PlayerStats(
        xp=xp,
        level=xp // XP_PER_LEVEL + 1,
        xp_into_level=xp % XP_PER_LEVEL,
        attempts=int(totals["attempts"] or 0),
        localize_accuracy=by_kind.get("localize"),
        report_accuracy=by_kind.get("report"),
        streak_days=streak_days(days, timezone.localdate()),
    )


@dataclass(frozen=True)
class ResidentProgress:
    user_id: int
    username: str
    name: str
    localize_attempts: int
    localize_accuracy: float | None
    report_attempts: int
    report_accuracy: float | None
    xp: int
    last_played: Any


def cohort_progress(*, actor: Any, cohort_id: int) -> tuple[Any, list[ResidentProgress]]:
    """Per-resident progress of a cohort the actor runs (404 otherwise), in a fixed number of
    queries whatever the cohort's size. Accuracy counts first attempts only: replays come after
    the answer was shown."""
    cohort = cohort_for_manager(actor=actor, cohort_id=cohort_id)
    members = [m.user for m in cohort.memberships.all() if m.role == MemberRole.RESIDENT]
    first_try = Q(details__post_reveal__isnull=True) | Q(details__post_reveal=False)
    rows = {
        row["user_id"]: row
        for row in ScoreEvent.objects.filter(user__in=members)
        .values("user_id")
        .annotate(
            localize_attempts=Count("pk", filter=Q(kind="localize")),
            localize_accuracy=Avg("score", filter=Q(kind="localize") & first_try),
            report_attempts=Count("pk", filter=Q(kind="report")),
            report_accuracy=Avg("score", filter=Q(kind="report") & first_try),
            xp=Sum("xp"),
            last_played=Max("created_at"),
        )
        .order_by()
    }
    progress = []
    for user in sorted(members, key=lambda u: u.username):
        row = rows.get(user.pk, {})
        progress.append(
            ResidentProgress(
                user_id=user.pk,
                username=user.username,
                name=user.shown_name,
                localize_attempts=row.get("localize_attempts", 0),
                localize_accuracy=row.get("localize_accuracy"),
                report_attempts=row.get("report_attempts", 0),
                report_accuracy=row.get("report_accuracy"),
                xp=int(row.get("xp") or 0),
                last_played=row.get("last_played"),
            )
        )
    return cohort, progress
