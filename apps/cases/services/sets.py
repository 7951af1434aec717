"""Case set writes: create, update, add/remove/reorder cases, assign to cohorts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max

from apps.accounts.permissions import can_edit_case, require_case_set_editor, require_educator
from apps.cases.models import Assignment, Case, CaseSet, CaseSetItem, CaseSetMode, PracticeMode
from apps.cohorts.models import Cohort
from apps.cohorts.services import can_manage
from apps.core.exceptions import ApplicationError


def _clean_set_fields(fields: dict[str, Any]) -> dict[str, Any]:
    allowed = {
        "name", "description", "mode", "iou_threshold", "shared", "practice_mode", "rapid_seconds"
    }  # fmt: skip
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown case set fields: {sorted(unknown)}")
    cleaned: dict[str, Any] = {}
    if "name" in fields:
        name = " ".join((fields["name"] or "").split())
        if not name:
            raise ApplicationError("Give the case set a name.", field="name")
        cleaned["name"] = name[:200]
    if "description" in fields:
        cleaned["description"] = (fields["description"] or "").strip()[:5000]
    if "mode" in fields:
        if fields["mode"] not in CaseSetMode.values:
            raise ApplicationError("Mode is practice or assessment.", field="mode")
        cleaned["mode"] = fields["mode"]
    if "practice_mode" in fields:
        if fields["practice_mode"] not in PracticeMode.values:
            raise ApplicationError(
                "Practice mode is guided, active or rapid.", field="practice_mode"
            )
        cleaned["practice_mode"] = fields["practice_mode"]
    if "rapid_seconds" in fields:
        seconds = fields["rapid_seconds"]
        if seconds is not None and (not isinstance(seconds, int) or not 5 <= seconds <= 600):
            raise ApplicationError(
                "The countdown is 5 to 600 seconds, or none.", field="rapid_seconds"
            )
        cleaned["rapid_seconds"] = seconds
    if "iou_threshold" in fields:
        value = fields["iou_threshold"]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0.05 <= value <= 0.95
        ):
            raise ApplicationError(
                "The IoU threshold is a number from 0.05 to 0.95.", field="iou_threshold"
            )
        cleaned["iou_threshold"] = float(value)
    if "shared" in fields:
        cleaned["shared"] = bool(fields["shared"])
    return cleaned


@transaction.atomic
def case_set_create(*, actor: Any, name: str, **fields: Any) -> CaseSet:
    require_educator(actor)
    cleaned = _clean_set_fields({"name": name, **fields})
    return CaseSet.objects.create(owner=actor, **cleaned)


def case_set_update(*, actor: Any, case_set: CaseSet, **fields: Any) -> CaseSet:
    require_case_set_editor(actor, case_set)
    cleaned = _clean_set_fields(fields)
    if "shared" in cleaned and case_set.owner_id != actor.pk and not _is_admin(actor):
        # Another educator may edit a shared set but not take it private again.
        raise ApplicationError("Only the set's owner changes whether it is shared.", field="shared")
    for key, value in cleaned.items():
        setattr(case_set, key, value)
    case_set.save(update_fields=[*cleaned, "updated_at"])
    return case_set


def _is_admin(actor: Any) -> bool:
    from apps.accounts.permissions import is_admin

    return is_admin(actor)


def _locked(case_set: CaseSet) -> CaseSet:
    # Serialise edits of one set's order: positions are unique per set.
    return CaseSet.objects.select_for_update().get(pk=case_set.pk)


@transaction.atomic
def case_set_case_add(*, actor: Any, case_set: CaseSet, case: Case) -> CaseSetItem:
    require_case_set_editor(actor, case_set)
    if not can_edit_case(actor, case):
        raise ApplicationError("You can add only your own cases.")
    case_set = _locked(case_set)
    existing = CaseSetItem.objects.filter(case_set=case_set, case=case).first()
    if existing is not None:
        return existing
    top = CaseSetItem.objects.filter(case_set=case_set).aggregate(top=Max("position"))["top"]
    return CaseSetItem.objects.create(case_set=case_set, case=case, position=(top or 0) + 1)


@transaction.atomic
def case_set_case_remove(*, actor: Any, case_set: CaseSet, case_id: int) -> None:
    require_case_set_editor(actor, case_set)
    _locked(case_set)
    CaseSetItem.objects.filter(case_set=case_set, case_id=case_id).delete()


def _write_order(case_set: CaseSet, items: list[CaseSetItem]) -> None:
    """Renumber 1..n. Positions are unique per set, so move every item out of the way first."""
    if not items:
        return
    offset = max(item.position for item in items) + len(items) + 1
    for index, item in enumerate(items):
        item.position = offset + index
    CaseSetItem.objects.bulk_update(items, ["position"])
    for index, item in enumerate(items, start=1):
        item.position = index
    CaseSetItem.objects.bulk_update(items, ["position"])


@transaction.atomic
def case_set_reorder(*, actor: Any, case_set: CaseSet, case_ids: Sequence[int]) -> None:
    """Put the set's cases in the given order; it must name every case of the set once."""
    require_case_set_editor(actor, case_set)
    _locked(case_set)
    items = {item.case_id: item for item in CaseSetItem.objects.filter(case_set=case_set)}
    if sorted(case_ids) != sorted(items) or len(set(case_ids)) != len(case_ids):
        raise ApplicationError("The new order must list every case of the set exactly once.")
    _write_order(case_set, [items[case_id] for case_id in case_ids])


@transaction.atomic
def case_set_case_move(*, actor: Any, case_set: CaseSet, case_id: int, offset: int) -> None:
    """Move a case up (offset -1) or down (+1); at either end it stays put."""
    require_case_set_editor(actor, case_set)
    _locked(case_set)
    items = list(CaseSetItem.objects.filter(case_set=case_set).order_by("position"))
    index = next((i for i, item in enumerate(items) if item.case_id == case_id), None)
    if index is None:
        raise ApplicationError("This case is not in the set.")
    target = index + offset
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
        _write_order(case_set, items)


def _require_cohort_manager(actor: Any, cohort: Cohort) -> None:
    if not can_manage(actor, cohort):
        raise ApplicationError("You do not run this cohort.", field="cohort")


@transaction.atomic
def case_set_assign(
    *, actor: Any, case_set: CaseSet, cohort: Cohort, due_at: datetime | None = None
) -> Assignment:
    """Give the set to a cohort (or change its due date)."""
    require_case_set_editor(actor, case_set)
    _require_cohort_manager(actor, cohort)
    assignment, created = Assignment.objects.get_or_create(
        case_set=case_set, cohort=cohort, defaults={"due_at": due_at, "assigned_by": actor}
    )
    if not created and assignment.due_at != due_at:
        assignment.due_at = due_at
        assignment.save(update_fields=["due_at", "updated_at"])
    return assignment


@transaction.atomic
def case_set_unassign(*, actor: Any, case_set: CaseSet, cohort: Cohort) -> None:
    require_case_set_editor(actor, case_set)
    _require_cohort_manager(actor, cohort)
    Assignment.objects.filter(case_set=case_set, cohort=cohort).delete()
