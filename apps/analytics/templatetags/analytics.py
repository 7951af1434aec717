"""Formatting for the analytics pages: shares as percentages, differences as signed points."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


@register.filter
def points(value: float | None) -> str:
    """A difference of two shares in percentage points, always signed (−0 reads as 0)."""
    if value is None:
        return "–"
    rounded = round(100 * value, 1)
    return f"{rounded:+.1f} pts" if rounded else "0.0 pts"


@register.filter
def change(item: Any, kind: str) -> float | None:
    return item.change(kind)
