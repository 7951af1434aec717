from django.urls import path

from . import api

urlpatterns = [
    path("cohorts/<id:cohort_id>/", api.CohortProgressApi.as_view(), name="api-cohort-progress"),
]
