"""Role predicates: the one place that says who may do what.

HTML views use the decorators, API views the DRF permission classes; both call the same predicates.
Ownership rules (who edits a case or a case set) are here too: they read only the object's owner
and sharing fields, so this module needs no other app's models.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission

from apps.core.exceptions import ApplicationError

from .models import Role


def is_admin(user: Any) -> bool:
    return bool(
        user.is_authenticated and user.is_active and (user.role == Role.ADMIN or user.is_superuser)
    )


def is_educator(user: Any) -> bool:
    """Educators author cases and run cohorts; admins can do everything an educator can."""
    return bool(
        user.is_authenticated and user.is_active and (user.role == Role.EDUCATOR or is_admin(user))
    )


def is_resident(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role == Role.RESIDENT)


def is_player(user: Any) -> bool:
    """Anyone may play the exercises (educators try cases too); their attempts are their own."""
    return bool(user.is_authenticated and user.is_active)


Predicate = Callable[[Any], bool]
View = Callable[..., HttpResponse]


def role_required(predicate: Predicate) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not predicate(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


educator_required = role_required(is_educator)
admin_required = role_required(is_admin)
player_required = role_required(is_player)


class _PredicatePermission(BasePermission):
    predicate: Predicate = staticmethod(is_player)

    def has_permission(self, request: Any, view: Any) -> bool:
        return type(self).predicate(request.user)


class IsEducator(_PredicatePermission):
    predicate = staticmethod(is_educator)


class IsAdmin(_PredicatePermission):
    predicate = staticmethod(is_admin)


class IsPlayer(_PredicatePermission):
    predicate = staticmethod(is_player)


# ---------------------------------------------------------------- authoring (cases, case sets)


def can_edit_case(actor: Any, case: Any) -> bool:
    """The case's owner (an educator) or an admin."""
    return is_admin(actor) or (is_educator(actor) and case.owner_id == actor.pk)


def can_edit_case_set(actor: Any, case_set: Any) -> bool:
    """A set is edited by its owner, by any educator when it is shared, and by admins."""
    if is_admin(actor):
        return True
    return is_educator(actor) and (case_set.owner_id == actor.pk or case_set.shared)


def require_case_editor(actor: Any, case: Any) -> None:
    if not can_edit_case(actor, case):
        raise ApplicationError("You may not edit this case.")


def require_case_set_editor(actor: Any, case_set: Any) -> None:
    if not can_edit_case_set(actor, case_set):
        raise ApplicationError("You may not edit this case set.")


def require_educator(actor: Any) -> None:
    if not is_educator(actor):
        raise ApplicationError("Only educators and administrators author cases.")
