"""What a player is shown as a case's name.

Imported cases are titled by their dataset id ("NIH 00012345_001"), and the public label files of
those datasets list every finding by that id: shown to a resident, a title is the answer key. So a
resident sees only the case's place in the set it is played in ("Case 7 of 44"), on every page
and in every API; educators and admins, who author and check cases, keep the title with its
source id. Pages use the ``{% case_title %}`` tag (``apps.cases.templatetags.case_titles``).
"""

from __future__ import annotations

from typing import Any

from apps.accounts.permissions import is_educator
from apps.cases.models import Case, CaseSet, CaseSetItem, CaseStatus

# A case played outside any set (an old attempt) has no place to show.
NEUTRAL_TITLE = "Case"
Places = dict[int, dict[int, int]]


def shows_source_titles(user: Any) -> bool:
    return is_educator(user)  # admins included


def neutral_title(place: int | None, total: int) -> str:
    return f"Case {place} of {total}" if place else NEUTRAL_TITLE


def set_places(set_id: int) -> dict[int, int]:
    """Each published case's 1-based place in the set's play order (one query)."""
    rows = (
        CaseSetItem.objects.filter(case_set_id=set_id, case__status=CaseStatus.PUBLISHED)
        .order_by("position")
        .values_list("case_id", flat=True)
    )
    return {case_id: place for place, case_id in enumerate(rows, start=1)}


def case_title_for(
    *, user: Any, case: Case, case_set: CaseSet | int | None, cache: Places | None = None
) -> str:
    """``cache`` (set id -> places) lets a page listing many cases read each set once."""
    if shows_source_titles(user):
        return case.title
    if case_set is None:
        return NEUTRAL_TITLE
    set_id = case_set if isinstance(case_set, int) else case_set.pk
    cache = {} if cache is None else cache
    if set_id not in cache:
        cache[set_id] = set_places(set_id)
    places = cache[set_id]
    return neutral_title(places.get(case.pk), len(places))
