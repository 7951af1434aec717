"""Template helpers of the lifecycle: the XP, level and streak rules in words, from the one place
each lives."""

from __future__ import annotations

from django import template

from apps.exercises.levels import Level, level_for
from apps.exercises.levels import level_rules as _level_rules
from apps.exercises.xp import hint_xp_cost
from apps.exercises.xp import xp_rules as _xp_rules
from apps.progress.streaks import streak_rules as _streak_rules

register = template.Library()


@register.simple_tag
def xp_rules() -> list[str]:
    return _xp_rules()


@register.simple_tag
def level_rules() -> list[str]:
    return _level_rules()


@register.simple_tag
def streak_rules() -> list[str]:
    return _streak_rules()


@register.filter
def hints_note(hints_used: int) -> str:
    """``{{ attempt.hints_used|hints_note }}``: "2 hints used (−20 XP)", or "" for none."""
    if not hints_used:
        return ""
    plural = "" if hints_used == 1 else "s"
    return f"{hints_used} hint{plural} used (−{hint_xp_cost(hints_used)} XP)"


@register.filter
def level(xp: int) -> Level:
    """``{{ stats.xp|level }}``: the level a total XP is at."""
    return level_for(xp)
