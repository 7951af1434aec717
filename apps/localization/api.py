"""The Localize API: one APIView per operation, explicit input and output serializers.

Answers never appear before the player's submission: the delivery carries the image and the
label lists only, and an attempt's feedback is built from the player's own attempt.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsPlayer
from apps.cases.player_api import PlayerCaseOutput, player_case_data
from apps.cases.selectors import (
    case_in_set_for_submit,
    case_set_for_player,
    case_set_presence_labels,
    case_sets_playable_by,
)
from apps.exercises.api import HintApiBase
from apps.exercises.models import ExerciseKind
from apps.exercises.selectors import assessment_released
from apps.inference.public import job_public

from . import selectors
from .context import NORMAL_CHOICE, draw_labels, select_labels
from .feedback import attempt_feedback, card_json
from .models import LocalizationAttempt
from .services import (
    MAX_SELECTED,
    localization_attempt_submit,
    localization_delivery_open_revealed,
)


def _no_store(response: Response) -> Response:
    response["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- sets


class SetOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    mode = serializers.ChoiceField(choices=["practice", "assessment"])
    played = serializers.IntegerField()
    total = serializers.IntegerField()
    accuracy = serializers.FloatField(allow_null=True)
    finished = serializers.BooleanField()


class SetListApi(APIView):
    permission_classes = [IsPlayer]

    @extend_schema(responses=SetOutput(many=True), summary="Case sets you may play, with progress")
    def get(self, request: Request) -> Response:
        case_sets = list(case_sets_playable_by(user=request.user, localize_only=True))
        progress = selectors.set_progress_for(user=request.user, case_sets=case_sets)
        rows = []
        for case_set in case_sets:
            p = progress[case_set.pk]
            hidden = not assessment_released(user=request.user, case_set=case_set)
            rows.append(
                {
                    "id": case_set.pk,
                    "name": case_set.name,
                    "mode": case_set.mode,
                    "played": p.played,
                    "total": p.total,
                    "accuracy": None if hidden else p.accuracy,
                    "finished": p.finished,
                }
            )
        return _no_store(Response(SetOutput(rows, many=True).data))


# ---------------------------------------------------------------- delivery


class DeliveryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    delivered_at = serializers.DateTimeField()
    idempotency_key = serializers.UUIDField()


class LabelsOutput(serializers.Serializer):
    draw = serializers.ListField(child=serializers.CharField())
    select = serializers.ListField(child=serializers.CharField())
    presence = serializers.ListField(
        child=serializers.CharField(),
        help_text="Drawn labels that may also be ticked as seen without a place: the set's "
        "vocabulary, the same on every case of the set",
    )
    normal = serializers.CharField()


class NextCaseOutput(serializers.Serializer):
    finished = serializers.BooleanField()
    delivery = DeliveryOutput(allow_null=True)
    case = PlayerCaseOutput(allow_null=True)
    labels = LabelsOutput()
    submit_url = serializers.CharField(allow_null=True)
    revealed = serializers.BooleanField(
        help_text="This case's answer was shown to you before (in either exercise): an attempt "
        "now is after the reveal (no accuracy credit, replay XP only)"
    )


class NextCaseApi(APIView):
    """POST, not GET: handing out a case starts its clock (the same open delivery comes back until
    the case is answered, so repeating the call is harmless)."""

    permission_classes = [IsPlayer]

    @extend_schema(
        request=None,
        responses=NextCaseOutput,
        summary="Deliver the next unplayed case of a set (image and label lists; no answers)",
    )
    def post(self, request: Request, set_id: int) -> Response:
        case_set = case_set_for_player(user=request.user, case_set_id=set_id)
        case = selectors.next_case_for(user=request.user, case_set=case_set)
        data: dict[str, Any] = {
            "finished": case is None,
            "delivery": None,
            "case": None,
            "labels": {
                "draw": draw_labels(),
                "select": select_labels(),
                "presence": case_set_presence_labels(case_set=case_set),
                "normal": NORMAL_CHOICE,
            },
            "submit_url": None,
            "revealed": False,
        }
        if case is not None:
            data["delivery"], data["revealed"] = localization_delivery_open_revealed(
                user=request.user, case=case, case_set=case_set
            )
            data["case"] = player_case_data(case, user=request.user, case_set=case_set)
            data["submit_url"] = reverse(
                "api-localize-attempt-submit", kwargs={"set_id": case_set.pk, "case_id": case.pk}
            )
        return _no_store(Response(NextCaseOutput(data).data))


# ---------------------------------------------------------------- attempts


class SubmitInput(serializers.Serializer):
    """Only the answer: everything else about an attempt is the server's to decide."""

    marks = serializers.JSONField(
        required=False,
        help_text='{"boxes": [{"label": "Nodule", "box": [x1, y1, x2, y2], "confidence": 4, '
        '"view": <image id>}]}: "view" is the id of the case image (one of the case\'s images) '
        "the box is drawn on; left out, the box is on the first view",
    )
    selected = serializers.ListField(
        child=serializers.CharField(max_length=80), required=False, max_length=MAX_SELECTED
    )
    idempotency_key = serializers.UUIDField(
        help_text="A UUID per answer (the delivery's key); a retry with it returns the same attempt."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return attrs


class ExplanationOutput(serializers.Serializer):
    text = serializers.CharField()
    written_by = serializers.CharField(help_text='"knowledge base" or the model id')
    backend = serializers.CharField()
    model_id = serializers.CharField()
    prompt_version = serializers.CharField()


class CardOutput(serializers.Serializer):
    label = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["hit", "miss", "false_positive", "mislabelled"])
    kind = serializers.ChoiceField(
        choices=["draw", "select", "presence"],
        help_text='"presence": recorded without a place, so only seeing it was graded',
    )
    iou = serializers.FloatField(allow_null=True)
    sentence = serializers.CharField(allow_blank=True)
    true_label = serializers.CharField(allow_null=True)
    mark = serializers.IntegerField(allow_null=True)
    description = serializers.CharField(allow_blank=True)
    facts = serializers.CharField(
        allow_blank=True, help_text="What was graded and what the player drew or ticked, in words"
    )
    explanation = ExplanationOutput(allow_null=True)
    explanation_pending = serializers.BooleanField()


