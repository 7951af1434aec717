from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsEducator

from .selectors import cohort_progress


class ResidentProgressOutput(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    localize_cases = serializers.IntegerField(help_text="Distinct cases read in Localize")
    localize_attempts = serializers.IntegerField(help_text="Scored attempts, replays included")
    localize_accuracy = serializers.FloatField(allow_null=True)
    report_cases = serializers.IntegerField(help_text="Distinct cases read in Report")
    report_attempts = serializers.IntegerField(help_text="Scored attempts, replays included")
    report_accuracy = serializers.FloatField(allow_null=True)
    xp = serializers.IntegerField()
    last_played = serializers.DateTimeField(allow_null=True)


class CohortProgressApi(APIView):
    permission_classes = [IsEducator]

    @extend_schema(
        responses=ResidentProgressOutput(many=True), summary="Progress of a cohort you run"
    )
    def get(self, request: Request, cohort_id: int) -> Response:
        _, rows = cohort_progress(actor=request.user, cohort_id=cohort_id)
        response = Response(ResidentProgressOutput(rows, many=True).data)
        response["Cache-Control"] = "no-store"
        return response
