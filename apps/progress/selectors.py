"""Reads of the ledger for dashboards: aggregates in SQL, never counters kept by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Avg, Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

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