class OverlayOutput(serializers.Serializer):
    box = serializers.ListField(child=serializers.FloatField(), min_length=4, max_length=4)
    view = serializers.IntegerField(allow_null=True, help_text="The view (image id) to draw it on")
    label = serializers.CharField()
    kind = serializers.CharField()
    caption = serializers.CharField(allow_blank=True)


class FeedbackOutput(serializers.Serializer):
    findings = CardOutput(many=True)
    wrong_marks = CardOutput(many=True)
    overlay = OverlayOutput(many=True)
    result = serializers.JSONField(help_text="The ml.boxes result as scored")


class JobLinkOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    url = serializers.CharField(help_text="/api/v1/jobs/<id>/")


class MarkOutput(serializers.Serializer):
    index = serializers.IntegerField()
    label = serializers.CharField()
    selected = serializers.BooleanField()
    box = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    confidence = serializers.IntegerField(allow_null=True)
    view = serializers.IntegerField(allow_null=True, help_text="The view (image id) it is on")


class AttemptOutput(serializers.Serializer):
    id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    case_set_id = serializers.IntegerField(allow_null=True)
    attempt_no = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    time_taken_s = serializers.FloatField(allow_null=True)
    post_reveal = serializers.BooleanField()
    hints_used = serializers.IntegerField(
        help_text="Hints taken on the case before this answer (each cost XP)"
    )
    feedback_visible = serializers.BooleanField(
        help_text="False in an assessment until every case of the set is answered"
    )
    score = serializers.FloatField(allow_null=True)
    xp = serializers.IntegerField(allow_null=True)
    scorer_version = serializers.CharField()
    iou_threshold = serializers.FloatField()
    marks = MarkOutput(many=True)
    explanation_job = JobLinkOutput(allow_null=True)
    feedback = FeedbackOutput(allow_null=True)
    url = serializers.CharField()


