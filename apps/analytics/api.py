"""The export API for research scripts: the same streamed exports as the dashboard's download
buttons, authenticated by a read-only API token (or the browser session)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.accounts.permissions import IsEducator

from .exports import FORMATS, TABLES, export_stream
from .tokens import ApiTokenAuthentication
from .views import export_response


class CohortExportApi(APIView):
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [IsEducator]

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/json"): OpenApiTypes.OBJECT,
        },
        summary="A cohort's attempts, finding outcomes or FROC summary (CSV or JSON, streamed)",
        description="Columns: docs/educators.md. Authorization: Bearer <token> (read only).",
    )
    def get(self, request: Request, cohort_id: int, table: str, fmt: str) -> Any:
        if table not in TABLES or fmt not in FORMATS:
            raise NotFound("No such export")
        stream = export_stream(actor=request.user, cohort_id=cohort_id, table=table, fmt=fmt)
        return export_response(stream, cohort_id=cohort_id, table=table, fmt=fmt)
