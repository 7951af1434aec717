"""Report exercise API: one APIView per operation, on the same services and selectors as the pages.

The next-case payload carries the study and the clinical context only; the reference report is in
an attempt's result, which only its owner can read, and which exists only after a submission.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsPlayer
from apps.cases.player_api import PlayerCaseOutput, player_case_data
from apps.cases.selectors import AnswerReport, case_answers
from apps.exercises.api import HintApiBase
from apps.exercises.credit import attempt_visible
from apps.exercises.models import ExerciseKind
from apps.exercises.selectors import case_revealed
from apps.inference.public import job_public

from . import selectors, services
from .models import ReportAttempt
from .presenters import DERIVED_NOTE, judge_result_public

NO_STORE = {"Cache-Control": "no-store"}


# ------------------------------------------------------------------------------------ outputs


class ReportSetOutput(serializers.Serializer):
    id = serializers.IntegerField(source="case_set.pk")
    name = serializers.CharField(source="case_set.name")
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    compared_with = serializers.ChoiceField(
        source="reference_kind",
        choices=["radiologist", "label-derived", "mixed"],
        help_text="Whether the references are radiologists' reports or derived from labels",
    )


class ReportNextCaseOutput(serializers.Serializer):
    case_set_id = serializers.IntegerField()
    done = serializers.BooleanField()
    case = PlayerCaseOutput(allow_null=True)
    compared_with = serializers.ChoiceField(
        choices=["radiologist", "label-derived", ""],
        help_text="What the report is compared with: a radiologist's report or a text derived "
        "from labels (the text itself comes only after submitting)",
    )
    draft = serializers.CharField(allow_blank=True)
    revealed = serializers.BooleanField(
        help_text="This case's answer was shown to you before (in either exercise): an attempt "
        "now is after the reveal (no accuracy credit, replay XP only)"
    )


class ReportTextInput(serializers.CharField):
    """Findings text as typed. Emptiness, length and control characters (NUL included) are
    checked by the service, which gives the messages the resident should see."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_blank=True, trim_whitespace=False, **kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]


class ReportDraftInput(serializers.Serializer):
    text = ReportTextInput()


class ReportDraftOutput(serializers.Serializer):
    case_id = serializers.IntegerField()
    length = serializers.IntegerField()
    saved_at = serializers.DateTimeField()


class ReportAttemptInput(serializers.Serializer):
    text = ReportTextInput()
    idempotency_key = serializers.UUIDField(
        help_text="A UUID per answer; a retry with it returns the same attempt."
    )


class ReportScoreOutput(serializers.Serializer):
    scorer_version = serializers.CharField()
    clinical_score = serializers.FloatField(allow_null=True)
    clinical_percent = serializers.FloatField(allow_null=True)
    style_score = serializers.FloatField(allow_null=True)
    result = serializers.JSONField()


class ReportJudgeOutput(serializers.Serializer):
    status = serializers.CharField()
    job_id = serializers.UUIDField()
    result = serializers.JSONField(allow_null=True)


class ReportReferenceOutput(serializers.Serializer):
    findings = serializers.CharField()
    impression = serializers.CharField(allow_blank=True)
    source = serializers.CharField(allow_blank=True)
    is_derived = serializers.BooleanField()
    note = serializers.CharField(allow_blank=True)


class ReportRescoredOutput(serializers.Serializer):
    previous_score = serializers.FloatField(help_text="The score you saw, 0..1")
    at = serializers.DateTimeField(help_text="When the edited reference changed it")


