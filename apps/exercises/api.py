"""The lifecycle's API: an educator closes an assessment."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsEducator

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
