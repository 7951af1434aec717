"""Report exercise pages (htmx): pick a set, write the findings, watch the score arrive.

Before a submission no page or partial here loads the reference report (except a guided set's
worked example, ``apps.exercises.guided``); after it, the result
region shows it beside the resident's own text. Result responses are never cached (no-store).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.permissions import player_required
from apps.cases.selectors import case_answers
from apps.core.exceptions import ApplicationError
from apps.core.htmx import render_page
from apps.exercises.credit import attempt_visible
from apps.exercises.guided import worked_example
from apps.exercises.hint_views import hint_response
from apps.exercises.hints import hints_on_page
from apps.exercises.models import ExerciseKind
from apps.exercises.rescore import rescored_note
from apps.exercises.selectors import assessment_closed, case_revealed, open_delivery_of
from apps.inference.public import job_public

from . import selectors, services
from .forms import DraftForm, ReportForm
from .models import MAX_REPORT_CHARS, AttemptStatus, ReportAttempt
from .presenters import DERIVED_NOTE, feedback, judge_feedback

RESULT_TEMPLATE = "reporting/attempt.html"


@player_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    context = {
        "sets": selectors.report_sets_for(user=request.user),
        "recent": selectors.attempts_of(user=request.user, limit=10),
    }
    return render(request, "reporting/index.html", context)


@player_required
@require_GET
def play(request: HttpRequest, set_id: int) -> HttpResponse:
    case_set = selectors.report_set_for_player(user=request.user, case_set_id=set_id)
    case = selectors.next_report_case(user=request.user, case_set=case_set)
    if case is None or assessment_closed(case_set=case_set):  # a closed one takes no answers
        return render(request, "reporting/set_done.html", {"case_set": case_set})
    return redirect("reporting:case", set_id=case_set.pk, case_id=case.pk)


def _editor_context(
    request: HttpRequest, case_set: Any, case: Any, form: ReportForm | None
) -> dict[str, Any]:
    draft = selectors.draft_for(user=request.user, case=case)
    revealed = case_revealed(user=request.user, case_id=case.pk)
    if form is not None:  # sent back with its errors: the delivery it was written on, if open
        delivery = open_delivery_of(user=request.user, exercise=ExerciseKind.REPORT, case=case)
    else:
        delivery = services.report_delivery_open(user=request.user, case=case, case_set=case_set)
        form = ReportForm(
            initial={
                "text": draft.text if draft else "",
                "idempotency_key": delivery.idempotency_key,
            }
        )
    return {
        # Told before starting: an answer already shown (in either exercise) earns no accuracy.
        "revealed": revealed,
        "hints": hints_on_page(case=case, case_set=case_set, delivery=delivery, revealed=revealed),
        "hint_url": reverse("reporting:hint", args=[case_set.pk, case.pk]),
        # The deliberate exception to "no reference before the submit": a guided set's worked
        # example (the reveal that goes with it was recorded when the delivery opened).
        "worked_example": worked_example(case=case, case_set=case_set, with_report=True),
        "case_set": case_set,
        "case": case,
        "images": list(case.images.all()),
        "reference_kind": selectors.report_reference_kind(case=case),
        "form": form,
        "draft": draft,
        "max_chars": MAX_REPORT_CHARS,
    }


@player_required
@require_GET
def case_page(request: HttpRequest, set_id: int, case_id: int) -> HttpResponse:
    case_set = selectors.report_set_for_player(user=request.user, case_set_id=set_id)
    case = selectors.report_case_for_player(user=request.user, case_set=case_set, case_id=case_id)
    context = _editor_context(request, case_set, case, None)
    attempt = selectors.latest_attempt_for(user=request.user, case=case)
    if attempt is not None:
        # Submitted already: a reload shows the result, never a fresh editor.
        context.update(result_context(attempt))
    return render_page(request, "reporting/case.html", context, no_store=True)


@player_required
@require_POST
def draft_save(request: HttpRequest, set_id: int, case_id: int) -> HttpResponse:
    case_set = selectors.report_set_for_player(user=request.user, case_set_id=set_id)
    case = selectors.report_case_for_player(user=request.user, case_set=case_set, case_id=case_id)
    form = DraftForm(request.POST)
    form.is_valid()
    context: dict[str, Any] = {}
    try:
        draft = services.report_draft_save(
            user=request.user, case=case, text=form.cleaned_data.get("text", "")
        )
        context["saved_at"] = draft.updated_at
    except ApplicationError as exc:
        context["error"] = exc.message
    return render(request, "reporting/_draft_status.html", context)


@player_required
@require_POST
def hint(request: HttpRequest, set_id: int, case_id: int) -> HttpResponse:
    case_set = selectors.report_set_for_player(user=request.user, case_set_id=set_id)
    case = selectors.report_case_for_player(user=request.user, case_set=case_set, case_id=case_id)
    case_url = reverse("reporting:case", args=[case_set.pk, case.pk])
    return hint_response(
        request, exercise=ExerciseKind.REPORT, case=case, case_set=case_set, case_url=case_url
    )


@player_required
@require_POST
def submit(request: HttpRequest, set_id: int, case_id: int) -> HttpResponse:
    case_set = selectors.report_set_for_player(user=request.user, case_set_id=set_id)
    case = selectors.report_case_for_player(user=request.user, case_set=case_set, case_id=case_id)
    form = ReportForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError("The form could not be read; reload the page and try again.")
        attempt, _ = services.report_attempt_submit(
            user=request.user,
            case=case,
            case_set=case_set,
            text=form.cleaned_data.get("text", ""),
            idempotency_key=form.cleaned_data.get("idempotency_key", ""),
        )
    except ApplicationError as exc:
        form.add_error("text" if exc.field in (None, "text") else None, exc.message)
        context = _editor_context(request, case_set, case, form)
        return render_page(request, "reporting/case.html", context, partial="work", no_store=True)
    if not getattr(request, "htmx", False):
        return redirect("reporting:attempt", attempt_id=attempt.pk)
    # Read it again: the embedded runner may have scored it already, right after the commit.
    attempt = selectors.attempt_for_owner(user=request.user, attempt_id=attempt.pk)
    context = {"case_set": case_set, "case": case, **result_context(attempt)}
    return render_page(request, "reporting/case.html", context, partial="work", no_store=True)


def result_context(attempt: ReportAttempt, *, reviewing: bool = False) -> dict[str, Any]:
    """Everything the result region shows, to the owner or to an educator reviewing a resident's
    attempt (``reviewing``: read only, and an assessment's score is not held back from them).
    While an assessment holds it back from the owner, only the resident's own text is shown."""
    if not reviewing and not attempt_visible(attempt=attempt):
        return {"attempt": attempt, "held": True, "is_final": True, "next_url": _next_url(attempt)}
    status = services.effective_status(attempt)
    rules, judge = selectors.attempt_scores(attempt=attempt)
    report = case_answers(case=attempt.case, with_findings=False).report
    context: dict[str, Any] = {
        "attempt": attempt,
        "reviewing": reviewing,
        "status": status,
        "is_final": status != AttemptStatus.PENDING,
        "error": attempt.error or (attempt.job.error if attempt.job else ""),
        "reference_report": report,
        "reference_note": DERIVED_NOTE if report and report.is_derived else "",
        "feedback": None,
        "judge": None,
        "judge_job": job_public(attempt.judge_job, include_result=False)
        if attempt.judge_job
        else None,
        "next_url": _next_url(attempt),
        # Set when an educator edited the reference after this answer was scored (rescore.py).
        "rescored": rescored_note(
            previous=attempt.previous_score,
            score=attempt.score,
            at=attempt.rescored_at,
            what="reference report",
        ),
    }
    if rules is not None and status == AttemptStatus.SCORED:
        context["feedback"] = feedback(
            rules.result, candidate=attempt.text, reference=attempt.reference_text
        )
    if judge is not None:
        context["judge"] = judge_feedback(judge.result)
    return context


def _next_url(attempt: ReportAttempt) -> str:
    if attempt.case_set_id:
        return reverse("reporting:play", args=[attempt.case_set_id])
    return reverse("reporting:index")


@player_required
@require_GET
def attempt_page(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.attempt_for_viewer(user=request.user, attempt_id=attempt_id)
    reviewing = attempt.user_id != request.user.pk
    context = {
        "case_set": attempt.case_set,
        "case": attempt.case,
        **result_context(attempt, reviewing=reviewing),
    }
    return render_page(request, RESULT_TEMPLATE, context, partial="result", no_store=True)


@player_required
@require_GET
def attempt_judge(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.attempt_for_viewer(user=request.user, attempt_id=attempt_id)
    reviewing = attempt.user_id != request.user.pk
    context = {
        "case_set": attempt.case_set,
        "case": attempt.case,
        **result_context(attempt, reviewing=reviewing),
    }
    return render_page(request, RESULT_TEMPLATE, context, partial="judge", no_store=True)


@player_required
@require_POST
def attempt_retry(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.attempt_for_owner(user=request.user, attempt_id=attempt_id)
    context: dict[str, Any] = {}
    try:
        attempt = services.report_attempt_retry_scoring(attempt=attempt)
    except ApplicationError as exc:
        context["retry_error"] = exc.message
    if not getattr(request, "htmx", False):
        return redirect("reporting:attempt", attempt_id=attempt.pk)
    attempt = selectors.attempt_for_owner(user=request.user, attempt_id=attempt.pk)
    context.update({"case_set": attempt.case_set, "case": attempt.case})
    context.update(result_context(attempt))
    return render_page(request, RESULT_TEMPLATE, context, partial="result", no_store=True)
