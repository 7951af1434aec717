from django.urls import path

from . import api

urlpatterns = [
    path("sets/", api.ReportSetListApi.as_view(), name="report-api-sets"),
    path("sets/<id:set_id>/next/", api.ReportNextCaseApi.as_view(), name="report-api-next"),
    path(
        "sets/<id:set_id>/cases/<id:case_id>/draft/",
        api.ReportDraftSaveApi.as_view(),
        name="report-api-draft",
    ),
    path(
        "sets/<id:set_id>/cases/<id:case_id>/attempts/",
        api.ReportAttemptSubmitApi.as_view(),
        name="report-api-submit",
    ),
    path(
        "sets/<id:set_id>/cases/<id:case_id>/hints/",
        api.ReportHintApi.as_view(),
        name="report-api-hint",
    ),
    path(
        "attempts/<id:attempt_id>/",
        api.ReportAttemptDetailApi.as_view(),
        name="report-api-attempt",
    ),
    path(
        "attempts/<id:attempt_id>/retry/",
        api.ReportAttemptRetryApi.as_view(),
        name="report-api-retry",
    ),
]
