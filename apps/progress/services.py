"""Writes to the ledger. Exercise apps call ``score_event_record`` once an attempt is scored."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Q

from .models import ScoreEvent

BASE_XP = 10
ACCURACY_XP = 40
FIRST_ATTEMPT_BONUS = 10


def xp_for(*, score: float, first_attempt: bool) -> int:
    """Playing always earns something. Accuracy XP and a bonus are earned on the first attempt at
    a case only: a replay comes after the answer was shown, so it must not farm XP."""
    if not first_attempt:
        return BASE_XP
    accuracy = max(0.0, min(1.0, score))
    return BASE_XP + round(ACCURACY_XP * accuracy) + FIRST_ATTEMPT_BONUS


def score_event_record(
    *,
    user: Any,
    kind: str,
    case: Any,
    attempt_ref: str,
    score: float,
    case_set: Any = None,
    details: dict[str, Any] | None = None,
) -> ScoreEvent:
    # One read answers both questions (this runs in every submit): was this attempt recorded
    # already (a redelivery: return that row), and is it the player's first of this kind at this
    # case. The attempt's own row, if any, sorts first.
    prior = (
        ScoreEvent.objects.filter(Q(attempt_ref=attempt_ref) | Q(user=user, kind=kind, case=case))
        .order_by(models.Case(models.When(attempt_ref=attempt_ref, then=0), default=1))
        .first()
    )
    if prior is not None and prior.attempt_ref == attempt_ref:
        return prior
    first_attempt = prior is None
    try:
        with transaction.atomic():
            return ScoreEvent.objects.create(
                user=user,
                kind=kind,
                case=case,
                case_set=case_set,
                attempt_ref=attempt_ref,
                score=score,
                xp=xp_for(score=score, first_attempt=first_attempt),
                details=details or {},
            )
    except IntegrityError:  # a concurrent redelivery recorded it first
        return ScoreEvent.objects.get(attempt_ref=attempt_ref)
