"""The export API for research scripts: the same streamed exports as the dashboard's download
buttons, authenticated by a read-only API token (or the browser session)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.accounts.permissions import IsEducator

from .exports import FORMATS, TABLES, export_stream
from .period import period_errors, period_of
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
        description=(
            "Columns: docs/educators.md. Authorization: Bearer <token> (read only). "
            "Date filter: last=7|30|90|all, or from=YYYY-MM-DD and/or to=YYYY-MM-DD (days "
            "included, site time zone); a bad date answers 400."
        ),
    )
    def get(self, request: Request, cohort_id: int, table: str, fmt: str) -> Any:
        if table not in TABLES or fmt not in FORMATS:
            raise NotFound("No such export")
        period, period_form = period_of(request.query_params)
        if period_form.errors:
            raise ValidationError({"detail": period_errors(period_form)})
        stream = export_stream(
            actor=request.user, cohort_id=cohort_id, table=table, fmt=fmt, period=period
        )
        return export_response(stream, cohort_id=cohort_id, table=table, fmt=fmt)
