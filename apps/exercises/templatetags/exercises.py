"""Template helpers of the lifecycle: the XP rules in words, from the one place they live."""

from __future__ import annotations

from django import template

from apps.exercises.xp import xp_rules as _xp_rules

register = template.Library()


@register.simple_tag
def xp_rules() -> list[str]:
    return _xp_rules()
