"""Days of play: the streak (with its weekly grace day) and today's goal, in the player's own time
zone. The rules live here once; the home page, the Localize result and the badges read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# Cases a day that meet today's goal (scored answers that earned XP).
DAILY_GOAL_CASES = 5


@dataclass(frozen=True)
class Streak:
    days: int  # days played in the streak (grace days bridge it but are not counted)
    grace_days: tuple[date, ...]  # the missed days the streak bridged, newest first
    played_today: bool

    @property
    def alive(self) -> bool:
        return self.days > 0


def _week(day: date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso.year, iso.week


def streak_of(days_played: set[date], today: date) -> Streak:
    """The streak ending today, or yesterday while today is still open to play.

    Walking back from the newest day: a played day adds one; a single missed day is bridged by a
    grace day when no other grace day was used in its week (Monday to Sunday) and the day before
    it was played; anything else ends the streak."""
    played_today = today in days_played
    day = today if played_today else today - timedelta(days=1)
    count = 0
    graces: list[date] = []
    used_weeks: set[tuple[int, int]] = set()
    while True:
        if day in days_played:
            count += 1
        elif (
            count > 0 and _week(day) not in used_weeks and (day - timedelta(days=1)) in days_played
        ):
            graces.append(day)
            used_weeks.add(_week(day))
        else:
            break
        day -= timedelta(days=1)
    return Streak(days=count, grace_days=tuple(graces), played_today=played_today)


def streak_rules() -> list[str]:
    """The rules in words, for the profile page (from the constants above)."""
    return [
        "A day counts towards your streak when you earn XP that day, in your own time zone "
        "(set it on this page).",
        "One missed day a week (Monday to Sunday) is bridged by a grace day: the streak goes on, "
        "but the missed day does not add to it. Two missed days in a row end it.",
        f"Today's goal is {DAILY_GOAL_CASES} cases that earn XP.",
    ]
