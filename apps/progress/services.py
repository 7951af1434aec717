"""Writes to the ledger. The exercise lifecycle (``apps.exercises``) records one event per scored
attempt once its score may be shown; XP is decided there (``apps.exercises.xp``), not here."""

from __future__ import annotations

from typing import Any

from .models import ScoreEvent


def score_event_record(
    *,
    user: Any,
    kind: str,
    case: Any,
    attempt_ref: str,
    score: float,
    xp: int,
    post_reveal: bool,
    case_set: Any = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Record a scored attempt once: a second call for the same attempt (a redelivered job, a
    release racing a late score) leaves the first row as it is. One statement."""
    ScoreEvent.objects.bulk_create(
        [
            ScoreEvent(
                user=user,
                kind=kind,
                case=case,
                case_set=case_set,
                attempt_ref=attempt_ref,
                score=score,
                xp=xp,
                post_reveal=post_reveal,
                details=details or {},
            )
        ],
        ignore_conflicts=True,
    )


def score_event_rescore(*, attempt_ref: str, score: float) -> None:
    """An attempt scored again (its case's truth was edited): the ledger follows, so accuracy
    everywhere reads the new score. XP stays what the answer earned when it was scored."""
    ScoreEvent.objects.filter(attempt_ref=attempt_ref).update(score=score)
