"""When an attempt's XP is credited: once its score may be shown (``attempt_visible``), at the
XP ``xp.xp_for`` gives it, in the ledger (``progress``) and to the credit receivers
(``hooks.attempt_credited``: badges, reviews). The submit (``services.attempt_submit``) calls
these from an exercise's ``store``; an assessment's release (``services``) and a re-score call
them later, for what was held back or changed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.progress.selectors import replay_xp_today as replay_xp_read
from apps.progress.services import score_event_record

from .hooks import attempt_credited
from .models import Attempt
from .selectors import assessment_released
from .xp import xp_for


def attempt_xp(
    *, attempt: Attempt, visible: bool, replay_xp_today: int | None = None
) -> int | None:
    """The XP a scored attempt earns (None while its score is held back, or unscored); it may be
    unsaved, so the submit writes its row once. ``replay_xp_today`` is read when not given."""
    if not visible or attempt.score is None:
        return None
    if not attempt.post_reveal:
        replay_xp_today = 0
    elif replay_xp_today is None:
        replay_xp_today = replay_xp_read(user=attempt.user)
    return xp_for(
        score=attempt.score,
        blank=attempt.blank,
        post_reveal=attempt.post_reveal,
        difficulty=attempt.case.difficulty,
        replay_xp_today=replay_xp_today,
        hints_used=attempt.hints_used,
    )


def attempt_credit(
    *, attempt: Attempt, visible: bool, replay_xp_today: int | None = None
) -> int | None:
    """Credit a scored attempt in the ledger when its score may be shown; returns its XP (None
    while held back) and sets ``attempt.xp`` (the caller saves it)."""
    xp = attempt_xp(attempt=attempt, visible=visible, replay_xp_today=replay_xp_today)
    if xp is None:
        return None
    attempt.xp = xp
    attempt_credit_record(attempt=attempt)
    return xp


def attempt_credit_record(*, attempt: Attempt, known: Mapping[str, Any] | None = None) -> None:
    """The ledger row of a saved attempt whose ``xp`` was set from ``attempt_xp`` (a submit that
    writes its attempt row once, with its XP); ``known`` is ``AttemptStart.known``."""
    score_event_record(
        user=attempt.user,
        kind=attempt.EXERCISE,
        case=attempt.case,
        case_set=attempt.case_set,
        attempt_ref=attempt.ref,
        score=attempt.score,
        xp=attempt.xp,
        post_reveal=attempt.post_reveal,
        details={"attempt_no": attempt.attempt_no, "blank": attempt.blank},
    )
    # badges and reviews (apps.game), one call
    attempt_credited(attempt=attempt, xp=attempt.xp, known=known)


def attempt_visible(*, attempt: Attempt) -> bool:
    """May the attempt's score (and everything that depends on it) be shown to its player?"""
    return assessment_released(user=attempt.user_id, case_set=attempt.case_set)
