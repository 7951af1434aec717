"""Reads of the ledger for dashboards: aggregates in SQL, never counters kept by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, Max, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.cohorts.selectors import cohort_for_manager, cohort_residents

from .models import ScoreEvent
from .streaks import Streak, streak_of

# The accuracy rule, for every page, API, export and dashboard: the mean score of each player's
# first reading of a case, made before its answer was ever shown to them (in either exercise).
# The ledger only holds scores the player may see, so an open assessment adds nothing to it.
FIRST_READING = Q(post_reveal=False)


def accuracy(*, kind: str | None = None) -> Avg:
    """The accuracy aggregate over ledger rows (optionally of one exercise)."""
    condition = FIRST_READING if kind is None else FIRST_READING & Q(kind=kind)
    return Avg("score", filter=condition)


def accuracy_by_set(*, user: Any, kind: str, case_set_ids: list[int]) -> dict[int, float | None]:
    """The player's accuracy in each of these sets, in one query."""
    rows = (
        ScoreEvent.objects.filter(user=user, kind=kind, case_set_id__in=case_set_ids)
        .values("case_set_id")
        .annotate(value=accuracy())
        .order_by()
    )
    return {row["case_set_id"]: row["value"] for row in rows}


def replay_day_start() -> datetime:
    """When today began, in the site's time zone: the daily replay cap counts from here."""
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def _replay_events_today(user: Any, since: datetime | None = None) -> QuerySet[ScoreEvent]:
    start = replay_day_start() if since is None else since
    return ScoreEvent.objects.filter(user=user, post_reveal=True, created_at__gte=start)


def replay_xp_today(*, user: Any) -> int:
    """XP the player earned today from attempts after a reveal (the daily replay cap's input)."""
    total = _replay_events_today(user).aggregate(xp=Sum("xp"))["xp"]
    return int(total or 0)


def replay_xp_today_subquery(*, user: Any, since: datetime | None = None) -> Subquery:
    """``replay_xp_today`` as an expression (``user`` may be an ``OuterRef``), so the submit reads
    it in the statement that reads the rest of the player's state (None when there is none);
    ``since`` is ``replay_day_start()`` unless given (a compiled query takes it as a parameter)."""
    per_user = _replay_events_today(user, since).order_by().values("user").annotate(xp=Sum("xp"))
    return Subquery(per_user.values("xp")[:1])


@dataclass(frozen=True)
class PlayerStats:
    xp: int
    cases: int  # distinct cases read, in either exercise
    attempts: int  # scored attempts, replays included
    localize_accuracy: float | None
    report_accuracy: float | None
    streak: Streak
    today_cases: int  # scored answers that earned XP today, in the player's time zone

    @property
    def streak_days(self) -> int:
        return self.streak.days


def days_played(*, user: Any, since_days: int = 400) -> dict[date, int]:
    """Days (in the player's time zone) with XP earned, and how many XP-earning answers each: at
    most ``since_days`` rows, whatever the number of attempts. One query."""
    since = timezone.now() - timedelta(days=since_days)
    rows = (
        ScoreEvent.objects.filter(user=user, xp__gt=0, created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=user.zone))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["day"]: row["n"] for row in rows}


def player_stats(*, user: Any) -> PlayerStats:
    """Totals, accuracy, streak and today's count: two queries."""
    totals = ScoreEvent.objects.filter(user=user).aggregate(
        xp=Sum("xp"),
        attempts=Count("pk"),
        cases=Count("case", distinct=True),
        localize=accuracy(kind="localize"),
        report=accuracy(kind="report"),
    )
    days = days_played(user=user)
    today = timezone.localdate(timezone=user.zone)
    return PlayerStats(
        xp=int(totals["xp"] or 0),
        cases=int(totals["cases"] or 0),
        attempts=int(totals["attempts"] or 0),
        localize_accuracy=totals["localize"],
        report_accuracy=totals["report"],
        streak=streak_of(set(days), today),
        today_cases=days.get(today, 0),
    )


@dataclass(frozen=True)
class ResidentProgress:
    user_id: int
    username: str
    name: str
    localize_cases: int
    localize_attempts: int
    localize_accuracy: float | None
    report_cases: int
    report_attempts: int
    report_accuracy: float | None
    xp: int
    last_played: Any


def cohort_progress(*, actor: Any, cohort_id: int) -> tuple[Any, list[ResidentProgress]]:
    """Per-resident progress of a cohort the actor runs (404 otherwise), in a fixed number of
    queries whatever the cohort's size. Accuracy counts first attempts only: replays come after
    the answer was shown. Residents only: an educator or admin who joined as a member is not one."""
    cohort = cohort_for_manager(actor=actor, cohort_id=cohort_id)
    members = cohort_residents(cohort)
    rows = {
        row["user_id"]: row
        for row in ScoreEvent.objects.filter(user__in=members)
        .values("user_id")
        .annotate(
            localize_attempts=Count("pk", filter=Q(kind="localize")),
            localize_cases=Count("case", filter=Q(kind="localize"), distinct=True),
            localize_accuracy=accuracy(kind="localize"),
            report_attempts=Count("pk", filter=Q(kind="report")),
            report_cases=Count("case", filter=Q(kind="report"), distinct=True),
            report_accuracy=accuracy(kind="report"),
            xp=Sum("xp"),
            last_played=Max("created_at"),
        )
        .order_by()
    }
    progress = []
    for user in members:
        row = rows.get(user.pk, {})
        progress.append(
            ResidentProgress(
                user_id=user.pk,
                username=user.username,
                name=user.shown_name,
                localize_cases=row.get("localize_cases", 0),
                localize_attempts=row.get("localize_attempts", 0),
                localize_accuracy=row.get("localize_accuracy"),
                report_cases=row.get("report_cases", 0),
                report_attempts=row.get("report_attempts", 0),
                report_accuracy=row.get("report_accuracy"),
                xp=int(row.get("xp") or 0),
                last_played=row.get("last_played"),
            )
        )
    return cohort, progress
