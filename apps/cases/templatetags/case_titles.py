"""``{% case_title case case_set %}``: a case's name as the viewing user may see it."""

from __future__ import annotations

from typing import Any

from django import template

from apps.cases.titles import case_title_for

register = template.Library()


@register.simple_tag(takes_context=True)
def case_title(context: template.Context, case: Any, case_set: Any = None) -> str:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    # One read per set per request, however many cases the page lists.
    cache = getattr(request, "_case_title_places", None)
    if request is not None and cache is None:
        cache = request._case_title_places = {}
    return case_title_for(user=user, case=case, case_set=case_set, cache=cache)
