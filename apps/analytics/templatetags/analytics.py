"""Formatting for the analytics pages: shares as percentages, differences as signed points, error
categories in words."""

from __future__ import annotations

from typing import Any

from django import template

from apps.reporting.presenters import CATEGORY_LABELS

register = template.Library()


@register.filter
def error_label(category: str) -> str:
    """An error category in words: a report's as its feedback names it ("Missed finding"), a
    Localize count's key spelled out ("false positive"), never a raw slug."""
    return CATEGORY_LABELS.get(category) or str(category).replace("_", " ")


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


@register.filter
def summary(s: Any) -> str:
    """An exercise summary in one cell: attempts · accuracy · mean time (one call per cell: a
    cohort page has a thousand of them)."""
    if not s.attempts:
        return "none"
    text = f"{s.attempts} · {percent(s.accuracy)}"
    return text if s.mean_time_s is None else f"{text} · {s.mean_time_s:.0f} s"


@register.filter
def lateness(c: Any) -> str:
    """How far a resident is behind on an assigned set."""
    cases = "case" if c.remaining == 1 else "cases"
    days = "day" if c.overdue_days == 1 else "days"
    return f"{c.remaining} {cases} left, {c.overdue_days} {days} late"
