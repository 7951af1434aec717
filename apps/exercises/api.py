"""The lifecycle's API: an educator closes an assessment; the hint endpoint both exercises share
(each subclasses ``HintApiBase`` with its own check that the player may play the case)."""

from __future__ import annotations

from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsEducator, IsPlayer
from apps.cases.models import Case, CaseSet

from .hints import HINTS_PER_CASE, hint_take
from .selectors import assessment_for_manager
from .services import assessment_close


class AssessmentCloseOutput(serializers.Serializer):
    case_set_id = serializers.IntegerField()
    closed_at = serializers.DateTimeField()
    closed_by = serializers.CharField(allow_null=True)


class AssessmentCloseApi(APIView):
    permission_classes = [IsEducator]

    @extend_schema(
        request=None,
        responses=AssessmentCloseOutput,
        summary="Close an assessment: every resident's results are released and XP credited",
    )
    def post(self, request: Request, set_id: int) -> Response:
        case_set = assessment_for_manager(actor=request.user, case_set_id=set_id)
        release = assessment_close(actor=request.user, case_set=case_set)
        data = {
            "case_set_id": case_set.pk,
            "closed_at": release.released_at,
            "closed_by": release.closed_by.username if release.closed_by else None,
        }
        return Response(AssessmentCloseOutput(data).data, headers={"Cache-Control": "no-store"})


class HintInput(serializers.Serializer):
    number = serializers.IntegerField(
        min_value=1,
        max_value=HINTS_PER_CASE,
        help_text="The hint you ask for, from 1: the number of hints you have plus one. Asking "
        "again for a hint you have returns it at no cost (a retried request burns one hint).",
    )


class HintOutput(serializers.Serializer):
    number = serializers.IntegerField(help_text="The hint returned")
    text = serializers.CharField(help_text="Where to look; never the finding")
    hints = serializers.ListField(child=serializers.CharField(), help_text="Every hint taken")
    hints_used = serializers.IntegerField()
    max_hints = serializers.IntegerField()
    xp_cost_each = serializers.IntegerField()
    xp_cost_total = serializers.IntegerField(
        help_text="Taken off this case's XP when you submit (the XP never goes below 0)"
    )


class HintApiBase(APIView):
    """POST: the next hint on a case you are playing (an active or rapid-fire practice set,
    before its answer was shown to you). 400 with the reason otherwise: an assessment, a guided
    set, a case already submitted or revealed, a hint skipped or past the last."""

    permission_classes = [IsPlayer]
    exercise: ClassVar[str]

    def playable(self, request: Request, set_id: int, case_id: int) -> tuple[CaseSet, Case]:
        """The set and the case when the player may play them there; 404 otherwise."""
        raise NotImplementedError

    @extend_schema(
        request=HintInput,
        responses=HintOutput,
        summary="Take the next hint on a case (each costs XP); repeating a number is free",
    )
    def post(self, request: Request, set_id: int, case_id: int) -> Response:
        case_set, case = self.playable(request, set_id, case_id)
        given = HintInput(data=request.data)
        given.is_valid(raise_exception=True)
        number = given.validated_data["number"]
        hints = hint_take(
            user=request.user, exercise=self.exercise, case=case, case_set=case_set, number=number
        )
        data: dict[str, Any] = {
            "number": number,
            "text": hints.texts[number - 1],
            "hints": list(hints.texts),
            "hints_used": hints.used,
            "max_hints": hints.limit,
            "xp_cost_each": hints.cost_each,
            "xp_cost_total": hints.xp_cost,
        }
        return Response(HintOutput(data).data, headers={"Cache-Control": "no-store"})
