"""The labels a case set's checklist offers as "present, place not graded".

Presence-only findings (a label normally drawn, recorded without a place: NIH lists image-level
labels it never boxed) are answered by a tick. Offering only the labels of the case in front of
the player would give the answer away, so every case of a set shows the same list: the labels of
the whole set, with the common chest findings (NIH ChestX-ray14's list) as a floor, so that a small
set's own labels do not stand out.
"""

from __future__ import annotations

from functools import cache

from apps.cases.models import CaseSet, CaseStatus, Finding
from ml import taxonomy


@cache
def _common_labels() -> frozenset[str]:
    names = (
        taxonomy.map_dataset_label("nih", name) for name in taxonomy.DATASET_VOCABULARIES["nih"]
    )
    return frozenset(name for name in names if name is not None)


def case_set_presence_labels(*, case_set: CaseSet) -> list[str]:
    """Drawn-mode labels of the set's vocabulary, in catalogue order (one query)."""
    in_set = set(
        Finding.objects.filter(
            case__set_items__case_set=case_set, case__status=CaseStatus.PUBLISHED
        )
        .values_list("label", flat=True)
        .distinct()
    )
    wanted = in_set | _common_labels()
    return [label.name for label in taxonomy.draw_labels() if label.name in wanted]