class ReportAttemptOutput(serializers.Serializer):
    id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    case_set_id = serializers.IntegerField(allow_null=True)
    attempt_no = serializers.IntegerField()
    status = serializers.CharField(help_text='"held" while an assessment holds the result back')
    job_id = serializers.UUIDField(allow_null=True)
    submitted_at = serializers.DateTimeField()
    post_reveal = serializers.BooleanField()
    hints_used = serializers.IntegerField(
        help_text="Hints taken on the case before this answer (each cost XP)"
    )
    feedback_visible = serializers.BooleanField(
        help_text="False in an open assessment: no score, job, judge or reference until released"
    )
    text = serializers.CharField()
    error = serializers.CharField(allow_blank=True)
    xp = serializers.IntegerField(allow_null=True)
    result_url = serializers.CharField()
    score = ReportScoreOutput(allow_null=True)
    judge = ReportJudgeOutput(allow_null=True)
    reference = ReportReferenceOutput(allow_null=True)
    rescored = ReportRescoredOutput(
        allow_null=True,
        help_text="Set when an educator edited the reference report after this attempt was scored "
        "and the score changed; ``score`` is the new one",
    )


# -------------------------------------------------------------------------------- assemblers


def attempt_data(attempt: ReportAttempt, report: AnswerReport | None = None) -> dict[str, Any]:
    """The reply; ``report`` is the case's reference report when the caller read it already."""
    if not attempt_visible(attempt=attempt):
        return {
            "id": attempt.pk,
            "case_id": attempt.case_id,
            "case_set_id": attempt.case_set_id,
            "attempt_no": attempt.attempt_no,
            "status": "held",
            "job_id": None,
            "submitted_at": attempt.submitted_at,
            "post_reveal": attempt.post_reveal,
            "hints_used": attempt.hints_used,
            "feedback_visible": False,
            "text": attempt.text,
            "error": "",
            "xp": None,
            "result_url": reverse("reporting:attempt", args=[attempt.pk]),
            "score": None,
            "judge": None,
            "reference": None,
            "rescored": None,
        }
    state = services.effective_status(attempt)
    rules, judge = selectors.attempt_scores(attempt=attempt)
    report = report or case_answers(case=attempt.case, with_findings=False).report
    judge_job = job_public(attempt.judge_job, include_result=False) if attempt.judge_job else None
    return {
        "id": attempt.pk,
        "case_id": attempt.case_id,
        "case_set_id": attempt.case_set_id,
        "attempt_no": attempt.attempt_no,
        "status": state,
        "job_id": attempt.job_id,
        "submitted_at": attempt.submitted_at,
        "post_reveal": attempt.post_reveal,
        "hints_used": attempt.hints_used,
        "feedback_visible": True,
        "text": attempt.text,
        "error": attempt.error or (attempt.job.error if attempt.job and state == "failed" else ""),
        "xp": attempt.xp,
        "result_url": reverse("reporting:attempt", args=[attempt.pk]),
        "score": rules if rules is not None and state == "scored" else None,
        "judge": None
        if judge_job is None
        else {
            "status": judge_job.status,
            "job_id": judge_job.id,
            "result": judge_result_public(judge.result) if judge is not None else None,
        },
        "reference": None
        if report is None
        else {
            "findings": attempt.reference_text or report.findings,
            "impression": report.impression,
            "source": report.source,
            "is_derived": report.is_derived,
            "note": DERIVED_NOTE if report.is_derived else "",
        },
        "rescored": None
        if attempt.previous_score is None
        else {"previous_score": attempt.previous_score, "at": attempt.rescored_at},
    }


# -------------------------------------------------------------------------------------- views


class ReportSetListApi(APIView):
    permission_classes = [IsPlayer]

    @extend_schema(
        responses=ReportSetOutput(many=True), summary="Case sets you can report, with progress"
    )
    def get(self, request: Request) -> Response:
        rows = selectors.report_sets_for(user=request.user)
        return Response(ReportSetOutput(rows, many=True).data)


