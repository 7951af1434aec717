"""Levels, all of them: a level is a fixed amount of XP (``xp.py`` decides what earns XP). The home
page's progress bar and the profile's rules are both read from here."""

from __future__ import annotations

from dataclasses import dataclass

XP_PER_LEVEL = 250


@dataclass(frozen=True)
class Level:
    number: int  # from 1
    xp_into: int  # XP earned inside this level
    xp_needed: int  # XP this level takes to complete

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def percent(self) -> int:
        return round(100 * self.xp_into / self.xp_needed)

    def __str__(self) -> str:
        return f"Level {self.number} · {self.xp_into} of {self.xp_needed} XP to level {self.next_number}"


def level_for(xp: int) -> Level:
    """The level a player with ``xp`` total XP is at (0 XP: level 1)."""
    xp = max(0, int(xp))
    return Level(number=xp // XP_PER_LEVEL + 1, xp_into=xp % XP_PER_LEVEL, xp_needed=XP_PER_LEVEL)


def level_rules() -> list[str]:
    """The rule in words, for the profile page (from the constant above)."""
    return [
        f"Every {XP_PER_LEVEL} XP is a level: level 1 starts at 0 XP, level 2 at "
        f"{XP_PER_LEVEL} XP, level 3 at {2 * XP_PER_LEVEL} XP, and so on.",
    ]
