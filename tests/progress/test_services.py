from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from apps.progress.selectors import player_stats, streak_days
from apps.progress.services import BASE_XP, score_event_record, xp_for


def test_xp_rewards_first_attempt_accuracy_only() -> None:
    assert xp_for(score=1.0, first_attempt=True) > xp_for(score=0.5, first_attempt=True)
    assert xp_for(score=-0.4, first_attempt=True) == xp_for(score=0.0, first_attempt=True)
    assert xp_for(score=1.0, first_attempt=False) == BASE_XP


def test_streak_counts_consecutive_days_ending_today_or_yesterday() -> None:
    today = date(2026, 11, 28)
    assert streak_days({date(2026, 11, 26), date(2026, 11, 27), today}, today) == 3
    assert streak_days({date(2026, 11, 26), date(2026, 11, 27)}, today) == 2
    assert streak_days({date(2026, 11, 25)}, today) == 0


@pytest.mark.django_db
def test_recording_is_idempotent_and_replays_earn_base_xp(resident: Any, educator: Any) -> None:
    from apps.cases.models import Case

    case = Case.objects.create(title="c", owner=educator)
    first = score_event_record(
        user=resident, kind="localize", case=case, attempt_ref="a:1", score=1.0
    )
    again = score_event_record(
        user=resident, kind="localize", case=case, attempt_ref="a:1", score=0.0
    )
    replay = score_event_record(
        user=resident, kind="localize", case=case, attempt_ref="a:2", score=1.0
    )
    assert again.pk == first.pk
    assert replay.xp == BASE_XP < first.xp
    stats = player_stats(user=resident)
    assert stats.xp == first.xp + replay.xp
    assert stats.attempts == 2
    assert stats.localize_accuracy == 1.0
    assert stats.streak_days == 1
