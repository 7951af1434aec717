"""Top-level URL configuration: HTML pages per app, the API under /api/v1/, schema and docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.core import views as core_views
from apps.game import views as game_views

urlpatterns = [
    path("", game_views.home, name="home"),
    path("about/", core_views.about, name="about"),
    path("healthz/", core_views.healthz, name="healthz"),
    path("accounts/", include("apps.accounts.urls")),
    path("cohorts/", include("apps.cohorts.urls")),
    path("cases/", include("apps.cases.urls")),
    path("jobs/", include("apps.inference.urls")),
    path("localize/", include("apps.localization.urls")),
    path("report/", include("apps.reporting.urls")),
    path("progress/", include("apps.progress.urls")),
    path("game/", include("apps.game.urls")),
    path("exercises/", include("apps.exercises.urls")),
    path("analytics/", include("apps.analytics.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("radgame.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

# Unhandled errors: a database that is away is a 503 with Retry-After, anything else a 500.
handler500 = "apps.core.views.server_error"
