from django.urls import path

from . import api

urlpatterns = [
    path(
        "cohorts/<id:cohort_id>/export/<slug:table>.<slug:fmt>",
        api.CohortExportApi.as_view(),
        name="api-analytics-export",
    ),
]
