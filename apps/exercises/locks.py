"""The player lock: one submit (``services.attempt_submit``) or hint (``hints.hint_take``) at a
time per player, so attempt numbers stay contiguous, the assessment rule cannot be raced by two
tabs, and no hint is taken between a submit's read of the count and the delivery's close."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from apps.core.compiled import compiled_values


def player_lock(*, user: Any) -> None:
    """Hold the player's row until the transaction ends (call inside ``transaction.atomic``)."""
    compiled_values(
        "exercises._start lock",
        lambda user_id: (
            get_user_model().objects.filter(pk=user_id).select_for_update().values("pk")
        ),
        {"user_id": user.pk},
    )