# The attempt reply is built as ``AttemptOutput`` would render it (the serializer stays the
# schema; a test holds the two to the same bytes): walking nested serializers field by field cost
# the submit about a tenth of its CPU.
_DATETIME = serializers.DateTimeField()


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _mark_json(mark: Any) -> dict[str, Any]:
    box = mark.box
    return {
        "index": int(mark.index),
        "label": mark.label,
        "selected": bool(mark.selected),
        "box": None if box is None else [float(v) for v in box],
        "confidence": _int(mark.confidence),
        "view": _int(mark.image_id),
    }


def _card_json(card: Any) -> dict[str, Any]:
    data = card_json(card)
    data["iou"], data["mark"] = _float(data["iou"]), _int(data["mark"])
    return data


def _job_json(job: Any) -> dict[str, Any] | None:
    if job is None:
        return None
    public = job_public(job, include_result=False)
    url = reverse("api-job-detail", kwargs={"job_id": public.id})
    return {"id": str(public.id), "status": public.status, "url": url}


def attempt_data(attempt: LocalizationAttempt) -> dict[str, Any]:
    """The reply for an attempt, in ``AttemptOutput``'s representation."""
    visible = selectors.feedback_visible(attempt=attempt)
    feedback = attempt_feedback(attempt=attempt) if visible else None
    return {
        "id": attempt.pk,
        "case_id": attempt.case_id,
        "case_set_id": attempt.case_set_id,
        "attempt_no": int(attempt.attempt_no),
        "submitted_at": _DATETIME.to_representation(attempt.submitted_at),
        "time_taken_s": _float(attempt.time_taken_s),
        "post_reveal": bool(attempt.post_reveal),
        "hints_used": int(attempt.hints_used),
        "feedback_visible": visible,
        "score": _float(attempt.score) if visible else None,
        "xp": _int(attempt.xp) if visible else None,
        "scorer_version": attempt.scorer_version,
        "iou_threshold": float(attempt.iou_threshold),
        "marks": [_mark_json(mark) for mark in attempt.marks_list()],
        "explanation_job": _job_json(attempt.explain_job) if visible else None,
        "feedback": (
            {
                "findings": [_card_json(c) for c in feedback.findings],
                "wrong_marks": [_card_json(c) for c in feedback.wrong_marks],
                "overlay": [{**o, "box": [float(v) for v in o["box"]]} for o in feedback.overlay],
                "result": attempt.result,
            }
            if feedback is not None
            else None
        ),
        "url": reverse("localization:attempt", kwargs={"attempt_id": attempt.pk}),
    }


class AttemptSubmitApi(APIView):
    permission_classes = [IsPlayer]

    @extend_schema(
        request=SubmitInput,
        responses={201: AttemptOutput, 200: AttemptOutput},
        summary="Submit an answer: scored at once; 200 with the same attempt on a key replay",
    )
    def post(self, request: Request, set_id: int, case_id: int) -> Response:
        # One statement: the visibility check, the set, the case (no image prefetch: the JSON
        # reply has no image, and an explanation job reads the first image itself) and the
        # truth the answer is scored against.
        case_set, case, answers = case_in_set_for_submit(
            user=request.user, case_set_id=set_id, case_id=case_id
        )
        serializer = SubmitInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = localization_attempt_submit(
            user=request.user,
            case=case,
            case_set=case_set,
            marks_json=serializer.validated_data.get("marks"),
            selected=serializer.validated_data.get("selected"),
            idempotency_key=serializer.validated_data["idempotency_key"],
            answers=answers,
        )
        code = status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
        return _no_store(Response(attempt_data(outcome.attempt), status=code))


class AttemptDetailApi(APIView):
    permission_classes = [IsPlayer]

    @extend_schema(responses=AttemptOutput, summary="One of your attempts, with its feedback")
    def get(self, request: Request, attempt_id: int) -> Response:
        attempt = selectors.attempt_for_owner(user=request.user, attempt_id=attempt_id)
        return _no_store(Response(attempt_data(attempt)))


# ---------------------------------------------------------------- hints


class HintApi(HintApiBase):
    exercise = ExerciseKind.LOCALIZE

    def playable(self, request: Request, set_id: int, case_id: int) -> tuple[Any, Any]:
        return selectors.playable_case_in_set(
            user=request.user, case_set_id=set_id, case_id=case_id, with_images=False
        )
