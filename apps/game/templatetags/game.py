"""``{% badge_rules %}``: every badge with its rule, from the one place they live."""

from __future__ import annotations

from django import template

from apps.game.badges import BADGES, Badge

register = template.Library()


@register.simple_tag
def badge_rules() -> tuple[Badge, ...]:
    return BADGES
