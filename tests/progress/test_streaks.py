"""The streak rule (weekly grace day) and the player's own time zone deciding the day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from apps.progress.models import ScoreEvent
from apps.progress.selectors import player_stats
from apps.progress.services import score_event_record
from apps.progress.streaks import DAILY_GOAL_CASES, streak_of, streak_rules

# 2026-11-23 is a Monday.
MON = date(2026, 11, 23)


def days(*offsets: int) -> set[date]:
    return {MON + timedelta(days=o) for o in offsets}


def test_consecutive_days_ending_today_or_yesterday() -> None:
    today = MON + timedelta(days=4)
    assert streak_of(days(2, 3, 4), today).days == 3
    assert streak_of(days(2, 3, 4), today).played_today
    open_today = streak_of(days(2, 3), today)  # today still open: yesterday's streak stands
    assert open_today.days == 2 and not open_today.played_today
    assert streak_of(days(0), today).days == 0


def test_one_missed_day_a_week_is_bridged_and_not_counted() -> None:
    today = MON + timedelta(days=4)  # Friday
    streak = streak_of(days(0, 1, 3, 4), today)  # Wednesday missed
    assert streak.days == 4 and streak.grace_days == (MON + timedelta(days=2),)


def test_a_second_missed_day_in_the_same_week_ends_the_streak() -> None:
    today = MON + timedelta(days=6)  # Sunday
    streak = streak_of(days(0, 2, 4, 5, 6), today)  # Tuesday and Thursday missed
    assert streak.days == 4 and streak.grace_days == (MON + timedelta(days=3),)  # Sun..Wed


def test_grace_days_in_different_weeks_both_bridge() -> None:
    today = MON + timedelta(days=9)  # Wednesday of the next week
    streak = streak_of(days(0, 2, 3, 4, 5, 6, 7, 9), today)  # Tue and next Tue missed
    assert streak.days == 8 and len(streak.grace_days) == 2


def test_two_missed_days_in_a_row_end_the_streak() -> None:
    today = MON + timedelta(days=4)
    assert streak_of(days(0, 1, 4), today).days == 1


def test_rules_name_the_goal() -> None:
    assert any(str(DAILY_GOAL_CASES) in rule for rule in streak_rules())


@pytest.mark.django_db
def test_the_day_rolls_over_at_the_players_midnight(
    resident: Any, educator: Any, settings: Any
) -> None:
    """Two answers 02:00 UTC apart: the same day in UTC, two days in Los Angeles (where 00:30 UTC
    is still the previous evening)."""
    from apps.cases.models import Case

    settings.TIME_ZONE = "UTC"
    case = Case.objects.create(title="c", owner=educator)
    for n, hour in enumerate((0, 23)):
        score_event_record(
            user=resident,
            kind="localize",
            case=case,
            attempt_ref=f"a:{n}",
            score=1.0,
            xp=50,
            post_reveal=False,
        )
        when = datetime(2026, 11, 24, hour, 30, tzinfo=ZoneInfo("UTC"))
        ScoreEvent.objects.filter(attempt_ref=f"a:{n}").update(created_at=when)
    now = datetime(2026, 11, 24, 23, 45, tzinfo=ZoneInfo("UTC"))

    import apps.progress.selectors as selectors

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(selectors.timezone, "now", lambda: now)
        utc = player_stats(user=resident)
        resident.time_zone = "America/Los_Angeles"
        la = player_stats(user=resident)
    assert utc.streak.days == 1 and utc.today_cases == 2
    # In Los Angeles the 00:30 UTC answer was on Monday evening, the 23:30 UTC one on Tuesday.
    assert la.streak.days == 2 and la.today_cases == 1
