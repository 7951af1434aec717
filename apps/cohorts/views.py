"""Cohort pages: educators run cohorts and invitations; residents join by code or link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.permissions import educator_required, player_required
from apps.core.exceptions import ApplicationError
from apps.core.htmx import render_page

from . import selectors, services
from .forms import CoEducatorForm, CohortForm, InvitationForm, InvitationSignupForm, JoinCodeForm
from .models import Cohort


@educator_required
@require_http_methods(["GET", "POST"])
def cohort_list(request: HttpRequest) -> HttpResponse:
    form = CohortForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cohort = services.cohort_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, f"Cohort “{cohort.name}” created.")
            return redirect("cohorts:detail", cohort_id=cohort.pk)
    cohorts = selectors.cohorts_managed_by(actor=request.user).order_by("name")
    return render(request, "cohorts/list.html", {"cohorts": cohorts, "form": form})


def _detail_context(request: HttpRequest, cohort_id: int, **extra: object) -> dict[str, object]:
    cohort = selectors.cohort_for_manager(actor=request.user, cohort_id=cohort_id)
    return {
        "cohort": cohort,
        "invitation_form": InvitationForm(),
        "educator_form": CoEducatorForm(),
        "can_manage_educators": services.can_manage_educators(request.user, cohort),
        **extra,
    }


@educator_required
@require_GET
def cohort_detail(request: HttpRequest, cohort_id: int) -> HttpResponse:
    return render(request, "cohorts/detail.html", _detail_context(request, cohort_id))


@educator_required
@require_POST
def invitation_create(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort: Cohort = selectors.cohort_for_manager(actor=request.user, cohort_id=cohort_id)
    form = InvitationForm(request.POST)
    new_invitation = None
    if form.is_valid():
        try:
            new_invitation = services.cohort_invitation_create(
                actor=request.user, cohort=cohort, **form.cleaned_data
            )
        except ApplicationError as exc:
            form.add_error(exc.field, exc.message)
    context = _detail_context(request, cohort_id, new_invitation=new_invitation)
    if not form.is_valid() or new_invitation is None:
        context["invitation_form"] = form
    return render_page(
        request, "cohorts/detail.html", context, partial="invitations", no_store=True
    )


@educator_required
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = selectors.invitation_for_manager(actor=request.user, invitation_id=invitation_id)
    services.cohort_invitation_revoke(actor=request.user, invitation=invitation)
    context = _detail_context(request, invitation.cohort_id)
    return render_page(request, "cohorts/detail.html", context, partial="invitations")


@educator_required
@require_POST
def join_code_rotate(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = selectors.cohort_for_manager(actor=request.user, cohort_id=cohort_id)
    services.cohort_join_code_rotate(
        actor=request.user, cohort=cohort, enabled=request.POST.get("enabled") != "0"
    )
    messages.success(request, "The join code was changed; the old one no longer works.")
    return redirect("cohorts:detail", cohort_id=cohort_id)


@educator_required
@require_POST
def educator_add(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = selectors.cohort_for_manager(actor=request.user, cohort_id=cohort_id)
    if not services.can_manage_educators(request.user, cohort):
        raise PermissionDenied("Only the cohort's owner adds co-educators.")
    form = CoEducatorForm(request.POST)
    if form.is_valid():
        try:
            membership = services.cohort_educator_add(
                actor=request.user, cohort=cohort, username=form.cleaned_data["username"]
            )
        except ApplicationError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, f"{membership.user.username} now helps run this cohort.")
            return redirect("cohorts:detail", cohort_id=cohort_id)
    context = _detail_context(request, cohort_id, educator_form=form)
    return render(request, "cohorts/detail.html", context, status=400)


@educator_required
@require_POST
def member_remove(request: HttpRequest, cohort_id: int, user_id: int) -> HttpResponse:
    cohort = selectors.cohort_for_manager(actor=request.user, cohort_id=cohort_id)
    try:
        services.cohort_member_remove(actor=request.user, cohort=cohort, user_id=user_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("cohorts:detail", cohort_id=cohort_id)


@player_required
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    form = JoinCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.cohort_join_by_code(
                user=request.user, code=form.cleaned_data["code"]
            )
        except ApplicationError as exc:
            form.add_error("code", exc.message)
        else:
            messages.success(request, f"You joined “{membership.cohort.name}”.")
            return redirect("home")
    joined = selectors.cohorts_joined_by(user=request.user)
    return render(request, "cohorts/join.html", {"form": form, "joined": joined})


@require_http_methods(["GET", "POST"])
def invitation_open(request: HttpRequest, cohort_id: int, token: str) -> HttpResponse:
    """The link in an invitation. Logged in: join. Not logged in: create a resident account."""
    user = request.user
    form = InvitationSignupForm(request.POST or None) if not user.is_authenticated else None
    error = None
    if request.method == "POST":
        try:
            if user.is_authenticated:
                membership = services.cohort_invitation_accept(
                    user=user, cohort_id=cohort_id, token=token
                )
                messages.success(request, f"You joined “{membership.cohort.name}”.")
                return redirect("home")
            if form is not None and form.is_valid():
                new_user = services.cohort_invitation_signup(
                    cohort_id=cohort_id, token=token, **form.cleaned_data
                )
                login(request, new_user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(
                    request, "Welcome! Your account is ready and you joined the cohort."
                )
                return redirect("home")
        except ApplicationError as exc:
            error = exc.message
    cohort = Cohort.objects.filter(pk=cohort_id, invitations__token=token).only("name").first()
    status = 400 if error else 200
    return render(
        request,
        "cohorts/invitation.html",
        {"form": form, "error": error, "cohort": cohort},
        status=status,
    )
