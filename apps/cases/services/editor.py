"""The case editor's one Save: facts, drawn boxes, ticked findings, normal flag and report, in
one transaction, so a mistake anywhere leaves the case as it was."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from apps.accounts.permissions import require_case_editor
from apps.cases.models import Case, ReferenceReport

from .cases import case_update
from .findings import case_boxes_set, case_normal_set, case_report_write, case_selected_set


@transaction.atomic
def case_editor_save(
    *,
    actor: Any,
    case: Case,
    facts: dict[str, Any],
    marks: Any,
    selected: Sequence[str],
    is_normal: bool,
    report_findings: str,
    report_impression: str = "",
) -> Case:
    require_case_editor(actor, case)
    case_update(actor=actor, case=case, **facts)
    if is_normal:
        # Order matters: clearing the findings first lets the normal flag be set.
        case_boxes_set(actor=actor, case=case, marks=marks)
        case_selected_set(actor=actor, case=case, labels=selected)
        case_normal_set(actor=actor, case=case, is_normal=True)
    else:
        case_normal_set(actor=actor, case=case, is_normal=False)
        case_boxes_set(actor=actor, case=case, marks=marks)
        case_selected_set(actor=actor, case=case, labels=selected)
    existing = ReferenceReport.objects.filter(case=case).first()
    unchanged = existing is not None and (
        existing.findings == report_findings.strip()
        and existing.impression == report_impression.strip()
    )
    if not unchanged:
        # An edited report is the educator's own, no longer the derived or imported text.
        case_report_write(
            actor=actor,
            case=case,
            findings=report_findings,
            impression=report_impression,
            source="educator",
            author=getattr(actor, "shown_name", "") or actor.username,
            is_derived=False,
        )
    case.refresh_from_db()
    return case
