"""The badges, all of them: each marks a milestone of learning (not volume), with its rule in
words (the profile lists them) and the check that awards it. The checks run from the lifecycle's
credit hook (``services.game_attempt_credited``) and only read what the credited attempt could
have changed: most cost nothing, the streak one query."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Avg, Count, Min
from django.utils import timezone

from apps.cases.models import CaseSetMode
from apps.exercises.hooks import Credited, FindingOutcomes
from apps.exercises.models import ExerciseKind
from apps.exercises.registry import exercises
from apps.progress.models import ScoreEvent
from apps.progress.selectors import days_played
from apps.progress.streaks import streak_of

from .models import FindingResult, Outcome

PNEUMOTHORAX = "Pneumothorax"
PNEUMOTHORACES_FOR_BADGE = 10
STREAK_DAYS_FOR_BADGE = 7
# The findings whose finds a badge counts: only these are recorded (FindingResult).
COUNTED_FINDS = frozenset({PNEUMOTHORAX})


@dataclass(frozen=True)
class Badge:
    code: str
    name: str
    rule: str
    check: Callable[[Credited, FindingOutcomes], bool]


def _first_perfect(c: Credited, outcomes: FindingOutcomes) -> bool:
    return c.first_reading and c.attempt.score is not None and c.attempt.score >= 1.0


def _pneumothoraces(c: Credited, outcomes: FindingOutcomes) -> bool:
    if not c.first_reading or PNEUMOTHORAX not in outcomes.found:
        return False
    found = FindingResult.objects.filter(
        user=c.attempt.user_id, label=PNEUMOTHORAX, outcome=Outcome.FOUND
    )[:PNEUMOTHORACES_FOR_BADGE]
    return found.count() >= PNEUMOTHORACES_FOR_BADGE


def _week_streak(c: Credited, outcomes: FindingOutcomes) -> bool:
    """Checked on the day's first XP (the only answer that can lengthen the streak)."""
    if c.xp <= 0:
        return False
    user = c.attempt.user
    today = timezone.localdate(timezone=user.zone)
    day_start = c.known.get("game_day_start")
    if day_start is not None and day_start.date() == today and c.known.get("game_xp_today"):
        return False  # read with the player's state: an earlier answer today earned XP
    days = days_played(user=user, since_days=30)
    return days.get(today) == 1 and streak_of(set(days), today).days >= STREAK_DAYS_FOR_BADGE


def _full_coverage(c: Credited, outcomes: FindingOutcomes) -> bool:
    return (
        c.attempt.EXERCISE == ExerciseKind.REPORT and not c.attempt.blank and outcomes.full_coverage
    )


def _assessment_improved(c: Credited, outcomes: FindingOutcomes) -> bool:
    """Once every answer of this assessment is credited, its mean score beats the mean of the
    assessment the player took before it."""
    attempt = c.attempt
    case_set = attempt.case_set
    if case_set is None or case_set.mode != CaseSetMode.ASSESSMENT:
        return False
    ledger = ScoreEvent.objects.filter(user=attempt.user_id, case_set__mode=CaseSetMode.ASSESSMENT)
    means = list(
        ledger.values("case_set_id")
        .annotate(mean=Avg("score"), first=Min("created_at"), n=Count("pk"))
        .order_by("first", "case_set_id")
    )
    index = next((i for i, row in enumerate(means) if row["case_set_id"] == case_set.pk), None)
    if not index:  # no earlier assessment (or, impossibly, not in the ledger)
        return False
    answered = sum(
        spec.attempt_model.objects.filter(user=attempt.user_id, case_set=case_set).count()
        for spec in exercises()
    )
    current, previous = means[index], means[index - 1]
    return current["n"] >= answered and current["mean"] > previous["mean"]


BADGES: tuple[Badge, ...] = (
    Badge(
        "first_perfect",
        "First perfect case",
        "Score 100% on your first reading of a case (an answer, not a blank).",
        _first_perfect,
    ),
    Badge(
        "pneumothorax_10",
        "Ten pneumothoraces",
        f"Find a pneumothorax on your first reading of {PNEUMOTHORACES_FOR_BADGE} cases.",
        _pneumothoraces,
    ),
    Badge(
        "week_streak",
        "A week's streak",
        f"Keep a streak of {STREAK_DAYS_FOR_BADGE} days (a grace day bridges, but does not count).",
        _week_streak,
    ),
    Badge(
        "full_coverage",
        "Full coverage",
        "Write a report that addresses every region a chest film report should "
        "(the style check finds no region left out).",
        _full_coverage,
    ),
    Badge(
        "assessment_improved",
        "Assessment improved",
        "Score a higher mean in an assessment than in the assessment you took before it "
        "(counted once all your answers in it are released).",
        _assessment_improved,
    ),
)
BY_CODE = {badge.code: badge for badge in BADGES}


def badges_earned(credited: Credited, outcomes: FindingOutcomes) -> list[Badge]:
    """The badges this credited attempt meets the rule of, less those the submit's read of the
    player's state found held (``credited.known``; without it, held ones are included: awarding
    is idempotent)."""
    known = credited.known
    return [
        b for b in BADGES if not known.get(f"game_badge_{b.code}") and b.check(credited, outcomes)
    ]