class ReportNextCaseApi(APIView):
    permission_classes = [IsPlayer]

    @extend_schema(
        responses=ReportNextCaseOutput,
        summary="The next case of a set you have not reported (study and context, no answers)",
    )
    def get(self, request: Request, set_id: int) -> Response:
        case_set = selectors.report_set_for_player(user=request.user, case_set_id=set_id)
        case = selectors.next_report_case(user=request.user, case_set=case_set)
        draft = selectors.draft_for(user=request.user, case=case) if case is not None else None
        data = {
            "case_set_id": case_set.pk,
            "done": case is None,
            "case": (
                player_case_data(case, user=request.user, case_set=case_set)
                if case is not None
                else None
            ),
            "compared_with": selectors.report_reference_kind(case=case) if case else "",
            "draft": draft.text if draft is not None else "",
            "revealed": case is not None and case_revealed(user=request.user, case_id=case.pk),
        }
        return Response(ReportNextCaseOutput(data).data, headers=NO_STORE)


class ReportDraftSaveApi(APIView):
    permission_classes = [IsPlayer]

    @extend_schema(
        request=ReportDraftInput, responses=ReportDraftOutput, summary="Autosave a case's draft"
    )
    def put(self, request: Request, set_id: int, case_id: int) -> Response:
        case_set = selectors.report_set_for_player(user=request.user, case_set_id=set_id)
        case = selectors.report_case_for_player(
            user=request.user, case_set=case_set, case_id=case_id
        )
        data = ReportDraftInput(data=request.data)
        data.is_valid(raise_exception=True)
        draft = services.report_draft_save(
            user=request.user, case=case, text=data.validated_data["text"]
        )
        out = {"case_id": case.pk, "length": len(draft.text), "saved_at": draft.updated_at}
        return Response(ReportDraftOutput(out).data, headers=NO_STORE)


class ReportAttemptSubmitApi(APIView):
    permission_classes = [IsPlayer]

    @extend_schema(
        request=ReportAttemptInput,
        responses={201: ReportAttemptOutput, 200: ReportAttemptOutput},
        summary="Submit findings for scoring (201 new; 200 when the key was used before)",
    )
    def post(self, request: Request, set_id: int, case_id: int) -> Response:
        case_set = selectors.report_set_for_player(user=request.user, case_set_id=set_id)
        case, report = selectors.report_case_and_reference(
            user=request.user, case_set=case_set, case_id=case_id
        )
        data = ReportAttemptInput(data=request.data)
        data.is_valid(raise_exception=True)
        attempt, created = services.report_attempt_submit(
            user=request.user, case=case, case_set=case_set, report=report, **data.validated_data
        )
        attempt = selectors.attempt_for_owner(user=request.user, attempt_id=attempt.pk)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        reply = ReportAttemptOutput(attempt_data(attempt, report=report)).data
        return Response(reply, status=code, headers=NO_STORE)


class ReportAttemptDetailApi(APIView):
    permission_classes = [IsPlayer]

    @extend_schema(responses=ReportAttemptOutput, summary="Your attempt: status, score, reference")
    def get(self, request: Request, attempt_id: int) -> Response:
        attempt = selectors.attempt_for_owner(user=request.user, attempt_id=attempt_id)
        return Response(ReportAttemptOutput(attempt_data(attempt)).data, headers=NO_STORE)


class ReportAttemptRetryApi(APIView):
    permission_classes = [IsPlayer]

    @extend_schema(
        request=None, responses=ReportAttemptOutput, summary="Score a failed attempt again"
    )
    def post(self, request: Request, attempt_id: int) -> Response:
        attempt = selectors.attempt_for_owner(user=request.user, attempt_id=attempt_id)
        services.report_attempt_retry_scoring(attempt=attempt)
        attempt = selectors.attempt_for_owner(user=request.user, attempt_id=attempt_id)
        return Response(ReportAttemptOutput(attempt_data(attempt)).data, headers=NO_STORE)


class ReportHintApi(HintApiBase):
    exercise = ExerciseKind.REPORT

    def playable(self, request: Request, set_id: int, case_id: int) -> tuple[Any, Any]:
        case_set = selectors.report_set_for_player(user=request.user, case_set_id=set_id)
        case = selectors.report_case_for_player(
            user=request.user, case_set=case_set, case_id=case_id
        )
        return case_set, case
