"""The resident's home: level, today's goal, streak, assignments, recent results and the one
next step, in a bounded number of queries whatever the number of attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from apps.cases.models import Assignment, CaseSet, CaseSetItem, CaseStatus
from apps.cases.selectors.play import localize_offers
from apps.cohorts.models import MemberRole, Membership
from apps.exercises.levels import Level, level_for
from apps.exercises.registry import exercises
from apps.progress.models import ScoreEvent
from apps.progress.selectors import PlayerStats, player_stats
from apps.progress.streaks import DAILY_GOAL_CASES

from .badges import BY_CODE, Badge
from .models import BadgeAward
from .review import reviews_due

RECENT_RESULTS = 5
# The ledger names an attempt "<app label>.attempt:<pk>"; its feedback page, by app label.
_ATTEMPT_PAGES = {"localization": "localization:attempt", "reporting": "reporting:attempt"}


@dataclass(frozen=True)
class AssignmentRow:
    case_set: CaseSet
    due_at: datetime | None
    total: int  # published cases in the set
    done: int  # of those, answered in at least one exercise
    localize: bool  # Localize offers the set; a set it does not (report-only) is played in Report

    @property
    def play_url(self) -> str:
        """Where the set is played: its next case, or its results once finished."""
        name = "localization:play" if self.localize else "reporting:play"
        return reverse(name, args=[self.case_set.pk])

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done >= self.total

    @property
    def overdue(self) -> bool:
        return self.due_at is not None and self.due_at < timezone.now() and not self.complete

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass(frozen=True)
class RecentResult:
    event: ScoreEvent
    url: str | None

    @property
    def percent(self) -> int:
        return round(100 * self.event.score)


@dataclass(frozen=True)
class EarnedBadge:
    badge: Badge
    awarded_at: datetime


@dataclass(frozen=True)
class ResidentHome:
    stats: PlayerStats
    level: Level
    goal: int
    assignments: list[AssignmentRow]
    recent: list[RecentResult]
    badges: list[EarnedBadge]
    reviews_due: int

    @property
    def goal_met(self) -> bool:
        return self.stats.today_cases >= self.goal

    @property
    def goal_percent(self) -> int:
        return min(100, round(100 * self.stats.today_cases / self.goal))

    @property
    def next_assignment(self) -> AssignmentRow | None:
        return next_assignment(self.assignments)


def next_assignment(rows: list[AssignmentRow]) -> AssignmentRow | None:
    """The unfinished assignment due soonest (one without a due date comes after every dated one)."""
    open_rows = [row for row in rows if not row.complete and row.total]
    return open_rows[0] if open_rows else None


def assignments_for(*, user: Any) -> list[AssignmentRow]:
    """The sets assigned to the cohorts the player belongs to as a resident (what an educator
    assigns to a cohort it runs is not its own homework), due soonest first, with how many of
    their published cases the player answered, and the exercise that plays each: two queries."""
    memberships = Membership.objects.filter(user=user, role=MemberRole.RESIDENT)
    assignments = (
        Assignment.objects.filter(cohort__in=memberships.values("cohort_id"))
        .select_related("case_set")
        .annotate(
            total=Count(
                "case_set__items",
                filter=Q(case_set__items__case__status=CaseStatus.PUBLISHED),
                distinct=True,
            ),
            localize=localize_offers("case_set_id"),
        )
        .order_by(F("due_at").asc(nulls_last=True), "case_set__name", "pk")
    )
    by_set: dict[int, Assignment] = {}
    for assignment in assignments:  # a set assigned to two of the player's cohorts: the sooner
        by_set.setdefault(assignment.case_set_id, assignment)
    # From the sets' side: each published item asks the attempt indexes whether the player
    # answered it, so the cost follows the sets' size, never the number of attempts.
    answered_somewhere = Q()
    for spec in exercises():
        answered_somewhere |= Q(
            Exists(
                spec.attempt_model.objects.filter(
                    user=user, case_set_id=OuterRef("case_set_id"), case_id=OuterRef("case_id")
                )
            )
        )
    answered = list(
        CaseSetItem.objects.filter(
            answered_somewhere, case_set_id__in=list(by_set), case__status=CaseStatus.PUBLISHED
        ).values_list("case_set_id", "case_id")
    )
    return [
        AssignmentRow(
            case_set=a.case_set,
            due_at=a.due_at,
            total=a.total,
            done=sum(1 for set_id, _ in answered if set_id == a.case_set_id),
            localize=a.localize,
        )
        for a in by_set.values()
    ]


def recent_results(*, user: Any, limit: int = RECENT_RESULTS) -> list[RecentResult]:
    events = (
        ScoreEvent.objects.filter(user=user)
        .select_related("case", "case_set")
        .order_by("-created_at", "-pk")[:limit]
    )
    return [RecentResult(event=event, url=_attempt_url(event.attempt_ref)) for event in events]


def _attempt_url(ref: str) -> str | None:
    app_label, _, pk = ref.partition(".attempt:")
    name = _ATTEMPT_PAGES.get(app_label)
    return reverse(name, args=[int(pk)]) if name and pk.isdigit() else None


def badges_of(*, user: Any) -> list[EarnedBadge]:
    awards = BadgeAward.objects.filter(user=user).order_by("-awarded_at", "-pk")
    return [
        EarnedBadge(BY_CODE[award.badge], award.awarded_at)
        for award in awards
        if award.badge in BY_CODE  # a retired badge stays in the table, off the page
    ]


def resident_home(*, user: Any) -> ResidentHome:
    stats = player_stats(user=user)
    return ResidentHome(
        stats=stats,
        level=level_for(stats.xp),
        goal=DAILY_GOAL_CASES,
        assignments=assignments_for(user=user),
        recent=recent_results(user=user),
        badges=badges_of(user=user),
        reviews_due=reviews_due(user=user),
    )
