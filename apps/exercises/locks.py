"""The player lock: one submit (``services.attempt_submit``) or hint (``hints.hint_take``) at a
time per player, so attempt numbers stay contiguous, the assessment rule cannot be raced by two
tabs, and no hint is taken between a submit's read of the count and the delivery's close."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from apps.core.compiled import Statement, compiled_values


def player_lock(*, user: Any) -> None:
    """Hold the player's row until the transaction ends (call inside ``transaction.atomic``)."""
    compiled_values(*player_lock_statement(user=user))


def player_lock_statement(*, user: Any) -> Statement:
    """The lock as a statement for ``compiled_values_after``: the submit sends it with its read of
    the player's state, in one round trip (the read still runs after the lock is granted)."""
    return ("exercises._start lock", _lock_rows, {"user_id": user.pk})


def _lock_rows(user_id: int) -> Any:
    return get_user_model().objects.filter(pk=user_id).select_for_update().values("pk")
