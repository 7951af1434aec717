"""Who may change what: the case's owner (or an admin) edits a case; a case set is edited by its
owner, by any educator when it is shared, and by admins."""

from __future__ import annotations

from typing import Any

from apps.accounts.permissions import is_admin, is_educator
from apps.cases.models import Case, CaseSet
from apps.core.exceptions import ApplicationError


def can_edit_case(actor: Any, case: Case) -> bool:
    return is_admin(actor) or (is_educator(actor) and case.owner_id == actor.pk)


def can_edit_case_set(actor: Any, case_set: CaseSet) -> bool:
    if is_admin(actor):
        return True
    return is_educator(actor) and (case_set.owner_id == actor.pk or case_set.shared)


def require_case_editor(actor: Any, case: Case) -> None:
    if not can_edit_case(actor, case):
        raise ApplicationError("You may not edit this case.")


def require_case_set_editor(actor: Any, case_set: CaseSet) -> None:
    if not can_edit_case_set(actor, case_set):
        raise ApplicationError("You may not edit this case set.")


def require_educator(actor: Any) -> None:
    if not is_educator(actor):
        raise ApplicationError("Only educators and administrators author cases.")
