"""Writes of the game, all from one receiver of the lifecycle's credit hook: what a first reading
found and missed, and the badges it earned. Idempotent: a credited attempt recorded twice writes
nothing new."""

from __future__ import annotations

from apps.exercises.hooks import Credited

from .badges import badges_earned
from .models import BadgeAward, FindingResult, Outcome


def game_attempt_credited(credited: Credited) -> None:
    """The lifecycle credited an attempt (``apps.exercises.hooks``): a few statements, inside
    the credit's transaction."""
    attempt = credited.attempt
    outcomes = attempt.finding_outcomes()
    if credited.first_reading:
        rows = [(label, Outcome.FOUND) for label in outcomes.found]
        rows += [(label, Outcome.MISSED) for label in outcomes.missed]
        FindingResult.objects.bulk_create(
            [
                FindingResult(
                    user_id=attempt.user_id,
                    label=label,
                    outcome=outcome,
                    exercise=attempt.EXERCISE,
                    case_id=attempt.case_id,
                    attempt_ref=attempt.ref,
                )
                for label, outcome in rows
            ],
            ignore_conflicts=True,
        )
    earned = badges_earned(credited, outcomes)
    if earned:
        BadgeAward.objects.bulk_create(
            [
                BadgeAward(user_id=attempt.user_id, badge=b.code, attempt_ref=attempt.ref)
                for b in earned
            ],
            ignore_conflicts=True,
        )
