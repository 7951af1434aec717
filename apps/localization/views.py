"""Localize pages (htmx): pick a set, play its next case, submit, read the feedback."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.permissions import player_required
from apps.cases.selectors import case_set_for_player, case_sets_playable_by
from apps.core.exceptions import ApplicationError
from apps.core.htmx import polling_status, render_page
from apps.exercises.hint_views import hint_response
from apps.exercises.hints import hints_on_page
from apps.exercises.models import ExerciseKind
from apps.exercises.selectors import assessment_closed, assessment_released, case_revealed

from . import selectors
from .context import case_page_context, result_context
from .services import localization_attempt_submit, localization_delivery_open


@player_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    case_sets = list(case_sets_playable_by(user=request.user, localize_only=True))
    progress = selectors.set_progress_for(user=request.user, case_sets=case_sets)
    rows = [(case_set, progress[case_set.pk]) for case_set in case_sets]
    return render_page(request, "localization/index.html", {"rows": rows})


@player_required
@require_GET
def play(request: HttpRequest, set_id: int) -> HttpResponse:
    case_set = case_set_for_player(user=request.user, case_set_id=set_id)
    case = selectors.next_case_for(user=request.user, case_set=case_set)
    if case is None or assessment_closed(case_set=case_set):  # a closed one takes no answers
        return redirect("localization:set_summary", set_id=case_set.pk)
    return redirect("localization:case", set_id=case_set.pk, case_id=case.pk)


@player_required
@require_GET
def set_summary(request: HttpRequest, set_id: int) -> HttpResponse:
    case_set = case_set_for_player(user=request.user, case_set_id=set_id)
    rows = selectors.set_attempts_for(user=request.user, case_set=case_set)
    progress = selectors.set_progress_for(user=request.user, case_sets=[case_set])[case_set.pk]
    # In an assessment the scores stay hidden until it is released to this player.
    show_scores = assessment_released(user=request.user, case_set=case_set)
    context = {"case_set": case_set, "rows": rows, "progress": progress, "show_scores": show_scores}
    return render_page(request, "localization/set_summary.html", context, no_store=True)


@player_required
@require_GET
def case_page(request: HttpRequest, set_id: int, case_id: int) -> HttpResponse:
    case_set, case = selectors.playable_case_in_set(
        user=request.user, case_set_id=set_id, case_id=case_id
    )
    if case_set.mode == "assessment":
        answered = selectors.attempt_in_set(user=request.user, case=case, case_set=case_set)
        if answered is not None:  # one answer per case in an assessment
            return redirect("localization:attempt", attempt_id=answered.pk)
    delivery = localization_delivery_open(user=request.user, case=case, case_set=case_set)
    context = case_page_context(case=case, case_set=case_set, delivery=delivery)
    # Told before starting: an answer already shown (in either exercise) earns no accuracy.
    context["revealed"] = case_revealed(user=request.user, case_id=case.pk)
    context["hints"] = hints_on_page(
        case=case, case_set=case_set, delivery=delivery, revealed=context["revealed"]
    )
    return render_page(request, "localization/case.html", context, no_store=True)


@player_required
@require_POST
def hint(request: HttpRequest, set_id: int, case_id: int) -> HttpResponse:
    case_set, case = selectors.playable_case_in_set(
        user=request.user, case_set_id=set_id, case_id=case_id, with_images=False
    )
    case_url = reverse("localization:case", kwargs={"set_id": set_id, "case_id": case_id})
    return hint_response(
        request, exercise=ExerciseKind.LOCALIZE, case=case, case_set=case_set, case_url=case_url
    )


@player_required
@require_POST
def submit(request: HttpRequest, set_id: int, case_id: int) -> HttpResponse:
    case_set, case = selectors.playable_case_in_set(
        user=request.user, case_set_id=set_id, case_id=case_id
    )
    try:
        outcome = localization_attempt_submit(
            user=request.user,
            case=case,
            case_set=case_set,
            marks_json=request.POST.get("marks", ""),
            selected=request.POST.getlist("selected"),
            idempotency_key=request.POST.get("idempotency_key", ""),
        )
    except ApplicationError as error:
        return _submit_error(request, error, set_id, case_id)
    attempt_url = reverse("localization:attempt", kwargs={"attempt_id": outcome.attempt.pk})
    if not request.htmx:
        return redirect(attempt_url)
    response = render_page(
        request,
        "localization/attempt.html",
        result_context(request=request, attempt=outcome.attempt),
        partial="result",
        no_store=True,
    )
    # A reload now shows this result rather than a fresh delivery of the case.
    response["HX-Replace-Url"] = attempt_url
    return response


def _submit_error(
    request: HttpRequest, error: ApplicationError, set_id: int, case_id: int
) -> HttpResponse:
    context = {"error": error}
    if request.htmx:
        # Only the message region changes: the viewer keeps the boxes being drawn.
        response = render_page(
            request, "localization/case.html", context, partial="errors", no_store=True
        )
        response["HX-Retarget"] = "#localize-errors"
        response["HX-Reswap"] = "outerHTML"
        return response
    case_set, case = selectors.playable_case_in_set(
        user=request.user, case_set_id=set_id, case_id=case_id
    )
    delivery = localization_delivery_open(user=request.user, case=case, case_set=case_set)
    context.update(case_page_context(case=case, case_set=case_set, delivery=delivery))
    return render_page(request, "localization/case.html", context, status=400, no_store=True)


@player_required
@require_GET
def attempt_page(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.attempt_for_viewer(user=request.user, attempt_id=attempt_id)
    context = result_context(request=request, attempt=attempt)
    return render_page(request, "localization/attempt.html", context, no_store=True)


@player_required
@require_GET
def attempt_explanations(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """The live region of the feedback cards: polled (and pushed) until the explanations are in."""
    attempt = selectors.attempt_for_viewer(user=request.user, attempt_id=attempt_id)
    context = result_context(request=request, attempt=attempt)
    final = not (context["feedback"] and context["feedback"].explanations_pending)
    status = polling_status(request, final=final)
    return render_page(
        request, "localization/attempt.html", context, partial="cards", status=status, no_store=True
    )
