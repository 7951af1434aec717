"""Writes of the game, all from one receiver of the lifecycle's credit hook: what a first reading
found that a badge counts, the spaced review it grades or adds to (what it missed), and the
badges it earned. Idempotent: a credited attempt recorded twice writes
nothing new."""

from __future__ import annotations

from apps.exercises.hooks import Credited

from .badges import COUNTED_FINDS, badges_earned
from .models import BadgeAward, FindingResult, Outcome
from .review import reviews_credited


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
