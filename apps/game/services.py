"""Writes of the game, all from one receiver of the lifecycle's credit hook: what a first reading
found that a badge counts, the spaced review it grades or adds to (what it missed), and the
badges it earned. Idempotent: a credited attempt recorded twice writes
nothing new.

What the receiver would read on every answer (is a review open on this case, did the player
earn XP earlier today, which badges are held) is read with the submit's player state instead
(``GAME_FACTS``): a typical answer costs the game no statement at all."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.db.models import Exists
from django.utils import timezone

from apps.exercises.hooks import Credited, Facts
from apps.progress.models import ScoreEvent

from .badges import BADGES, COUNTED_FINDS, badges_earned
from .models import BadgeAward, FindingResult, Outcome, ReviewServing
from .review import reviews_credited


def _fact_args(user: Any) -> dict[str, Any]:
    """Today's start in the player's own time zone (the streak's day)."""
    today = timezone.localdate(timezone=user.zone)
    return {"game_day_start": datetime.combine(today, time.min, tzinfo=user.zone)}


def _fact_expressions(user: Any, case_id: Any, *, game_day_start: datetime) -> dict[str, Any]:
    return {
        "game_review_open": Exists(
            ReviewServing.objects.filter(user=user, case_id=case_id, answered_at__isnull=True)
        ),
        "game_xp_today": Exists(
            ScoreEvent.objects.filter(user=user, xp__gt=0, created_at__gte=game_day_start)
        ),
        **{
            f"game_badge_{badge.code}": Exists(
                BadgeAward.objects.filter(user=user, badge=badge.code)
            )
            for badge in BADGES
        },
    }


GAME_FACTS = Facts(name="game", args=_fact_args, expressions=_fact_expressions)


def game_attempt_credited(credited: Credited) -> None:
    """The lifecycle credited an attempt (``apps.exercises.hooks``): a few statements, inside
    the credit's transaction."""
    attempt = credited.attempt
    outcomes = attempt.finding_outcomes()
    counted = [label for label in outcomes.found if label in COUNTED_FINDS]
    if credited.first_reading and counted:
        FindingResult.objects.bulk_create(
            [
                FindingResult(
                    user_id=attempt.user_id,
                    label=label,
                    outcome=Outcome.FOUND,
                    exercise=attempt.EXERCISE,
                    case_id=attempt.case_id,
                    attempt_ref=attempt.ref,
                )
                for label in counted
            ],
            ignore_conflicts=True,
        )
    reviews_credited(credited, outcomes)
    earned = badges_earned(credited, outcomes)
    if earned:
        BadgeAward.objects.bulk_create(
            [
                BadgeAward(user_id=attempt.user_id, badge=b.code, attempt_ref=attempt.ref)
                for b in earned
            ],
            ignore_conflicts=True,
        )
