"""The /api/v1/ tree: each app contributes its own api_urls module."""

from django.urls import include, path

urlpatterns = [
    path("accounts/", include("apps.accounts.api_urls")),
    path("cohorts/", include("apps.cohorts.api_urls")),
    path("cases/", include("apps.cases.api_urls")),
    path("jobs/", include("apps.inference.api_urls")),
    path("localize/", include("apps.localization.api_urls")),
    path("report/", include("apps.reporting.api_urls")),
    path("progress/", include("apps.progress.api_urls")),
    path("exercises/", include("apps.exercises.api_urls")),
    path("analytics/", include("apps.analytics.api_urls")),
]
