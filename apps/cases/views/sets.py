"""The case set builder: create, edit settings, add/remove/reorder cases, assign to cohorts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.permissions import educator_required
from apps.cases import selectors
from apps.cases.forms import AssignForm, CaseSetForm
from apps.cases.models import CaseSet
from apps.cases.services import (
    can_edit_case_set,
    case_set_assign,
    case_set_case_add,
    case_set_case_move,
    case_set_case_remove,
    case_set_create,
    case_set_unassign,
    case_set_update,
)
from apps.cohorts.selectors import cohorts_managed_by
from apps.core.exceptions import ApplicationError
from apps.core.htmx import render_page


def _set_fields(form: CaseSetForm) -> dict[str, Any]:
    return {
        key: form.cleaned_data[key]
        for key in (
            "description", "mode", "iou_threshold", "shared", "practice_mode", "rapid_seconds"
        )
    }  # fmt: skip


@educator_required
@require_http_methods(["GET", "POST"])
def set_list(request: HttpRequest) -> HttpResponse:
    form = CaseSetForm(
        request.POST or None,
        initial={"mode": "practice", "iou_threshold": 0.3, "practice_mode": "active"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            case_set = case_set_create(
                actor=request.user, name=form.cleaned_data["name"], **_set_fields(form)
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("cases:set_detail", set_id=case_set.pk)
    sets = selectors.case_sets_managed_by(actor=request.user).order_by("name")
    return render_page(request, "cases/set_list.html", {"form": form, "sets": sets})


def _detail_context(request: HttpRequest, set_id: int, **extra: Any) -> dict[str, Any]:
    case_set = selectors.case_set_for_manager(actor=request.user, case_set_id=set_id)
    in_set = {item.case_id for item in case_set.items.all()}
    addable = (
        selectors.cases_managed_by(actor=request.user)
        .exclude(pk__in=in_set)
        .order_by("title")[:500]
    )
    cohorts = cohorts_managed_by(actor=request.user).order_by("name")
    initial = {
        "name": case_set.name,
        "description": case_set.description,
        "mode": case_set.mode,
        "iou_threshold": case_set.iou_threshold,
        "shared": case_set.shared,
        "practice_mode": case_set.practice_mode,
        "rapid_seconds": case_set.rapid_seconds,
    }
    return {
        "case_set": case_set,
        "addable": addable,
        "form": extra.pop("form", None) or CaseSetForm(initial=initial),
        "assign_form": extra.pop("assign_form", None) or AssignForm(cohorts=cohorts),
        "can_share": case_set.owner_id == request.user.pk or request.user.role == "admin",
        **extra,
    }


def _editable_set(request: HttpRequest, set_id: int) -> CaseSet:
    case_set = selectors.case_set_for_manager(actor=request.user, case_set_id=set_id)
    if not can_edit_case_set(request.user, case_set):
        raise Http404("No such case set")
    return case_set


@educator_required
@require_http_methods(["GET", "POST"])
def set_detail(request: HttpRequest, set_id: int) -> HttpResponse:
    case_set = _editable_set(request, set_id)
    form = None
    if request.method == "POST":
        form = CaseSetForm(request.POST)
        if form.is_valid():
            fields = {"name": form.cleaned_data["name"], **_set_fields(form)}
            if case_set.shared == fields["shared"]:
                fields.pop("shared")
            try:
                case_set_update(actor=request.user, case_set=case_set, **fields)
            except ApplicationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, "Case set saved.")
                return redirect("cases:set_detail", set_id=set_id)
    return render_page(
        request, "cases/set_detail.html", _detail_context(request, set_id, form=form), no_store=True
    )


def _items_response(request: HttpRequest, set_id: int) -> HttpResponse:
    if getattr(request, "htmx", False):
        context = _detail_context(request, set_id)
        return render_page(
            request, "cases/set_detail.html", context, partial="items", no_store=True
        )
    return redirect("cases:set_detail", set_id=set_id)


@educator_required
@require_POST
def set_case_add(request: HttpRequest, set_id: int) -> HttpResponse:
    case_set = _editable_set(request, set_id)
    try:
        case_id = int(request.POST.get("case_id", ""))
    except ValueError:
        raise Http404("No such case") from None
    case = selectors.cases_managed_by(actor=request.user).filter(pk=case_id).first()
    if case is None:
        raise Http404("No such case")
    case_set_case_add(actor=request.user, case_set=case_set, case=case)
    return _items_response(request, set_id)


@educator_required
@require_POST
def set_case_remove(request: HttpRequest, set_id: int, case_id: int) -> HttpResponse:
    case_set = _editable_set(request, set_id)
    case_set_case_remove(actor=request.user, case_set=case_set, case_id=case_id)
    return _items_response(request, set_id)


@educator_required
@require_POST
def set_case_move(request: HttpRequest, set_id: int, case_id: int, direction: str) -> HttpResponse:
    if direction not in ("up", "down"):
        raise Http404("No such direction")
    case_set = _editable_set(request, set_id)
    try:
        case_set_case_move(
            actor=request.user,
            case_set=case_set,
            case_id=case_id,
            offset=-1 if direction == "up" else 1,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _items_response(request, set_id)


@educator_required
@require_POST
def set_assign(request: HttpRequest, set_id: int) -> HttpResponse:
    case_set = _editable_set(request, set_id)
    form = AssignForm(request.POST, cohorts=cohorts_managed_by(actor=request.user))
    if form.is_valid():
        try:
            case_set_assign(
                actor=request.user,
                case_set=case_set,
                cohort=form.cleaned_data["cohort"],
                due_at=form.cleaned_data["due_at"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Assigned to {form.cleaned_data['cohort'].name}.")
            return redirect("cases:set_detail", set_id=set_id)
    context = _detail_context(request, set_id, assign_form=form)
    return render_page(request, "cases/set_detail.html", context, status=400, no_store=True)


@educator_required
@require_POST
def set_unassign(request: HttpRequest, set_id: int, cohort_id: int) -> HttpResponse:
    case_set = _editable_set(request, set_id)
    cohort = cohorts_managed_by(actor=request.user).filter(pk=cohort_id).first()
    if cohort is None:
        raise Http404("No such cohort")
    case_set_unassign(actor=request.user, case_set=case_set, cohort=cohort)
    messages.success(request, f"No longer assigned to {cohort.name}.")
    return redirect("cases:set_detail", set_id=set_id)
