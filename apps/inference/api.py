from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsPlayer

from .public import job_public
from .selectors import job_get


class JobOutput(serializers.Serializer):
    """Serialises a ``PublicJob`` (never a ``Job``): the request is not there to leak."""

    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    error = serializers.CharField()
    result = serializers.JSONField(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class JobDetailApi(APIView):
    permission_classes = [IsPlayer]

    @extend_schema(responses=JobOutput, summary="Status and result of one of your jobs")
    def get(self, request: Request, job_id: UUID) -> Response:
        job = job_public(job_get(actor=request.user, job_id=job_id))
        response = Response(JobOutput(job).data)
        response["Cache-Control"] = "no-store"
        return response
